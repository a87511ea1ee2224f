/* The op registry: every family table, searched by name, domain and opset version. */
#include <string.h>

#include "runtime/rt.h"

static const edgec_op *const families[] = {
    edgec__ops_elementwise, edgec__ops_activation, edgec__ops_reduce, edgec__ops_shape,
    edgec__ops_tensor,      edgec__ops_linalg,     edgec__ops_conv,   edgec__ops_pool,
    edgec__ops_norm,        edgec__ops_quant,      edgec__ops_rnn,    edgec__ops_control,
};

static bool same_domain(const char *a, const char *b)
{
    if (!strcmp(a, "ai.onnx"))
        a = "";
    if (!strcmp(b, "ai.onnx"))
        b = "";
    return !strcmp(a, b);
}

const edgec_op *edgec__op_find(const char *op_type, const char *domain, int64_t version)
{
    const edgec_op *best = NULL;
    for (size_t f = 0; f < sizeof families / sizeof families[0]; f++) {
        for (const edgec_op *op = families[f]; op->name; op++) {
            if (strcmp(op->name, op_type) || !same_domain(op->domain, domain) ||
                op->since_version > version)
                continue;
            if (!best || op->since_version > best->since_version)
                best = op;
        }
    }
    return best;
}
