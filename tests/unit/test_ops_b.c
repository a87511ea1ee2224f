/* Unit tests for the elementwise, activation, reduce, shape and tensor kernels: each test
 * builds a node and an op context by hand and checks the tricky cases (broadcasting,
 * integer semantics, opset differences, bounds checks, ties, rounding). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/kernels_b.h"
#include "runtime/rt.h"

/* ------------------------------------------------------------------ helpers */

#define MAXA 8
typedef struct tnode {
    edgec_node n;
    edgec_attr attrs[MAXA];
    char *ins[8], *outs[8];
} tnode;

static void node_init(tnode *t, const char *op, size_t nin, size_t nout)
{
    static char *in_names[8] = {"i0", "i1", "i2", "i3", "i4", "i5", "i6", "i7"};
    static char *out_names[8] = {"o0", "o1", "o2", "o3", "o4", "o5", "o6", "o7"};
    memset(t, 0, sizeof *t);
    for (size_t i = 0; i < 8; i++) {
        t->ins[i] = in_names[i];
        t->outs[i] = out_names[i];
    }
    t->n.name = "";
    t->n.op_type = op;
    t->n.domain = "";
    t->n.n_inputs = nin;
    t->n.n_outputs = nout;
    t->n.inputs = t->ins;
    t->n.outputs = t->outs;
    t->n.attrs = t->attrs;
}

static edgec_attr *attr_new(tnode *t, const char *name, int32_t type)
{
    assert_true(t->n.n_attrs < MAXA);
    edgec_attr *a = &t->attrs[t->n.n_attrs++];
    memset(a, 0, sizeof *a);
    a->name = name;
    a->type = type;
    return a;
}

static void attr_int(tnode *t, const char *name, int64_t v)
{
    attr_new(t, name, EDGEC_ATTR_INT)->i = v;
}

static void attr_float(tnode *t, const char *name, float v)
{
    attr_new(t, name, EDGEC_ATTR_FLOAT)->f = v;
}

static void attr_ints(tnode *t, const char *name, int64_t *v, size_t n)
{
    edgec_attr *a = attr_new(t, name, EDGEC_ATTR_INTS);
    a->ints = v;
    a->n = n;
}

static void attr_str(tnode *t, const char *name, const char *s)
{
    edgec_attr *a = attr_new(t, name, EDGEC_ATTR_STRING);
    a->s.len = strlen(s);
    a->s.data = (uint8_t *)s;
}

static edgec_rt_tensor *mk(int32_t dt, int32_t rank, const int64_t *dims, const void *data)
{
    edgec_rt_tensor *t;
    assert_int_equal(edgec__rt_tensor_new(dt, rank, dims, &t), EDGEC_STATUS_OK);
    if (data && t->nbytes)
        memcpy(t->data, data, t->nbytes);
    return t;
}

static edgec_rt_tensor *mkf(int32_t rank, const int64_t *dims, const float *data)
{
    return mk(EDGEC_DTYPE_FLOAT, rank, dims, data);
}

static edgec_rt_tensor *mki64(int32_t rank, const int64_t *dims, const int64_t *data)
{
    return mk(EDGEC_DTYPE_INT64, rank, dims, data);
}

static edgec_rt_tensor *scalar_i64(int64_t v)
{
    return mk(EDGEC_DTYPE_INT64, 0, NULL, &v);
}

/* Runs the node's op at `opset`; outputs are written to `outs` (caller frees). */
static edgec_status run(tnode *t, int64_t opset, edgec_rt_tensor **ins, edgec_rt_tensor **outs)
{
    const edgec_op *op = edgec__op_find(t->n.op_type, "", opset);
    assert_non_null(op);
    edgec_op_ctx ctx = {
        .node = &t->n,
        .opset = opset,
        .n_inputs = t->n.n_inputs,
        .inputs = (const edgec_rt_tensor *const *)ins,
        .n_outputs = t->n.n_outputs,
        .outputs = outs,
        .threads = 1,
    };
    for (size_t i = 0; i < t->n.n_outputs; i++)
        outs[i] = NULL;
    return op->run(&ctx);
}

static void free_all(edgec_rt_tensor **ts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        edgec__rt_tensor_free(ts[i]);
}

static void check_dims(const edgec_rt_tensor *t, int32_t rank, const int64_t *dims)
{
    assert_non_null(t);
    assert_int_equal(t->rank, rank);
    for (int32_t i = 0; i < rank; i++)
        assert_int_equal(t->dims[i], dims[i]);
}

static void check_f32(const edgec_rt_tensor *t, const float *want, int64_t n, float tol)
{
    assert_non_null(t);
    assert_int_equal(t->numel, n);
    const float *p = t->data;
    for (int64_t i = 0; i < n; i++) {
        if (isnan(want[i])) {
            assert_true(isnan(p[i]));
            continue;
        }
        if (fabsf(p[i] - want[i]) > tol + 1e-5f * fabsf(want[i])) {
            print_error("element %lld: got %.9g, want %.9g\n", (long long)i, p[i], want[i]);
            fail();
        }
    }
}

static void check_i64(const edgec_rt_tensor *t, const int64_t *want, int64_t n)
{
    assert_non_null(t);
    assert_int_equal(t->numel, n);
    for (int64_t i = 0; i < n; i++)
        assert_int_equal(edgec__rt_get_i64(t, i), want[i]);
}

/* ------------------------------------------------------------------ elementwise */

static void test_add_broadcast(void **state)
{
    (void)state;
    tnode t;
    node_init(&t, "Add", 2, 1);
    int64_t da[] = {2, 3}, db[] = {3};
    float a[] = {1, 2, 3, 4, 5, 6}, b[] = {10, 20, 30};
    edgec_rt_tensor *in[2] = {mkf(2, da, a), mkf(1, db, b)}, *out[1];
    assert_int_equal(run(&t, 14, in, out), EDGEC_STATUS_OK);
    check_dims(out[0], 2, da);
    check_f32(out[0], (float[]){11, 22, 33, 14, 25, 36}, 6, 0);
    free_all(out, 1);
    /* column broadcast [2,1] + [1,3] -> [2,3] */
    int64_t dc[] = {2, 1}, dd[] = {1, 3};
    edgec_rt_tensor *in2[2] = {mkf(2, dc, (float[]){1, 2}), mkf(2, dd, (float[]){10, 20, 30})};
    assert_int_equal(run(&t, 14, in2, out), EDGEC_STATUS_OK);
    check_f32(out[0], (float[]){11, 21, 31, 12, 22, 32}, 6, 0);
    free_all(out, 1);
    /* incompatible shapes fail cleanly */
    int64_t de[] = {4};
    edgec_rt_tensor *in3[2] = {in[0], mkf(1, de, (float[]){1, 2, 3, 4})};
    assert_int_equal(run(&t, 14, in3, out), EDGEC_STATUS_INVALID_MODEL);
    free_all(out, 1);
    free_all(in, 2);
    free_all(in2, 2);
    edgec__rt_tensor_free(in3[1]);
}

