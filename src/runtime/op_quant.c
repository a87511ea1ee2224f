/* Quantization: QuantizeLinear, DequantizeLinear (per-tensor, per-axis, blocked; 4-bit
 * types packed two per byte, low nibble first), DynamicQuantizeLinear. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/kernels_c.h"

/* How scale/zero-point elements map onto x. */
typedef struct qmap {
    int mode; /* 0 per-tensor, 1 per-axis, 2 blocked */
    int64_t outer, A, inner, bs, nb;
} qmap;

static edgec_status qmap_build(const edgec_op_ctx *ctx, const edgec_rt_tensor *x,
                               const edgec_rt_tensor *scale, const edgec_rt_tensor *zp,
                               qmap *q)
{
    memset(q, 0, sizeof *q);
    int64_t axis = ctx->opset >= 13 ? edgec__attr_int(ctx->node, "axis", 1) : 1;
    int64_t bs = ctx->opset >= 21 ? edgec__attr_int(ctx->node, "block_size", 0) : 0;
    if (zp) {
        if (zp->numel != scale->numel || zp->rank != scale->rank)
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                                  "zero point shape differs from scale shape");
        for (int32_t i = 0; i < zp->rank; i++)
            if (zp->dims[i] != scale->dims[i])
                return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                                      "zero point shape differs from scale shape");
    }
    if (bs < 0)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "block_size %lld is negative",
                              (long long)bs);
    if (bs == 0 && scale->numel == 1 && scale->rank <= 1) {
        q->mode = 0;
        q->outer = 1;
        q->A = 1;
        q->inner = x->numel;
        return EDGEC_STATUS_OK;
    }
    if (x->rank == 0)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "a scalar input needs a scalar scale");
    if (axis < -(int64_t)x->rank || axis >= (int64_t)x->rank)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "axis %lld is out of range for rank %d", (long long)axis,
                              (int)x->rank);
    if (axis < 0)
        axis += x->rank;
    q->outer = 1;
    q->inner = 1;
    for (int32_t i = 0; i < x->rank; i++) {
        if (i < axis)
            q->outer *= x->dims[i];
        else if (i > axis)
            q->inner *= x->dims[i];
    }
    q->A = x->dims[axis];
    if (bs == 0) {
        if (scale->rank != 1 || scale->dims[0] != q->A)
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                                  "per-axis scale has %lld elements (rank %d); axis %lld of x "
                                  "has %lld",
                                  (long long)scale->numel, (int)scale->rank, (long long)axis,
                                  (long long)q->A);
        q->mode = 1;
        return EDGEC_STATUS_OK;
    }
    q->mode = 2;
    q->bs = bs;
    q->nb = (q->A + bs - 1) / bs;
    if (scale->rank != x->rank)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "blocked scale must have the rank of x (%d), not %d", (int)x->rank,
                              (int)scale->rank);
    for (int32_t i = 0; i < x->rank; i++) {
        int64_t want = i == axis ? q->nb : x->dims[i];
        if (scale->dims[i] != want)
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                                  "blocked scale dimension %d is %lld; expected %lld "
                                  "(block_size %lld)",
                                  (int)i, (long long)scale->dims[i], (long long)want,
                                  (long long)bs);
    }
    return EDGEC_STATUS_OK;
}

static inline int64_t qparam_index(const qmap *q, int64_t o, int64_t a, int64_t i)
{
    switch (q->mode) {
    case 0:
        return 0;
    case 1:
        return a;
    default:
        return (o * q->nb + a / q->bs) * q->inner + i;
    }
}

