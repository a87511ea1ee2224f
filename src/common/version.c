#include "edgec/model.h"

#ifndef EDGEC_VERSION_STRING
#define EDGEC_VERSION_STRING "0.0.0"
#endif

const char *edgec_version(void)
{
    return EDGEC_VERSION_STRING;
}
