/* The pieces of --auto that do not need a search: the strict JSON reader (values,
 * escapes, the nesting limit, every kind of malformed text), plan files (save, load,
 * refusals naming the file and layer), and layer settings in the pipeline (per-tensor
 * values, "off", a setting on a tensor the model lacks). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/json_read.h"
#include "edgec/edgec.h"
#include "ir/ir.h"
#include "pass_test_util.h"

static edgec_jval *parse_ok(const char *text)
{
    edgec_jval *v = NULL;
    assert_int_equal(edgec__json_parse(text, strlen(text), "t.json", &v), EDGEC_STATUS_OK);
    assert_non_null(v);
    return v;
}

static void parse_bad(const char *text)
{
    edgec_jval *v = (edgec_jval *)1;
    if (edgec__json_parse(text, strlen(text), "t.json", &v) != EDGEC_STATUS_INVALID_DATA)
        fail_msg("'%s' was not refused", text);
    assert_null(v);
    assert_non_null(strstr(edgec_error_message(), "t.json: invalid JSON at byte"));
}

static void test_json_values(void **state)
{
    (void)state;
    edgec_jval *v = parse_ok(" {\"a\": [1, -2.5e2, true, false, null], \"s\": \"x\\u00e9\\ud83d\\ude00\\n\"} ");
    const edgec_jval *a = edgec__json_get(v, "a"), *s = edgec__json_get(v, "s");
    assert_non_null(a);
    assert_int_equal(a->type, EDGEC_JARR);
    assert_int_equal(a->n_kids, 5);
    assert_true(a->kids[0].num == 1.0);
    assert_true(a->kids[1].num == -250.0);
    assert_true(a->kids[2].type == EDGEC_JBOOL && a->kids[2].b);
    assert_true(a->kids[3].type == EDGEC_JBOOL && !a->kids[3].b);
    assert_int_equal(a->kids[4].type, EDGEC_JNULL);
    assert_string_equal(s->str, "x\xc3\xa9\xf0\x9f\x98\x80\n");
    assert_null(edgec__json_get(v, "missing"));
    assert_null(edgec__json_get(a, "a")); /* not an object */
    edgec__json_free(v);
    edgec__json_free(NULL);
}

