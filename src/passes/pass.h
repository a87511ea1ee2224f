/* The pass interface.
 *
 * A pass is one row in `edgec__passes[]` (src/passes/registry.c) and one file,
 * src/passes/<name>.c, that defines it. Passes edit the model through src/ir and the
 * helpers below; they allocate in the model's arena and never free nodes one by one. */
#ifndef EDGEC_PASS_H
#define EDGEC_PASS_H

#include <stdio.h>

#include "edgec/data.h"
#include "edgec/pipeline.h"
#include "ir/edit.h"
#include "ir/ir.h"

typedef struct edgec_pass_ctx edgec_pass_ctx;

/* A secondary option a pass understands, e.g. --prune-scope for prune. */
typedef struct edgec_pass_option {
    const char *name;
    const char *arg; /* NULL when the option takes no value */
    const char *help;
} edgec_pass_option;

/* Run order, so that the result does not depend on the order of the command line. */
enum edgec_pass_order {
    EDGEC_ORDER_CLEANUP = 10,
    EDGEC_ORDER_FACTORIZE = 20,
    EDGEC_ORDER_PRUNE = 30,
    EDGEC_ORDER_CLUSTER = 40,
    EDGEC_ORDER_QUANTIZE = 50,
    EDGEC_ORDER_ENCODE = 60
};

typedef struct edgec_pass {
    const char *name;  /* the command-line option that enables it: --NAME[=ARG] */
    const char *arg;   /* shown in help; NULL when the pass takes no value */
    bool arg_required;
    const char *help;
    int order;
    const edgec_pass_option *options; /* ends with a zero row; may be NULL */
    /* Validates the argument before any model is read; may be NULL. Returns USAGE with
     * a message on a bad value. */
    edgec_status (*check)(const char *arg);
    edgec_status (*run)(edgec_pass_ctx *ctx);
    /* Accepts layer settings (edgec_pipeline_set_layer): a value per weight tensor, read
     * with edgec__pass_arg. */
    bool layer_values;
} edgec_pass;

extern const edgec_pass *const edgec__passes[];
extern const size_t edgec__n_passes;

struct edgec_pass_ctx {
    edgec_model *model;
    const edgec_pass *pass;
    const char *arg;              /* the pass's value; NULL when given without one */
    const edgec_dataset *calib;   /* NULL without --calib */
    uint64_t seed;
    const edgec_pipeline *pipeline;
    FILE *log;                    /* may be NULL */
};

/* The value of option `name` (e.g. "prune-scope"): NULL when not given, "" when given
 * without a value. */
const char *edgec__pass_option(const edgec_pass_ctx *ctx, const char *name);

/* True when a --exclude glob matches the node's name, its op type, or `tensor` (may be
 * NULL); or when the pass has layer settings and `tensor` is set to "off", or has none
 * while the pass is not enabled for the whole model. */
bool edgec__pass_excluded(const edgec_pass_ctx *ctx, const edgec_node *node, const char *tensor);

/* The pass's value for weight `tensor`: its layer setting when it has one (also for the
 * factors `T_lowrank_a`/`T_lowrank_b` that --svd makes of T), else ctx->arg. */
const char *edgec__pass_arg(const edgec_pass_ctx *ctx, const char *tensor);

/* True when pass `name` runs: enabled for the whole model or by a layer setting (e.g.
 * whether quantization follows pruning). */
bool edgec__pass_enabled(const edgec_pass_ctx *ctx, const char *name);

/* Writes one line about what the pass did, prefixed with the pass name, to the log. */
void edgec__pass_log(const edgec_pass_ctx *ctx, const char *fmt, ...) EDGEC_PRINTF(2, 3);

/* Parses a number option strictly (whole string, finite); USAGE naming `what` otherwise. */
edgec_status edgec__parse_double(const char *s, const char *what, double lo, double hi,
                                 bool lo_open, bool hi_open, double *out);

/* Runs the model on up to `max_samples` samples of `data` (0 = all) and hands `fn` the
 * values named `names` (main-graph values: node outputs or graph inputs) for each
 * sample, as float32 arrays in the order of `names`. Used by data-aware passes. */
typedef edgec_status (*edgec_collect_fn)(int64_t sample, const edgec_array *const *values,
                                         void *ctx);
edgec_status edgec__collect(edgec_model *m, const edgec_dataset *data, const char *const *names,
                            size_t n_names, int64_t max_samples, edgec_collect_fn fn, void *ctx);

#endif
