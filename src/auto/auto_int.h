/* Internals shared by the plan file code and the search. */
#ifndef EDGEC_AUTO_INT_H
#define EDGEC_AUTO_INT_H

#include "edgec/auto.h"

#define EDGEC_PLAN_VERSION 1
#define EDGEC_PLAN_MAX_SETTINGS 4 /* passes one layer can combine */

/* One pass's value for a layer, e.g. {"prune", "0.9"}. */
typedef struct edgec_plan_setting {
    char *pass;
    char *value;
} edgec_plan_setting;

/* One weight tensor's choice and what it measured alone (error -1: not measured). */
typedef struct edgec_plan_layer {
    char *tensor;
    char *op;      /* the op that reads it, for people reading the plan */
    int64_t numel;
    edgec_plan_setting set[EDGEC_PLAN_MAX_SETTINGS];
    size_t n_set;
    int64_t bytes_saved; /* by this choice alone */
    double error;        /* relative output error of this choice alone, on calibration data */
} edgec_plan_layer;

struct edgec_plan {
    bool calib, container;
    double max_drop;
    edgec_auto_result result;
    bool has_result;
    edgec_plan_layer *layers;
    size_t n_layers;
    /* Model-wide pass options the layer settings need, e.g. prune-storage=dense. */
    edgec_plan_setting options[EDGEC_PLAN_MAX_SETTINGS];
    size_t n_options;
};

/* Appends a layer (tensor copied) to the plan; its settings are added with
 * edgec__plan_layer_set. */
edgec_status edgec__plan_add_layer(edgec_plan *plan, const char *tensor, const char *op,
                                   int64_t numel, edgec_plan_layer **out);
edgec_status edgec__plan_layer_set(edgec_plan_layer *l, const char *pass, const char *value);
edgec_status edgec__plan_option(edgec_plan *plan, const char *name, const char *value);

#endif
