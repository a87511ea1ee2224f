/* Compression pipelines: which passes run, with which settings, on which data. */
#ifndef EDGEC_PIPELINE_H
#define EDGEC_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edgec/data.h"
#include "edgec/model.h"
#include "edgec/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A set of passes and their settings. Passes run in a fixed order (cleanup, low-rank
 * factorization, pruning, clustering, quantization), whatever order they were enabled
 * in, so that the same settings always give the same model. */
typedef struct edgec_pipeline edgec_pipeline;

/** What one pass or pass option is called on the command line (`--NAME[=ARG]`). */
typedef struct edgec_option_info {
    const char *name;
    const char *arg;      /* e.g. "R", "N:M", "[=weights|dynamic|static]"; NULL: no value */
    const char *help;
    bool is_pass;         /* enables a pass (rather than tuning one) */
} edgec_option_info;

/** Number of options the pipeline understands, and the i-th one, for help texts. */
size_t edgec_pipeline_option_count(void);
const edgec_option_info *edgec_pipeline_option_at(size_t i);

/** Creates an empty pipeline (which leaves a model unchanged). */
edgec_status edgec_pipeline_create(edgec_pipeline **out);

/** Sets option `name` (without the leading dashes) to `value` (NULL when given without
 * one): enables a pass, or tunes one. Fails with USAGE, saying why, for an unknown name,
 * a missing or malformed value, or a value out of range. */
edgec_status edgec_pipeline_set(edgec_pipeline *p, const char *name, const char *value);

/** Sets pass `name` to `value` for the weight tensor `tensor` alone (a layer setting), as a
 * plan does (--plan, --auto). It overrides the pass's model-wide value for that tensor;
 * "off" keeps the pass away from it. A pass that has layer settings but is not enabled
 * for the whole model runs on just those tensors. A setting on T also covers the two
 * factors --svd makes of T. Passes that take layer settings: prune, nm, svd, cluster,
 * int8 and int4 (the last two: on or "off"). Fails with USAGE for another pass, a bad
 * value, or a second setting of the same pass for the same tensor. */
edgec_status edgec_pipeline_set_layer(edgec_pipeline *p, const char *tensor, const char *name,
                                      const char *value);

/** Removes every layer setting. */
void edgec_pipeline_clear_layers(edgec_pipeline *p);

/** Keeps nodes and tensors whose name matches the shell glob `pattern` out of every pass. */
edgec_status edgec_pipeline_exclude(edgec_pipeline *p, const char *pattern);

/** Calibration data for data-aware passes; borrowed, must outlive the pipeline's runs. */
void edgec_pipeline_set_calib(edgec_pipeline *p, const edgec_dataset *calib);

/** Seed of every random choice passes make (default 0). */
void edgec_pipeline_set_seed(edgec_pipeline *p, uint64_t seed);

/** True when at least one pass is enabled. */
bool edgec_pipeline_has_passes(const edgec_pipeline *p);

/** The enabled settings as one canonical line ("--prune=0.5 --int8=weights"), the same
 * for the same settings in any order; recorded in the model's metadata. Valid until the
 * pipeline changes or is freed. */
const char *edgec_pipeline_describe(edgec_pipeline *p);

/** The `i`-th enabled pass in run order: its name and its value (NULL when given
 * without one). False when there are fewer passes. */
bool edgec_pipeline_pass_at(const edgec_pipeline *p, size_t i, const char **name,
                            const char **value);

/** Runs the enabled passes on `model`, editing it in place, and records the edgec version
 * and settings in its metadata_props. On failure the model may be partly edited and must
 * not be saved. Messages of what each pass did go to `log` (may be NULL). */
edgec_status edgec_pipeline_run(edgec_pipeline *p, edgec_model *model, FILE *log);

/** Releases the pipeline. Accepts NULL. */
void edgec_pipeline_free(edgec_pipeline *p);

#ifdef __cplusplus
}
#endif
#endif
