/* The report: layer matching and figures on a model edited the way passes edit models
 * (pruned, int8 behind DequantizeLinear with a zero point, factorized into two nodes, a
 * layer removed), the gate's arithmetic and messages, the JSON key order, the depfile. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "edgec/edgec.h"
#include "ir/edit.h"
#include "report/report.h"

static void model_path(char *buf, size_t size, const char *name)
{
    const char *f = __FILE__, *cut = strstr(f, "tests/unit/");
    snprintf(buf, size, "%.*smodels/%s", cut ? (int)(cut - f) : 0, f, name);
}

static edgec_model *load_mlp(void)
{
    char path[4096];
    edgec_model *m = NULL;
    model_path(path, sizeof path, "digits_mlp.onnx");
    assert_int_equal(edgec_model_load(path, &m), EDGEC_STATUS_OK);
    return m;
}

static edgec_node *node_named(edgec_model *m, const char *name)
{
    for (size_t i = 0; i < m->graph->n_nodes; i++)
        if (!strcmp(m->graph->nodes[i]->name, name))
            return m->graph->nodes[i];
    fail_msg("no node %s", name);
    return NULL;
}

static edgec_tensor *init_named(edgec_model *m, const char *name)
{
    for (size_t i = 0; i < m->graph->n_inits; i++)
        if (!strcmp(m->graph->inits[i]->name, name))
            return m->graph->inits[i];
    fail_msg("no initializer %s", name);
    return NULL;
}

static const edgec_rrow *row_named(const edgec_report *r, const char *name)
{
    for (size_t i = 0; i < r->n_rows; i++) {
        const edgec_rrow *row = &r->rows[i];
        const edgec_rlayer *l = row->before ? row->before : row->after[0];
        if (!strcmp(l->name, name))
            return row;
    }
    fail_msg("no row %s", name);
    return NULL;
}

/* Edits the digits MLP as four different passes would and checks each row. */
static void test_layers_after_edits(void **state)
{
    (void)state;
    edgec_model *m = load_mlp();
    edgec_report *r = NULL;
    assert_int_equal(edgec_report_create(m, "digits_mlp.onnx", true, &r), EDGEC_STATUS_OK);
    assert_int_equal(r->n_rows, 3);
    assert_int_equal(r->before.params, 50610);
    assert_int_equal(r->before.nonzero, 50610);
    assert_true(r->before.has_macs);
    assert_int_equal(r->before.macs, 64 * 300 + 300 * 100 + 100 * 10);

    /* fc1: the first 4800 weights pruned to zero. */
    edgec_tensor *w1 = init_named(m, "fc1.weight");
    memset(w1->data, 0, 4800 * sizeof(float));
    w1->dirty = true;

    /* fc2: int8 weights behind DequantizeLinear with zero point -3. */
    edgec_tensor *w2 = init_named(m, "fc2.weight");
    int64_t one = 1;
    edgec_tensor *q = edgec__tensor_new(m, "fc2.weight_q", EDGEC_DTYPE_INT8, 2, w2->dims);
    edgec_tensor *sc = edgec__tensor_new(m, "fc2.scale", EDGEC_DTYPE_FLOAT, 0, &one);
    edgec_tensor *zp = edgec__tensor_new(m, "fc2.zp", EDGEC_DTYPE_INT8, 0, &one);
    int64_t zp_hits = 0;
    for (int64_t i = 0; i < q->numel; i++) {
        ((int8_t *)q->data)[i] = (int8_t)(i % 7 - 3);
        zp_hits += i % 7 == 0;
    }
    ((float *)sc->data)[0] = 0.01f;
    ((int8_t *)zp->data)[0] = -3;
    assert_int_equal(edgec__graph_add_init(m, m->graph, q), 0);
    assert_int_equal(edgec__graph_add_init(m, m->graph, sc), 0);
    assert_int_equal(edgec__graph_add_init(m, m->graph, zp), 0);
    edgec_node *dq = edgec__node_new(m, "DequantizeLinear", "fc2_dq", 3, 1);
    assert_int_equal(edgec__node_set_input(m, dq, 0, "fc2.weight_q"), 0);
    assert_int_equal(edgec__node_set_input(m, dq, 1, "fc2.scale"), 0);
    assert_int_equal(edgec__node_set_input(m, dq, 2, "fc2.zp"), 0);
    dq->outputs[0] = edgec__arena_strdup(m->arena, "fc2.weight_dq");
    assert_int_equal(edgec__graph_insert(m, m->graph, 0, dq), 0);
    edgec_node *g2 = node_named(m, "/fc2/Gemm");
    assert_int_equal(edgec__node_set_input(m, g2, 1, "fc2.weight_dq"), 0);

    /* fc3: factorized into MatMul(x, A[100,4]) then the Gemm with B[10,4]. */
    edgec_node *g3 = node_named(m, "/fc3/Gemm");
    int64_t da[2] = {100, 4}, db[2] = {10, 4};
    edgec_tensor *A = edgec__tensor_new(m, "fc3.A", EDGEC_DTYPE_FLOAT, 2, da);
    edgec_tensor *B = edgec__tensor_new(m, "fc3.B", EDGEC_DTYPE_FLOAT, 2, db);
    for (int64_t i = 0; i < A->numel; i++)
        ((float *)A->data)[i] = 1.0f;
    for (int64_t i = 0; i < B->numel; i++)
        ((float *)B->data)[i] = 1.0f;
    assert_int_equal(edgec__graph_add_init(m, m->graph, A), 0);
    assert_int_equal(edgec__graph_add_init(m, m->graph, B), 0);
    edgec_node *mm = edgec__node_new(m, "MatMul", "fc3_lowrank", 2, 1);
    assert_int_equal(edgec__node_set_input(m, mm, 0, g3->inputs[0]), 0);
    assert_int_equal(edgec__node_set_input(m, mm, 1, "fc3.A"), 0);
    mm->outputs[0] = edgec__arena_strdup(m->arena, "fc3_lr");
    size_t pos = 0;
    while (m->graph->nodes[pos] != g3)
        pos++;
    assert_int_equal(edgec__graph_insert(m, m->graph, pos, mm), 0);
    assert_int_equal(edgec__node_set_input(m, g3, 0, "fc3_lr"), 0);
    assert_int_equal(edgec__node_set_input(m, g3, 1, "fc3.B"), 0);

    assert_int_equal(edgec_report_set_result(r, m), EDGEC_STATUS_OK);
    assert_int_equal(r->n_rows, 3);

    const edgec_rrow *r1 = row_named(r, "/fc1/Gemm");
    assert_int_equal(r1->n_after, 1);
    assert_int_equal(r1->main_after->nonzero, 19200 - 4800);
    assert_int_equal(r1->bytes_after, r1->bytes_before);
    assert_int_equal(r1->rank, -1);
    assert_string_equal(r1->op_after, "Gemm");

    const edgec_rrow *r2 = row_named(r, "/fc2/Gemm");
    assert_int_equal(r2->n_after, 1); /* DequantizeLinear only computes a weight */
    assert_int_equal(r2->main_after->dtype, EDGEC_DTYPE_INT8);
    assert_int_equal(edgec__report_bits(r2->main_after), 8);
    assert_int_equal(r2->main_after->nonzero, 30000 - zp_hits);
    assert_int_equal(r2->bytes_after, 30000 + 4 + 1 + 400); /* q, scale, zero point, bias */

    const edgec_rrow *r3 = row_named(r, "/fc3/Gemm");
    assert_int_equal(r3->n_after, 2);
    assert_string_equal(r3->op_after, "MatMul+Gemm");
    assert_int_equal(r3->rank, 4);
    assert_int_equal(r3->params_after, 400 + 40 + 10);

    /* The old fc2 and fc3 weights are still initializers, in no layer, but counted. */
    assert_int_equal(r->after.params, 50610 + 30000 + 2 + 440);
    assert_true(r->after.has_macs);
    assert_int_equal(r->after.macs, 64 * 300 + 300 * 100 + 100 * 4 + 4 * 10);
    edgec_report_free(r);
    edgec_model_free(m);
}