static void test_int_arith(void **state)
{
    (void)state;
    tnode t;
    int64_t d[] = {4};
    /* int8 wraps */
    node_init(&t, "Add", 2, 1);
    edgec_rt_tensor *a8 = mk(EDGEC_DTYPE_INT8, 1, d, (int8_t[]){127, -128, 5, -5});
    edgec_rt_tensor *b8 = mk(EDGEC_DTYPE_INT8, 1, d, (int8_t[]){1, -1, 3, 3});
    edgec_rt_tensor *in[2] = {a8, b8}, *out[1];
    assert_int_equal(run(&t, 14, in, out), EDGEC_STATUS_OK);
    check_i64(out[0], (int64_t[]){-128, 127, 8, -2}, 4);
    free_all(out, 1);
    free_all(in, 2);
    /* int32 Div truncates toward zero; division by zero gives 0 instead of trapping */
    node_init(&t, "Div", 2, 1);
    edgec_rt_tensor *in2[2] = {mk(EDGEC_DTYPE_INT32, 1, d, (int32_t[]){7, -7, 7, INT32_MIN}),
                               mk(EDGEC_DTYPE_INT32, 1, d, (int32_t[]){2, 2, 0, -1})};
    assert_int_equal(run(&t, 14, in2, out), EDGEC_STATUS_OK);
    check_i64(out[0], (int64_t[]){3, -3, 0, INT32_MIN}, 4);
    free_all(out, 1);
    /* Mod: fmod=0 takes the divisor's sign, fmod=1 the dividend's */
    node_init(&t, "Mod", 2, 1);
    edgec_rt_tensor *in3[2] = {mk(EDGEC_DTYPE_INT32, 1, d, (int32_t[]){-7, 7, -7, 7}),
                               mk(EDGEC_DTYPE_INT32, 1, d, (int32_t[]){3, -3, -3, 3})};
    assert_int_equal(run(&t, 13, in3, out), EDGEC_STATUS_OK);
    check_i64(out[0], (int64_t[]){2, -2, -1, 1}, 4);
    free_all(out, 1);
    attr_int(&t, "fmod", 1);
    assert_int_equal(run(&t, 13, in3, out), EDGEC_STATUS_OK);
    check_i64(out[0], (int64_t[]){-1, 1, -1, 1}, 4);
    free_all(out, 1);
    free_all(in2, 2);
    free_all(in3, 2);
    /* mismatched types are rejected */
    node_init(&t, "Mul", 2, 1);
    edgec_rt_tensor *in4[2] = {mkf(1, d, (float[]){1, 2, 3, 4}),
                               mk(EDGEC_DTYPE_INT32, 1, d, (int32_t[]){1, 2, 3, 4})};
    assert_int_equal(run(&t, 14, in4, out), EDGEC_STATUS_INVALID_MODEL);
    free_all(out, 1);
    free_all(in4, 2);
}

static void test_pow_mixed(void **state)
{
    (void)state;
    tnode t;
    node_init(&t, "Pow", 2, 1);
    int64_t d[] = {3};
    edgec_rt_tensor *in[2] = {mk(EDGEC_DTYPE_INT64, 1, d, (int64_t[]){2, 3, -2}),
                              mkf(1, d, (float[]){10, 2, 3})},
                    *out[1];
    assert_int_equal(run(&t, 15, in, out), EDGEC_STATUS_OK);
    assert_int_equal(out[0]->dtype, EDGEC_DTYPE_INT64);
    check_i64(out[0], (int64_t[]){1024, 9, -8}, 3);
    free_all(out, 1);
    free_all(in, 2);
}

static void test_variadic_and_where(void **state)
{
    (void)state;
    tnode t;
    node_init(&t, "Max", 3, 1);
    int64_t d1[] = {1}, d3[] = {3}, d23[] = {2, 3};
    edgec_rt_tensor *in[3] = {mkf(1, d3, (float[]){1, 5, 3}), mkf(1, d1, (float[]){2}),
                              mkf(2, d23, (float[]){0, 0, 9, 4, 4, 4})},
                    *out[1];
    assert_int_equal(run(&t, 13, in, out), EDGEC_STATUS_OK);
    check_dims(out[0], 2, d23);
    check_f32(out[0], (float[]){2, 5, 9, 4, 5, 4}, 6, 0);
    free_all(out, 1);
    node_init(&t, "Mean", 3, 1);
    assert_int_equal(run(&t, 13, in, out), EDGEC_STATUS_OK);
    check_f32(out[0], (float[]){1, 7.0f / 3, 14.0f / 3, 7.0f / 3, 11.0f / 3, 3}, 6, 1e-6f);
    free_all(out, 1);
    free_all(in, 3);

    node_init(&t, "Where", 3, 1);
    int64_t dc[] = {2, 1};
    edgec_rt_tensor *w[3] = {mk(EDGEC_DTYPE_BOOL, 2, dc, (uint8_t[]){1, 0}),
                             mki64(1, d3, (int64_t[]){1, 2, 3}), scalar_i64(-1)};
    assert_int_equal(run(&t, 16, w, out), EDGEC_STATUS_OK);
    check_dims(out[0], 2, d23);
    check_i64(out[0], (int64_t[]){1, 2, 3, -1, -1, -1}, 6);
    free_all(out, 1);
    free_all(w, 3);
}

static void test_unary_and_cast(void **state)
{
    (void)state;
    tnode t;
    int64_t d[] = {6};
    node_init(&t, "Round", 1, 1);
    edgec_rt_tensor *in[1] = {mkf(1, d, (float[]){0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 2.6f})}, *out[1];
    assert_int_equal(run(&t, 11, in, out), EDGEC_STATUS_OK);
    check_f32(out[0], (float[]){0, 2, 2, -0.0f, -2, 3}, 6, 0);
    free_all(out, 1);
    /* float -> int truncates toward zero */
    node_init(&t, "Cast", 1, 1);
    attr_int(&t, "to", EDGEC_DTYPE_INT32);
    assert_int_equal(run(&t, 13, in, out), EDGEC_STATUS_OK);
    check_i64(out[0], (int64_t[]){0, 1, 2, 0, -1, 2}, 6);
    free_all(out, 1);
    free_all(in, 1);
    /* float16 round trip, and a float16 Sqrt computed through float */
    node_init(&t, "Cast", 1, 1);
    attr_int(&t, "to", EDGEC_DTYPE_FLOAT16);
    int64_t d2[] = {3};
    edgec_rt_tensor *f[1] = {mkf(1, d2, (float[]){4.0f, 65504.0f, 1e6f})};
    assert_int_equal(run(&t, 13, f, out), EDGEC_STATUS_OK);
    assert_int_equal(((uint16_t *)out[0]->data)[0], 0x4400);
    assert_int_equal(((uint16_t *)out[0]->data)[1], 0x7bff);
    assert_int_equal(((uint16_t *)out[0]->data)[2], 0x7c00); /* overflow -> inf */
    edgec_rt_tensor *h[1] = {out[0]}, *out2[1];
    node_init(&t, "Sqrt", 1, 1);
    assert_int_equal(run(&t, 13, h, out2), EDGEC_STATUS_OK);
    assert_int_equal(out2[0]->dtype, EDGEC_DTYPE_FLOAT16);
    assert_int_equal(((uint16_t *)out2[0]->data)[0], 0x4000); /* 2.0 */
    free_all(out2, 1);
    free_all(out, 1);
    free_all(f, 1);
    /* double -> float16 rounds once (no double rounding through float) */
    node_init(&t, "Cast", 1, 1);
    attr_int(&t, "to", EDGEC_DTYPE_FLOAT16);
    int64_t d1[] = {1};
    double v = 1.0 + ldexp(1.0, -11) + ldexp(1.0, -40); /* just above the halfway point */
    edgec_rt_tensor *dd[1] = {mk(EDGEC_DTYPE_DOUBLE, 1, d1, &v)};
    assert_int_equal(run(&t, 13, dd, out), EDGEC_STATUS_OK);
    assert_int_equal(((uint16_t *)out[0]->data)[0], 0x3c01);
    free_all(out, 1);
    free_all(dd, 1);
    /* int -> bool and bool -> float */
    node_init(&t, "Cast", 1, 1);
    attr_int(&t, "to", EDGEC_DTYPE_BOOL);
    edgec_rt_tensor *ii[1] = {mki64(1, d2, (int64_t[]){0, -3, 7})};
    assert_int_equal(run(&t, 13, ii, out), EDGEC_STATUS_OK);
    check_i64(out[0], (int64_t[]){0, 1, 1}, 3);
    free_all(out, 1);
    free_all(ii, 1);
}

