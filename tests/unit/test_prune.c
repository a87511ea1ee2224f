/* Pruning passes and cleanup on the sample digits models: accuracy budgets measured with
 * the reference interpreter on the held-out digits, sparsity patterns, sizes, MACs. */
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
#include "edgec/pipeline.h"
#include "edgec/runtime.h"
#include "ir/ir.h"
#include "report/macs.h"
#include "pass_test_util.h"

/* Error budgets, in top-1 points on models/digits-test*.npz (360 samples: one sample is
 * 0.28 points). */
#define BUDGET_PRUNE50 0.5
#define BUDGET_PRUNE80_CALIB 1.0
#define MIN_ZEROS_PRUNE80 0.79
#define MAX_FILE_STRUCTURED25 0.85
/* digits CNN --prune-structured 0.25 (no fine-tuning): measured 11.39 points data-free
 * (removed channels' means from the BatchNormalization statistics), 1.67 with --calib
 * (consumers re-solved); before the compensation it lost 75.83. */
#define BUDGET_STRUCTURED25 14.0
#define BUDGET_STRUCTURED25_CALIB 3.0

/* Zeros and elements of every Gemm weight, dense or sparse, counted against the digits
 * MLP's 50200: the weights of units that pruning removed (their every outgoing weight was
 * pruned) count as zeros. */
static void gemm_zeros(const edgec_model *m, int64_t *zeros, int64_t *total)
{
    const edgec_graph *g = m->graph;
    *zeros = *total = 0;
    for (size_t i = 0; i < g->n_nodes; i++) {
        const edgec_node *n = g->nodes[i];
        if (strcmp(n->op_type, "Gemm"))
            continue;
        for (size_t k = 0; k < g->n_inits; k++) {
            const edgec_tensor *t = g->inits[k];
            if (strcmp(t->name, n->inputs[1]))
                continue;
            for (int64_t e = 0; e < t->numel; e++)
                *zeros += ((const float *)t->data)[e] == 0.0f;
            *total += t->numel;
        }
        for (size_t k = 0; k < g->n_sparse_inits; k++) {
            const edgec_sparse *s = g->sparse_inits[k];
            if (strcmp(s->values->name, n->inputs[1]))
                continue;
            int64_t numel = s->dims[0] * s->dims[1];
            *zeros += numel - s->values->numel;
            *total += numel;
        }
    }
    assert_true(*total <= 50200);
    *zeros += 50200 - *total;
    *total = 50200;
}

static void prune_50_within_budget(void **state)
{
    (void)state;
    edgec_model *ref = load("digits_mlp.onnx"), *m = load("digits_mlp.onnx");
    edgec_dataset *test = data("digits-test.npz");
    assert_int_equal(compress(m, NULL, "prune", "0.5", NULL), EDGEC_STATUS_OK);
    int64_t z, t;
    gemm_zeros(m, &z, &t);
    assert_int_equal(t, 50200);
    /* Half the weights by magnitude, plus the few incoming weights of units whose every
     * outgoing weight is gone (removed exactly: nothing reads those units). */
    assert_true(z >= 25100 && z < 25100 + 300);
    edgec_eval_result r = evaluate(ref, m, test);
    print_message("prune 0.5: top-1 %.2f -> %.2f (drop %.2f points)\n", r.ref_top1, r.cand_top1,
                  r.top1_drop);
    assert_true(r.top1_drop <= BUDGET_PRUNE50);
    edgec_model_free(ref);
    edgec_model_free(m);
    edgec_dataset_free(test);
}

/* A unit of the first layer whose outgoing weights are all pruned is read by nothing.
 * By default it is removed: fc1 loses the row and the bias entry, fc2 the column. With
 * --prune-dead zero its incoming weights and bias are zeroed instead and every shape
 * stays. Both give the same outputs, since nothing read the unit. */
static const edgec_tensor *init(const edgec_model *m, const char *name)
{
    for (size_t i = 0; i < m->graph->n_inits; i++)
        if (!strcmp(m->graph->inits[i]->name, name))
            return m->graph->inits[i];
    return NULL;
}

