/* The executor: weights of every kind, lifetimes and peak memory, subgraphs that read
 * outer values, input validation, unsupported ops, evaluation. The models are made by
 * tests/unit/fixtures/make_fixtures.py and embedded as bytes. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "edgec/edgec.h"
#include "fixtures/runtime_models.h"

static edgec_model *load(const unsigned char *bytes, size_t n)
{
    edgec_model *m = NULL;
    assert_int_equal(edgec_model_load_buffer(bytes, n, "fixture.onnx", NULL, &m), 0);
    return m;
}

static edgec_array *farray(const char *name, int rank, const int64_t *dims, const float *v)
{
    edgec_array *a = NULL;
    assert_int_equal(edgec_array_create(name, EDGEC_ELEM_FLOAT, rank, dims, &a), 0);
    memcpy(a->data, v, a->nbytes);
    return a;
}

static void test_chain_weights_and_values(void **state)
{
    (void)state;
    edgec_model *m = load(model_chain, sizeof model_chain);
    edgec_session *s = NULL;
    assert_int_equal(edgec_session_create(m, NULL, &s), 0);
    assert_int_equal(edgec_session_input_count(s), 2);
    assert_int_equal(edgec_session_output_count(s), 1);
    edgec_value_desc d;
    assert_int_equal(edgec_session_input(s, 0, &d), 0);
    assert_string_equal(d.name, "x");
    assert_int_equal(d.rank, 2);
    assert_int_equal(d.dims[0], -1);
    assert_string_equal(d.dim_names[0], "N");

    int64_t dims[2] = {2, 4};
    float xv[8] = {0, 1, 2, 3, 4, 5, 6, 7}, yv[8] = {1, 1, 1, 1, 2, 2, 2, 2};
    edgec_array *x = farray("x", 2, dims, xv), *y = farray("y", 2, dims, yv);
    const edgec_array *ins[2] = {y, x}; /* order does not matter: names do */
    edgec_array *out = NULL;
    assert_int_equal(edgec_session_run(s, ins, 2, &out, 1), 0);
    assert_string_equal(out->name, "out");
    assert_int_equal(out->rank, 2);
    assert_int_equal(out->dims[0], 2);
    /* out = ((x + w + c + s) * y) * 2 with w=[1..4], c=[10..40], s=[0,5,0,7]. */
    const float w[4] = {1, 2, 3, 4}, c[4] = {10, 20, 30, 40}, sp[4] = {0, 5, 0, 7};
    for (int i = 0; i < 8; i++)
        assert_float_equal(((float *)out->data)[i], (xv[i] + w[i % 4] + c[i % 4] + sp[i % 4]) * yv[i] * 2,
                           1e-6);
    /* Five 32-byte intermediates, never more than two alive at once (plus the output). */
    assert_true(edgec_session_peak_bytes(s) > 0);
    assert_true(edgec_session_peak_bytes(s) <= 3 * 32);
    edgec_array_free(out);
    edgec_array_free(x);
    edgec_array_free(y);
    edgec_session_free(s);
    edgec_model_free(m);
}

