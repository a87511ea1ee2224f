/* Kernels of the linalg, conv, pool, norm, quant and rnn families, driven through the op
 * table with hand-built nodes and checked against naive references and ONNX examples. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "edgec/status.h"
#include "runtime/rt.h"

/* ---- building nodes and tensors ------------------------------------------------------ */

typedef struct tnode {
    edgec_node node;
    edgec_attr attrs[16];
    int64_t ints[16][8];
    float floats[16][8];
    edgec_bytes strs[16][6];
    char *outs[4];
} tnode;

static char out_names[4][4] = {"y0", "y1", "y2", "y3"};

static void tn_init(tnode *t, const char *op, size_t n_outputs)
{
    memset(t, 0, sizeof *t);
    t->node.name = "t";
    t->node.op_type = op;
    t->node.domain = "";
    t->node.attrs = t->attrs;
    for (size_t i = 0; i < 4; i++)
        t->outs[i] = out_names[i];
    t->node.outputs = t->outs;
    t->node.n_outputs = n_outputs;
}

static edgec_attr *tn_attr(tnode *t, const char *name, int type)
{
    edgec_attr *a = &t->attrs[t->node.n_attrs++];
    a->name = name;
    a->type = type;
    return a;
}

static void tn_int(tnode *t, const char *name, int64_t v)
{
    tn_attr(t, name, EDGEC_ATTR_INT)->i = v;
}

static void tn_float(tnode *t, const char *name, float v)
{
    tn_attr(t, name, EDGEC_ATTR_FLOAT)->f = v;
}

static void tn_ints(tnode *t, const char *name, size_t n, const int64_t *v)
{
    size_t k = t->node.n_attrs;
    edgec_attr *a = tn_attr(t, name, EDGEC_ATTR_INTS);
    memcpy(t->ints[k], v, n * sizeof *v);
    a->ints = t->ints[k];
    a->n = n;
}

static void tn_string(tnode *t, const char *name, const char *s)
{
    edgec_attr *a = tn_attr(t, name, EDGEC_ATTR_STRING);
    a->s.data = (uint8_t *)(uintptr_t)s;
    a->s.len = strlen(s);
}

static void tn_strings(tnode *t, const char *name, size_t n, const char *const *s)
{
    size_t k = t->node.n_attrs;
    edgec_attr *a = tn_attr(t, name, EDGEC_ATTR_STRINGS);
    for (size_t i = 0; i < n; i++) {
        t->strs[k][i].data = (uint8_t *)(uintptr_t)s[i];
        t->strs[k][i].len = strlen(s[i]);
    }
    a->strings = t->strs[k];
    a->n = n;
}

static edgec_rt_tensor *mk(int32_t dtype, int32_t rank, const int64_t *dims, const void *data)
{
    edgec_rt_tensor *t;
    assert_int_equal(edgec__rt_tensor_new(dtype, rank, dims, &t), EDGEC_STATUS_OK);
    if (data)
        memcpy(t->data, data, t->nbytes);
    return t;
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static float frand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((rng >> 40) & 0xffff) / 32768.0f - 1.0f;
}

static edgec_rt_tensor *mk_rand(int32_t rank, const int64_t *dims)
{
    edgec_rt_tensor *t = mk(EDGEC_DTYPE_FLOAT, rank, dims, NULL);
    for (int64_t i = 0; i < t->numel; i++)
        ((float *)t->data)[i] = frand();
    return t;
}

typedef struct run_result {
    edgec_status st;
    edgec_rt_tensor *out[4];
} run_result;

static run_result run_op_t(tnode *t, int64_t opset, size_t nin, edgec_rt_tensor **ins,
                           int threads)
{
    run_result r = {0};
    const edgec_op *op = edgec__op_find(t->node.op_type, "", opset);
    assert_non_null(op);
    const edgec_rt_tensor *cins[12];
    for (size_t i = 0; i < nin; i++)
        cins[i] = ins[i];
    edgec_op_ctx ctx = {.node = &t->node, .opset = opset, .n_inputs = nin, .inputs = cins,
                        .n_outputs = t->node.n_outputs, .outputs = r.out, .threads = threads};
    r.st = op->run(&ctx);
    return r;
}

static run_result run_op(tnode *t, int64_t opset, size_t nin, edgec_rt_tensor **ins)
{
    return run_op_t(t, opset, nin, ins, 1);
}

static void free_all(run_result *r, size_t nin, edgec_rt_tensor **ins)
{
    for (size_t i = 0; i < 4; i++)
        edgec__rt_tensor_free(r->out[i]);
    for (size_t i = 0; i < nin; i++)
        edgec__rt_tensor_free(ins[i]);
}

static void expect_close(const edgec_rt_tensor *t, const float *want, int64_t n, float tol)
{
    assert_non_null(t);
    assert_int_equal(t->numel, n);
    for (int64_t i = 0; i < n; i++) {
        float got = ((const float *)t->data)[i];
        if (!(fabsf(got - want[i]) <= tol * (1.0f + fabsf(want[i])))) {
            print_error("element %lld: got %.7g want %.7g\n", (long long)i, got, want[i]);
            fail();
        }
    }
}

static void expect_dims(const edgec_rt_tensor *t, int32_t rank, const int64_t *dims)
{
    assert_non_null(t);
    assert_int_equal(t->rank, rank);
    for (int32_t i = 0; i < rank; i++)
        assert_int_equal(t->dims[i], dims[i]);
}

/* ---- Conv ----------------------------------------------------------------------------- */

/* Naive 2-D convolution reference. */
static void ref_conv2d(const float *x, const float *w, const float *b, float *y, int64_t N,
                       int64_t C, int64_t H, int64_t W, int64_t M, int64_t group, int64_t kh,
                       int64_t kw, const int64_t *s, const int64_t *d, const int64_t *p,
                       int64_t OH, int64_t OW)
{
    int64_t Cg = C / group, Mg = M / group;
    for (int64_t n = 0; n < N; n++)
        for (int64_t m = 0; m < M; m++)
            for (int64_t oh = 0; oh < OH; oh++)
                for (int64_t ow = 0; ow < OW; ow++) {
                    double acc = b ? b[m] : 0;
                    int64_t g = m / Mg;
                    for (int64_t c = 0; c < Cg; c++)
                        for (int64_t i = 0; i < kh; i++)
                            for (int64_t j = 0; j < kw; j++) {
                                int64_t ih = oh * s[0] - p[0] + i * d[0];
                                int64_t iw = ow * s[1] - p[1] + j * d[1];
                                if (ih < 0 || ih >= H || iw < 0 || iw >= W)
                                    continue;
                                acc += (double)x[((n * C + g * Cg + c) * H + ih) * W + iw] *
                                       w[((m * Cg + c) * kh + i) * kw + j];
                            }
                    y[((n * M + m) * OH + oh) * OW + ow] = (float)acc;
                }
}

