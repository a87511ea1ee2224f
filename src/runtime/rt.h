/* The reference interpreter's internal interface: runtime tensors, the op table, and
 * what an op kernel gets to work with.
 *
 * An op is one row in a family table (`edgec__ops_<family>[]`, ended by a zero row) in
 * src/runtime/op_<family>.c; src/runtime/ops.c lists the family tables. Adding an op is
 * one function and one row. Kernels read inputs, allocate outputs through
 * `edgec__rt_output`, and report failures with `edgec__op_fail`, which names the node. */
#ifndef EDGEC_RT_H
#define EDGEC_RT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ir/ir.h"

/* A value flowing through the interpreter. Data is dense, row-major, little-endian,
 * in the ONNX element layout (bool one byte, float16 as uint16 bits, 4-bit types packed
 * two per byte low nibble first). STRING tensors are not supported by the runtime. */
typedef struct edgec_rt_tensor {
    int32_t dtype;
    int32_t rank;
    int64_t dims[EDGEC_MAX_RANK];
    int64_t numel;
    void *data;    /* 64-byte aligned when owned */
    size_t nbytes;
    bool owned;    /* data was allocated by the runtime; false when it borrows a weight */
} edgec_rt_tensor;

/* No single runtime tensor may exceed this. Shapes computed at run time (ConstantOfShape,
 * Expand, Range, Tile) come from the file, and with memory overcommit a huge allocation
 * succeeds and only its zero-fill gets the process killed: refuse it cleanly instead. */
#define EDGEC_MAX_TENSOR_BYTES ((size_t)4 << 30)

struct edgec_session; /* the executor's state, private to src/runtime/exec.c */

/* What a kernel sees. Inputs omitted in the model ("" names, or fewer inputs than the
 * op allows) are NULL. Outputs are allocated by the kernel through edgec__rt_output. */
typedef struct edgec_op_ctx {
    const edgec_node *node;
    int64_t opset; /* version of the opset of the node's domain */
    size_t n_inputs;
    const edgec_rt_tensor *const *inputs;
    size_t n_outputs;
    edgec_rt_tensor **outputs; /* each NULL until allocated; NULL entries stay unused */
    struct edgec_session *session;
    int threads; /* kernels may split work across this many threads; results must not
                    depend on it */
    edgec_status alloc_status; /* why edgec__rt_output last failed: kernels report a NULL
                                  output as NO_MEMORY, the executor reports this instead */
} edgec_op_ctx;

typedef edgec_status (*edgec_op_fn)(edgec_op_ctx *ctx);

/* One row of an op table. `since_version` is the first opset version the row covers;
 * the registry picks, for a node, the row with the highest since_version <= the
 * model's opset for that domain. `domain` is "" for the default ONNX domain. */
typedef struct edgec_op {
    const char *name;
    const char *domain;
    int since_version;
    edgec_op_fn run;
} edgec_op;

/* The op for `op_type` in `domain` at opset `version`, or NULL. */
const edgec_op *edgec__op_find(const char *op_type, const char *domain, int64_t version);

/* Allocates output `index` with the given type and shape (rank <= EDGEC_MAX_RANK,
 * dims >= 0, overflow-checked) and zero-filled data. Returns NULL after recording a
 * message when allocation fails or `index` is out of range. */
edgec_rt_tensor *edgec__rt_output(edgec_op_ctx *ctx, size_t index, int32_t dtype, int32_t rank,
                                  const int64_t *dims);

/* Allocates a free-standing tensor (for scratch and for session inputs); free it with
 * edgec__rt_tensor_free. */
edgec_status edgec__rt_tensor_new(int32_t dtype, int32_t rank, const int64_t *dims,
                                  edgec_rt_tensor **out);
void edgec__rt_tensor_free(edgec_rt_tensor *t);

/* Records "node 'NAME' (OP): <message>" with the given status and returns it. */
edgec_status edgec__op_fail(const edgec_op_ctx *ctx, edgec_status st, const char *fmt, ...)
    EDGEC_PRINTF(3, 4);

/* Attribute helpers: the attribute's value, or `def` when the node does not have it. */
int64_t edgec__attr_int(const edgec_node *n, const char *name, int64_t def);
float edgec__attr_float(const edgec_node *n, const char *name, float def);
/* Copies at most `cap` ints into `out`; returns how many the attribute has (0 when
 * absent). */
size_t edgec__attr_ints(const edgec_node *n, const char *name, int64_t *out, size_t cap);
/* The string value NUL-terminated into `buf`, or `def`. */
const char *edgec__attr_string(const edgec_node *n, const char *name, char *buf, size_t cap,
                               const char *def);

/* Reads element `i` of a numeric tensor as double / int64 (any numeric dtype, incl.
 * float16, bfloat16, bool); used by kernels that handle many dtypes and by shape ops. */
double edgec__rt_get_f64(const edgec_rt_tensor *t, int64_t i);
int64_t edgec__rt_get_i64(const edgec_rt_tensor *t, int64_t i);
/* Writes element `i`, converting from double with the ONNX rules for the dtype
 * (rounding to nearest even and saturating for integer types is NOT implied; callers
 * that need it do it). */
void edgec__rt_set_f64(edgec_rt_tensor *t, int64_t i, double v);

/* IEEE half and bfloat16 conversions. */
float edgec__f16_to_f32(uint16_t h);
uint16_t edgec__f32_to_f16(float f);
float edgec__bf16_to_f32(uint16_t h);
uint16_t edgec__f32_to_bf16(float f);

/* Numpy-style broadcasting of two shapes into `out_dims`; false when incompatible. */
bool edgec__broadcast_shape(int32_t ra, const int64_t *da, int32_t rb, const int64_t *db,
                            int32_t *out_rank, int64_t *out_dims);

/* Runs subgraph `g` (an If branch, a Loop or Scan body) with the given values bound to
 * its inputs; names from enclosing scopes resolve to the enclosing values. Outputs are
 * written to `outs` (n = g->n_outputs) and owned by the caller. */
edgec_status edgec__rt_run_subgraph(edgec_op_ctx *ctx, const edgec_graph *g, size_t n_in,
                                    const edgec_rt_tensor *const *ins, edgec_rt_tensor **outs);

/* Calls `fn` with every named value a node of the main graph produces, right after the
 * node ran; the value belongs to the session and may be freed once `fn` returns. A caller
 * learns the intermediate values this way without making them graph outputs, which
 * would keep every one of them alive until the run ends. */
typedef void (*edgec__rt_observer)(void *ctx, const char *name, const edgec_rt_tensor *value);
void edgec__session_observe(struct edgec_session *s, edgec__rt_observer fn, void *ctx);

/* The family tables. */
extern const edgec_op edgec__ops_elementwise[];
extern const edgec_op edgec__ops_activation[];
extern const edgec_op edgec__ops_reduce[];
extern const edgec_op edgec__ops_shape[];
extern const edgec_op edgec__ops_tensor[];
extern const edgec_op edgec__ops_linalg[];
extern const edgec_op edgec__ops_conv[];
extern const edgec_op edgec__ops_pool[];
extern const edgec_op edgec__ops_norm[];
extern const edgec_op edgec__ops_quant[];
extern const edgec_op edgec__ops_rnn[];
extern const edgec_op edgec__ops_control[];

#endif