static void test_input_validation(void **state)
{
    (void)state;
    edgec_model *m = load(model_chain, sizeof model_chain);
    edgec_session *s = NULL;
    assert_int_equal(edgec_session_create(m, NULL, &s), 0);
    float v[12] = {0};
    int64_t d24[2] = {2, 4}, d34[2] = {3, 4}, d25[2] = {2, 5}, d8[1] = {8};
    edgec_array *out = NULL;

    /* Symbolic dim N bound to 2 by x and 3 by y. */
    edgec_array *x = farray("x", 2, d24, v), *y = farray("y", 2, d34, v);
    const edgec_array *ins[2] = {x, y};
    assert_int_equal(edgec_session_run(s, ins, 2, &out, 1), EDGEC_STATUS_INVALID_DATA);
    assert_non_null(strstr(edgec_error_message(), "'N'"));
    assert_null(out);
    edgec_array_free(y);

    /* A fixed dim that differs. */
    y = farray("y", 2, d25, v);
    ins[1] = y;
    assert_int_equal(edgec_session_run(s, ins, 2, &out, 1), EDGEC_STATUS_INVALID_DATA);
    assert_non_null(strstr(edgec_error_message(), "input 'y'"));
    edgec_array_free(y);

    /* Wrong rank. */
    y = farray("y", 1, d8, v);
    ins[1] = y;
    assert_int_equal(edgec_session_run(s, ins, 2, &out, 1), EDGEC_STATUS_INVALID_DATA);
    edgec_array_free(y);

    /* Wrong type. */
    assert_int_equal(edgec_array_create("y", EDGEC_ELEM_INT64, 2, d24, &y), 0);
    ins[1] = y;
    assert_int_equal(edgec_session_run(s, ins, 2, &out, 1), EDGEC_STATUS_INVALID_DATA);
    assert_non_null(strstr(edgec_error_message(), "int64"));
    edgec_array_free(y);

    /* Missing input, unknown input. */
    assert_int_equal(edgec_session_run(s, ins, 1, &out, 1), EDGEC_STATUS_INVALID_DATA);
    assert_non_null(strstr(edgec_error_message(), "'y' is missing"));
    y = farray("nope", 2, d24, v);
    ins[1] = y;
    assert_int_equal(edgec_session_run(s, ins, 2, &out, 1), EDGEC_STATUS_INVALID_DATA);
    assert_non_null(strstr(edgec_error_message(), "nope"));
    edgec_array_free(y);
    edgec_array_free(x);
    edgec_session_free(s);
    edgec_model_free(m);
}

static void test_input_shape_override(void **state)
{
    (void)state;
    edgec_model *m = load(model_chain, sizeof model_chain);
    edgec_session *s = NULL;
    edgec_input_shape sh[2];
    char buf[2][64];
    assert_int_equal(edgec_input_shape_parse("x:3x4", buf[0], sizeof buf[0], &sh[0]), 0);
    assert_string_equal(sh[0].name, "x");
    assert_int_equal(sh[0].rank, 2);
    assert_int_equal(sh[0].dims[0], 3);
    assert_int_equal(edgec_input_shape_parse("x:3y4", buf[1], sizeof buf[1], &sh[1]),
                     EDGEC_STATUS_USAGE);
    assert_int_equal(edgec_input_shape_parse("nocolon", buf[1], sizeof buf[1], &sh[1]),
                     EDGEC_STATUS_USAGE);

    edgec_session_options opt = {.input_shapes = sh, .n_input_shapes = 1};
    assert_int_equal(edgec_session_create(m, &opt, &s), 0);
    edgec_value_desc d;
    assert_int_equal(edgec_session_input(s, 0, &d), 0);
    assert_int_equal(d.dims[0], 3);
    float v[8] = {0};
    int64_t d24[2] = {2, 4};
    edgec_array *x = farray("x", 2, d24, v), *y = farray("y", 2, d24, v), *out = NULL;
    const edgec_array *ins[2] = {x, y};
    assert_int_equal(edgec_session_run(s, ins, 2, &out, 1), EDGEC_STATUS_INVALID_DATA);
    edgec_array_free(x);
    edgec_array_free(y);
    edgec_session_free(s);

    /* A shape for an input the model lacks, or of the wrong rank, or contradicting a
     * fixed dim, is a usage error at creation. */
    assert_int_equal(edgec_input_shape_parse("z:1x4", buf[1], sizeof buf[1], &sh[1]), 0);
    opt.input_shapes = &sh[1];
    assert_int_equal(edgec_session_create(m, &opt, &s), EDGEC_STATUS_USAGE);
    assert_null(s);
    assert_int_equal(edgec_input_shape_parse("x:1x4x1", buf[1], sizeof buf[1], &sh[1]), 0);
    assert_int_equal(edgec_session_create(m, &opt, &s), EDGEC_STATUS_USAGE);
    assert_int_equal(edgec_input_shape_parse("x:1x5", buf[1], sizeof buf[1], &sh[1]), 0);
    assert_int_equal(edgec_session_create(m, &opt, &s), EDGEC_STATUS_USAGE);
    edgec_model_free(m);
}