static void conv_case(int64_t N, int64_t C, int64_t H, int64_t W, int64_t M, int64_t group,
                      int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t dh, int64_t dw,
                      int64_t pt, int64_t pl, int64_t pbm, int64_t pr, bool bias, int threads)
{
    tnode t;
    tn_init(&t, "Conv", 1);
    int64_t s[2] = {sh, sw}, d[2] = {dh, dw}, p[4] = {pt, pl, pbm, pr};
    tn_ints(&t, "strides", 2, s);
    tn_ints(&t, "dilations", 2, d);
    tn_ints(&t, "pads", 4, p);
    tn_int(&t, "group", group);
    int64_t xd[4] = {N, C, H, W}, wd[4] = {M, C / group, kh, kw}, bd[1] = {M};
    edgec_rt_tensor *ins[3] = {mk_rand(4, xd), mk_rand(4, wd), bias ? mk_rand(1, bd) : NULL};
    run_result r = run_op_t(&t, 13, bias ? 3 : 2, ins, threads);
    assert_int_equal(r.st, EDGEC_STATUS_OK);
    int64_t OH = (H + pt + pbm - ((kh - 1) * dh + 1)) / sh + 1;
    int64_t OW = (W + pl + pr - ((kw - 1) * dw + 1)) / sw + 1;
    int64_t yd[4] = {N, M, OH, OW};
    expect_dims(r.out[0], 4, yd);
    float *want = malloc(sizeof(float) * (size_t)(N * M * OH * OW));
    int64_t pp[2] = {pt, pl};
    ref_conv2d(ins[0]->data, ins[1]->data, bias ? ins[2]->data : NULL, want, N, C, H, W, M,
               group, kh, kw, s, d, pp, OH, OW);
    expect_close(r.out[0], want, N * M * OH * OW, 1e-4f);
    free(want);
    free_all(&r, 3, ins);
}

static void test_conv_against_reference(void **state)
{
    (void)state;
    conv_case(1, 3, 9, 11, 4, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, 1);   /* 3x3 same */
    conv_case(2, 4, 8, 7, 6, 2, 3, 2, 2, 1, 1, 2, 0, 1, 1, 0, true, 1);    /* groups */
    conv_case(1, 5, 10, 10, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, 1);  /* depthwise */
    conv_case(1, 4, 12, 12, 8, 4, 3, 3, 2, 2, 2, 2, 2, 2, 1, 1, false, 1); /* dw x2 mult */
    conv_case(1, 16, 6, 5, 7, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, true, 1);   /* 1x1 */
    conv_case(1, 8, 9, 9, 8, 1, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0, false, 1);   /* 1x1 strided */
    conv_case(1, 3, 30, 40, 70, 1, 5, 5, 2, 3, 1, 1, 2, 1, 0, 2, true, 3); /* threads */
}

static void test_conv_threads_identical(void **state)
{
    (void)state;
    int64_t xd[4] = {1, 16, 20, 20}, wd[4] = {32, 16, 3, 3};
    edgec_rt_tensor *x = mk_rand(4, xd), *w = mk_rand(4, wd);
    edgec_rt_tensor *outs[2];
    for (int k = 0; k < 2; k++) {
        tnode t;
        tn_init(&t, "Conv", 1);
        int64_t p[4] = {1, 1, 1, 1};
        tn_ints(&t, "pads", 4, p);
        edgec_rt_tensor *ins[2] = {x, w};
        run_result r = run_op_t(&t, 11, 2, ins, k ? 3 : 1);
        assert_int_equal(r.st, EDGEC_STATUS_OK);
        outs[k] = r.out[0];
    }
    assert_memory_equal(outs[0]->data, outs[1]->data, outs[0]->nbytes);
    edgec__rt_tensor_free(outs[0]);
    edgec__rt_tensor_free(outs[1]);
    edgec__rt_tensor_free(x);
    edgec__rt_tensor_free(w);
}

/* ONNX example: 5x5 input 0..24, 3x3 ones kernel, pad 1, and auto_pad SAME_UPPER/1-D/3-D */
static void test_conv_onnx_example(void **state)
{
    (void)state;
    float x[25], w[9];
    for (int i = 0; i < 25; i++)
        x[i] = (float)i;
    for (int i = 0; i < 9; i++)
        w[i] = 1.0f;
    int64_t xd[4] = {1, 1, 5, 5}, wd[4] = {1, 1, 3, 3};
    static const float want[25] = {12, 21, 27, 33, 24, 33, 54, 63, 72, 51, 63, 99, 108,
                                   117, 81, 93, 144, 153, 162, 111, 72, 111, 117, 123, 84};
    tnode t;
    tn_init(&t, "Conv", 1);
    tn_string(&t, "auto_pad", "SAME_UPPER");
    int64_t ks[2] = {3, 3};
    tn_ints(&t, "kernel_shape", 2, ks);
    edgec_rt_tensor *ins[2] = {mk(EDGEC_DTYPE_FLOAT, 4, xd, x), mk(EDGEC_DTYPE_FLOAT, 4, wd, w)};
    run_result r = run_op(&t, 11, 2, ins);
    assert_int_equal(r.st, EDGEC_STATUS_OK);
    expect_close(r.out[0], want, 25, 1e-6f);
    free_all(&r, 2, ins);

    /* 1-D: [0..4] * [1,1,1], no pad -> [3, 6, 9] */
    tn_init(&t, "Conv", 1);
    int64_t x1[3] = {1, 1, 5}, w1[3] = {1, 1, 3};
    edgec_rt_tensor *in1[2] = {mk(EDGEC_DTYPE_FLOAT, 3, x1, x), mk(EDGEC_DTYPE_FLOAT, 3, w1, w)};
    r = run_op(&t, 11, 2, in1);
    assert_int_equal(r.st, EDGEC_STATUS_OK);
    static const float want1[3] = {3, 6, 9};
    expect_close(r.out[0], want1, 3, 1e-6f);
    free_all(&r, 2, in1);

    /* 3-D: 1x1x2x2x2 ones kernel over 0..7, VALID -> 28 */
    tn_init(&t, "Conv", 1);
    tn_string(&t, "auto_pad", "VALID");
    int64_t x3[5] = {1, 1, 2, 2, 2}, w3[5] = {1, 1, 2, 2, 2};
    edgec_rt_tensor *in3[2] = {mk(EDGEC_DTYPE_FLOAT, 5, x3, x), mk(EDGEC_DTYPE_FLOAT, 5, w3, w)};
    r = run_op(&t, 11, 2, in3);
    assert_int_equal(r.st, EDGEC_STATUS_OK);
    static const float want3[1] = {28};
    expect_close(r.out[0], want3, 1, 1e-6f);
    free_all(&r, 2, in3);
}

