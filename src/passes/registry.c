/* Every pass edgec has. Adding a pass: one file defining `const edgec_pass
 * edgec__pass_<name>`, one extern line and one row below, one test. */
#include "passes/pass.h"

/* EDGEC_PASS_EXTERNS */

const edgec_pass *const edgec__passes[] = {
    /* EDGEC_PASS_ROWS */
    NULL,
};

const size_t edgec__n_passes = sizeof edgec__passes / sizeof edgec__passes[0] - 1;
