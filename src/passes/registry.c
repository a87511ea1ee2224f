/* Every pass edgec has. Adding a pass: one file defining `const edgec_pass
 * edgec__pass_<name>`, one extern line and one row below, one test. */
#include "passes/pass.h"

/* EDGEC_PASS_EXTERNS */
extern const edgec_pass edgec__pass_int4;
extern const edgec_pass edgec__pass_int8;
extern const edgec_pass edgec__pass_prune_structured;
extern const edgec_pass edgec__pass_cluster;
extern const edgec_pass edgec__pass_nm;
extern const edgec_pass edgec__pass_cleanup;
extern const edgec_pass edgec__pass_svd;
extern const edgec_pass edgec__pass_prune;

const edgec_pass *const edgec__passes[] = {
    /* EDGEC_PASS_ROWS */
    &edgec__pass_int4,
    &edgec__pass_int8,
    &edgec__pass_prune_structured,
    &edgec__pass_cluster,
    &edgec__pass_nm,
    &edgec__pass_cleanup,
    &edgec__pass_svd,
    &edgec__pass_prune,
    NULL,
};

const size_t edgec__n_passes = sizeof edgec__passes / sizeof edgec__passes[0] - 1;
