/* Internal queries on parts of the model that only src/onnx can see. */
#ifndef EDGEC_TENSOR_IO_H
#define EDGEC_TENSOR_IO_H

#include "ir/ir.h"

/* What kind of value a graph input or output holds, from its type as read. */
typedef enum edgec_value_kind {
    EDGEC_VALUE_UNKNOWN = 0, /* no type in the model */
    EDGEC_VALUE_TENSOR,
    EDGEC_VALUE_SEQUENCE,
    EDGEC_VALUE_MAP,
    EDGEC_VALUE_OPTIONAL,
    EDGEC_VALUE_OTHER /* sparse tensors and types edgec does not know */
} edgec_value_kind;

edgec_value_kind edgec__value_info_kind(const edgec_value_info *vi);

/* "sequence", "map", ... for messages. */
const char *edgec__value_kind_name(edgec_value_kind k);

#endif