/* Integer element i of a quantized tensor. */
static inline int32_t qload(const edgec_rt_tensor *t, int64_t i)
{
    const uint8_t *d = t->data;
    switch (t->dtype) {
    case EDGEC_DTYPE_UINT8:
        return d[i];
    case EDGEC_DTYPE_INT8:
        return (int8_t)d[i];
    case EDGEC_DTYPE_INT16:
        return ((const int16_t *)t->data)[i];
    case EDGEC_DTYPE_UINT16:
        return ((const uint16_t *)t->data)[i];
    case EDGEC_DTYPE_INT32:
        return ((const int32_t *)t->data)[i];
    case EDGEC_DTYPE_UINT4:
        return (i & 1) ? d[i >> 1] >> 4 : d[i >> 1] & 0xf;
    case EDGEC_DTYPE_INT4: {
        int v = (i & 1) ? d[i >> 1] >> 4 : d[i >> 1] & 0xf;
        return v >= 8 ? v - 16 : v;
    }
    default:
        return 0;
    }
}

static inline void qstore(edgec_rt_tensor *t, int64_t i, int64_t v)
{
    uint8_t *d = t->data;
    switch (t->dtype) {
    case EDGEC_DTYPE_UINT8:
    case EDGEC_DTYPE_INT8:
        d[i] = (uint8_t)v;
        break;
    case EDGEC_DTYPE_INT16:
    case EDGEC_DTYPE_UINT16:
        ((uint16_t *)t->data)[i] = (uint16_t)v;
        break;
    case EDGEC_DTYPE_INT32:
        ((int32_t *)t->data)[i] = (int32_t)v;
        break;
    case EDGEC_DTYPE_UINT4:
    case EDGEC_DTYPE_INT4: {
        uint8_t nib = (uint8_t)(v & 0xf);
        uint8_t *b = &d[i >> 1];
        *b = (i & 1) ? (uint8_t)((*b & 0x0f) | nib << 4) : (uint8_t)((*b & 0xf0) | nib);
        break;
    }
    default:
        break;
    }
}

static bool quant_type_ok(int32_t dt, int64_t opset)
{
    switch (dt) {
    case EDGEC_DTYPE_UINT8:
    case EDGEC_DTYPE_INT8:
        return true;
    case EDGEC_DTYPE_INT16:
    case EDGEC_DTYPE_UINT16:
    case EDGEC_DTYPE_UINT4:
    case EDGEC_DTYPE_INT4:
        return opset >= 21;
    default:
        return false;
    }
}

/* Float values of a scale tensor. */
static float *load_scales(const edgec_op_ctx *ctx, const edgec_rt_tensor *s)
{
    float *v = malloc(sizeof(float) * (size_t)(s->numel ? s->numel : 1));
    if (!v) {
        edgec__op_fail(ctx, EDGEC_STATUS_NO_MEMORY, "out of memory");
        return NULL;
    }
    for (int64_t i = 0; i < s->numel; i++)
        v[i] = (float)edgec__rt_get_f64(s, i);
    return v;
}

/* ---- QuantizeLinear ----------------------------------------------------------------- */

/* x / scale quantized, without dividing by a zero scale: what the division would give
 * in the limit (the saturated end of the range for x != 0, the zero point for x == 0),
 * so that a degenerate model gives defined, platform-independent values. */
static int64_t quantize_by(float x, float scale, int64_t zp, int64_t lo, int64_t hi)
{
    if (scale == 0.0f) {
        if (x == 0.0f || x != x)
            return edgec__kc_quantize(0.0f, zp, lo, hi);
        return (x > 0.0f) == !__builtin_signbit(scale) ? hi : lo;
    }
    return edgec__kc_quantize(x / scale, zp, lo, hi);
}