/* A layer that disappears (BatchNormalization folded into its Conv) is "removed". */
static void test_removed_layer(void **state)
{
    (void)state;
    char path[4096];
    edgec_model *m = NULL;
    edgec_report *r = NULL;
    model_path(path, sizeof path, "digits_cnn.onnx");
    assert_int_equal(edgec_model_load(path, &m), EDGEC_STATUS_OK);
    assert_int_equal(edgec_report_create(m, path, false, &r), EDGEC_STATUS_OK);
    size_t n_bn = 0;
    for (size_t i = 0; i < r->n_rows; i++)
        n_bn += !strcmp(r->rows[i].before->op, "BatchNormalization");
    assert_int_equal(n_bn, 4);
    /* Bypass the stem's BatchNormalization: its consumers read the Conv's output. */
    edgec_node *bn = node_named(m, "/stem_bn/BatchNormalization");
    const char *conv_out = bn->inputs[0], *bn_out = bn->outputs[0];
    for (size_t i = 0; i < m->graph->n_nodes; i++) {
        edgec_node *n = m->graph->nodes[i];
        for (size_t k = 0; k < n->n_inputs; k++)
            if (!strcmp(n->inputs[k], bn_out))
                assert_int_equal(edgec__node_set_input(m, n, k, conv_out), 0);
    }
    bn->n_inputs = 1;
    bn->inputs[0] = edgec__arena_strdup(m->arena, "");
    for (size_t i = 0; i < m->graph->n_nodes; i++)
        if (m->graph->nodes[i] == bn) {
            memmove(&m->graph->nodes[i], &m->graph->nodes[i + 1],
                    (m->graph->n_nodes - i - 1) * sizeof *m->graph->nodes);
            m->graph->n_nodes--;
            break;
        }
    assert_int_equal(edgec_report_set_result(r, m), EDGEC_STATUS_OK);
    const edgec_rrow *row = row_named(r, "/stem_bn/BatchNormalization");
    assert_int_equal(row->n_after, 0);
    assert_int_equal(row->bytes_after, 0);
    assert_int_equal(row_named(r, "/stem/Conv")->n_after, 1);
    edgec_report_free(r);
    edgec_model_free(m);
}