static void dead_units_removed_or_zeroed(void **state)
{
    (void)state;
    edgec_model *z = load("digits_mlp.onnx"), *r = load("digits_mlp.onnx");
    edgec_dataset *test = data("digits-test.npz");
    assert_int_equal(compress(z, NULL, "prune", "0.9", "prune-storage", "dense", "prune-dead",
                              "zero", NULL),
                     EDGEC_STATUS_OK);
    assert_int_equal(compress(r, NULL, "prune", "0.9", "prune-storage", "dense", NULL),
                     EDGEC_STATUS_OK);
    const edgec_tensor *w1 = init(z, "fc1.weight"), *b1 = init(z, "fc1.bias"),
                       *w2 = init(z, "fc2.weight");
    assert_non_null(w1);
    assert_non_null(b1);
    assert_non_null(w2);
    assert_int_equal(w1->dims[0], 300);
    const float *fw1 = w1->data, *fb1 = b1->data, *fw2 = w2->data;
    int dead = 0;
    for (int u = 0; u < 300; u++) {
        bool read = false;
        for (int k = 0; k < 100; k++)
            read |= fw2[k * 300 + u] != 0.0f;
        if (read)
            continue;
        dead++;
        assert_true(fb1[u] == 0.0f);
        for (int c = 0; c < 64; c++)
            assert_true(fw1[u * 64 + c] == 0.0f);
    }
    print_message("prune 0.9: %d of 300 first-layer units read by nothing\n", dead);
    assert_true(dead > 0);
    /* Removed: the kept units' weights are those of the zeroed model, in order. */
    const edgec_tensor *rw1 = init(r, "fc1.weight"), *rb1 = init(r, "fc1.bias"),
                       *rw2 = init(r, "fc2.weight");
    assert_non_null(rw1);
    assert_non_null(rb1);
    assert_non_null(rw2);
    assert_int_equal(rw1->dims[0], 300 - dead);
    assert_int_equal(rw1->dims[1], 64);
    assert_int_equal(rb1->dims[0], 300 - dead);
    assert_int_equal(rw2->dims[1], 300 - dead);
    int64_t kept = 0;
    for (int u = 0; u < 300; u++) {
        bool read = false;
        for (int k = 0; k < 100; k++)
            read |= fw2[k * 300 + u] != 0.0f;
        if (!read)
            continue;
        assert_memory_equal((const float *)rw1->data + kept * 64, fw1 + u * 64, 64 * sizeof(float));
        assert_true(((const float *)rb1->data)[kept] == fb1[u]);
        kept++;
    }
    assert_int_equal(kept, 300 - dead);
    edgec_eval_result e = evaluate(z, r, test);
    print_message("removed vs zeroed: agreement %.2f%%, max abs error %g\n", e.top1_agreement,
                  e.max_abs_err);
    assert_true(e.top1_agreement == 100.0);
    assert_true(e.max_abs_err < 1e-4);
    edgec_macs zm, rm;
    assert_int_equal(edgec__model_macs(z, &zm), EDGEC_STATUS_OK);
    assert_int_equal(edgec__model_macs(r, &rm), EDGEC_STATUS_OK);
    assert_true(rm.total < zm.total);
    assert_true(rm.nonzero == zm.nonzero);
    edgec_model_free(z);
    edgec_model_free(r);
    edgec_dataset_free(test);
}

static void prune_80_calib_within_budget(void **state)
{
    (void)state;
    edgec_model *ref = load("digits_mlp.onnx"), *mag = load("digits_mlp.onnx"),
                *rec = load("digits_mlp.onnx");
    edgec_dataset *test = data("digits-test.npz"), *calib = data("digits-calib.npz");
    assert_int_equal(compress(mag, NULL, "prune", "0.8", NULL), EDGEC_STATUS_OK);
    assert_int_equal(compress(rec, calib, "prune", "0.8", NULL), EDGEC_STATUS_OK);
    int64_t z, t;
    gemm_zeros(rec, &z, &t);
    assert_true((double)z >= MIN_ZEROS_PRUNE80 * (double)t);
    edgec_eval_result a = evaluate(ref, mag, test), b = evaluate(ref, rec, test);
    print_message("prune 0.8: magnitude drop %.2f points (SQNR %.1f dB), with --calib %.2f "
                  "points (SQNR %.1f dB), zeros %.2f%%\n",
                  a.top1_drop, a.sqnr_db, b.top1_drop, b.sqnr_db, 100.0 * (double)z / (double)t);
    assert_true(b.top1_drop <= BUDGET_PRUNE80_CALIB);
    /* Reconstruction must actually help: the outputs get closer to the original's. */
    assert_true(b.sqnr_db > a.sqnr_db + 10.0);
    /* Sparse storage at 80%: the weights went to sparse_initializer. */
    assert_true(rec->graph->n_sparse_inits >= 2);
    edgec_model_free(ref);
    edgec_model_free(mag);
    edgec_model_free(rec);
    edgec_dataset_free(test);
    edgec_dataset_free(calib);
}

static void prune_layer_scope_and_cap(void **state)
{
    (void)state;
    edgec_model *m = load("digits_mlp.onnx");
    assert_int_equal(compress(m, NULL, "prune", "0.6", "prune-scope", "layer", "prune-dead",
                              "zero", NULL),
                     EDGEC_STATUS_OK);
    /* Layer scope: each Gemm weight loses exactly 60% (with every shape kept: the units
     * that only zeros read are all-zero already). */
    const edgec_graph *g = m->graph;
    size_t seen = 0;
    for (size_t k = 0; k < g->n_inits; k++) {
        const edgec_tensor *t = g->inits[k];
        if (t->rank != 2)
            continue;
        int64_t z = 0;
        for (int64_t e = 0; e < t->numel; e++)
            z += ((const float *)t->data)[e] == 0.0f;
        assert_int_equal(z, (int64_t)floor(0.6 * (double)t->numel + 0.5));
        seen++;
    }
    assert_int_equal(seen, 3);
    edgec_model_free(m);
}