static edgec_status run_quantize_linear(edgec_op_ctx *ctx)
{
    const edgec_rt_tensor *x = edgec__kc_in(ctx, 0), *s = edgec__kc_in(ctx, 1),
                          *z = edgec__kc_in(ctx, 2);
    if (!x || !s)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "needs x and y_scale");
    if ((!edgec__kc_is_float_type(x->dtype) && x->dtype != EDGEC_DTYPE_INT32) ||
        !edgec__kc_is_float_type(s->dtype))
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "x (%s) and y_scale (%s) must be float",
                              edgec__dtype(x->dtype)->name, edgec__dtype(s->dtype)->name);
    int32_t ydt = EDGEC_DTYPE_UINT8;
    if (z)
        ydt = z->dtype;
    else if (ctx->opset >= 21 && edgec__attr_int(ctx->node, "output_dtype", 0) != 0)
        ydt = (int32_t)edgec__attr_int(ctx->node, "output_dtype", 0);
    if (!quant_type_ok(ydt, ctx->opset))
        return edgec__op_fail(ctx, EDGEC_STATUS_UNSUPPORTED,
                              "quantizing to %s is not supported at opset %lld",
                              edgec__dtype(ydt)->name, (long long)ctx->opset);
    if (z && ctx->opset >= 21 && edgec__attr_int(ctx->node, "output_dtype", 0) != 0 &&
        edgec__attr_int(ctx->node, "output_dtype", 0) != z->dtype)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "output_dtype differs from the zero point type");
    qmap q;
    edgec_status st = qmap_build(ctx, x, s, z, &q);
    if (st)
        return st;
    int64_t lo, hi;
    edgec__kc_int_range(ydt, &lo, &hi);
    edgec_rt_tensor *y = edgec__rt_output(ctx, 0, ydt, x->rank, x->dims);
    if (!y)
        return EDGEC_STATUS_NO_MEMORY;
    float *sv = load_scales(ctx, s);
    if (!sv)
        return EDGEC_STATUS_NO_MEMORY;
    const float *xf = x->dtype == EDGEC_DTYPE_FLOAT ? x->data : NULL;
    for (int64_t o = 0; o < q.outer; o++)
        for (int64_t a = 0; a < q.A; a++) {
            int64_t base = (o * q.A + a) * q.inner;
            for (int64_t i = 0; i < q.inner; i++) {
                int64_t pi = qparam_index(&q, o, a, i);
                float scale = sv[pi];
                int64_t zp = z ? qload(z, pi) : 0;
                float xv = xf ? xf[base + i] : (float)edgec__rt_get_f64(x, base + i);
                qstore(y, base + i, quantize_by(xv, scale, zp, lo, hi));
            }
        }
    free(sv);
    return EDGEC_STATUS_OK;
}

/* ---- DequantizeLinear --------------------------------------------------------------- */

static edgec_status run_dequantize_linear(edgec_op_ctx *ctx)
{
    const edgec_rt_tensor *x = edgec__kc_in(ctx, 0), *s = edgec__kc_in(ctx, 1),
                          *z = edgec__kc_in(ctx, 2);
    if (!x || !s)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "needs x and x_scale");
    bool xok = quant_type_ok(x->dtype, ctx->opset) || x->dtype == EDGEC_DTYPE_INT32;
    if (!xok)
        return edgec__op_fail(ctx, EDGEC_STATUS_UNSUPPORTED,
                              "dequantizing %s is not supported at opset %lld",
                              edgec__dtype(x->dtype)->name, (long long)ctx->opset);
    if (!edgec__kc_is_float_type(s->dtype) || s->dtype == EDGEC_DTYPE_DOUBLE)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "x_scale must be float, float16 or bfloat16, not %s",
                              edgec__dtype(s->dtype)->name);
    if (z && z->dtype != x->dtype)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "x_zero_point is %s but x is %s", edgec__dtype(z->dtype)->name,
                              edgec__dtype(x->dtype)->name);
    qmap q;
    edgec_status st = qmap_build(ctx, x, s, z, &q);
    if (st)
        return st;
    int32_t ydt = s->dtype;
    edgec_rt_tensor *y;
    float *Y = edgec__kc_out_f32(ctx, 0, ydt, x->rank, x->dims, &y);
    if (!Y)
        return EDGEC_STATUS_NO_MEMORY;
    float *sv = load_scales(ctx, s);
    if (!sv) {
        if (Y != y->data)
            free(Y);
        return EDGEC_STATUS_NO_MEMORY;
    }
    bool fast8 = (x->dtype == EDGEC_DTYPE_INT8 || x->dtype == EDGEC_DTYPE_UINT8) && q.mode != 2;
    for (int64_t o = 0; o < q.outer; o++)
        for (int64_t a = 0; a < q.A; a++) {
            int64_t base = (o * q.A + a) * q.inner;
            float *restrict yr = Y + base;
            if (fast8) {
                int64_t pi = qparam_index(&q, o, a, 0);
                float scale = sv[pi];
                int32_t zp = z ? qload(z, pi) : 0;
                if (x->dtype == EDGEC_DTYPE_INT8) {
                    const int8_t *restrict xr = (const int8_t *)x->data + base;
                    for (int64_t i = 0; i < q.inner; i++)
                        yr[i] = (float)((int32_t)xr[i] - zp) * scale;
                } else {
                    const uint8_t *restrict xr = (const uint8_t *)x->data + base;
                    for (int64_t i = 0; i < q.inner; i++)
                        yr[i] = (float)((int32_t)xr[i] - zp) * scale;
                }
                continue;
            }
            for (int64_t i = 0; i < q.inner; i++) {
                int64_t pi = qparam_index(&q, o, a, i);
                int64_t zp = z ? qload(z, pi) : 0;
                yr[i] = (float)((int64_t)qload(x, base + i) - zp) * sv[pi];
            }
        }
    free(sv);
    edgec__kc_out_f32_done(y, Y);
    return EDGEC_STATUS_OK;
}