static edgec_report *report_with_eval(bool labels, double ref, double cand, double agree,
                                      double cosine)
{
    edgec_model *m = load_mlp();
    edgec_report *r = NULL;
    assert_int_equal(edgec_report_create(m, "m.onnx", false, &r), EDGEC_STATUS_OK);
    assert_int_equal(edgec_report_set_result(r, m), EDGEC_STATUS_OK);
    edgec_eval_result e = {.samples = 360, .has_labels = labels, .ref_top1 = ref,
                           .has_candidate = true, .cand_top1 = cand, .top1_drop = ref - cand,
                           .cosine = cosine, .sqnr_db = 20, .top1_agreement = agree};
    assert_int_equal(edgec_report_set_eval(r, &e, "d.npz"), EDGEC_STATUS_OK);
    edgec_model_free(m);
    return r;
}

static void test_gate(void **state)
{
    (void)state;
    edgec_report *r = report_with_eval(true, 97.5, 95.0, 96.0, 0.99);
    edgec_gate g = {0.5, -1};
    assert_int_equal(edgec_report_check_gate(r, &g), EDGEC_STATUS_GATE);
    assert_int_equal(r->n_checks, 1);
    assert_true(fabs(r->checks[0].margin + 2.0) < 1e-12);
    assert_non_null(strstr(edgec_report_gate_message(r),
                           "top-1 dropped 2.50 points (97.50% -> 95.00%), 2.00 more than "
                           "--max-drop 0.5 allows"));
    g = (edgec_gate){3, 0.995};
    assert_int_equal(edgec_report_check_gate(r, &g), EDGEC_STATUS_GATE);
    assert_true(r->checks[0].passed);
    assert_false(r->checks[1].passed);
    assert_non_null(strstr(edgec_report_gate_message(r), "0.005000 below --min-cosine 0.995"));
    g = (edgec_gate){2.5, 0.99};
    assert_int_equal(edgec_report_check_gate(r, &g), EDGEC_STATUS_OK); /* limits are inclusive */
    assert_null(edgec_report_gate_message(r));
    edgec_report_free(r);

    /* No labels: the share of changed top-1 answers stands in for the drop. */
    r = report_with_eval(false, 0, 0, 98.0, NAN);
    g = (edgec_gate){1.5, 0.5};
    assert_int_equal(edgec_report_check_gate(r, &g), EDGEC_STATUS_GATE);
    assert_true(r->checks[0].by_agreement);
    assert_true(fabs(r->checks[0].value - 2.0) < 1e-12);
    assert_false(r->checks[1].passed); /* a NaN cosine never passes */
    edgec_report_free(r);

    /* A gate without an evaluation is a usage error, not a pass. */
    edgec_model *m = load_mlp();
    assert_int_equal(edgec_report_create(m, "m.onnx", false, &r), EDGEC_STATUS_OK);
    g = (edgec_gate){1, -1};
    assert_int_equal(edgec_report_check_gate(r, &g), EDGEC_STATUS_USAGE);
    edgec_report_free(r);
    edgec_model_free(m);
}

