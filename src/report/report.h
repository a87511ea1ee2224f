/* Internals of the compression report: model snapshots, the layer diff and the writers.
 *
 * A snapshot copies everything it needs out of the model (names, shapes, counts), so it
 * stays valid while passes edit the model and after the model is freed. */
#ifndef EDGEC_REPORT_INTERNAL_H
#define EDGEC_REPORT_INTERNAL_H

#include <stdio.h>
#include <time.h>

#include "edgec/report.h"
#include "ir/ir.h"

/* One weight tensor: an initializer, a sparse initializer or a Constant node's value. */
typedef struct edgec_rweight {
    char *name;
    int32_t dtype;
    int32_t rank;
    int64_t *dims;   /* [rank]; NULL when rank is 0 */
    int64_t numel;   /* dense element count */
    int64_t nonzero; /* elements that are not zero (q != zero point behind DequantizeLinear) */
    uint64_t bytes;  /* bytes of stored data (values + indices for sparse tensors) */
    bool sparse;
    bool external;
} edgec_rweight;

/* A layer: a node that combines activations with weights (directly or through nodes
 * that compute only on weights, such as DequantizeLinear). */
typedef struct edgec_rlayer {
    char *name;   /* the node's name, or its first output when unnamed */
    char *node;   /* the node's name; "" when unnamed */
    char *graph;  /* where the graph sits: "main", "main/If 'c'/then_branch", ... */
    char *op;     /* op type; "domain::Op" outside the default domain */
    char *output; /* first output value */
    size_t *weights; /* indices into the snapshot's weights that this layer owns */
    size_t n_weights;
    ptrdiff_t next;  /* the layer that consumes this layer's output directly, or -1 */
} edgec_rlayer;

typedef struct edgec_snapshot {
    edgec_rweight *weights;
    size_t n_weights;
    edgec_rlayer *layers;
    size_t n_layers;
    uint64_t params, nonzero, bytes; /* over every weight, in layers or not */
    int64_t ir_version, opset;
    /* Multiply-accumulates of one inference (batch 1), all and those with a non-zero
     * weight; unknown when the interpreter cannot run the model. */
    bool has_macs;
    uint64_t macs, macs_nonzero;
} edgec_snapshot;

/* Takes a snapshot of `m`, with its MACs when `count_macs`. */
edgec_status edgec__snapshot_take(const edgec_model *m, bool count_macs, edgec_snapshot *out);
void edgec__snapshot_free(edgec_snapshot *s);

/* One row of the per-layer table: an original layer and what became of it, or a layer
 * new in the result. */
typedef struct edgec_rrow {
    const edgec_rlayer *before;      /* NULL for a new layer */
    const edgec_rlayer **after;      /* the result's layers matched to it */
    size_t n_after;
    const edgec_rweight *main_before, *main_after; /* the largest weight on each side */
    char op_after[96];                /* "Gemm", "MatMul+Gemm", "" when removed */
    int64_t params_before, params_after, nonzero_before, nonzero_after;
    uint64_t bytes_before, bytes_after;
    int64_t rank;                     /* factorization rank; -1 when not factorized */
} edgec_rrow;

/* Matches the layers of two snapshots into rows (original order, new layers last). */
edgec_status edgec__report_match(const edgec_snapshot *before, const edgec_snapshot *after,
                                 edgec_rrow **rows, size_t *n_rows);
void edgec__report_rows_free(edgec_rrow *rows, size_t n);

typedef struct edgec_gate_check {
    const char *name;  /* "max_drop" or "min_cosine" */
    double limit;
    double value;      /* the measured drop (points) or cosine */
    bool passed;
    double margin;     /* how far inside (>= 0) or outside (< 0) the limit */
    bool by_agreement; /* top-1 checked through disagreement, for lack of labels */
} edgec_gate_check;

struct edgec_report {
    char *input_path, *output_path, *container_path, *data_path, *options, *timestamp;
    char **passes, **pass_values; /* [n_passes], values may be NULL */
    size_t n_passes;
    char **input_files; /* the model file and its external data files */
    size_t n_input_files;
    edgec_snapshot before, after;
    bool has_after, count_macs;
    edgec_rrow *rows;
    size_t n_rows;
    int64_t input_bytes, output_bytes, container_bytes, serialized_bytes;
    char *output_data_path; /* OUTPUT.data when the output has external data */
    int64_t output_data_bytes;
    time_t started; /* when the report was created; never written out */
    bool has_eval;
    edgec_eval_result eval;
    bool gate_checked, gate_passed;
    edgec_gate_check checks[2];
    size_t n_checks;
    char *gate_message;
};

/* The writers, one per format. */
void edgec__report_text(const edgec_report *r, FILE *out);
void edgec__report_json(const edgec_report *r, FILE *out);
void edgec__report_markdown(const edgec_report *r, FILE *out);
void edgec__report_html(const edgec_report *r, FILE *out);

/* The summary as key/value rows (input, output, passes, size, parameters, MACs, the
 * evaluation, the gate), for the Markdown and HTML tables. */
typedef void (*edgec_row_fn)(FILE *out, const char *key, const char *value);
void edgec__report_rows(const edgec_report *r, edgec_row_fn row, FILE *out);

/* Shared formatting: "[300,64]" (at most `size` bytes); "-" for no weight. */
void edgec__report_shape(char *buf, size_t size, const edgec_rweight *w);
/* Bytes as a short figure: "1.2 MB"; and a percentage of zeros, "-" when n is 0. */
void edgec__report_bytes(char *buf, size_t size, uint64_t b);
double edgec__report_sparsity(int64_t numel, int64_t nonzero);
/* Percentage of zeros of a weight; NaN without one. */
double edgec__report_zeros(const edgec_rweight *w);
/* Element width of a weight's dtype in bits; 0 without a weight. */
int edgec__report_bits(const edgec_rweight *w);
/* The dtype name, "-" without a weight. */
const char *edgec__report_dtype(const edgec_rweight *w);

/* Reports progress of long work to this thread's callback, if any. */
void edgec__progress(const char *stage, int64_t done, int64_t total);

#endif
