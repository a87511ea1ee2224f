/* What the pruning passes (prune, nm, prune-structured) share: finding the weight of
 * every Conv / ConvTranspose / Gemm / MatMul / LSTM / GRU / RNN wherever it lives, applying
 * masks, the layer-wise least-squares reconstruction on calibration activations, and
 * storing sparse weights as sparse tensors when that is smaller. */
#ifndef EDGEC_PRUNE_COMMON_H
#define EDGEC_PRUNE_COMMON_H

#include "passes/pass.h"

/* One prunable weight: a dense float tensor that a compute node reads as its weight. */
typedef struct edgec_prune_layer {
    edgec_node *node;   /* the first node (in graph order) that reads the weight */
    size_t input;       /* which of its inputs is the weight */
    edgec_weight w;     /* where the tensor lives */
    float *data;        /* w.tensor->data */
    int64_t numel;
    int32_t nm_axis;    /* the input-channel (reduction) axis of the tensor */
    size_t uses;        /* how many node inputs, in any graph, read the tensor */
    /* Matrix view for reconstruction, 0 rows when the layer has none: element (r, c) of the
     * [rows, cols] matrix (r = output unit, c = input feature in the order the layer's
     * input vector has) sits at r * rs + c * cs. Only layers of the main graph get one. */
    int64_t rows, cols, rs, cs;
} edgec_prune_layer;

/* The prunable weights of the model, main graph first in topological order, then every
 * subgraph; each tensor once. Weights matching --exclude are left out. `*out` is
 * malloc'ed (NULL when none); the caller frees it. */
edgec_status edgec__prune_layers(edgec_pass_ctx *ctx, edgec_prune_layer **out, size_t *n);

/* Applies `keep` (one byte per weight element, 1 = keep; one array per layer) to the
 * layers: with calibration data the kept weights of each main-graph layer are re-solved,
 * layer by layer in topological order, so that the layer reproduces the original
 * model's output on the partially pruned model's input (least squares with a damped
 * Hessian); elsewhere pruned weights are simply zeroed. Logs a line per layer. `redone`
 * (n entries, may be NULL) says which layers were re-solved. */
edgec_status edgec__prune_apply(edgec_pass_ctx *ctx, edgec_prune_layer *layers, size_t n,
                                uint8_t *const *keep, bool *redone);

/* Stores the layers' weights as sparse tensors (sparse_initializer, or a Constant's
 * sparse_value) where that takes fewer bytes than dense storage, unless a pass that
 * runs later needs them dense. Logs what it did. */
edgec_status edgec__prune_store_sparse(edgec_pass_ctx *ctx, edgec_prune_layer *layers, size_t n);

/* A new dense copy of `t` with axis `axis` reduced to the entries listed in `keep`
 * (ascending, `n_keep` of them), allocated in the model's arena. */
edgec_tensor *edgec__tensor_select(edgec_model *m, const edgec_tensor *t, int32_t axis,
                                   const int64_t *keep, int64_t n_keep);

/* The end of an unstructured pruning pass: removes (`remove_dead`) or zeroes the units
 * that only zero weights read, logs the MACs against `before` and stores the weights
 * sparse where that is smaller (see above). */
typedef struct edgec_prune_macs edgec_prune_macs;
edgec_status edgec__prune_finish(edgec_pass_ctx *ctx, edgec_prune_layer *layers, size_t n,
                                 edgec_prune_macs *before, bool remove_dead);

/* Folds every BatchNormalization of `g` that follows a Conv / ConvTranspose / Gemm into
 * it (what the cleanup pass does; cleanup leaves the main graph's to structured pruning,
 * which reads their statistics first). `*n_folded` counts them. */
edgec_status edgec__fold_batchnorms(edgec_pass_ctx *ctx, edgec_graph *g, size_t *n_folded);

/* With calibration data, re-solves the codebook of a clustered weight so that the layer's
 * outputs on the calibration inputs (as the model computes them at this point) come as
 * close as least squares gets to the outputs with the float weights, which are still in
 * the model: one small K x K system per tensor. `idx` holds each weight's entry; with
 * `pin_zero`, entry 0 stays exactly 0 (pruned weights). Only main-graph layers with a
 * matrix view (Gemm, MatMul, Conv with group 1) and K <= EDGEC_REFIT_MAX_K; `*done` says
 * whether it happened. */
#define EDGEC_REFIT_MAX_K 64
edgec_status edgec__refit_codebook(edgec_pass_ctx *ctx, const char *tensor, const uint8_t *idx,
                                   float *codebook, int k, bool pin_zero, bool *done);

/* Frees `n` masks and the array holding them; accepts NULL. */
void edgec__prune_masks_free(uint8_t **keep, size_t n);

/* Number of exact zeros among `n` floats. */
int64_t edgec__count_zeros(const float *v, int64_t n);

/* Logs the model's multiply-accumulate count (dense and with zero weights skipped)
 * before (`before` NULL) or after a pass; `*saved` carries the first figures. */
struct edgec_prune_macs {
    bool known;
    uint64_t total, nonzero;
};
void edgec__prune_log_macs(edgec_pass_ctx *ctx, edgec_prune_macs *saved, bool after);

#endif