static void test_conv_invalid_shapes(void **state)
{
    (void)state;
    tnode t;
    tn_init(&t, "Conv", 1);
    int64_t xd[4] = {1, 3, 8, 8}, wd[4] = {4, 2, 3, 3}, bd[1] = {5};
    edgec_rt_tensor *ins[3] = {mk_rand(4, xd), mk_rand(4, wd), NULL};
    run_result r = run_op(&t, 11, 2, ins);
    assert_int_equal(r.st, EDGEC_STATUS_INVALID_MODEL);
    assert_non_null(strstr(edgec_error_message(), "channels"));
    assert_null(r.out[0]);
    edgec__rt_tensor_free(ins[1]);
    int64_t wd2[4] = {4, 3, 3, 3};
    ins[1] = mk_rand(4, wd2);
    ins[2] = mk_rand(1, bd); /* bias of the wrong length */
    r = run_op(&t, 11, 3, ins);
    assert_int_equal(r.st, EDGEC_STATUS_INVALID_MODEL);
    assert_non_null(strstr(edgec_error_message(), "bias"));
    /* kernel larger than the input */
    int64_t wd3[4] = {4, 3, 9, 9};
    edgec__rt_tensor_free(ins[1]);
    ins[1] = mk_rand(4, wd3);
    r = run_op(&t, 11, 2, ins);
    assert_int_equal(r.st, EDGEC_STATUS_INVALID_MODEL);
    /* rank mismatch */
    int64_t wd4[3] = {4, 3, 3};
    edgec__rt_tensor_free(ins[1]);
    ins[1] = mk_rand(3, wd4);
    r = run_op(&t, 11, 2, ins);
    assert_int_equal(r.st, EDGEC_STATUS_INVALID_MODEL);
    /* kernel_shape disagreeing with W */
    tn_init(&t, "Conv", 1);
    int64_t ks[2] = {5, 5};
    tn_ints(&t, "kernel_shape", 2, ks);
    edgec__rt_tensor_free(ins[1]);
    ins[1] = mk_rand(4, wd2);
    r = run_op(&t, 11, 2, ins);
    assert_int_equal(r.st, EDGEC_STATUS_INVALID_MODEL);
    /* wrong number of pads */
    tn_init(&t, "Conv", 1);
    int64_t p3[3] = {1, 1, 1};
    tn_ints(&t, "pads", 3, p3);
    r = run_op(&t, 11, 2, ins);
    assert_int_equal(r.st, EDGEC_STATUS_INVALID_MODEL);
    free_all(&r, 3, ins);
}

static void test_conv_transpose(void **state)
{
    (void)state;
    /* ONNX example convtranspose_1d: X [0,1,2], W ones [1,2,3] -> [[0,1,3,3,2] x2] */
    float x[3] = {0, 1, 2}, w[6] = {1, 1, 1, 1, 1, 1};
    int64_t xd[3] = {1, 1, 3}, wd[3] = {1, 2, 3};
    tnode t;
    tn_init(&t, "ConvTranspose", 1);
    edgec_rt_tensor *ins[2] = {mk(EDGEC_DTYPE_FLOAT, 3, xd, x), mk(EDGEC_DTYPE_FLOAT, 3, wd, w)};
    run_result r = run_op(&t, 11, 2, ins);
    assert_int_equal(r.st, EDGEC_STATUS_OK);
    int64_t yd[3] = {1, 2, 5};
    expect_dims(r.out[0], 3, yd);
    static const float want[10] = {0, 1, 3, 3, 2, 0, 1, 3, 3, 2};
    expect_close(r.out[0], want, 10, 1e-6f);
    free_all(&r, 2, ins);

    /* stride 2 with output_padding 1: out = 2*(3-1) + 1 + 3 = 8 */
    tn_init(&t, "ConvTranspose", 1);
    int64_t s[1] = {2}, op[1] = {1};
    tn_ints(&t, "strides", 1, s);
    tn_ints(&t, "output_padding", 1, op);
    edgec_rt_tensor *in2[2] = {mk(EDGEC_DTYPE_FLOAT, 3, xd, x), mk(EDGEC_DTYPE_FLOAT, 3, wd, w)};
    r = run_op(&t, 11, 2, in2);
    assert_int_equal(r.st, EDGEC_STATUS_OK);
    int64_t yd2[3] = {1, 2, 8};
    expect_dims(r.out[0], 3, yd2);
    static const float want2[16] = {0, 0, 1, 1, 3, 2, 2, 0, 0, 0, 1, 1, 3, 2, 2, 0};
    expect_close(r.out[0], want2, 16, 1e-6f);
    free_all(&r, 2, in2);
}

/* ---- linalg ----------------------------------------------------------------------------- */

static void test_matmul_broadcast(void **state)
{
    (void)state;
    tnode t;
    tn_init(&t, "MatMul", 1);
    int64_t ad[4] = {2, 1, 3, 4}, bd[3] = {3, 4, 5};
    edgec_rt_tensor *ins[2] = {mk_rand(4, ad), mk_rand(3, bd)};
    run_result r = run_op(&t, 13, 2, ins);
    assert_int_equal(r.st, EDGEC_STATUS_OK);
    int64_t yd[4] = {2, 3, 3, 5};
    expect_dims(r.out[0], 4, yd);
    const float *A = ins[0]->data, *B = ins[1]->data;
    float want[90];
    for (int b0 = 0; b0 < 2; b0++)
        for (int b1 = 0; b1 < 3; b1++)
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 5; j++) {
                    double s = 0;
                    for (int k = 0; k < 4; k++)
                        s += (double)A[(b0 * 3 + i) * 4 + k] * B[(b1 * 4 + k) * 5 + j];
                    want[((b0 * 3 + b1) * 3 + i) * 5 + j] = (float)s;
                }
    expect_close(r.out[0], want, 90, 1e-5f);
    free_all(&r, 2, ins);

    /* 1-D promotion both sides */
    int64_t v[1] = {4}, m[2] = {4, 5}, a3[3] = {2, 3, 4};
    edgec_rt_tensor *in2[2] = {mk_rand(1, v), mk_rand(2, m)};
    r = run_op(&t, 13, 2, in2);
    assert_int_equal(r.st, EDGEC_STATUS_OK);
    int64_t y2[1] = {5};
    expect_dims(r.out[0], 1, y2);
    free_all(&r, 2, in2);
    edgec_rt_tensor *in3[2] = {mk_rand(3, a3), mk_rand(1, v)};
    r = run_op(&t, 13, 2, in3);
    assert_int_equal(r.st, EDGEC_STATUS_OK);
    int64_t y3[2] = {2, 3};
    expect_dims(r.out[0], 2, y3);
    free_all(&r, 2, in3);
    /* mismatch */
    int64_t bad[2] = {5, 5};
    edgec_rt_tensor *in4[2] = {mk_rand(3, a3), mk_rand(2, bad)};
    r = run_op(&t, 13, 2, in4);
    assert_int_equal(r.st, EDGEC_STATUS_INVALID_MODEL);
    free_all(&r, 2, in4);
}