static void test_clip_versions(void **state)
{
    (void)state;
    tnode t;
    int64_t d[] = {4};
    edgec_rt_tensor *x = mkf(1, d, (float[]){-5, -1, 1, 5}), *out[1];
    /* opset 6: attributes */
    node_init(&t, "Clip", 1, 1);
    attr_float(&t, "min", -2);
    attr_float(&t, "max", 2);
    edgec_rt_tensor *in[1] = {x};
    assert_int_equal(run(&t, 6, in, out), EDGEC_STATUS_OK);
    check_f32(out[0], (float[]){-2, -1, 1, 2}, 4, 0);
    free_all(out, 1);
    /* opset 13: inputs, min omitted */
    node_init(&t, "Clip", 3, 1);
    float mx = 0;
    edgec_rt_tensor *hi = mkf(0, NULL, &mx);
    edgec_rt_tensor *in2[3] = {x, NULL, hi};
    assert_int_equal(run(&t, 13, in2, out), EDGEC_STATUS_OK);
    check_f32(out[0], (float[]){-5, -1, 0, 0}, 4, 0);
    free_all(out, 1);
    /* integers exactly */
    edgec_rt_tensor *xi = mki64(1, d, (int64_t[]){-5, -1, 1, INT64_MAX});
    edgec_rt_tensor *lo = scalar_i64(-2), *hi2 = scalar_i64(3);
    edgec_rt_tensor *in3[3] = {xi, lo, hi2};
    assert_int_equal(run(&t, 13, in3, out), EDGEC_STATUS_OK);
    check_i64(out[0], (int64_t[]){-2, -1, 1, 3}, 4);
    free_all(out, 1);
    free_all(in3, 3);
    edgec__rt_tensor_free(hi);
    edgec__rt_tensor_free(x);
}

/* ------------------------------------------------------------------ activation */

static void test_softmax_versions(void **state)
{
    (void)state;
    tnode t;
    int64_t d[] = {2, 2};
    edgec_rt_tensor *in[1] = {mkf(2, d, (float[]){0, 0, 0, 0})}, *out[1];
    /* opset 11, axis 0: the whole tensor is one row of 4 */
    node_init(&t, "Softmax", 1, 1);
    attr_int(&t, "axis", 0);
    assert_int_equal(run(&t, 11, in, out), EDGEC_STATUS_OK);
    check_f32(out[0], (float[]){0.25f, 0.25f, 0.25f, 0.25f}, 4, 1e-7f);
    free_all(out, 1);
    /* opset 13, axis 0: columns */
    assert_int_equal(run(&t, 13, in, out), EDGEC_STATUS_OK);
    check_f32(out[0], (float[]){0.5f, 0.5f, 0.5f, 0.5f}, 4, 1e-7f);
    free_all(out, 1);
    free_all(in, 1);
    /* large values stay finite */
    node_init(&t, "LogSoftmax", 1, 1);
    int64_t d2[] = {1, 2};
    edgec_rt_tensor *big[1] = {mkf(2, d2, (float[]){1000, 1000})};
    assert_int_equal(run(&t, 13, big, out), EDGEC_STATUS_OK);
    check_f32(out[0], (float[]){-0.69314718f, -0.69314718f}, 2, 1e-6f);
    free_all(out, 1);
    free_all(big, 1);
}

static void test_prelu_gelu(void **state)
{
    (void)state;
    tnode t;
    node_init(&t, "PRelu", 2, 1);
    int64_t dx[] = {1, 2, 2}, ds[] = {2, 1};
    edgec_rt_tensor *in[2] = {mkf(3, dx, (float[]){-1, -1, -1, 1}), mkf(2, ds, (float[]){0.5f, 2})},
                    *out[1];
    assert_int_equal(run(&t, 16, in, out), EDGEC_STATUS_OK);
    check_f32(out[0], (float[]){-0.5f, -0.5f, -2, 1}, 4, 0);
    free_all(out, 1);
    free_all(in, 2);
    node_init(&t, "Gelu", 1, 1);
    attr_str(&t, "approximate", "tanh");
    int64_t d[] = {3};
    edgec_rt_tensor *g[1] = {mkf(1, d, (float[]){-1, 0, 1})};
    assert_int_equal(run(&t, 20, g, out), EDGEC_STATUS_OK);
    check_f32(out[0], (float[]){-0.15880801f, 0, 0.84119199f}, 3, 1e-6f);
    free_all(out, 1);
    free_all(g, 1);
}

/* ------------------------------------------------------------------ reduce */