static void nm_2_4_every_group(void **state)
{
    (void)state;
    edgec_model *m = load("digits_mlp.onnx");
    assert_int_equal(compress(m, NULL, "nm", "2:4", NULL), EDGEC_STATUS_OK);
    const edgec_graph *g = m->graph;
    size_t groups = 0;
    for (size_t k = 0; k < g->n_inits; k++) {
        const edgec_tensor *t = g->inits[k];
        if (t->rank != 2)
            continue;
        /* transB=1 weights [out, in]: groups run along the last axis. */
        const float *w = t->data;
        for (int64_t r = 0; r < t->dims[0]; r++)
            for (int64_t c = 0; c + 4 <= t->dims[1]; c += 4) {
                int zeros = 0;
                for (int j = 0; j < 4; j++)
                    zeros += w[r * t->dims[1] + c + j] == 0.0f;
                assert_true(zeros >= 2);
                groups++;
            }
    }
    assert_int_equal(groups, (300 * 64 + 100 * 300 + 10 * 100) / 4);
    edgec_model_free(m);
}

static void cleanup_folds_bn_exactly(void **state)
{
    (void)state;
    edgec_model *ref = load("digits_cnn.onnx"), *m = load("digits_cnn.onnx");
    edgec_dataset *test = data("digits-test-cnn.npz");
    assert_int_equal(compress(m, NULL, "cleanup", NULL, NULL), EDGEC_STATUS_OK);
    for (size_t i = 0; i < m->graph->n_nodes; i++)
        assert_string_not_equal(m->graph->nodes[i]->op_type, "BatchNormalization");
    edgec_eval_result r = evaluate(ref, m, test);
    assert_true(r.max_abs_err <= 1e-4);
    assert_true(r.top1_drop == 0.0);
    /* The folded weights keep their names, and the biases the folding creates are named
     * after them, so a layer setting written against the original model still applies. */
    static const char *const names[] = {"stem.weight", "stem.bias", "dw.weight", "dw.bias",
                                        "pw.weight",   "pw.bias",   "down.weight", "down.bias"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        bool found = false;
        for (size_t k = 0; k < m->graph->n_inits; k++)
            found |= !strcmp(m->graph->inits[k]->name, names[i]);
        if (!found)
            fail_msg("no initializer '%s' after folding", names[i]);
    }
    assert_int_equal(m->graph->n_inits, 10); /* the 8 above, fc.weight and fc.bias */
    edgec_model_free(m);
    m = load("digits_cnn.onnx");
    edgec_pipeline *p = NULL;
    assert_int_equal(edgec_pipeline_create(&p), EDGEC_STATUS_OK);
    assert_int_equal(edgec_pipeline_set_layer(p, "stem.weight", "prune", "0.5"), EDGEC_STATUS_OK);
    assert_int_equal(edgec_pipeline_run(p, m, NULL), EDGEC_STATUS_OK);
    edgec_pipeline_free(p);
    const edgec_tensor *stem = NULL;
    for (size_t k = 0; k < m->graph->n_inits; k++)
        if (!strcmp(m->graph->inits[k]->name, "stem.weight"))
            stem = m->graph->inits[k];
    assert_non_null(stem);
    int64_t zeros = 0;
    for (int64_t e = 0; e < stem->numel; e++)
        zeros += ((const float *)stem->data)[e] == 0.0f;
    assert_int_equal(zeros, stem->numel / 2);
    edgec_model_free(ref);
    edgec_model_free(m);
    edgec_dataset_free(test);
}