static void test_json_keys(void **state)
{
    (void)state;
    edgec_report *r = report_with_eval(true, 97.5, 97.0, 99.0, 0.999);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(edgec_report_print(r, f, EDGEC_REPORT_JSON), EDGEC_STATUS_OK);
    fclose(f);
    const char *keys[] = {"version", "input", "output", "passes", "size",
                          "params",  "macs",  "layers", "eval",   "gate"};
    const char *at = buf;
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        char k[32];
        snprintf(k, sizeof k, "\n  \"%s\":", keys[i]);
        const char *hit = strstr(at, k);
        assert_non_null(hit);
        at = hit + 1;
    }
    assert_null(strstr(buf, "timestamp"));
    assert_non_null(strstr(buf, "\"macs\": null")); /* not counted for this report */
    free(buf);
    edgec_report_free(r);

    edgec_report_format fmt;
    assert_int_equal(edgec_report_format_of("a/b.JSON", &fmt), 0);
    assert_int_equal(fmt, EDGEC_REPORT_JSON);
    assert_int_equal(edgec_report_format_of("r.htm", &fmt), 0);
    assert_int_equal(fmt, EDGEC_REPORT_HTML);
    assert_int_equal(edgec_report_format_of("r.md", &fmt), 0);
    assert_int_equal(fmt, EDGEC_REPORT_MARKDOWN);
    assert_int_equal(edgec_report_format_of("r.json.d/x", &fmt), EDGEC_STATUS_USAGE);
    assert_int_equal(edgec_report_format_of("r.txt", &fmt), EDGEC_STATUS_USAGE);
}

static void test_depfile_escapes(void **state)
{
    (void)state;
    edgec_model *m = load_mlp();
    char dir[] = "/tmp/edgec-test-report-XXXXXX", path[256], text[4096];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/out.d", dir);
    const char *data[] = {"my data#1.npz", "$HOME:x.npz"};
    assert_int_equal(edgec_depfile_write(path, "out dir/m.onnx", m, data, 2), EDGEC_STATUS_OK);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    assert_true(!strncmp(text, "out\\ dir/m.onnx:", 16));
    assert_non_null(strstr(text, "models/digits_mlp.onnx"));
    assert_non_null(strstr(text, "my\\ data\\#1.npz"));
    assert_non_null(strstr(text, "$$HOME\\:x.npz"));
    unlink(path);
    rmdir(dir);
    edgec_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layers_after_edits),
        cmocka_unit_test(test_removed_layer),
        cmocka_unit_test(test_gate),
        cmocka_unit_test(test_json_keys),
        cmocka_unit_test(test_depfile_escapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