static void test_reduce_axes_versions(void **state)
{
    (void)state;
    tnode t;
    int64_t d[] = {2, 3};
    edgec_rt_tensor *x = mkf(2, d, (float[]){1, 2, 3, 4, 5, 6}), *out[1];
    /* opset 11: axes attribute, negative */
    node_init(&t, "ReduceSum", 1, 1);
    int64_t ax[] = {-1};
    attr_ints(&t, "axes", ax, 1);
    attr_int(&t, "keepdims", 0);
    edgec_rt_tensor *in[1] = {x};
    assert_int_equal(run(&t, 11, in, out), EDGEC_STATUS_OK);
    check_dims(out[0], 1, (int64_t[]){2});
    check_f32(out[0], (float[]){6, 15}, 2, 0);
    free_all(out, 1);
    /* opset 13: axes input; no axes -> all; noop_with_empty_axes -> identity */
    node_init(&t, "ReduceSum", 2, 1);
    edgec_rt_tensor *a0 = mki64(1, (int64_t[]){1}, (int64_t[]){0});
    edgec_rt_tensor *in2[2] = {x, a0};
    assert_int_equal(run(&t, 13, in2, out), EDGEC_STATUS_OK);
    check_dims(out[0], 2, (int64_t[]){1, 3});
    check_f32(out[0], (float[]){5, 7, 9}, 3, 0);
    free_all(out, 1);
    edgec_rt_tensor *in3[2] = {x, NULL};
    assert_int_equal(run(&t, 13, in3, out), EDGEC_STATUS_OK);
    check_f32(out[0], (float[]){21}, 1, 0);
    free_all(out, 1);
    attr_int(&t, "noop_with_empty_axes", 1);
    assert_int_equal(run(&t, 13, in3, out), EDGEC_STATUS_OK);
    check_dims(out[0], 2, d);
    free_all(out, 1);
    /* ReduceMean at opset 13 still takes the attribute; at 18 the input */
    node_init(&t, "ReduceMean", 1, 1);
    int64_t a1[] = {1};
    attr_ints(&t, "axes", a1, 1);
    assert_int_equal(run(&t, 13, in, out), EDGEC_STATUS_OK);
    check_f32(out[0], (float[]){2, 5}, 2, 0);
    free_all(out, 1);
    node_init(&t, "ReduceMax", 2, 1);
    edgec_rt_tensor *a2 = mki64(1, (int64_t[]){1}, (int64_t[]){1});
    edgec_rt_tensor *in4[2] = {x, a2};
    assert_int_equal(run(&t, 18, in4, out), EDGEC_STATUS_OK);
    check_f32(out[0], (float[]){3, 6}, 2, 0);
    free_all(out, 1);
    /* bad axis */
    edgec_rt_tensor *a3 = mki64(1, (int64_t[]){1}, (int64_t[]){2});
    edgec_rt_tensor *in5[2] = {x, a3};
    assert_int_equal(run(&t, 18, in5, out), EDGEC_STATUS_INVALID_MODEL);
    free_all(out, 1);
    edgec__rt_tensor_free(a0);
    edgec__rt_tensor_free(a2);
    edgec__rt_tensor_free(a3);
    edgec__rt_tensor_free(x);
}

static void test_reduce_empty_and_int(void **state)
{
    (void)state;
    tnode t;
    int64_t d[] = {2, 0};
    edgec_rt_tensor *x = mkf(2, d, NULL), *out[1];
    node_init(&t, "ReduceSum", 1, 1);
    int64_t ax[] = {1};
    attr_ints(&t, "axes", ax, 1);
    edgec_rt_tensor *in[1] = {x};
    assert_int_equal(run(&t, 11, in, out), EDGEC_STATUS_OK);
    check_f32(out[0], (float[]){0, 0}, 2, 0);
    free_all(out, 1);
    node_init(&t, "ReduceProd", 1, 1);
    attr_ints(&t, "axes", ax, 1);
    assert_int_equal(run(&t, 11, in, out), EDGEC_STATUS_OK);
    check_f32(out[0], (float[]){1, 1}, 2, 0);
    free_all(out, 1);
    node_init(&t, "ReduceMax", 1, 1);
    attr_ints(&t, "axes", ax, 1);
    assert_int_equal(run(&t, 11, in, out), EDGEC_STATUS_OK);
    check_f32(out[0], (float[]){-INFINITY, -INFINITY}, 2, 0);
    free_all(out, 1);
    edgec__rt_tensor_free(x);
    /* int64 sums are exact beyond 2^53 */
    int64_t d2[] = {2};
    edgec_rt_tensor *xi = mki64(1, d2, (int64_t[]){(int64_t)1 << 60, 1});
    node_init(&t, "ReduceSum", 1, 1);
    attr_int(&t, "keepdims", 0);
    edgec_rt_tensor *in2[1] = {xi};
    assert_int_equal(run(&t, 11, in2, out), EDGEC_STATUS_OK);
    check_dims(out[0], 0, NULL);
    check_i64(out[0], (int64_t[]){((int64_t)1 << 60) + 1}, 1);
    free_all(out, 1);
    edgec__rt_tensor_free(xi);
}

static void test_argmax_topk(void **state)
{
    (void)state;
    tnode t;
    int64_t d[] = {5};
    edgec_rt_tensor *x = mkf(1, d, (float[]){3, 7, 7, 1, 3}), *out[2];
    node_init(&t, "ArgMax", 1, 1);
    edgec_rt_tensor *in[1] = {x};
    assert_int_equal(run(&t, 13, in, out), EDGEC_STATUS_OK);
    check_i64(out[0], (int64_t[]){1}, 1);
    free_all(out, 1);
    attr_int(&t, "select_last_index", 1);
    assert_int_equal(run(&t, 13, in, out), EDGEC_STATUS_OK);
    check_i64(out[0], (int64_t[]){2}, 1);
    free_all(out, 1);
    /* TopK: ties go to the lower index */
    node_init(&t, "TopK", 2, 2);
    edgec_rt_tensor *k = mki64(1, (int64_t[]){1}, (int64_t[]){3});
    edgec_rt_tensor *in2[2] = {x, k};
    assert_int_equal(run(&t, 11, in2, out), EDGEC_STATUS_OK);
    check_f32(out[0], (float[]){7, 7, 3}, 3, 0);
    check_i64(out[1], (int64_t[]){1, 2, 0}, 3);
    free_all(out, 2);
    attr_int(&t, "largest", 0);
    assert_int_equal(run(&t, 11, in2, out), EDGEC_STATUS_OK);
    check_f32(out[0], (float[]){1, 3, 3}, 3, 0);
    check_i64(out[1], (int64_t[]){3, 0, 4}, 3);
    free_all(out, 2);
    /* k out of range */
    edgec_rt_tensor *k9 = mki64(1, (int64_t[]){1}, (int64_t[]){9});
    edgec_rt_tensor *in3[2] = {x, k9};
    assert_int_equal(run(&t, 11, in3, out), EDGEC_STATUS_INVALID_MODEL);
    free_all(out, 2);
    /* opset 1: k attribute */
    node_init(&t, "TopK", 1, 2);
    attr_int(&t, "k", 2);
    assert_int_equal(run(&t, 1, in, out), EDGEC_STATUS_OK);
    check_i64(out[1], (int64_t[]){1, 2}, 2);
    free_all(out, 2);
    edgec__rt_tensor_free(k);
    edgec__rt_tensor_free(k9);
    edgec__rt_tensor_free(x);
}

/* ------------------------------------------------------------------ shape */

