/* Automatic compression under an accuracy budget, and the per-layer plans it produces.
 *
 * The search measures, for every layer and every candidate setting (sparsity with
 * reconstruction, clustering to K values, int8), the output error on calibration data and
 * the bytes saved; then it moves the layers one step at a time, best bytes-per-error
 * first, checking each step on the real compressed model, until no step fits the budget.
 * The result is a plan: one set of pass settings per weight tensor, which
 * `edgec_plan_apply` turns into layer settings of a pipeline (edgec_pipeline_set_layer),
 * so that running the pipeline reproduces the searched model byte for byte. */
#ifndef EDGEC_AUTO_H
#define EDGEC_AUTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "edgec/data.h"
#include "edgec/model.h"
#include "edgec/pipeline.h"
#include "edgec/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Per-layer pass settings and what the search measured when it chose them. */
typedef struct edgec_plan edgec_plan;

/** Options for `edgec_auto_search`. */
typedef struct edgec_auto_options {
    double max_drop;        /* budget: top-1 points (or % of changed top-1 without labels) */
    double target_ratio;    /* stop once original / result >= this; 0: as small as it gets */
    double time_budget;     /* seconds; 0: no limit. Hitting it keeps the best plan so far */
    bool container;         /* measure sizes as the .edgec container (else ONNX bytes) */
    const edgec_dataset *calib; /* required: sensitivity, reconstruction, the budget */
    const edgec_dataset *eval;  /* optional: the chosen plan is verified (and backed off) on it */
    uint64_t seed;
    FILE *log;              /* a line per step; may be NULL */
} edgec_auto_options;

/** What the search found. */
typedef struct edgec_auto_result {
    uint64_t bytes_before, bytes_after; /* float model and result, as measured (see container) */
    double calib_drop;      /* on the calibration data */
    bool has_eval;
    double eval_drop;       /* on the eval data, when given */
    bool labels;            /* drops are top-1 points against labels (else % of changed top-1) */
    int trials;             /* compressed models built and measured */
    int steps;              /* moves accepted */
    int backoffs;           /* moves undone because the eval data missed the budget */
    bool timed_out;         /* the time budget ended the search */
    double seconds;
} edgec_auto_result;

/** Searches a plan for `model` (left unchanged) within the budget. Tensors matching one
 * of the `n_exclude` shell globs `exclude` (by tensor name, or the name or op type of the
 * node reading it) get no setting. Fails with USAGE when the calibration data is
 * missing. Deterministic unless the time budget ends the search. */
edgec_status edgec_auto_search(const edgec_model *model, const char *const *exclude,
                               size_t n_exclude, const edgec_auto_options *opt, edgec_plan **plan,
                               edgec_auto_result *result);

/** Reads a plan file (JSON, docs/AUTO.md). INVALID_DATA, naming the file and the layer,
 * for anything malformed. */
edgec_status edgec_plan_load(const char *path, edgec_plan **out);

/** Writes the plan as JSON to `path` ("-" for standard output), whole or not at all. */
edgec_status edgec_plan_save(const edgec_plan *plan, const char *path);

/** Adds the plan's settings to `p` as layer settings. */
edgec_status edgec_plan_apply(const edgec_plan *plan, edgec_pipeline *p);

/** True when the plan was searched with calibration data, which its pruning
 * reconstruction needs again to give the same bytes. */
bool edgec_plan_needs_calib(const edgec_plan *plan);

/** True when the plan's sizes were measured as a container (`--huffman`). */
bool edgec_plan_container(const edgec_plan *plan);

/** Releases the plan. Accepts NULL. */
void edgec_plan_free(edgec_plan *plan);

#ifdef __cplusplus
}
#endif
#endif