static void test_gemm_attrs(void **state)
{
    (void)state;
    tnode t;
    tn_init(&t, "Gemm", 1);
    tn_int(&t, "transA", 1);
    tn_int(&t, "transB", 1);
    tn_float(&t, "alpha", 0.5f);
    tn_float(&t, "beta", 2.0f);
    int64_t ad[2] = {4, 3}, bd[2] = {5, 4}, cd[1] = {5};
    edgec_rt_tensor *ins[3] = {mk_rand(2, ad), mk_rand(2, bd), mk_rand(1, cd)};
    run_result r = run_op(&t, 13, 3, ins);
    assert_int_equal(r.st, EDGEC_STATUS_OK);
    const float *A = ins[0]->data, *B = ins[1]->data, *C = ins[2]->data;
    float want[15];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 5; j++) {
            double s = 0;
            for (int k = 0; k < 4; k++)
                s += (double)A[k * 3 + i] * B[j * 4 + k];
            want[i * 5 + j] = (float)(0.5 * s + 2.0 * C[j]);
        }
    expect_close(r.out[0], want, 15, 1e-5f);
    free_all(&r, 3, ins);
    /* no C (opset 11+) and a C that does not broadcast */
    tn_init(&t, "Gemm", 1);
    int64_t a2[2] = {3, 4}, b2[2] = {4, 5}, c2[2] = {2, 5};
    edgec_rt_tensor *in2[3] = {mk_rand(2, a2), mk_rand(2, b2), mk_rand(2, c2)};
    r = run_op(&t, 13, 2, in2);
    assert_int_equal(r.st, EDGEC_STATUS_OK);
    edgec__rt_tensor_free(r.out[0]);
    r.out[0] = NULL;
    r = run_op(&t, 13, 3, in2);
    assert_int_equal(r.st, EDGEC_STATUS_INVALID_MODEL);
    free_all(&r, 3, in2);
}

static void test_matmul_integer(void **state)
{
    (void)state;
    /* ONNX example */
    uint8_t a[12] = {11, 7, 3, 10, 6, 2, 9, 5, 1, 8, 4, 0};
    uint8_t b[6] = {1, 4, 2, 5, 3, 6};
    uint8_t za = 12, zb = 0;
    int64_t ad[2] = {4, 3}, bd[2] = {3, 2}, sd[1] = {1};
    tnode t;
    tn_init(&t, "MatMulInteger", 1);
    edgec_rt_tensor *ins[4] = {mk(EDGEC_DTYPE_UINT8, 2, ad, a), mk(EDGEC_DTYPE_UINT8, 2, bd, b),
                               mk(EDGEC_DTYPE_UINT8, 0, sd, &za), mk(EDGEC_DTYPE_UINT8, 0, sd, &zb)};
    run_result r = run_op(&t, 10, 4, ins);
    assert_int_equal(r.st, EDGEC_STATUS_OK);
    static const int32_t want[8] = {-38, -83, -44, -98, -50, -113, -56, -128};
    assert_memory_equal(r.out[0]->data, want, sizeof want);
    free_all(&r, 4, ins);

    /* per-row a zero points, int8 b */
    uint8_t zrow[4] = {1, 2, 3, 4};
    int8_t bi[6] = {-1, 2, -3, 4, -5, 6};
    int64_t zd[1] = {4};
    edgec_rt_tensor *in2[3] = {mk(EDGEC_DTYPE_UINT8, 2, ad, a), mk(EDGEC_DTYPE_INT8, 2, bd, bi),
                               mk(EDGEC_DTYPE_UINT8, 1, zd, zrow)};
    r = run_op(&t, 10, 3, in2);
    assert_int_equal(r.st, EDGEC_STATUS_OK);
    const int32_t *y = r.out[0]->data;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 2; j++) {
            int32_t s = 0;
            for (int k = 0; k < 3; k++)
                s += ((int32_t)a[i * 3 + k] - zrow[i]) * bi[k * 2 + j];
            assert_int_equal(y[i * 2 + j], s);
        }
    free_all(&r, 3, in2);
}

static void test_qlinear_matmul(void **state)
{
    (void)state;
    /* ONNX example qlinearmatmul_2D */
    uint8_t a[8] = {208, 236, 0, 238, 3, 214, 255, 29};
    uint8_t b[12] = {152, 51, 244, 60, 26, 255, 0, 127, 246, 127, 254, 247};
    float as = 0.0066f, bs = 0.00705f, ys = 0.0107f;
    uint8_t az = 113, bz = 114, yz = 118;
    int64_t ad[2] = {2, 4}, bd[2] = {4, 3}, sd[1] = {1};
    tnode t;
    tn_init(&t, "QLinearMatMul", 1);
    edgec_rt_tensor *ins[8] = {
        mk(EDGEC_DTYPE_UINT8, 2, ad, a),  mk(EDGEC_DTYPE_FLOAT, 0, sd, &as),
        mk(EDGEC_DTYPE_UINT8, 0, sd, &az), mk(EDGEC_DTYPE_UINT8, 2, bd, b),
        mk(EDGEC_DTYPE_FLOAT, 0, sd, &bs), mk(EDGEC_DTYPE_UINT8, 0, sd, &bz),
        mk(EDGEC_DTYPE_FLOAT, 0, sd, &ys), mk(EDGEC_DTYPE_UINT8, 0, sd, &yz)};
    run_result r = run_op(&t, 10, 8, ins);
    assert_int_equal(r.st, EDGEC_STATUS_OK);
    static const uint8_t want[6] = {168, 115, 255, 1, 66, 151};
    assert_memory_equal(r.out[0]->data, want, 6);
    free_all(&r, 8, ins);

    /* Outputs are divided by y_scale: zero and NaN are refused, not divided by. */
    static const float bad_scales[2] = {0.0f, NAN};
    for (int k = 0; k < 2; k++) {
        edgec_rt_tensor *in2[8] = {
            mk(EDGEC_DTYPE_UINT8, 2, ad, a),  mk(EDGEC_DTYPE_FLOAT, 0, sd, &as),
            mk(EDGEC_DTYPE_UINT8, 0, sd, &az), mk(EDGEC_DTYPE_UINT8, 2, bd, b),
            mk(EDGEC_DTYPE_FLOAT, 0, sd, &bs), mk(EDGEC_DTYPE_UINT8, 0, sd, &bz),
            mk(EDGEC_DTYPE_FLOAT, 0, sd, &bad_scales[k]), mk(EDGEC_DTYPE_UINT8, 0, sd, &yz)};
        r = run_op(&t, 10, 8, in2);
        assert_int_equal(r.st, EDGEC_STATUS_INVALID_MODEL);
        assert_non_null(strstr(edgec_error_message(), "y_scale"));
        free_all(&r, 8, in2);
    }
}

/* ---- pools -------------------------------------------------------------------------------- */

static void test_maxpool_indices(void **state)
{
    (void)state;
    float x[25];
    for (int i = 0; i < 25; i++)
        x[i] = (float)(i + 1);
    int64_t xd[4] = {1, 1, 5, 5};
    for (int order = 0; order < 2; order++) {
        tnode t;
        tn_init(&t, "MaxPool", 2);
        int64_t ks[2] = {2, 2}, st[2] = {2, 2};
        tn_ints(&t, "kernel_shape", 2, ks);
        tn_ints(&t, "strides", 2, st);
        tn_int(&t, "storage_order", order);
        edgec_rt_tensor *ins[1] = {mk(EDGEC_DTYPE_FLOAT, 4, xd, x)};
        run_result r = run_op(&t, 12, 1, ins);
        assert_int_equal(r.st, EDGEC_STATUS_OK);
        static const float want[4] = {7, 9, 17, 19};
        expect_close(r.out[0], want, 4, 0);
        static const int64_t idx_row[4] = {6, 8, 16, 18}, idx_col[4] = {6, 16, 8, 18};
        assert_memory_equal(r.out[1]->data, order ? idx_col : idx_row, sizeof idx_row);
        free_all(&r, 1, ins);
    }
    /* ceil_mode: 5 -> ceil((5-3)/2)+1 = 2 ... with 4x4 input k3 s2: (4-3)/2 -> 2 */
    tnode t;
    tn_init(&t, "MaxPool", 1);
    int64_t ks[2] = {3, 3}, st[2] = {2, 2};
    tn_ints(&t, "kernel_shape", 2, ks);
    tn_ints(&t, "strides", 2, st);
    tn_int(&t, "ceil_mode", 1);
    float x16[16];
    for (int i = 0; i < 16; i++)
        x16[i] = (float)(i + 1);
    int64_t x4[4] = {1, 1, 4, 4};
    edgec_rt_tensor *ins[1] = {mk(EDGEC_DTYPE_FLOAT, 4, x4, x16)};
    run_result r = run_op(&t, 12, 1, ins);
    assert_int_equal(r.st, EDGEC_STATUS_OK);
    static const float want[4] = {11, 12, 15, 16};
    expect_close(r.out[0], want, 4, 0);
    free_all(&r, 1, ins);
}