static void test_reshape(void **state)
{
    (void)state;
    tnode t;
    node_init(&t, "Reshape", 2, 1);
    int64_t d[] = {2, 3, 4};
    edgec_rt_tensor *x = mkf(3, d, NULL), *out[1];
    edgec_rt_tensor *s = mki64(1, (int64_t[]){2}, (int64_t[]){0, -1});
    edgec_rt_tensor *in[2] = {x, s};
    assert_int_equal(run(&t, 14, in, out), EDGEC_STATUS_OK);
    check_dims(out[0], 2, (int64_t[]){2, 12});
    free_all(out, 1);
    edgec__rt_tensor_free(s);
    /* two -1 fail; a wrong element count fails */
    s = mki64(1, (int64_t[]){2}, (int64_t[]){-1, -1});
    in[1] = s;
    assert_int_equal(run(&t, 14, in, out), EDGEC_STATUS_INVALID_MODEL);
    edgec__rt_tensor_free(s);
    s = mki64(1, (int64_t[]){2}, (int64_t[]){5, 5});
    in[1] = s;
    assert_int_equal(run(&t, 14, in, out), EDGEC_STATUS_INVALID_MODEL);
    edgec__rt_tensor_free(s);
    edgec__rt_tensor_free(x);
    /* allowzero: a 0 stays 0 */
    int64_t dz[] = {0, 3};
    x = mkf(2, dz, NULL);
    s = mki64(1, (int64_t[]){2}, (int64_t[]){3, 0});
    in[0] = x;
    in[1] = s;
    attr_int(&t, "allowzero", 1);
    assert_int_equal(run(&t, 14, in, out), EDGEC_STATUS_OK);
    check_dims(out[0], 2, (int64_t[]){3, 0});
    free_all(out, 1);
    edgec__rt_tensor_free(s);
    edgec__rt_tensor_free(x);
}

static void test_squeeze_unsqueeze_flatten(void **state)
{
    (void)state;
    tnode t;
    int64_t d[] = {1, 3, 1};
    edgec_rt_tensor *x = mkf(3, d, (float[]){1, 2, 3}), *out[1];
    node_init(&t, "Squeeze", 1, 1);
    edgec_rt_tensor *in[2] = {x, NULL};
    assert_int_equal(run(&t, 11, in, out), EDGEC_STATUS_OK);
    check_dims(out[0], 1, (int64_t[]){3});
    free_all(out, 1);
    /* opset 13: axes input; squeezing a non-1 axis fails */
    node_init(&t, "Squeeze", 2, 1);
    edgec_rt_tensor *a = mki64(1, (int64_t[]){1}, (int64_t[]){-1});
    in[1] = a;
    assert_int_equal(run(&t, 13, in, out), EDGEC_STATUS_OK);
    check_dims(out[0], 2, (int64_t[]){1, 3});
    free_all(out, 1);
    edgec__rt_tensor_free(a);
    a = mki64(1, (int64_t[]){1}, (int64_t[]){1});
    in[1] = a;
    assert_int_equal(run(&t, 13, in, out), EDGEC_STATUS_INVALID_MODEL);
    edgec__rt_tensor_free(a);
    /* Unsqueeze with negative axes counts in the output rank */
    node_init(&t, "Unsqueeze", 2, 1);
    a = mki64(1, (int64_t[]){2}, (int64_t[]){-1, 0});
    in[1] = a;
    assert_int_equal(run(&t, 13, in, out), EDGEC_STATUS_OK);
    check_dims(out[0], 5, (int64_t[]){1, 1, 3, 1, 1});
    free_all(out, 1);
    edgec__rt_tensor_free(a);
    /* Flatten: axis in [-r, r] */
    node_init(&t, "Flatten", 1, 1);
    attr_int(&t, "axis", -1);
    assert_int_equal(run(&t, 13, in, out), EDGEC_STATUS_OK);
    check_dims(out[0], 2, (int64_t[]){3, 1});
    free_all(out, 1);
    node_init(&t, "Flatten", 1, 1);
    attr_int(&t, "axis", 3);
    assert_int_equal(run(&t, 13, in, out), EDGEC_STATUS_OK);
    check_dims(out[0], 2, (int64_t[]){3, 1});
    free_all(out, 1);
    edgec__rt_tensor_free(x);
}

static void test_transpose_large(void **state)
{
    (void)state;
    tnode t;
    node_init(&t, "Transpose", 1, 1);
    int64_t perm[] = {0, 2, 1};
    attr_ints(&t, "perm", perm, 3);
    int64_t d[] = {2, 37, 53};
    edgec_rt_tensor *x = mkf(3, d, NULL), *out[1];
    float *p = x->data;
    for (int64_t i = 0; i < x->numel; i++)
        p[i] = (float)i;
    edgec_rt_tensor *in[1] = {x};
    assert_int_equal(run(&t, 13, in, out), EDGEC_STATUS_OK);
    check_dims(out[0], 3, (int64_t[]){2, 53, 37});
    const float *o = out[0]->data;
    for (int64_t b = 0; b < 2; b++)
        for (int64_t i = 0; i < 53; i++)
            for (int64_t j = 0; j < 37; j++)
                assert_true(o[(b * 53 + i) * 37 + j] == p[(b * 37 + j) * 53 + i]);
    free_all(out, 1);
    /* a bad perm fails */
    node_init(&t, "Transpose", 1, 1);
    int64_t bad[] = {0, 0, 1};
    attr_ints(&t, "perm", bad, 3);
    assert_int_equal(run(&t, 13, in, out), EDGEC_STATUS_INVALID_MODEL);
    edgec__rt_tensor_free(x);
}

static void test_slice(void **state)
{
    (void)state;
    tnode t;
    node_init(&t, "Slice", 5, 1);
    int64_t d[] = {2, 5};
    edgec_rt_tensor *x = mkf(2, d, (float[]){0, 1, 2, 3, 4, 5, 6, 7, 8, 9}), *out[1];
    /* axis 1 backwards from the end with step -2, ends clamped */
    edgec_rt_tensor *st = mki64(1, (int64_t[]){1}, (int64_t[]){-1});
    edgec_rt_tensor *en = mki64(1, (int64_t[]){1}, (int64_t[]){INT64_MIN});
    edgec_rt_tensor *ax = mki64(1, (int64_t[]){1}, (int64_t[]){1});
    edgec_rt_tensor *sp = mki64(1, (int64_t[]){1}, (int64_t[]){-2});
    edgec_rt_tensor *in[5] = {x, st, en, ax, sp};
    assert_int_equal(run(&t, 13, in, out), EDGEC_STATUS_OK);
    check_dims(out[0], 2, (int64_t[]){2, 3});
    check_f32(out[0], (float[]){4, 2, 0, 9, 7, 5}, 6, 0);
    free_all(out, 1);
    /* opset 1: attributes, ends past the dim */
    node_init(&t, "Slice", 1, 1);
    int64_t s1[] = {1}, e1[] = {1000}, a1[] = {1};
    attr_ints(&t, "starts", s1, 1);
    attr_ints(&t, "ends", e1, 1);
    attr_ints(&t, "axes", a1, 1);
    assert_int_equal(run(&t, 1, in, out), EDGEC_STATUS_OK);
    check_dims(out[0], 2, (int64_t[]){2, 4});
    check_f32(out[0], (float[]){1, 2, 3, 4, 6, 7, 8, 9}, 8, 0);
    free_all(out, 1);
    /* step 0 is invalid */
    node_init(&t, "Slice", 5, 1);
    edgec__rt_tensor_free(sp);
    sp = mki64(1, (int64_t[]){1}, (int64_t[]){0});
    in[4] = sp;
    assert_int_equal(run(&t, 13, in, out), EDGEC_STATUS_INVALID_MODEL);
    free_all(in, 5);
}

