/* Shared machinery of the quantization passes (--int8, --int4): finding the float
 * weights that quantizable ops read, wherever they live; symmetric per-channel and
 * blocked quantization with round-half-to-even; emitting the int8/int4 tensor, its
 * scales and a DequantizeLinear; and raising the model's opset when that keeps every
 * node's meaning. */
#ifndef EDGEC_QUANT_COMMON_H
#define EDGEC_QUANT_COMMON_H

#include "passes/pass.h"

/* A float weight a quantizable op reads, and how its axes are laid out. */
typedef struct edgec_qweight {
    edgec_weight w;    /* where the tensor lives: an initializer or a Constant node */
    edgec_node *node;  /* the first node that reads it as a weight */
    size_t input;      /* which input of `node` */
    int out_axis;      /* output channels: per-channel scales run along this axis */
    int in_axis;       /* input features (the reduction): int4 blocks run along this axis */
    size_t uses;       /* node inputs that read it, all as weights with these axes */
} edgec_qweight;

/* Whether `n` is op `op` of the default ONNX domain (NULL-safe). */
bool edgec__qop_is(const edgec_node *n, const char *op);

/* Finds every dense float weight read by a quantizable op (Conv, ConvTranspose, Gemm,
 * MatMul, LSTM, GRU, RNN, Gather), in every graph, in a stable
 * order (graph order, depth first). Weights matched by --exclude, read by an excluded
 * node, read in ways other than as a weight (or along different axes), or that are
 * overridable graph inputs are left out. `*out` lives in the model's arena. */
edgec_status edgec__qweights_find(const edgec_pass_ctx *ctx, edgec_qweight **out, size_t *n);

/* The axes of weight input `input` of node `n` when it has rank `rank`: false when that
 * input is not a weight edgec quantizes. */
bool edgec__qweight_axes(const edgec_node *n, size_t input, int32_t rank, int *out_axis,
                         int *in_axis);

/* Copies a float weight into a new malloc'd array (the file's bytes may be unaligned). */
edgec_status edgec__qweight_load(const edgec_weight *w, float **out);

/* Rounds to the nearest integer, ties to even (the rounding QuantizeLinear uses). */
float edgec__round_half_even(float x);

/* The view of a tensor of `rank` dims around `axis`: [outer, dims[axis], inner]. */
void edgec__axis_split(int32_t rank, const int64_t *dims, int axis, int64_t *outer, int64_t *len,
                       int64_t *inner);

/* Symmetric int8 quantization in [-127, 127]. With `axis` >= 0 one scale per index of
 * that axis (`scales` has dims[axis] entries), else one scale for the whole tensor.
 * Non-finite inputs must have been rejected before. */
void edgec__quant_int8(const float *w, int32_t rank, const int64_t *dims, int axis, int8_t *q,
                       float *scales);

/* Symmetric int4 quantization in blocks of `block` along `axis`: scales have the dims
 * of w with dims[axis] replaced by ceil(dims[axis]/block). Each block's scale is the one
 * among a few clipping ratios that gives the least squared error. `q` holds one value
 * per byte in [-8, 7]. */
void edgec__quant_int4_blocked(const float *w, int32_t rank, const int64_t *dims, int axis,
                               int64_t block, int8_t *q, float *scales);

/* Best int4 scale for the values x[0], x[stride], ... (n of them): least squared error
 * over a few clipping ratios of max|x|/7. */
float edgec__int4_scale(const float *x, int64_t n, int64_t stride);

/* Packs int4 values two per byte, low nibble first. `out` has (n+1)/2 bytes. */
void edgec__pack_int4(const int8_t *q, int64_t n, uint8_t *out);

/* Places new constants and nodes next to the weights they belong to: per graph, where
 * the next node made for an initializer goes, so that producers stay ahead of readers
 * and the order is stable. */
typedef struct edgec_qemit {
    edgec_model *m;
    edgec_graph **graphs;
    size_t *next;
    size_t n, cap;
} edgec_qemit;

/* Where the next node for `g`'s initializer weights goes (and counts it). */
edgec_status edgec__qemit_slot(edgec_qemit *e, edgec_graph *g, size_t *pos);
/* Shifts `g`'s slot after a node was inserted at `pos` by someone else. */
void edgec__qemit_inserted(edgec_qemit *e, edgec_graph *g, size_t pos);
void edgec__qemit_free(edgec_qemit *e);
/* Inserts `n` into `g` at `*pos` (then advanced), keeping the slots right. */
edgec_status edgec__qemit_insert(edgec_qemit *e, edgec_graph *g, size_t *pos, edgec_node *n);
/* Index of `n` in `g` (n_nodes when absent). */
size_t edgec__node_pos(const edgec_graph *g, const edgec_node *n);

/* Adds constant tensor `t` (named) to `g`: an initializer when `as_node` is false, else a
 * Constant node inserted at `*pos` (then advanced). */
edgec_status edgec__qconst_add(edgec_qemit *e, edgec_graph *g, bool as_node, size_t *pos,
                               edgec_tensor *t);

/* A new float tensor in the arena holding `data`. */
edgec_tensor *edgec__qtensor_f32(edgec_model *m, const char *name, int32_t rank,
                                 const int64_t *dims, const float *data);

/* Gives weight `q` new data (type `qtype`, shape `dims`) and a new name ("<name>_quantized",
 * returned in `*qname`), in place: the initializer, or the Constant node's output. */
edgec_status edgec__qweight_replace(edgec_qemit *e, const edgec_qweight *q, int32_t qtype,
                                    void *qdata, size_t qbytes, int32_t rank,
                                    const int64_t *dims, const char **qname);

/* Turns weight `q` into quantized data + scales + DequantizeLinear in the weight's own
 * graph: the quantized tensor and scales take the weight's place (initializers, or
 * Constant nodes for a Constant weight) and the DequantizeLinear's output keeps the
 * weight's name, so every reader, in any subgraph, gets the dequantized values.
 * `qdata` (arena memory) has type `qtype` (INT8 or INT4) and the weight's dims.
 * `axis` < 0 means one scale (a scalar); `block` > 0 makes a blocked DequantizeLinear. */
edgec_status edgec__qweight_emit(edgec_qemit *e, const edgec_qweight *q, int32_t qtype,
                                 void *qdata, size_t qbytes, const float *scales,
                                 int32_t scale_rank, const int64_t *scale_dims, int axis,
                                 int64_t block);

/* Makes the model import opset `target` of the default domain (and IR >= `ir`) when
 * every node keeps its meaning, rewriting nodes whose attributes became inputs (axes of
 * Reduce*, Squeeze, Unsqueeze; split of Split). Does nothing when the model is already
 * there. Fails with UNSUPPORTED, naming the node and `why` (what needs the target) and
 * ending with `advice` (what the user can do), when raising would change some node's
 * meaning or edgec does not know the op. */
edgec_status edgec__quant_raise_opset(const edgec_pass_ctx *ctx, int64_t target, int64_t ir,
                                      const char *why, const char *advice);

/* Whether raising to `target` is legal; when not, `reason` says why. No edits. */
bool edgec__quant_opset_legal(const edgec_model *m, int64_t target, char *reason, size_t size);

#endif