static void structured_shrinks_cnn(void **state)
{
    (void)state;
    edgec_model *ref = load("digits_cnn.onnx"), *m = load("digits_cnn.onnx");
    edgec_dataset *test = data("digits-test-cnn.npz");
    void *a = NULL, *b = NULL;
    size_t na, nb;
    assert_int_equal(edgec_model_save_buffer(ref, &a, &na), EDGEC_STATUS_OK);
    assert_int_equal(compress(m, NULL, "prune-structured", "0.25", NULL), EDGEC_STATUS_OK);
    assert_int_equal(edgec_model_save_buffer(m, &b, &nb), EDGEC_STATUS_OK);
    edgec_eval_result r = evaluate(ref, m, test);
    print_message("prune-structured 0.25: %zu -> %zu bytes (%.3fx), top-1 %.2f -> %.2f\n", na,
                  nb, (double)nb / (double)na, r.ref_top1, r.cand_top1);
    assert_true((double)nb <= MAX_FILE_STRUCTURED25 * (double)na);
    assert_true(r.top1_drop <= BUDGET_STRUCTURED25);
    edgec_model *mc = load("digits_cnn.onnx");
    edgec_dataset *calib = data("digits-calib-cnn.npz");
    assert_int_equal(compress(mc, calib, "prune-structured", "0.25", NULL), EDGEC_STATUS_OK);
    edgec_eval_result rc = evaluate(ref, mc, test);
    print_message("prune-structured 0.25 --calib: top-1 %.2f -> %.2f\n", rc.ref_top1, rc.cand_top1);
    assert_true(rc.top1_drop <= BUDGET_STRUCTURED25_CALIB);
    edgec_model_free(mc);
    edgec_dataset_free(calib);
    edgec_macs before, after;
    assert_int_equal(edgec__model_macs(ref, &before), EDGEC_STATUS_OK);
    assert_int_equal(edgec__model_macs(m, &after), EDGEC_STATUS_OK);
    assert_true(after.total < before.total);
    free(a);
    free(b);
    edgec_model_free(ref);
    edgec_model_free(m);
    edgec_dataset_free(test);
}

static void macs_of_sample_models(void **state)
{
    (void)state;
    edgec_model *mlp = load("digits_mlp.onnx"), *cnn = load("digits_cnn.onnx");
    edgec_macs a, b;
    assert_int_equal(edgec__model_macs(mlp, &a), EDGEC_STATUS_OK);
    assert_int_equal(a.total, 64 * 300 + 300 * 100 + 100 * 10);
    assert_int_equal(a.nonzero, a.total);
    /* stem 3x3 (24), depthwise 3x3 (24), pointwise 24->24 on 8x8; 3x3 stride-2 24->48 on
     * 4x4; fc 48->10. */
    assert_int_equal(edgec__model_macs(cnn, &b), EDGEC_STATUS_OK);
    assert_int_equal(b.total, 24 * 64 * 9 + 24 * 64 * 9 + 24 * 24 * 64 + 48 * 16 * 24 * 9 + 480);
    edgec_model_free(mlp);
    edgec_model_free(cnn);
}

static void deterministic_bytes(void **state)
{
    (void)state;
    edgec_dataset *calib = data("digits-calib.npz");
    void *buf[2];
    size_t len[2];
    for (int i = 0; i < 2; i++) {
        edgec_model *m = load("digits_mlp.onnx");
        assert_int_equal(compress(m, calib, "prune", "0.8", NULL), EDGEC_STATUS_OK);
        assert_int_equal(edgec_model_save_buffer(m, &buf[i], &len[i]), EDGEC_STATUS_OK);
        edgec_model_free(m);
    }
    assert_int_equal(len[0], len[1]);
    assert_memory_equal(buf[0], buf[1], len[0]);
    free(buf[0]);
    free(buf[1]);
    edgec_dataset_free(calib);
}

static void bad_values_are_usage_errors(void **state)
{
    (void)state;
    edgec_pipeline *p = NULL;
    assert_int_equal(edgec_pipeline_create(&p), EDGEC_STATUS_OK);
    assert_int_equal(edgec_pipeline_set(p, "prune", "1"), EDGEC_STATUS_USAGE);
    assert_int_equal(edgec_pipeline_set(p, "prune", "-0.1"), EDGEC_STATUS_USAGE);
    assert_int_equal(edgec_pipeline_set(p, "nm", "4:4"), EDGEC_STATUS_USAGE);
    assert_int_equal(edgec_pipeline_set(p, "nm", "2:4x"), EDGEC_STATUS_USAGE);
    assert_int_equal(edgec_pipeline_set(p, "prune-structured", "1.5"), EDGEC_STATUS_USAGE);
    assert_int_equal(edgec_pipeline_set(p, "cleanup", "x"), EDGEC_STATUS_USAGE);
    edgec_pipeline_free(p);
    edgec_model *m = load("digits_mlp.onnx");
    assert_int_equal(compress(m, NULL, "prune", "0.5", "prune-scope", "bogus", NULL),
                     EDGEC_STATUS_USAGE);
    edgec_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(prune_50_within_budget),
        cmocka_unit_test(dead_units_removed_or_zeroed),
        cmocka_unit_test(prune_80_calib_within_budget),
        cmocka_unit_test(prune_layer_scope_and_cap),
        cmocka_unit_test(nm_2_4_every_group),
        cmocka_unit_test(cleanup_folds_bn_exactly),
        cmocka_unit_test(structured_shrinks_cnn),
        cmocka_unit_test(macs_of_sample_models),
        cmocka_unit_test(deterministic_bytes),
        cmocka_unit_test(bad_values_are_usage_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