static void test_json_malformed(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",          "{",         "{\"a\" 1}",   "{\"a\":1,}", "[1,]",      "[1 2]",
        "01",        "1.",        "1e",          "-",          "tru",       "\"abc",
        "\"\\x\"",   "\"\\u12\"", "\"\\u0000\"", "\"\\ud800\"", "\"a\tb\"", "{} x",
        "{\"a\":1,\"a\":2}", "nan", "1e999", "{1:2}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        parse_bad(bad[i]);
    /* The nesting limit holds before the stack is at risk; a value at the limit parses. */
    char deep[2 * EDGEC_JSON_MAX_DEPTH + 3];
    for (int extra = 1; extra >= 0; extra--) {
        size_t n = 0;
        for (int i = 0; i < EDGEC_JSON_MAX_DEPTH + extra; i++)
            deep[n++] = '[';
        for (int i = 0; i < EDGEC_JSON_MAX_DEPTH + extra; i++)
            deep[n++] = ']';
        deep[n] = '\0';
        if (extra)
            parse_bad(deep);
        else
            edgec__json_free(parse_ok(deep));
    }
}

static char *write_temp(const char *text)
{
    char *path = strdup("/tmp/edgec-test-plan-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static edgec_status load_text(const char *text, edgec_plan **plan)
{
    char *path = write_temp(text);
    edgec_status st = edgec_plan_load(path, plan);
    unlink(path);
    free(path);
    return st;
}

static const char good_plan[] =
    "{\"format\": \"edgec-plan\", \"version\": 1, \"calib\": false, \"container\": true,\n"
    " \"options\": {\"prune-storage\": \"dense\"},\n"
    " \"layers\": [{\"tensor\": \"fc2.weight\", \"passes\": {\"prune\": \"0.9\", \"cluster\": \"8\"}},\n"
    "            {\"tensor\": \"fc1.weight\", \"passes\": {\"cluster\": \"16\"}}]}";

static void test_plan_load_save(void **state)
{
    (void)state;
    edgec_plan *plan = NULL, *again = NULL;
    assert_int_equal(load_text(good_plan, &plan), EDGEC_STATUS_OK);
    assert_false(edgec_plan_needs_calib(plan));
    assert_true(edgec_plan_container(plan));
    char *out = strdup("/tmp/edgec-test-plan-out-XXXXXX");
    int fd = mkstemp(out);
    close(fd);
    assert_int_equal(edgec_plan_save(plan, out), EDGEC_STATUS_OK);
    assert_int_equal(edgec_plan_load(out, &again), EDGEC_STATUS_OK);
    /* Both plans give the same pipeline. */
    edgec_pipeline *a = NULL, *b = NULL;
    assert_int_equal(edgec_pipeline_create(&a), EDGEC_STATUS_OK);
    assert_int_equal(edgec_pipeline_create(&b), EDGEC_STATUS_OK);
    assert_int_equal(edgec_plan_apply(plan, a), EDGEC_STATUS_OK);
    assert_int_equal(edgec_plan_apply(again, b), EDGEC_STATUS_OK);
    assert_string_equal(edgec_pipeline_describe(a), edgec_pipeline_describe(b));
    assert_string_equal(edgec_pipeline_describe(a),
                        "--cluster@fc1.weight=16 --cluster@fc2.weight=8 --prune-storage=dense "
                        "--prune@fc2.weight=0.9");
    assert_true(edgec_pipeline_has_passes(a));
    edgec_pipeline_free(a);
    edgec_pipeline_free(b);
    edgec_plan_free(plan);
    edgec_plan_free(again);
    edgec_plan_free(NULL);
    unlink(out);
    free(out);
}

static void test_plan_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *text, *says;
    } bad[] = {
        {"[]", "\"format\" must be"},
        {"{\"format\": \"edgec-plan\", \"version\": 2, \"layers\": []}", "version"},
        {"{\"format\": \"edgec-plan\", \"version\": 1}", "\"layers\" array"},
        {"{\"format\": \"edgec-plan\", \"version\": 1, \"layers\": [{\"passes\": {}}]}",
         "layer 0: needs a \"tensor\""},
        {"{\"format\": \"edgec-plan\", \"version\": 1, \"layers\": [{\"tensor\": \"w\"}]}",
         "layer 0: needs a \"passes\""},
        {"{\"format\": \"edgec-plan\", \"version\": 1, \"layers\": [{\"tensor\": \"w\", \"passes\": {\"prune\": 0.5}}]}",
         "must be a string"},
        {"{\"format\": \"edgec-plan\", \"version\": 1, \"layers\": [{\"tensor\": \"w\", \"passes\": {\"prune\": \"1.5\"}}]}",
         "tensor 'w': --prune must be a number in [0, 1)"},
        {"{\"format\": \"edgec-plan\", \"version\": 1, \"layers\": [{\"tensor\": \"w\", \"passes\": {\"cleanup\": \"on\"}}]}",
         "--cleanup has no per-layer setting"},
        {"{\"format\": \"edgec-plan\", \"version\": 1, \"layers\": [{\"tensor\": \"w\", \"passes\": {\"bogus\": \"1\"}}]}",
         "unknown pass 'bogus'"},
        {"{\"format\": \"edgec-plan\", \"version\": 1, \"layers\": [{\"tensor\": \"w\", \"passes\": {\"int8\": \"maybe\"}}]}",
         "--int8 takes weights, dynamic or static"},
        {"{\"format\": \"edgec-plan\", \"version\": 1, \"layers\": [{\"tensor\": \"w\", \"passes\": {\"cluster\": \"8\"}}, {\"tensor\": \"w\", \"passes\": {\"cluster\": \"4\"}}]}",
         "set twice for tensor 'w'"},
        {"{\"format\": \"edgec-plan\", \"version\": 1, \"options\": [], \"layers\": []}",
         "\"options\" must be an object"},
        {"{\"format\": \"edgec-plan\", \"version\": 1, \"layers\": [,]}", "invalid JSON"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        edgec_plan *plan = (edgec_plan *)1;
        assert_int_equal(load_text(bad[i].text, &plan), EDGEC_STATUS_INVALID_DATA);
        assert_null(plan);
        if (!strstr(edgec_error_message(), bad[i].says))
            fail_msg("case %zu: '%s' does not say '%s'", i, edgec_error_message(), bad[i].says);
        assert_non_null(strstr(edgec_error_message(), "/tmp/edgec-test-plan-"));
    }
    edgec_plan *plan = NULL;
    assert_int_equal(edgec_plan_load("/nonexistent/plan.json", &plan), EDGEC_STATUS_IO);
}

/* Layer settings on the digits MLP: each tensor gets its own fraction, an unset tensor is
 * left alone, "off" holds, and a setting for a tensor the model lacks is refused. */
static void test_layer_settings(void **state)
{
    (void)state;
    edgec_model *m = NULL;
    edgec_pipeline *p = NULL;
    m = load("digits_mlp.onnx");
    assert_int_equal(edgec_pipeline_create(&p), EDGEC_STATUS_OK);
    assert_int_equal(edgec_pipeline_set_layer(p, "fc1.weight", "prune", "0.25"), EDGEC_STATUS_OK);
    assert_int_equal(edgec_pipeline_set_layer(p, "fc2.weight", "prune", "0.6"), EDGEC_STATUS_OK);
    assert_int_equal(edgec_pipeline_set_layer(p, "fc2.weight", "prune", "0.5"), EDGEC_STATUS_USAGE);
    assert_int_equal(edgec_pipeline_set_layer(p, "fc3.weight", "int4", "weights"), EDGEC_STATUS_USAGE);
    assert_int_equal(edgec_pipeline_set_layer(p, "fc3.weight", "prune-structured", "0.5"),
                     EDGEC_STATUS_USAGE);
    assert_int_equal(edgec_pipeline_run(p, m, NULL), EDGEC_STATUS_OK);
    static const struct {
        const char *name;
        int64_t zeros, numel;
    } want[] = {{"fc1.weight", 4800, 19200}, {"fc2.weight", 18000, 30000}, {"fc3.weight", 0, 1000}};
    for (size_t i = 0; i < 3; i++) {
        const edgec_tensor *t = NULL;
        for (size_t k = 0; k < m->graph->n_inits; k++)
            if (!strcmp(m->graph->inits[k]->name, want[i].name))
                t = m->graph->inits[k];
        assert_non_null(t);
        int64_t zeros = 0, n = 1;
        for (int d = 0; d < t->rank; d++)
            n *= t->dims[d];
        for (int64_t e = 0; e < n; e++)
            zeros += ((const float *)t->data)[e] == 0.0f;
        /* fc1 also loses the units fc2 no longer reads (removed, exact, and few), and fc2
         * their columns, which were zero: removed weights count as zeros. */
        zeros += want[i].numel - n;
        if (i ? zeros != want[i].zeros : zeros < want[i].zeros || zeros > want[i].zeros + 640)
            fail_msg("%s: %lld zeros, expected %lld", want[i].name, (long long)zeros,
                     (long long)want[i].zeros);
    }
    edgec_pipeline_free(p);
    edgec_model_free(m);

    /* A global pass with one tensor switched off, and a tensor this model lacks. */
    m = load("digits_mlp.onnx");
    assert_int_equal(edgec_pipeline_create(&p), EDGEC_STATUS_OK);
    assert_int_equal(edgec_pipeline_set(p, "cluster", "16"), EDGEC_STATUS_OK);
    assert_int_equal(edgec_pipeline_set_layer(p, "fc2.weight", "cluster", "off"), EDGEC_STATUS_OK);
    assert_int_equal(edgec_pipeline_run(p, m, NULL), EDGEC_STATUS_OK);
    bool fc2_float = false, fc1_indices = false;
    for (size_t k = 0; k < m->graph->n_inits; k++) {
        fc2_float |= !strcmp(m->graph->inits[k]->name, "fc2.weight") &&
                     m->graph->inits[k]->dtype == EDGEC_DTYPE_FLOAT;
        fc1_indices |= !strcmp(m->graph->inits[k]->name, "fc1.weight_indices");
    }
    assert_true(fc2_float);
    assert_true(fc1_indices);
    edgec_pipeline_free(p);
    edgec_model_free(m);

    m = load("digits_mlp.onnx");
    assert_int_equal(edgec_pipeline_create(&p), EDGEC_STATUS_OK);
    assert_int_equal(edgec_pipeline_set_layer(p, "conv9.weight", "cluster", "8"), EDGEC_STATUS_OK);
    assert_int_equal(edgec_pipeline_run(p, m, NULL), EDGEC_STATUS_INVALID_DATA);
    assert_non_null(strstr(edgec_error_message(), "tensor 'conv9.weight'"));
    edgec_pipeline_free(p);
    edgec_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_values),
        cmocka_unit_test(test_json_malformed),
        cmocka_unit_test(test_plan_load_save),
        cmocka_unit_test(test_plan_refusals),
        cmocka_unit_test(test_layer_settings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
