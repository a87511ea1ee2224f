/* Multiply-accumulate counting, and the shapes of a model's intermediate values that it
 * needs (also used by structured pruning). Shapes come from one run of the reference
 * interpreter on zero inputs with symbolic dims set to 1, so they are exact for every op
 * the interpreter knows. */
#ifndef EDGEC_MACS_H
#define EDGEC_MACS_H

#include "ir/ir.h"

typedef struct edgec_value_shape {
    const char *name;
    int32_t rank;
    int64_t dims[EDGEC_MAX_RANK];
} edgec_value_shape;

/* The shapes of the main graph's values (graph inputs, node outputs), sorted by name. */
typedef struct edgec_shapes {
    edgec_value_shape *v;
    size_t n;
} edgec_shapes;

/* Runs the model once to learn every main-graph value's shape. `*out` is freed with
 * edgec__shapes_free. Fails with the interpreter's status when the model cannot run. */
edgec_status edgec__shapes_run(const edgec_model *m, edgec_shapes *out);
void edgec__shapes_free(edgec_shapes *s);
/* The shape of value `name`, or NULL when it is not known. */
const edgec_value_shape *edgec__shapes_find(const edgec_shapes *s, const char *name);

typedef struct edgec_macs {
    uint64_t total;   /* every multiply-accumulate of Conv, ConvTranspose, Gemm, MatMul,
                         LSTM, GRU, RNN nodes of the main graph, batch 1 */
    uint64_t nonzero; /* those whose constant weight is not zero: the work left when a
                         kernel skips zero weights */
} edgec_macs;

/* Counts the model's MACs. Fails like edgec__shapes_run when the model cannot run. */
edgec_status edgec__model_macs(const edgec_model *m, edgec_macs *out);

#endif