static void test_split_concat(void **state)
{
    (void)state;
    tnode t;
    int64_t d[] = {7};
    edgec_rt_tensor *x = mkf(1, d, (float[]){0, 1, 2, 3, 4, 5, 6}), *out[3];
    /* opset 18 num_outputs: uneven, last chunk smaller */
    node_init(&t, "Split", 1, 3);
    attr_int(&t, "num_outputs", 3);
    edgec_rt_tensor *in[2] = {x, NULL};
    assert_int_equal(run(&t, 18, in, out), EDGEC_STATUS_OK);
    check_f32(out[0], (float[]){0, 1, 2}, 3, 0);
    check_f32(out[1], (float[]){3, 4, 5}, 3, 0);
    check_f32(out[2], (float[]){6}, 1, 0);
    /* Concat them back, with an empty input in the middle */
    tnode c;
    node_init(&c, "Concat", 4, 1);
    attr_int(&c, "axis", -1);
    int64_t dz[] = {0};
    edgec_rt_tensor *empty = mkf(1, dz, NULL), *cat[1];
    edgec_rt_tensor *cin[4] = {out[0], empty, out[1], out[2]};
    assert_int_equal(run(&c, 13, cin, cat), EDGEC_STATUS_OK);
    check_f32(cat[0], (float[]){0, 1, 2, 3, 4, 5, 6}, 7, 0);
    free_all(cat, 1);
    free_all(out, 3);
    edgec__rt_tensor_free(empty);
    /* uneven split without num_outputs fails (opset 13) */
    node_init(&t, "Split", 1, 3);
    assert_int_equal(run(&t, 13, in, out), EDGEC_STATUS_INVALID_MODEL);
    free_all(out, 3);
    /* split sizes as input (13+) */
    node_init(&t, "Split", 2, 2);
    edgec_rt_tensor *sz = mki64(1, (int64_t[]){2}, (int64_t[]){2, 5});
    in[1] = sz;
    assert_int_equal(run(&t, 13, in, out), EDGEC_STATUS_OK);
    check_dims(out[1], 1, (int64_t[]){5});
    free_all(out, 2);
    edgec__rt_tensor_free(sz);
    edgec__rt_tensor_free(x);
}

static void test_depth_space(void **state)
{
    (void)state;
    tnode t;
    int64_t d[] = {1, 4, 1, 1};
    edgec_rt_tensor *x = mkf(4, d, (float[]){0, 1, 2, 3}), *out[1];
    edgec_rt_tensor *in[1] = {x};
    node_init(&t, "DepthToSpace", 1, 1);
    attr_int(&t, "blocksize", 2);
    assert_int_equal(run(&t, 13, in, out), EDGEC_STATUS_OK);
    check_dims(out[0], 4, (int64_t[]){1, 1, 2, 2});
    check_f32(out[0], (float[]){0, 1, 2, 3}, 4, 0);
    /* SpaceToDepth inverts DCR */
    tnode s;
    node_init(&s, "SpaceToDepth", 1, 1);
    attr_int(&s, "blocksize", 2);
    edgec_rt_tensor *back[1], *sin[1] = {out[0]};
    assert_int_equal(run(&s, 13, sin, back), EDGEC_STATUS_OK);
    check_dims(back[0], 4, d);
    check_f32(back[0], (float[]){0, 1, 2, 3}, 4, 0);
    free_all(back, 1);
    free_all(out, 1);
    edgec__rt_tensor_free(x);
    /* CRD with 2 output channels */
    int64_t d2[] = {1, 8, 1, 1};
    x = mkf(4, d2, (float[]){0, 1, 2, 3, 4, 5, 6, 7});
    in[0] = x;
    node_init(&t, "DepthToSpace", 1, 1);
    attr_int(&t, "blocksize", 2);
    attr_str(&t, "mode", "CRD");
    assert_int_equal(run(&t, 13, in, out), EDGEC_STATUS_OK);
    check_f32(out[0], (float[]){0, 1, 2, 3, 4, 5, 6, 7}, 8, 0);
    free_all(out, 1);
    node_init(&t, "DepthToSpace", 1, 1);
    attr_int(&t, "blocksize", 2);
    assert_int_equal(run(&t, 13, in, out), EDGEC_STATUS_OK); /* DCR interleaves */
    check_f32(out[0], (float[]){0, 2, 4, 6, 1, 3, 5, 7}, 8, 0);
    free_all(out, 1);
    edgec__rt_tensor_free(x);
}

static void test_expand_tile(void **state)
{
    (void)state;
    tnode t;
    int64_t d[] = {2, 1};
    edgec_rt_tensor *x = mkf(2, d, (float[]){1, 2}), *out[1];
    node_init(&t, "Expand", 2, 1);
    edgec_rt_tensor *s = mki64(1, (int64_t[]){3}, (int64_t[]){2, 1, 3});
    edgec_rt_tensor *in[2] = {x, s};
    assert_int_equal(run(&t, 13, in, out), EDGEC_STATUS_OK);
    check_dims(out[0], 3, (int64_t[]){2, 2, 3});
    check_f32(out[0], (float[]){1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2}, 12, 0);
    free_all(out, 1);
    edgec__rt_tensor_free(s);
    node_init(&t, "Tile", 2, 1);
    s = mki64(1, (int64_t[]){2}, (int64_t[]){2, 2});
    in[1] = s;
    assert_int_equal(run(&t, 13, in, out), EDGEC_STATUS_OK);
    check_dims(out[0], 2, (int64_t[]){4, 2});
    check_f32(out[0], (float[]){1, 1, 2, 2, 1, 1, 2, 2}, 8, 0);
    free_all(out, 1);
    edgec__rt_tensor_free(s);
    edgec__rt_tensor_free(x);
}

/* ------------------------------------------------------------------ tensor */

static void test_gather_bounds(void **state)
{
    (void)state;
    tnode t;
    node_init(&t, "Gather", 2, 1);
    attr_int(&t, "axis", 1);
    int64_t d[] = {2, 3};
    edgec_rt_tensor *x = mkf(2, d, (float[]){0, 1, 2, 3, 4, 5}), *out[1];
    edgec_rt_tensor *ind = mk(EDGEC_DTYPE_INT32, 1, (int64_t[]){2}, (int32_t[]){-1, 0});
    edgec_rt_tensor *in[2] = {x, ind};
    assert_int_equal(run(&t, 13, in, out), EDGEC_STATUS_OK);
    check_f32(out[0], (float[]){2, 0, 5, 3}, 4, 0);
    free_all(out, 1);
    edgec__rt_tensor_free(ind);
    ind = mki64(1, (int64_t[]){1}, (int64_t[]){3});
    in[1] = ind;
    assert_int_equal(run(&t, 13, in, out), EDGEC_STATUS_INVALID_MODEL);
    assert_null(out[0]);
    edgec__rt_tensor_free(ind);
    ind = mki64(1, (int64_t[]){1}, (int64_t[]){-4});
    in[1] = ind;
    assert_int_equal(run(&t, 13, in, out), EDGEC_STATUS_INVALID_MODEL);
    edgec__rt_tensor_free(ind);
    /* GatherElements out of range */
    node_init(&t, "GatherElements", 2, 1);
    ind = mki64(2, (int64_t[]){1, 1}, (int64_t[]){7});
    in[1] = ind;
    assert_int_equal(run(&t, 13, in, out), EDGEC_STATUS_INVALID_MODEL);
    free_all(out, 1);
    edgec__rt_tensor_free(ind);
    edgec__rt_tensor_free(x);
}