static void test_avgpool_pads(void **state)
{
    (void)state;
    float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    int64_t xd[4] = {1, 1, 3, 3};
    for (int include = 0; include < 2; include++) {
        tnode t;
        tn_init(&t, "AveragePool", 1);
        int64_t ks[2] = {2, 2}, p[4] = {1, 1, 1, 1}, st[2] = {2, 2};
        tn_ints(&t, "kernel_shape", 2, ks);
        tn_ints(&t, "pads", 4, p);
        tn_ints(&t, "strides", 2, st);
        tn_int(&t, "count_include_pad", include);
        edgec_rt_tensor *ins[1] = {mk(EDGEC_DTYPE_FLOAT, 4, xd, x)};
        run_result r = run_op(&t, 11, 1, ins);
        assert_int_equal(r.st, EDGEC_STATUS_OK);
        /* windows: [1], [2,3], [4,7], [5,6,8,9] */
        static const float excl[4] = {1, 2.5f, 5.5f, 7}, incl[4] = {0.25f, 1.25f, 2.75f, 7};
        expect_close(r.out[0], include ? incl : excl, 4, 1e-6f);
        free_all(&r, 1, ins);
    }
    /* GlobalAveragePool / GlobalMaxPool */
    tnode t;
    tn_init(&t, "GlobalAveragePool", 1);
    edgec_rt_tensor *ins[1] = {mk(EDGEC_DTYPE_FLOAT, 4, xd, x)};
    run_result r = run_op(&t, 11, 1, ins);
    assert_int_equal(r.st, EDGEC_STATUS_OK);
    int64_t yd[4] = {1, 1, 1, 1};
    expect_dims(r.out[0], 4, yd);
    static const float five[1] = {5}, nine[1] = {9};
    expect_close(r.out[0], five, 1, 1e-6f);
    edgec__rt_tensor_free(r.out[0]);
    tn_init(&t, "GlobalMaxPool", 1);
    r = run_op(&t, 11, 1, ins);
    expect_close(r.out[0], nine, 1, 0);
    free_all(&r, 1, ins);
}

/* ---- norm --------------------------------------------------------------------------------- */

static void test_batchnorm(void **state)
{
    (void)state;
    float x[6] = {-1, 0, 1, 2, 3, 4}, s[2] = {1, 1.5f}, b[2] = {0, 1}, m[2] = {0, 3},
          v[2] = {1, 1.5f};
    int64_t xd[3] = {1, 2, 3}, cd[1] = {2};
    tnode t;
    tn_init(&t, "BatchNormalization", 1);
    tn_float(&t, "epsilon", 0);
    edgec_rt_tensor *ins[5] = {mk(EDGEC_DTYPE_FLOAT, 3, xd, x), mk(EDGEC_DTYPE_FLOAT, 1, cd, s),
                               mk(EDGEC_DTYPE_FLOAT, 1, cd, b), mk(EDGEC_DTYPE_FLOAT, 1, cd, m),
                               mk(EDGEC_DTYPE_FLOAT, 1, cd, v)};
    run_result r = run_op(&t, 15, 5, ins);
    assert_int_equal(r.st, EDGEC_STATUS_OK);
    float want[6];
    for (int i = 0; i < 6; i++) {
        int c = i / 3;
        want[i] = (x[i] - m[c]) / sqrtf(v[c]) * s[c] + b[c];
    }
    expect_close(r.out[0], want, 6, 1e-5f);
    edgec__rt_tensor_free(r.out[0]);
    r.out[0] = NULL;
    tn_int(&t, "training_mode", 1);
    r = run_op(&t, 15, 5, ins);
    assert_int_equal(r.st, EDGEC_STATUS_UNSUPPORTED);
    /* wrong scale length */
    tn_init(&t, "BatchNormalization", 1);
    int64_t c3[1] = {3};
    edgec__rt_tensor_free(ins[1]);
    ins[1] = mk_rand(1, c3);
    r = run_op(&t, 15, 5, ins);
    assert_int_equal(r.st, EDGEC_STATUS_INVALID_MODEL);
    free_all(&r, 5, ins);
}

static void test_layernorm_outputs(void **state)
{
    (void)state;
    int64_t xd[3] = {2, 3, 4}, sd[2] = {3, 4};
    tnode t;
    tn_init(&t, "LayerNormalization", 3);
    tn_int(&t, "axis", 1);
    tn_float(&t, "epsilon", 1e-3f);
    edgec_rt_tensor *ins[3] = {mk_rand(3, xd), mk_rand(2, sd), mk_rand(2, sd)};
    run_result r = run_op(&t, 17, 3, ins);
    assert_int_equal(r.st, EDGEC_STATUS_OK);
    int64_t md[3] = {2, 1, 1};
    expect_dims(r.out[1], 3, md);
    expect_dims(r.out[2], 3, md);
    const float *X = ins[0]->data, *S = ins[1]->data, *B = ins[2]->data;
    float want[24], wm[2], wv[2];
    for (int o = 0; o < 2; o++) {
        double mean = 0, var = 0;
        for (int i = 0; i < 12; i++)
            mean += X[o * 12 + i];
        mean /= 12;
        for (int i = 0; i < 12; i++)
            var += (X[o * 12 + i] - mean) * (X[o * 12 + i] - mean);
        var /= 12;
        double inv = 1.0 / sqrt(var + 1e-3);
        wm[o] = (float)mean;
        wv[o] = (float)inv;
        for (int i = 0; i < 12; i++)
            want[o * 12 + i] = (float)((X[o * 12 + i] - mean) * inv * S[i] + B[i]);
    }
    expect_close(r.out[0], want, 24, 1e-5f);
    expect_close(r.out[1], wm, 2, 1e-6f);
    expect_close(r.out[2], wv, 2, 1e-5f);
    free_all(&r, 3, ins);
}

