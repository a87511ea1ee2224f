/* The compression report: what a pipeline gained (bytes, parameters, non-zeros, per
 * layer) and what it cost (accuracy and fidelity), the quality gate, and the make
 * depfile of a compress run.
 *
 * A report diffs two snapshots of a model: one taken before the passes run and one of
 * the result. Layers are matched by node name, then by the value they produce, then
 * through the layer they feed, so passes need not report anything themselves. */
#ifndef EDGEC_REPORT_H
#define EDGEC_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "edgec/model.h"
#include "edgec/runtime.h"
#include "edgec/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct edgec_report edgec_report;

/** Output formats of `edgec_report_write`. */
typedef enum edgec_report_format {
    EDGEC_REPORT_TEXT = 0,     /* the summary printed after every compress */
    EDGEC_REPORT_JSON = 1,     /* for scripts; the schema is in docs/REPORT.md */
    EDGEC_REPORT_MARKDOWN = 2, /* for pull-request comments */
    EDGEC_REPORT_HTML = 3      /* one self-contained page with inline SVG charts */
} edgec_report_format;

/** The format a report path asks for by its extension (.json, .md, .html/.htm);
 * fails with USAGE, naming the path, for any other. */
edgec_status edgec_report_format_of(const char *path, edgec_report_format *out);

/** Creates a report on the model at `input_path` (as given by the user) and takes the
 * "before" snapshot of `model`, which must not have been changed yet. With `count_macs`
 * both snapshots count multiply-accumulates, which takes one run of the interpreter on
 * each model. */
edgec_status edgec_report_create(const edgec_model *model, const char *input_path,
                                 bool count_macs, edgec_report **out);

/** Records the passes that ran: `options` is the canonical settings line
 * (edgec_pipeline_describe) and `names`/`values` the passes in run order (a value may
 * be NULL). */
edgec_status edgec_report_set_passes(edgec_report *r, const char *options,
                                     const char *const *names, const char *const *values,
                                     size_t n);

/** Takes the "after" snapshot of the compressed model and matches its layers to the
 * original's. */
edgec_status edgec_report_set_result(edgec_report *r, const edgec_model *model);

/** Records an evaluation of the original (reference) and the result (candidate);
 * `data_path` is NULL when the inputs were synthetic. */
edgec_status edgec_report_set_eval(edgec_report *r, const edgec_eval_result *res,
                                   const char *data_path);

/** Quality gates. `max_drop` is in top-1 percentage points, `min_cosine` a cosine
 * similarity; negative values (or NaN) mean "not set". */
typedef struct edgec_gate {
    double max_drop;
    double min_cosine;
} edgec_gate;

/** Checks the gates against the recorded evaluation and records the outcome. Returns
 * OK when every gate passes (or none is set) and GATE when one fails, with a message
 * that says by how much it missed. Without labels the top-1 gate checks the share of
 * samples where the two models disagree, which bounds the drop from above. Fails with
 * USAGE when a gate is set but no evaluation was recorded. */
edgec_status edgec_report_check_gate(edgec_report *r, const edgec_gate *gate);

/** Why the gate failed ("top-1 dropped 12.30 points ..."), or NULL when it passed or was
 * not checked. Valid while the report lives. */
const char *edgec_report_gate_message(const edgec_report *r);

/** Where the result went. The report reads the true byte counts from disk: the input
 * model file and its external data files; when `written`, the output file and its
 * external data file (OUTPUT.data, when `external` had the save write one), and the
 * container at `container_path` (NULL when none was written, which is also the output
 * when it is given). `serialized_bytes` is the size the ONNX model has serialized
 * (< 0: unknown), for outputs that were not written or were written as a container. */
void edgec_report_set_output(edgec_report *r, const char *output_path, bool written,
                             edgec_external_mode external, const char *container_path,
                             int64_t serialized_bytes);

/** An optional time stamp (e.g. an ISO 8601 string). Reports hold none unless this is
 * called, so that the same run gives the same bytes. */
edgec_status edgec_report_set_timestamp(edgec_report *r, const char *timestamp);

/** Writes the report in `fmt` to an open stream. */
edgec_status edgec_report_print(const edgec_report *r, FILE *out, edgec_report_format fmt);

/** Writes the report to `path` in the format its extension names. The file appears
 * whole or not at all. */
edgec_status edgec_report_write(const edgec_report *r, const char *path);

/** Releases the report. Accepts NULL. */
void edgec_report_free(edgec_report *r);

/** Writes a make depfile to `path`: `target` depends on the model file `model` was read
 * from, its external data files, and `data_paths` (files, or folders whose .pb files are
 * listed). Paths are escaped for make. The file appears whole or not at all. */
edgec_status edgec_depfile_write(const char *path, const char *target, const edgec_model *model,
                                 const char *const *data_paths, size_t n_data);

/** Progress of long work (evaluation, calibration, passes): `stage` names it, `done` of
 * `total` steps are finished. Called on the thread doing the work. */
typedef void (*edgec_progress_fn)(void *user, const char *stage, int64_t done, int64_t total);

/** Sets (or with NULL clears) this thread's progress callback. */
void edgec_progress_set(edgec_progress_fn fn, void *user);

#ifdef __cplusplus
}
#endif
#endif