static void run_if(edgec_session *s, bool cond, const float *expect)
{
    int64_t d3[1] = {3};
    float xv[3] = {1, 2, 3};
    edgec_array *c = NULL, *x = farray("x", 1, d3, xv), *out = NULL;
    assert_int_equal(edgec_array_create("cond", EDGEC_ELEM_BOOL, 0, NULL, &c), 0);
    *(uint8_t *)c->data = cond;
    const edgec_array *ins[2] = {c, x};
    assert_int_equal(edgec_session_run(s, ins, 2, &out, 1), 0);
    for (int i = 0; i < 3; i++)
        assert_float_equal(((float *)out->data)[i], expect[i], 0);
    edgec_array_free(out);
    edgec_array_free(x);
    edgec_array_free(c);
}

static void test_if_reads_outer_values(void **state)
{
    (void)state;
    edgec_model *m = load(model_if, sizeof model_if);
    edgec_session *s = NULL;
    /* The If comes before the node making 'z' in the file; the executor must order them
     * by the value the branches capture. */
    assert_int_equal(edgec_session_create(m, NULL, &s), 0);
    const float then_v[3] = {3, 6, 9}, else_v[3] = {2, 8, 18};
    run_if(s, true, then_v);
    run_if(s, false, else_v);
    edgec_session_free(s);
    edgec_model_free(m);
}

static void test_loop_carried_and_scan(void **state)
{
    (void)state;
    edgec_model *m = load(model_loop, sizeof model_loop);
    edgec_session *s = NULL;
    assert_int_equal(edgec_session_create(m, NULL, &s), 0);
    int64_t d2[1] = {2};
    float a0[2] = {1, 2}, xv[2] = {10, 100};
    edgec_array *mm = NULL, *acc0 = farray("acc0", 1, d2, a0), *x = farray("x", 1, d2, xv);
    assert_int_equal(edgec_array_create("M", EDGEC_ELEM_INT64, 0, NULL, &mm), 0);
    *(int64_t *)mm->data = 3;
    const edgec_array *ins[3] = {mm, acc0, x};
    edgec_array *outs[2] = {NULL, NULL};
    assert_int_equal(edgec_session_run(s, ins, 3, outs, 2), 0);
    assert_float_equal(((float *)outs[0]->data)[0], 31, 0);
    assert_float_equal(((float *)outs[0]->data)[1], 302, 0);
    assert_int_equal(outs[1]->rank, 2);
    assert_int_equal(outs[1]->dims[0], 3);
    assert_int_equal(outs[1]->dims[1], 2);
    const float scan[6] = {11, 102, 21, 202, 31, 302};
    for (int i = 0; i < 6; i++)
        assert_float_equal(((float *)outs[1]->data)[i], scan[i], 0);
    edgec_array_free(outs[0]);
    edgec_array_free(outs[1]);

    /* Zero iterations: the carried value is the initial one, the scan output empty. */
    *(int64_t *)mm->data = 0;
    assert_int_equal(edgec_session_run(s, ins, 3, outs, 2), 0);
    assert_float_equal(((float *)outs[0]->data)[1], 2, 0);
    assert_int_equal(outs[1]->dims[0], 0);
    edgec_array_free(outs[0]);
    edgec_array_free(outs[1]);
    edgec_array_free(mm);
    edgec_array_free(acc0);
    edgec_array_free(x);
    edgec_session_free(s);
    edgec_model_free(m);
}

static void test_unsupported_op_at_creation(void **state)
{
    (void)state;
    edgec_model *m = load(model_unsupported, sizeof model_unsupported);
    edgec_session *s = NULL;
    assert_int_equal(edgec_session_create(m, NULL, &s), EDGEC_STATUS_UNSUPPORTED);
    assert_null(s);
    assert_int_equal(edgec_status_exit_code(EDGEC_STATUS_UNSUPPORTED), 5);
    assert_non_null(strstr(edgec_error_message(), "FancyOp"));
    assert_non_null(strstr(edgec_error_message(), "fancy"));
    edgec_model_free(m);
}