static void test_scatter_nd(void **state)
{
    (void)state;
    tnode t;
    node_init(&t, "ScatterND", 3, 1);
    attr_str(&t, "reduction", "add");
    int64_t d[] = {4};
    edgec_rt_tensor *x = mkf(1, d, (float[]){1, 1, 1, 1}), *out[1];
    edgec_rt_tensor *ind = mki64(2, (int64_t[]){2, 1}, (int64_t[]){1, 1});
    edgec_rt_tensor *up = mkf(1, (int64_t[]){2}, (float[]){5, 6});
    edgec_rt_tensor *in[3] = {x, ind, up};
    assert_int_equal(run(&t, 16, in, out), EDGEC_STATUS_OK);
    check_f32(out[0], (float[]){1, 12, 1, 1}, 4, 0);
    free_all(out, 1);
    edgec__rt_tensor_free(ind);
    ind = mki64(2, (int64_t[]){2, 1}, (int64_t[]){1, 4});
    in[1] = ind;
    assert_int_equal(run(&t, 16, in, out), EDGEC_STATUS_INVALID_MODEL);
    free_all(out, 1);
    free_all(in, 3);
}

static void test_pad_modes(void **state)
{
    (void)state;
    tnode t;
    int64_t d[] = {3};
    edgec_rt_tensor *x = mkf(1, d, (float[]){1, 2, 3}), *out[1];
    edgec_rt_tensor *pads = mki64(1, (int64_t[]){2}, (int64_t[]){2, 3});
    edgec_rt_tensor *in[3] = {x, pads, NULL};
    const char *modes[] = {"reflect", "edge", "wrap"};
    const float want[3][8] = {{3, 2, 1, 2, 3, 2, 1, 2}, {1, 1, 1, 2, 3, 3, 3, 3},
                              {2, 3, 1, 2, 3, 1, 2, 3}};
    for (int m = 0; m < 3; m++) {
        node_init(&t, "Pad", 3, 1);
        attr_str(&t, "mode", modes[m]);
        assert_int_equal(run(&t, 19, in, out), EDGEC_STATUS_OK);
        check_f32(out[0], want[m], 8, 0);
        free_all(out, 1);
    }
    /* constant with a value, and negative pads crop */
    node_init(&t, "Pad", 3, 1);
    float cv = 9;
    edgec_rt_tensor *c = mkf(0, NULL, &cv);
    edgec__rt_tensor_free(pads);
    pads = mki64(1, (int64_t[]){2}, (int64_t[]){-1, 1});
    in[1] = pads;
    in[2] = c;
    assert_int_equal(run(&t, 13, in, out), EDGEC_STATUS_OK);
    check_f32(out[0], (float[]){2, 3, 9}, 3, 0);
    free_all(out, 1);
    /* opset 2: pads attribute */
    node_init(&t, "Pad", 1, 1);
    int64_t pa[] = {1, 0};
    attr_ints(&t, "pads", pa, 2);
    attr_float(&t, "value", -1);
    assert_int_equal(run(&t, 2, in, out), EDGEC_STATUS_OK);
    check_f32(out[0], (float[]){-1, 1, 2, 3}, 4, 0);
    free_all(out, 1);
    free_all(in, 3);
}

static void test_resize(void **state)
{
    (void)state;
    tnode t;
    int64_t d[] = {1, 1, 2, 2};
    edgec_rt_tensor *x = mkf(4, d, (float[]){1, 2, 3, 4}), *out[1];
    /* nearest, asymmetric, floor: plain repetition */
    node_init(&t, "Resize", 3, 1);
    attr_str(&t, "mode", "nearest");
    attr_str(&t, "coordinate_transformation_mode", "asymmetric");
    attr_str(&t, "nearest_mode", "floor");
    edgec_rt_tensor *sc = mkf(1, (int64_t[]){4}, (float[]){1, 1, 2, 2});
    edgec_rt_tensor *in[4] = {x, NULL, sc, NULL};
    assert_int_equal(run(&t, 13, in, out), EDGEC_STATUS_OK);
    check_dims(out[0], 4, (int64_t[]){1, 1, 4, 4});
    check_f32(out[0], (float[]){1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}, 16, 0);
    free_all(out, 1);
    /* linear, half_pixel: the ONNX example values */
    node_init(&t, "Resize", 3, 1);
    attr_str(&t, "mode", "linear");
    assert_int_equal(run(&t, 13, in, out), EDGEC_STATUS_OK);
    check_f32(out[0],
              (float[]){1, 1.25f, 1.75f, 2, 1.5f, 1.75f, 2.25f, 2.5f, 2.5f, 2.75f, 3.25f, 3.5f, 3,
                        3.25f, 3.75f, 4},
              16, 1e-6f);
    free_all(out, 1);
    /* both scales and sizes: invalid */
    edgec_rt_tensor *sz = mki64(1, (int64_t[]){4}, (int64_t[]){1, 1, 3, 3});
    node_init(&t, "Resize", 4, 1);
    edgec_rt_tensor *in2[4] = {x, NULL, sc, sz};
    assert_int_equal(run(&t, 13, in2, out), EDGEC_STATUS_INVALID_MODEL);
    free_all(out, 1);
    /* sizes with antialias at opset 18 (downscale) keeps the mean */
    node_init(&t, "Resize", 4, 1);
    attr_str(&t, "mode", "linear");
    attr_int(&t, "antialias", 1);
    edgec_rt_tensor *sz1 = mki64(1, (int64_t[]){4}, (int64_t[]){1, 1, 1, 1});
    edgec_rt_tensor *in3[4] = {x, NULL, NULL, sz1};
    assert_int_equal(run(&t, 18, in3, out), EDGEC_STATUS_OK);
    check_f32(out[0], (float[]){2.5f}, 1, 1e-6f);
    free_all(out, 1);
    /* antialias with a zero scale: refused (scales must be positive), never a filter of
     * infinite width; a tiny one gives an empty axis */
    static const float zero_tiny[2][4] = {{1, 1, 0, 1}, {1, 1, 1e-30f, 1}};
    for (int k = 0; k < 2; k++) {
        node_init(&t, "Resize", 3, 1);
        attr_str(&t, "mode", "linear");
        attr_int(&t, "antialias", 1);
        edgec_rt_tensor *s0 = mkf(1, (int64_t[]){4}, (float *)zero_tiny[k]);
        edgec_rt_tensor *in4[4] = {x, NULL, s0, NULL};
        edgec_status st = run(&t, 18, in4, out);
        if (k == 0) {
            assert_int_equal(st, EDGEC_STATUS_INVALID_MODEL);
        } else {
            assert_int_equal(st, EDGEC_STATUS_OK);
            check_dims(out[0], 4, (int64_t[]){1, 1, 0, 2});
            free_all(out, 1);
        }
        edgec__rt_tensor_free(s0);
    }
    edgec__rt_tensor_free(sz1);
    edgec__rt_tensor_free(sz);
    edgec__rt_tensor_free(sc);
    /* Upsample opset 7 */
    node_init(&t, "Upsample", 1, 1);
    attr_str(&t, "mode", "nearest");
    edgec_attr *a = attr_new(&t, "scales", EDGEC_ATTR_FLOATS);
    float scales[] = {1, 1, 1, 3};
    a->floats = scales;
    a->n = 4;
    assert_int_equal(run(&t, 7, in, out), EDGEC_STATUS_OK);
    check_dims(out[0], 4, (int64_t[]){1, 1, 2, 6});
    check_f32(out[0], (float[]){1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4}, 12, 0);
    free_all(out, 1);
    edgec__rt_tensor_free(x);
}