/* ---- DynamicQuantizeLinear ---------------------------------------------------------- */

static edgec_status run_dynamic_quantize_linear(edgec_op_ctx *ctx)
{
    const edgec_rt_tensor *x = edgec__kc_in(ctx, 0);
    if (!x)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "needs input x");
    if (x->dtype != EDGEC_DTYPE_FLOAT)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "x must be float, not %s",
                              edgec__dtype(x->dtype)->name);
    const float *X = x->data;
    float mn = 0.0f, mx = 0.0f;
    for (int64_t i = 0; i < x->numel; i++) {
        if (X[i] < mn)
            mn = X[i];
        if (X[i] > mx)
            mx = X[i];
    }
    float scale = (mx - mn) / 255.0f;
    float zpf = 0.0f;
    if (scale != 0.0f) {
        float inter = 0.0f - mn / scale;
        /* An infinite input range makes this NaN (-Inf / Inf): zero point 0 then, as
         * converting NaN to an integer is undefined. */
        if (!(inter >= 0.0f))
            inter = 0.0f;
        if (inter > 255.0f)
            inter = 255.0f;
        zpf = edgec__kc_round_even(inter);
    }
    int64_t zp = (int64_t)zpf;
    edgec_rt_tensor *y = edgec__rt_output(ctx, 0, EDGEC_DTYPE_UINT8, x->rank, x->dims);
    if (!y)
        return EDGEC_STATUS_NO_MEMORY;
    uint8_t *Y = y->data;
    for (int64_t i = 0; i < x->numel; i++)
        Y[i] = scale != 0.0f ? (uint8_t)edgec__kc_quantize(X[i] / scale, zp, 0, 255) : (uint8_t)zp;
    if (ctx->n_outputs > 1) {
        edgec_rt_tensor *ys = edgec__rt_output(ctx, 1, EDGEC_DTYPE_FLOAT, 0, NULL);
        if (!ys)
            return EDGEC_STATUS_NO_MEMORY;
        *(float *)ys->data = scale;
    }
    if (ctx->n_outputs > 2) {
        edgec_rt_tensor *yz = edgec__rt_output(ctx, 2, EDGEC_DTYPE_UINT8, 0, NULL);
        if (!yz)
            return EDGEC_STATUS_NO_MEMORY;
        *(uint8_t *)yz->data = (uint8_t)zp;
    }
    return EDGEC_STATUS_OK;
}

const edgec_op edgec__ops_quant[] = {
    {"QuantizeLinear", "", 10, run_quantize_linear},
    {"DequantizeLinear", "", 10, run_dequantize_linear},
    {"DynamicQuantizeLinear", "", 11, run_dynamic_quantize_linear},
    {0},
};