static void test_instancenorm(void **state)
{
    (void)state;
    float x[6] = {-1, 0, 1, 2, 2, 2};
    float s[2] = {1, 2}, b[2] = {0, 1};
    int64_t xd[3] = {1, 2, 3}, cd[1] = {2};
    tnode t;
    tn_init(&t, "InstanceNormalization", 1);
    edgec_rt_tensor *ins[3] = {mk(EDGEC_DTYPE_FLOAT, 3, xd, x), mk(EDGEC_DTYPE_FLOAT, 1, cd, s),
                               mk(EDGEC_DTYPE_FLOAT, 1, cd, b)};
    tn_float(&t, "epsilon", 1e-5f);
    run_result r = run_op(&t, 6, 3, ins);
    assert_int_equal(r.st, EDGEC_STATUS_OK);
    float k = 1.0f / sqrtf(2.0f / 3.0f + 1e-5f);
    float want[6] = {-k, 0, k, 1, 1, 1};
    expect_close(r.out[0], want, 6, 1e-5f);
    free_all(&r, 3, ins);
}

/* ---- quant -------------------------------------------------------------------------------- */

static void test_quantize_round_saturate(void **state)
{
    (void)state;
    float x[8] = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 1000.0f, -1000.0f};
    float sc = 1.0f;
    int8_t zp = 0;
    int64_t xd[1] = {8}, sd[1] = {1};
    tnode t;
    tn_init(&t, "QuantizeLinear", 1);
    edgec_rt_tensor *ins[3] = {mk(EDGEC_DTYPE_FLOAT, 1, xd, x), mk(EDGEC_DTYPE_FLOAT, 0, sd, &sc),
                               mk(EDGEC_DTYPE_INT8, 0, sd, &zp)};
    run_result r = run_op(&t, 13, 3, ins);
    assert_int_equal(r.st, EDGEC_STATUS_OK);
    static const int8_t want[8] = {0, 2, 2, 0, -2, -2, 127, -128};
    assert_memory_equal(r.out[0]->data, want, 8);
    free_all(&r, 3, ins);

    /* uint8 default when no zero point; int4 output at opset 21 */
    tn_init(&t, "QuantizeLinear", 1);
    edgec_rt_tensor *in2[2] = {mk(EDGEC_DTYPE_FLOAT, 1, xd, x), mk(EDGEC_DTYPE_FLOAT, 0, sd, &sc)};
    r = run_op(&t, 13, 2, in2);
    assert_int_equal(r.st, EDGEC_STATUS_OK);
    assert_int_equal(r.out[0]->dtype, EDGEC_DTYPE_UINT8);
    static const uint8_t want_u[8] = {0, 2, 2, 0, 0, 0, 255, 0};
    assert_memory_equal(r.out[0]->data, want_u, 8);
    edgec__rt_tensor_free(r.out[0]);
    r.out[0] = NULL;
    tn_int(&t, "output_dtype", EDGEC_DTYPE_INT4);
    r = run_op(&t, 21, 2, in2);
    assert_int_equal(r.st, EDGEC_STATUS_OK);
    assert_int_equal(r.out[0]->dtype, EDGEC_DTYPE_INT4);
    /* 0,2 | 2,0 | -2,-2 | 7,-8 packed low nibble first */
    static const uint8_t want4[4] = {0x20, 0x02, 0xee, 0x87};
    assert_memory_equal(r.out[0]->data, want4, 4);
    free_all(&r, 2, in2);
}

