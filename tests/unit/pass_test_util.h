/* What the pass tests share: loading the sample models and data from models/, running
 * passes through the public pipeline, and evaluating a candidate against its reference.
 * Include after <cmocka.h>. */
#ifndef EDGEC_PASS_TEST_UTIL_H
#define EDGEC_PASS_TEST_UTIL_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "edgec/edgec.h"
#include "edgec/pipeline.h"
#include "edgec/runtime.h"

/* models/NAME, found from this file's path so the tests run from any directory. */
static inline void model_path(char *buf, size_t size, const char *name)
{
    const char *f = __FILE__;
    const char *cut = strstr(f, "tests/unit/");
    snprintf(buf, size, "%.*smodels/%s", cut ? (int)(cut - f) : 0, f, name);
}

static inline edgec_model *load(const char *name)
{
    char p[1024];
    edgec_model *m = NULL;
    model_path(p, sizeof p, name);
    assert_int_equal(edgec_model_load(p, &m), EDGEC_STATUS_OK);
    return m;
}

static inline edgec_dataset *data(const char *name)
{
    char p[1024];
    edgec_dataset *d = NULL;
    model_path(p, sizeof p, name);
    assert_int_equal(edgec_dataset_load(p, &d), EDGEC_STATUS_OK);
    return d;
}

/* Runs the options ("name", "value" pairs, NULL-terminated; "exclude" adds a --exclude
 * glob) on `m`, with `calib` as --calib when not NULL. */
static inline edgec_status compress(edgec_model *m, const edgec_dataset *calib, ...)
{
    edgec_pipeline *p = NULL;
    assert_int_equal(edgec_pipeline_create(&p), EDGEC_STATUS_OK);
    va_list ap;
    va_start(ap, calib);
    edgec_status st = EDGEC_STATUS_OK;
    for (const char *name; !st && (name = va_arg(ap, const char *));) {
        const char *value = va_arg(ap, const char *);
        st = !strcmp(name, "exclude") ? edgec_pipeline_exclude(p, value)
                                      : edgec_pipeline_set(p, name, value);
    }
    va_end(ap);
    if (calib)
        edgec_pipeline_set_calib(p, calib);
    if (!st)
        st = edgec_pipeline_run(p, m, NULL);
    edgec_pipeline_free(p);
    return st;
}

static inline edgec_eval_result evaluate(const edgec_model *ref, const edgec_model *cand,
                                         const edgec_dataset *d)
{
    edgec_eval_result r;
    assert_int_equal(edgec_evaluate(ref, cand, d, NULL, &r), EDGEC_STATUS_OK);
    return r;
}

#endif