static void test_constants_range_trilu(void **state)
{
    (void)state;
    tnode t;
    edgec_rt_tensor *out[1];
    /* Constant value_ints */
    node_init(&t, "Constant", 0, 1);
    int64_t vi[] = {4, 5, 6};
    attr_ints(&t, "value_ints", vi, 3);
    assert_int_equal(run(&t, 13, NULL, out), EDGEC_STATUS_OK);
    check_i64(out[0], vi, 3);
    free_all(out, 1);
    /* Constant sparse_value [NNZ, rank] indices densified */
    node_init(&t, "Constant", 0, 1);
    int64_t vd[] = {2}, idd[] = {2, 2}, sd[] = {2, 3};
    float vals[] = {7, 8};
    int64_t idx[] = {0, 1, 1, 2};
    edgec_tensor tv = {.name = "", .dtype = EDGEC_DTYPE_FLOAT, .rank = 1, .dims = vd, .numel = 2,
                       .data = vals, .nbytes = 8};
    edgec_tensor ti = {.name = "", .dtype = EDGEC_DTYPE_INT64, .rank = 2, .dims = idd, .numel = 4,
                       .data = idx, .nbytes = 32};
    edgec_sparse sp = {.values = &tv, .indices = &ti, .rank = 2, .dims = sd};
    attr_new(&t, "sparse_value", EDGEC_ATTR_SPARSE_TENSOR)->sparse = &sp;
    assert_int_equal(run(&t, 13, NULL, out), EDGEC_STATUS_OK);
    check_f32(out[0], (float[]){0, 7, 0, 0, 0, 8}, 6, 0);
    free_all(out, 1);
    idx[3] = 3; /* out of bounds */
    assert_int_equal(run(&t, 13, NULL, out), EDGEC_STATUS_INVALID_MODEL);
    free_all(out, 1);
    /* ConstantOfShape with an int32 value */
    node_init(&t, "ConstantOfShape", 1, 1);
    int32_t seven = 7;
    int64_t one = 1;
    edgec_tensor tval = {.name = "", .dtype = EDGEC_DTYPE_INT32, .rank = 1, .dims = &one,
                         .numel = 1, .data = &seven, .nbytes = 4};
    attr_new(&t, "value", EDGEC_ATTR_TENSOR)->t = &tval;
    edgec_rt_tensor *shape = mki64(1, (int64_t[]){2}, (int64_t[]){2, 2});
    edgec_rt_tensor *in[3] = {shape};
    assert_int_equal(run(&t, 13, in, out), EDGEC_STATUS_OK);
    assert_int_equal(out[0]->dtype, EDGEC_DTYPE_INT32);
    check_i64(out[0], (int64_t[]){7, 7, 7, 7}, 4);
    free_all(out, 1);
    edgec__rt_tensor_free(shape);
    /* Range: integer, negative delta */
    node_init(&t, "Range", 3, 1);
    in[0] = scalar_i64(10);
    in[1] = scalar_i64(3);
    in[2] = scalar_i64(-3);
    assert_int_equal(run(&t, 13, in, out), EDGEC_STATUS_OK);
    check_i64(out[0], (int64_t[]){10, 7, 4}, 3);
    free_all(out, 1);
    free_all(in, 3);
    /* Trilu lower with k = -1 */
    node_init(&t, "Trilu", 2, 1);
    attr_int(&t, "upper", 0);
    int64_t d[] = {3, 3};
    in[0] = mkf(2, d, (float[]){1, 2, 3, 4, 5, 6, 7, 8, 9});
    in[1] = scalar_i64(-1);
    assert_int_equal(run(&t, 14, in, out), EDGEC_STATUS_OK);
    check_f32(out[0], (float[]){0, 0, 0, 4, 0, 0, 7, 8, 0}, 9, 0);
    free_all(out, 1);
    free_all(in, 2);
}

static void test_dropout_identity(void **state)
{
    (void)state;
    tnode t;
    node_init(&t, "Dropout", 1, 2);
    int64_t d[] = {3};
    edgec_rt_tensor *in[1] = {mkf(1, d, (float[]){1, 2, 3})}, *out[2];
    assert_int_equal(run(&t, 13, in, out), EDGEC_STATUS_OK);
    check_f32(out[0], (float[]){1, 2, 3}, 3, 0);
    assert_int_equal(out[1]->dtype, EDGEC_DTYPE_BOOL);
    check_i64(out[1], (int64_t[]){1, 1, 1}, 3);
    free_all(out, 2);
    /* an unnamed optional output is not produced */
    t.outs[1] = "";
    assert_int_equal(run(&t, 13, in, out), EDGEC_STATUS_OK);
    assert_null(out[1]);
    free_all(out, 2);
    free_all(in, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_broadcast),
        cmocka_unit_test(test_int_arith),
        cmocka_unit_test(test_pow_mixed),
        cmocka_unit_test(test_variadic_and_where),
        cmocka_unit_test(test_unary_and_cast),
        cmocka_unit_test(test_clip_versions),
        cmocka_unit_test(test_softmax_versions),
        cmocka_unit_test(test_prelu_gelu),
        cmocka_unit_test(test_reduce_axes_versions),
        cmocka_unit_test(test_reduce_empty_and_int),
        cmocka_unit_test(test_argmax_topk),
        cmocka_unit_test(test_reshape),
        cmocka_unit_test(test_squeeze_unsqueeze_flatten),
        cmocka_unit_test(test_transpose_large),
        cmocka_unit_test(test_slice),
        cmocka_unit_test(test_split_concat),
        cmocka_unit_test(test_depth_space),
        cmocka_unit_test(test_expand_tile),
        cmocka_unit_test(test_gather_bounds),
        cmocka_unit_test(test_scatter_nd),
        cmocka_unit_test(test_pad_modes),
        cmocka_unit_test(test_resize),
        cmocka_unit_test(test_constants_range_trilu),
        cmocka_unit_test(test_dropout_identity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
