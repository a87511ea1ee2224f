/* The reference interpreter: sessions that run a model on arrays, and the evaluation
 * of a reference model (and optionally a compressed candidate) on a data set. */
#ifndef EDGEC_RUNTIME_H
#define EDGEC_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edgec/array.h"
#include "edgec/data.h"
#include "edgec/model.h"
#include "edgec/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A model prepared for execution: every node's kernel resolved, weights bound. A
 * session borrows the model, which must outlive it. One session runs one inference at a
 * time; results do not depend on the thread count. */
typedef struct edgec_session edgec_session;

/** A fixed shape for one model input, e.g. from `--input-shape NAME:1x3x224x224`. */
typedef struct edgec_input_shape {
    const char *name;
    int rank;
    int64_t dims[EDGEC_ARRAY_MAX_RANK];
} edgec_input_shape;

/** Parses "NAME:D0xD1x..." (dims >= 0; "NAME:" alone is a scalar). `out->name` points
 * into a copy held in `buf` (at least strlen(spec)+1 bytes). Fails with USAGE. */
edgec_status edgec_input_shape_parse(const char *spec, char *buf, size_t buf_size,
                                     edgec_input_shape *out);

/** Options for `edgec_session_create`. Zero-initialise for the defaults. */
typedef struct edgec_session_options {
    int threads; /* worker threads kernels may use; 0 means 1 */
    /* Shapes that replace the model's declared input shapes (symbolic dims fixed). */
    const edgec_input_shape *input_shapes;
    size_t n_input_shapes;
} edgec_session_options;

/** What a model declares about one input or output. */
typedef struct edgec_value_desc {
    const char *name;
    edgec_elem_type type;         /* UNDEFINED when the model does not say */
    int rank;                     /* -1 when the model does not say */
    const int64_t *dims;          /* [rank]; -1 where symbolic or unknown */
    const char *const *dim_names; /* [rank]; the symbol of a symbolic dim, else NULL */
} edgec_value_desc;

/** Prepares `model` for execution. Fails with UNSUPPORTED (exit 5), naming the op and
 * the node, when some node (in any subgraph) has no kernel; with INVALID_MODEL when a
 * node reads a value nothing defines or the graph has a cycle; with USAGE when an
 * input shape names no input or has the wrong rank. `opt` may be NULL. */
edgec_status edgec_session_create(const edgec_model *model, const edgec_session_options *opt,
                                  edgec_session **out);

/** Number of inputs the caller must provide (graph inputs without an initializer). */
size_t edgec_session_input_count(const edgec_session *s);

/** Describes input `i` (after `input_shapes` were applied). Fails with USAGE when `i`
 * is out of range. The description stays valid while the session lives. */
edgec_status edgec_session_input(const edgec_session *s, size_t i, edgec_value_desc *out);

/** Number of graph outputs. */
size_t edgec_session_output_count(const edgec_session *s);

/** Describes output `i`. */
edgec_status edgec_session_output(const edgec_session *s, size_t i, edgec_value_desc *out);

/** Runs the model. Inputs are matched to graph inputs by array name (an unnamed array
 * is accepted when it is the only one and the model has one input); a graph input that
 * has an initializer may be given to override it. Every input is checked against the
 * model's declared type, rank and fixed dims, and symbolic dims must bind to the same
 * value across inputs (INVALID_DATA naming the input otherwise). On success
 * `outputs[i]` (n_outputs = edgec_session_output_count) receive new arrays named after
 * the graph outputs, which the caller frees. */
edgec_status edgec_session_run(edgec_session *s, const edgec_array *const *inputs,
                               size_t n_inputs, edgec_array **outputs, size_t n_outputs);

/** The most bytes of intermediate and output tensors alive at once, over all runs so far
 * (weights and caller-provided inputs are not counted). */
uint64_t edgec_session_peak_bytes(const edgec_session *s);

/** Releases the session. Accepts NULL. */
void edgec_session_free(edgec_session *s);

/** Options for `edgec_evaluate`. Zero-initialise for the defaults. */
typedef struct edgec_eval_options {
    int64_t samples; /* at most this many samples; 0 means all (32 when synthetic) */
    uint64_t seed;   /* seed of synthetic inputs */
    int threads;
    const edgec_input_shape *input_shapes;
    size_t n_input_shapes;
} edgec_eval_options;

/** Accuracy and fidelity figures. Percentages are in [0, 100]. */
typedef struct edgec_eval_result {
    int64_t samples;
    bool synthetic;       /* inputs were generated, not read */
    bool has_labels;      /* top-1 figures are set */
    double ref_top1;      /* percent of samples whose argmax equals the label */
    bool has_candidate;   /* the candidate and fidelity figures are set */
    double cand_top1;
    double top1_drop;     /* ref_top1 - cand_top1, in percentage points */
    double cosine;        /* cosine similarity of the first outputs over all samples */
    double sqnr_db;       /* signal-to-quantization-noise ratio; +inf when identical */
    double max_abs_err;   /* largest absolute difference of the first outputs */
    double top1_agreement; /* percent of samples where both argmaxes agree */
    uint64_t ref_peak_bytes, cand_peak_bytes;
} edgec_eval_result;

/** Runs `ref` (and `cand` when not NULL) one sample at a time (batch of 1) on `data`, or
 * on seeded synthetic inputs when `data` is NULL. Samples are slices along the first
 * axis of each array named after a model input (an unnamed array feeds a one-input
 * model). Top-1 uses the argmax of each sample's first output against the optional
 * `labels` array. Fails with INVALID_DATA, naming the file and the array, when the data
 * does not fit the model. */
edgec_status edgec_evaluate(const edgec_model *ref, const edgec_model *cand,
                            const edgec_dataset *data, const edgec_eval_options *opt,
                            edgec_eval_result *out);

#ifdef __cplusplus
}
#endif
#endif