static void test_undefined_value(void **state)
{
    (void)state;
    /* A node reading a value nothing defines is refused when the model is read, before
     * any session exists. */
    edgec_model *m = NULL;
    assert_int_equal(edgec_model_load_buffer(model_undefined, sizeof model_undefined,
                                             "fixture.onnx", NULL, &m),
                     EDGEC_STATUS_INVALID_MODEL);
    assert_null(m);
    assert_non_null(strstr(edgec_error_message(), "ghost"));
}

static void test_evaluate_with_labels_and_candidate(void **state)
{
    (void)state;
    edgec_model *m = load(model_chain, sizeof model_chain);
    edgec_dataset *ds = NULL;
    assert_int_equal(edgec_dataset_create(&ds), 0);
    int64_t d34[2] = {3, 4}, d3[1] = {3};
    float xv[12] = {0, 0, 0, 100, 0, 0, 0, 0, 0, 0, 0, 0}, yv[12];
    for (int i = 0; i < 12; i++)
        yv[i] = 1;
    edgec_array *x = farray("x", 2, d34, xv), *y = farray("y", 2, d34, yv), *labels = NULL;
    assert_int_equal(edgec_array_create("labels", EDGEC_ELEM_INT64, 1, d3, &labels), 0);
    int64_t lv[3] = {3, 3, 0}; /* the argmax is 3 for every sample */
    memcpy(labels->data, lv, sizeof lv);
    assert_int_equal(edgec_dataset_add(ds, x), 0);
    assert_int_equal(edgec_dataset_add(ds, y), 0);
    assert_int_equal(edgec_dataset_add(ds, labels), 0);
    edgec_eval_result r;
    assert_int_equal(edgec_evaluate(m, m, ds, NULL, &r), 0);
    assert_int_equal(r.samples, 3);
    assert_false(r.synthetic);
    assert_true(r.has_labels);
    assert_float_equal(r.ref_top1, 200.0 / 3, 1e-9);
    assert_true(r.has_candidate);
    assert_float_equal(r.cosine, 1, 1e-12);
    assert_true(isinf(r.sqnr_db));
    assert_float_equal(r.max_abs_err, 0, 0);
    assert_float_equal(r.top1_agreement, 100, 0);

    /* Synthetic inputs are the same for the same seed. */
    edgec_eval_options opt = {.samples = 4, .seed = 7};
    edgec_eval_result a, b;
    assert_int_equal(edgec_evaluate(m, NULL, NULL, &opt, &a), 0);
    assert_true(a.synthetic);
    assert_false(a.has_labels);
    assert_int_equal(a.samples, 4);
    assert_int_equal(edgec_evaluate(m, m, NULL, &opt, &b), 0);
    assert_float_equal(b.max_abs_err, 0, 0);
    edgec_dataset_free(ds);
    edgec_model_free(m);
}

static void test_evaluate_bad_data(void **state)
{
    (void)state;
    edgec_model *m = load(model_chain, sizeof model_chain);
    edgec_dataset *ds = NULL;
    assert_int_equal(edgec_dataset_create(&ds), 0);
    int64_t d34[2] = {3, 4}, d3[2] = {3, 3};
    float v[12] = {0};
    assert_int_equal(edgec_dataset_add(ds, farray("x", 2, d34, v)), 0);
    assert_int_equal(edgec_dataset_add(ds, farray("y", 2, d3, v)), 0);
    edgec_eval_result r;
    assert_int_equal(edgec_evaluate(m, NULL, ds, NULL, &r), EDGEC_STATUS_INVALID_DATA);
    assert_non_null(strstr(edgec_error_message(), "'y'"));
    edgec_dataset_free(ds);
    edgec_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chain_weights_and_values),
        cmocka_unit_test(test_input_validation),
        cmocka_unit_test(test_input_shape_override),
        cmocka_unit_test(test_if_reads_outer_values),
        cmocka_unit_test(test_loop_carried_and_scan),
        cmocka_unit_test(test_unsupported_op_at_creation),
        cmocka_unit_test(test_undefined_value),
        cmocka_unit_test(test_evaluate_with_labels_and_candidate),
        cmocka_unit_test(test_evaluate_bad_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