static void test_quantize_per_axis_blocked(void **state)
{
    (void)state;
    float x[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    int64_t xd[2] = {2, 4};
    /* per-axis along axis 0 */
    float s0[2] = {1, 2};
    int64_t sd0[1] = {2};
    tnode t;
    tn_init(&t, "QuantizeLinear", 1);
    tn_int(&t, "axis", 0);
    edgec_rt_tensor *ins[2] = {mk(EDGEC_DTYPE_FLOAT, 2, xd, x), mk(EDGEC_DTYPE_FLOAT, 1, sd0, s0)};
    run_result r = run_op(&t, 13, 2, ins);
    assert_int_equal(r.st, EDGEC_STATUS_OK);
    static const uint8_t want[8] = {1, 2, 3, 4, 2, 3, 4, 4}; /* 2.5->2, 3.5->4 */
    assert_memory_equal(r.out[0]->data, want, 8);
    free_all(&r, 2, ins);
    /* blocked along axis 1 with block_size 2: scale [2, 2] */
    float sb[4] = {1, 2, 4, 8};
    int64_t sdb[2] = {2, 2};
    tn_init(&t, "QuantizeLinear", 1);
    tn_int(&t, "axis", 1);
    tn_int(&t, "block_size", 2);
    edgec_rt_tensor *in2[2] = {mk(EDGEC_DTYPE_FLOAT, 2, xd, x), mk(EDGEC_DTYPE_FLOAT, 2, sdb, sb)};
    r = run_op(&t, 21, 2, in2);
    assert_int_equal(r.st, EDGEC_STATUS_OK);
    static const uint8_t wantb[8] = {1, 2, 2, 2, 1, 2, 1, 1};
    assert_memory_equal(r.out[0]->data, wantb, 8);
    free_all(&r, 2, in2);
    /* a per-axis scale of the wrong length */
    float s3[3] = {1, 1, 1};
    int64_t sd3[1] = {3};
    tn_init(&t, "QuantizeLinear", 1);
    edgec_rt_tensor *in3[2] = {mk(EDGEC_DTYPE_FLOAT, 2, xd, x), mk(EDGEC_DTYPE_FLOAT, 1, sd3, s3)};
    r = run_op(&t, 13, 2, in3);
    assert_int_equal(r.st, EDGEC_STATUS_INVALID_MODEL);
    free_all(&r, 2, in3);
}

static void test_dequantize_int4_blocked(void **state)
{
    (void)state;
    /* int4 values [1,-2,3,-4,5,-6,7,-8] packed low nibble first */
    uint8_t packed[4] = {0xe1, 0xc3, 0xa5, 0x87};
    int64_t xd[2] = {2, 4};
    float sc[4] = {1, 2, 3, 4};
    int64_t sd[2] = {2, 2};
    uint8_t zp[2] = {0x01, 0x00}; /* zero points [1,0,0,0] as int4 */
    tnode t;
    tn_init(&t, "DequantizeLinear", 1);
    tn_int(&t, "axis", 1);
    tn_int(&t, "block_size", 2);
    edgec_rt_tensor *ins[3] = {mk(EDGEC_DTYPE_INT4, 2, xd, packed), mk(EDGEC_DTYPE_FLOAT, 2, sd, sc),
                               mk(EDGEC_DTYPE_INT4, 2, sd, zp)};
    run_result r = run_op(&t, 21, 3, ins);
    assert_int_equal(r.st, EDGEC_STATUS_OK);
    static const float want[8] = {0, -3, 6, -8, 15, -18, 28, -32};
    expect_close(r.out[0], want, 8, 0);
    free_all(&r, 3, ins);

    /* per-axis int8 and uint4 per-tensor */
    int8_t q[4] = {-128, 0, 127, 10};
    float s2[2] = {0.5f, 2};
    int8_t z2[2] = {0, 10};
    int64_t qd[2] = {2, 2}, s2d[1] = {2};
    tn_init(&t, "DequantizeLinear", 1);
    tn_int(&t, "axis", 0);
    edgec_rt_tensor *in2[3] = {mk(EDGEC_DTYPE_INT8, 2, qd, q), mk(EDGEC_DTYPE_FLOAT, 1, s2d, s2),
                               mk(EDGEC_DTYPE_INT8, 1, s2d, z2)};
    r = run_op(&t, 13, 3, in2);
    assert_int_equal(r.st, EDGEC_STATUS_OK);
    static const float want2[4] = {-64, 0, 234, 0};
    expect_close(r.out[0], want2, 4, 0);
    free_all(&r, 3, in2);
}

static void test_dynamic_quantize(void **state)
{
    (void)state;
    float x[6] = {0, 2, -3, -2.5f, 1.34f, 0.5f};
    int64_t xd[1] = {6};
    tnode t;
    tn_init(&t, "DynamicQuantizeLinear", 3);
    edgec_rt_tensor *ins[1] = {mk(EDGEC_DTYPE_FLOAT, 1, xd, x)};
    run_result r = run_op(&t, 11, 1, ins);
    assert_int_equal(r.st, EDGEC_STATUS_OK);
    static const uint8_t want[6] = {153, 255, 0, 26, 221, 179};
    assert_memory_equal(r.out[0]->data, want, 6);
    assert_true(fabsf(*(float *)r.out[1]->data - 0.019607844f) < 1e-8f);
    assert_int_equal(*(uint8_t *)r.out[2]->data, 153);
    free_all(&r, 1, ins);
}

static void test_conv_integer_and_qlinear(void **state)
{
    (void)state;
    /* ONNX example convinteger_with_padding: x 1..9 (3x3), w ones 2x2, x_zp 1, pad 1 */
    uint8_t x[9] = {2, 3, 4, 5, 6, 7, 8, 9, 10}, w[4] = {1, 1, 1, 1}, xz = 1;
    int64_t xd[4] = {1, 1, 3, 3}, wd[4] = {1, 1, 2, 2}, sd[1] = {1};
    tnode t;
    tn_init(&t, "ConvInteger", 1);
    int64_t p[4] = {1, 1, 1, 1};
    tn_ints(&t, "pads", 4, p);
    edgec_rt_tensor *ins[3] = {mk(EDGEC_DTYPE_UINT8, 4, xd, x), mk(EDGEC_DTYPE_UINT8, 4, wd, w),
                               mk(EDGEC_DTYPE_UINT8, 0, sd, &xz)};
    run_result r = run_op(&t, 10, 3, ins);
    assert_int_equal(r.st, EDGEC_STATUS_OK);
    static const int32_t want[16] = {1, 3, 5, 3, 5, 12, 16, 9, 11, 24, 28, 15, 7, 15, 17, 9};
    assert_memory_equal(r.out[0]->data, want, sizeof want);
    free_all(&r, 3, ins);

    /* QLinearConv, per-channel weight scales, int32 bias, int8 output */
    uint8_t xq[4] = {10, 20, 30, 40};
    int8_t wq[2] = {2, -3};
    int32_t bias[2] = {100, -50};
    float xs = 0.5f, ws[2] = {0.1f, 0.2f}, ys = 0.25f;
    uint8_t xzq = 10;
    int8_t wz[2] = {0, 0}, yz = 1;
    int64_t xqd[4] = {1, 1, 2, 2}, wqd[4] = {2, 1, 1, 1}, cd[1] = {2};
    tn_init(&t, "QLinearConv", 1);
    edgec_rt_tensor *in2[9] = {
        mk(EDGEC_DTYPE_UINT8, 4, xqd, xq), mk(EDGEC_DTYPE_FLOAT, 0, sd, &xs),
        mk(EDGEC_DTYPE_UINT8, 0, sd, &xzq), mk(EDGEC_DTYPE_INT8, 4, wqd, wq),
        mk(EDGEC_DTYPE_FLOAT, 1, cd, ws), mk(EDGEC_DTYPE_INT8, 1, cd, wz),
        mk(EDGEC_DTYPE_FLOAT, 0, sd, &ys), mk(EDGEC_DTYPE_INT8, 0, sd, &yz),
        mk(EDGEC_DTYPE_INT32, 1, cd, bias)};
    r = run_op(&t, 10, 9, in2);
    assert_int_equal(r.st, EDGEC_STATUS_OK);
    const int8_t *y = r.out[0]->data;
    for (int m = 0; m < 2; m++)
        for (int i = 0; i < 4; i++) {
            float acc = (float)((xq[i] - 10) * wq[m] + bias[m]);
            float v = acc * (xs * ws[m] / ys);
            float rr = nearbyintf(v) + 1;
            int q = rr > 127 ? 127 : rr < -128 ? -128 : (int)rr;
            assert_int_equal(y[m * 4 + i], q);
        }
    free_all(&r, 9, in2);
    float zero = 0.0f;
    edgec_rt_tensor *in3[9] = {
        mk(EDGEC_DTYPE_UINT8, 4, xqd, xq), mk(EDGEC_DTYPE_FLOAT, 0, sd, &xs),
        mk(EDGEC_DTYPE_UINT8, 0, sd, &xzq), mk(EDGEC_DTYPE_INT8, 4, wqd, wq),
        mk(EDGEC_DTYPE_FLOAT, 1, cd, ws), mk(EDGEC_DTYPE_INT8, 1, cd, wz),
        mk(EDGEC_DTYPE_FLOAT, 0, sd, &zero), mk(EDGEC_DTYPE_INT8, 0, sd, &yz),
        mk(EDGEC_DTYPE_INT32, 1, cd, bias)};
    r = run_op(&t, 10, 9, in3);
    assert_int_equal(r.st, EDGEC_STATUS_INVALID_MODEL);
    assert_non_null(strstr(edgec_error_message(), "y_scale"));
    free_all(&r, 9, in3);
}

/* ---- rnn ---------------------------------------------------------------------------------- */

static float sigm(float v)
{
    return 1.0f / (1.0f + expf(-v));
}

static void test_lstm_reference(void **state)
{
    (void)state;
    enum { T = 3, B = 2, I = 3, H = 2 };
    int64_t xd[3] = {T, B, I}, wd[3] = {1, 4 * H, I}, rd[3] = {1, 4 * H, H}, bd[2] = {1, 8 * H},
            pd[2] = {1, 3 * H}, hd[3] = {1, B, H}, ld[1] = {B};
    int32_t lens[B] = {3, 2};
    tnode t;
    tn_init(&t, "LSTM", 3);
    tn_int(&t, "hidden_size", H);
    edgec_rt_tensor *ins[8] = {mk_rand(3, xd), mk_rand(3, wd), mk_rand(3, rd), mk_rand(2, bd),
                               mk(EDGEC_DTYPE_INT32, 1, ld, lens), mk_rand(3, hd), mk_rand(3, hd),
                               mk_rand(2, pd)};
    run_result r = run_op(&t, 14, 8, ins);
    assert_int_equal(r.st, EDGEC_STATUS_OK);
    const float *X = ins[0]->data, *W = ins[1]->data, *R = ins[2]->data, *Bb = ins[3]->data,
                *P = ins[7]->data;
    float Y[T][B][H] = {{{0}}}, Hs[B][H], Cs[B][H];
    memcpy(Hs, ins[5]->data, sizeof Hs);
    memcpy(Cs, ins[6]->data, sizeof Cs);
    for (int s = 0; s < T; s++)
        for (int b = 0; b < B; b++) {
            if (s >= lens[b])
                continue;
            float g[4][H];
            for (int q = 0; q < 4; q++)
                for (int j = 0; j < H; j++) {
                    int row = q * H + j;
                    float v = Bb[row] + Bb[4 * H + row];
                    for (int k = 0; k < I; k++)
                        v += X[(s * B + b) * I + k] * W[row * I + k];
                    for (int k = 0; k < H; k++)
                        v += Hs[b][k] * R[row * H + k];
                    g[q][j] = v;
                }
            for (int j = 0; j < H; j++) {
                float i = sigm(g[0][j] + P[j] * Cs[b][j]);
                float f = sigm(g[2][j] + P[2 * H + j] * Cs[b][j]);
                float c = f * Cs[b][j] + i * tanhf(g[3][j]);
                float o = sigm(g[1][j] + P[H + j] * c);
                Cs[b][j] = c;
                Hs[b][j] = o * tanhf(c);
                Y[s][b][j] = Hs[b][j];
            }
        }
    expect_close(r.out[0], &Y[0][0][0], T * B * H, 1e-5f);
    expect_close(r.out[1], &Hs[0][0], B * H, 1e-5f);
    expect_close(r.out[2], &Cs[0][0], B * H, 1e-5f);
    free_all(&r, 8, ins);
}

static void test_gru_reference(void **state)
{
    (void)state;
    enum { T = 4, B = 1, I = 2, H = 3 };
    int64_t xd[3] = {T, B, I}, wd[3] = {2, 3 * H, I}, rd[3] = {2, 3 * H, H}, bd[2] = {2, 6 * H};
    for (int lbr = 0; lbr < 2; lbr++) {
        tnode t;
        tn_init(&t, "GRU", 2);
        tn_int(&t, "hidden_size", H);
        tn_int(&t, "linear_before_reset", lbr);
        tn_string(&t, "direction", "bidirectional");
        edgec_rt_tensor *ins[4] = {mk_rand(3, xd), mk_rand(3, wd), mk_rand(3, rd), mk_rand(2, bd)};
        run_result r = run_op(&t, 14, 4, ins);
        assert_int_equal(r.st, EDGEC_STATUS_OK);
        int64_t yd[4] = {T, 2, B, H};
        expect_dims(r.out[0], 4, yd);
        const float *X = ins[0]->data;
        float want_y[T][2][H], want_h[2][H];
        for (int d = 0; d < 2; d++) {
            const float *W = (const float *)ins[1]->data + d * 3 * H * I;
            const float *R = (const float *)ins[2]->data + d * 3 * H * H;
            const float *Wb = (const float *)ins[3]->data + d * 6 * H, *Rb = Wb + 3 * H;
            float h[H] = {0};
            for (int s = 0; s < T; s++) {
                int tt = d ? T - 1 - s : s;
                float xw[3 * H], hr[3 * H];
                for (int row = 0; row < 3 * H; row++) {
                    xw[row] = Wb[row];
                    for (int k = 0; k < I; k++)
                        xw[row] += X[tt * I + k] * W[row * I + k];
                    hr[row] = Rb[row];
                    for (int k = 0; k < H; k++)
                        hr[row] += h[k] * R[row * H + k];
                }
                float z[H], rr[H], nh[H];
                for (int j = 0; j < H; j++) {
                    z[j] = sigm(xw[j] + hr[j]);
                    rr[j] = sigm(xw[H + j] + hr[H + j]);
                }
                for (int j = 0; j < H; j++) {
                    float v;
                    if (lbr) {
                        v = xw[2 * H + j] + rr[j] * hr[2 * H + j];
                    } else {
                        v = xw[2 * H + j] + Rb[2 * H + j];
                        for (int k = 0; k < H; k++)
                            v += rr[k] * h[k] * R[(2 * H + j) * H + k];
                    }
                    nh[j] = tanhf(v);
                }
                for (int j = 0; j < H; j++) {
                    h[j] = (1 - z[j]) * nh[j] + z[j] * h[j];
                    want_y[tt][d][j] = h[j];
                }
            }
            memcpy(want_h[d], h, sizeof h);
        }
        expect_close(r.out[0], &want_y[0][0][0], T * 2 * H, 1e-5f);
        expect_close(r.out[1], &want_h[0][0], 2 * H, 1e-5f);
        free_all(&r, 4, ins);
    }
}

static void test_rnn_activations_and_shapes(void **state)
{
    (void)state;
    int64_t xd[3] = {2, 1, 2}, wd[3] = {1, 4, 2}, rd[3] = {1, 4, 1};
    tnode t;
    tn_init(&t, "LSTM", 1);
    tn_int(&t, "hidden_size", 1);
    const char *acts[3] = {"Relu", "Tanh", "Sigmoid"};
    tn_strings(&t, "activations", 3, acts);
    edgec_rt_tensor *ins[3] = {mk_rand(3, xd), mk_rand(3, wd), mk_rand(3, rd)};
    run_result r = run_op(&t, 14, 3, ins);
    assert_int_equal(r.st, EDGEC_STATUS_OK);
    edgec__rt_tensor_free(r.out[0]);
    r.out[0] = NULL;
    tn_init(&t, "LSTM", 1);
    tn_int(&t, "hidden_size", 1);
    const char *bad[3] = {"Sigmoid", "Gelu", "Tanh"};
    tn_strings(&t, "activations", 3, bad);
    r = run_op(&t, 14, 3, ins);
    assert_int_equal(r.st, EDGEC_STATUS_UNSUPPORTED);
    /* R with the wrong hidden size */
    tn_init(&t, "LSTM", 1);
    tn_int(&t, "hidden_size", 2);
    r = run_op(&t, 14, 3, ins);
    assert_int_equal(r.st, EDGEC_STATUS_INVALID_MODEL);
    free_all(&r, 3, ins);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_against_reference),
        cmocka_unit_test(test_conv_threads_identical),
        cmocka_unit_test(test_conv_onnx_example),
        cmocka_unit_test(test_conv_invalid_shapes),
        cmocka_unit_test(test_conv_transpose),
        cmocka_unit_test(test_matmul_broadcast),
        cmocka_unit_test(test_gemm_attrs),
        cmocka_unit_test(test_matmul_integer),
        cmocka_unit_test(test_qlinear_matmul),
        cmocka_unit_test(test_maxpool_indices),
        cmocka_unit_test(test_avgpool_pads),
        cmocka_unit_test(test_batchnorm),
        cmocka_unit_test(test_layernorm_outputs),
        cmocka_unit_test(test_instancenorm),
        cmocka_unit_test(test_quantize_round_saturate),
        cmocka_unit_test(test_quantize_per_axis_blocked),
        cmocka_unit_test(test_dequantize_int4_blocked),
        cmocka_unit_test(test_dynamic_quantize),
        cmocka_unit_test(test_conv_integer_and_qlinear),
        cmocka_unit_test(test_lstm_reference),
        cmocka_unit_test(test_gru_reference),
        cmocka_unit_test(test_rnn_activations_and_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
