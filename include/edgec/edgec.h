/* The whole public API of edgec. */
#ifndef EDGEC_EDGEC_H
#define EDGEC_EDGEC_H

#include "edgec/status.h"
#include "edgec/model.h"
#include "edgec/pipeline.h"
#include "edgec/array.h"
#include "edgec/auto.h"
#include "edgec/data.h"
#include "edgec/runtime.h"
#include "edgec/container.h"
#include "edgec/report.h"

#endif
