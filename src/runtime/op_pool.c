/* Pooling: AveragePool, MaxPool (with optional Indices), GlobalAveragePool, GlobalMaxPool.
 * Windows use the geometry shared with Conv (kernels_c.h), lifted to three spatial dims. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/kernels_c.h"

typedef struct pool_args {
    kc_geom g;
    int64_t N, C;
    int32_t out_rank;
    int64_t out_dims[2 + KC_SP];
} pool_args;

static edgec_status pool_prepare(const edgec_op_ctx *ctx, const edgec_rt_tensor *x, bool dil,
                                 pool_args *pa)
{
    memset(pa, 0, sizeof *pa);
    if (x->rank < 3)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "X has rank %d; expected N, C and 1 to 3 spatial dimensions",
                              (int)x->rank);
    if (x->rank > 2 + KC_SP)
        return edgec__op_fail(ctx, EDGEC_STATUS_UNSUPPORTED, "%d spatial dimensions",
                              (int)x->rank - 2);
    int nsp = (int)x->rank - 2;
    int64_t ks[KC_SP];
    size_t nks = edgec__attr_ints(ctx->node, "kernel_shape", ks, KC_SP);
    if (nks != (size_t)nsp)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "kernel_shape has %zu values; X has %d spatial dimensions", nks,
                              nsp);
    bool ceil_mode = edgec__attr_int(ctx->node, "ceil_mode", 0) != 0;
    edgec_status st = edgec__kc_geom(ctx, nsp, x->dims + 2, ks, ceil_mode, dil, &pa->g);
    if (st)
        return st;
    for (int i = 0; i < KC_SP; i++)
        if (pa->g.pb[i] >= (pa->g.k[i] - 1) * pa->g.d[i] + 1 ||
            pa->g.pe[i] >= (pa->g.k[i] - 1) * pa->g.d[i] + 1) {
            /* a window made only of padding has no value */
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                                  "padding must be smaller than the window");
        }
    pa->N = x->dims[0];
    pa->C = x->dims[1];
    pa->out_rank = x->rank;
    pa->out_dims[0] = pa->N;
    pa->out_dims[1] = pa->C;
    for (int i = 0; i < nsp; i++)
        pa->out_dims[2 + i] = pa->g.out[KC_SP - nsp + i];
    return EDGEC_STATUS_OK;
}

/* Valid kernel taps [lo, hi) along one axis for output position o. */
static inline void taps(int64_t o, int64_t s, int64_t pb, int64_t d, int64_t k, int64_t n,
                        int64_t *lo, int64_t *hi, int64_t *start)
{
    int64_t st = o * s - pb;
    *start = st;
    int64_t l = st >= 0 ? 0 : edgec__kc_ceil_div(-st, d);
    int64_t h = n - 1 - st < 0 ? 0 : edgec__kc_floor_div(n - 1 - st, d) + 1;
    if (h > k)
        h = k;
    if (l > k)
        l = k;
    if (h < l)
        h = l;
    *lo = l;
    *hi = h;
}

/* Taps of the window that fall inside the padded extent [-pb, n + pe). */
static inline int64_t padded_taps(int64_t start, int64_t d, int64_t k, int64_t n, int64_t pb,
                                  int64_t pe)
{
    int64_t c = 0;
    for (int64_t t = 0; t < k; t++) {
        int64_t p = start + t * d;
        if (p >= -pb && p < n + pe)
            c++;
    }
    return c;
}

/* ---- AveragePool -------------------------------------------------------------------- */

static edgec_status run_average_pool(edgec_op_ctx *ctx)
{
    const edgec_rt_tensor *x = edgec__kc_in(ctx, 0);
    if (!x)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "needs input X");
    pool_args pa;
    edgec_status st = pool_prepare(ctx, x, ctx->opset >= 19, &pa);
    if (st)
        return st;
    bool include_pad = edgec__attr_int(ctx->node, "count_include_pad", 0) != 0;
    const float *X;
    float *own;
    if ((st = edgec__kc_in_f32(ctx, 0, &X, &own)))
        return st;
    edgec_rt_tensor *y;
    float *Y = edgec__kc_out_f32(ctx, 0, x->dtype, pa.out_rank, pa.out_dims, &y);
    if (!Y) {
        free(own);
        return EDGEC_STATUS_NO_MEMORY;
    }
    const kc_geom *g = &pa.g;
    for (int64_t nc = 0; nc < pa.N * pa.C; nc++) {
        const float *xp = X + nc * g->in_size;
        float *yp = Y + nc * g->out_size;
        for (int64_t od = 0; od < g->out[0]; od++) {
            int64_t d0, d1, ds;
            taps(od, g->s[0], g->pb[0], g->d[0], g->k[0], g->in[0], &d0, &d1, &ds);
            int64_t pd = include_pad ? padded_taps(ds, g->d[0], g->k[0], g->in[0], g->pb[0], g->pe[0]) : d1 - d0;
            for (int64_t oh = 0; oh < g->out[1]; oh++) {
                int64_t h0, h1, hs;
                taps(oh, g->s[1], g->pb[1], g->d[1], g->k[1], g->in[1], &h0, &h1, &hs);
                int64_t ph = include_pad ? padded_taps(hs, g->d[1], g->k[1], g->in[1], g->pb[1], g->pe[1]) : h1 - h0;
                for (int64_t ow = 0; ow < g->out[2]; ow++) {
                    int64_t w0, w1, ws;
                    taps(ow, g->s[2], g->pb[2], g->d[2], g->k[2], g->in[2], &w0, &w1, &ws);
                    int64_t pw = include_pad ? padded_taps(ws, g->d[2], g->k[2], g->in[2], g->pb[2], g->pe[2]) : w1 - w0;
                    float sum = 0.0f;
                    for (int64_t a = d0; a < d1; a++)
                        for (int64_t b = h0; b < h1; b++) {
                            const float *row =
                                xp + ((ds + a * g->d[0]) * g->in[1] + hs + b * g->d[1]) * g->in[2] + ws;
                            for (int64_t c = w0; c < w1; c++)
                                sum += row[c * g->d[2]];
                        }
                    int64_t cnt = pd * ph * pw;
                    yp[(od * g->out[1] + oh) * g->out[2] + ow] = cnt > 0 ? sum / (float)cnt : 0.0f;
                }
            }
        }
    }
    edgec__kc_out_f32_done(y, Y);
    free(own);
    return EDGEC_STATUS_OK;
}

/* ---- MaxPool ------------------------------------------------------------------------ */

static edgec_status run_max_pool(edgec_op_ctx *ctx)
{
    const edgec_rt_tensor *x = edgec__kc_in(ctx, 0);
    if (!x)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "needs input X");
    pool_args pa;
    edgec_status st = pool_prepare(ctx, x, ctx->opset >= 10, &pa);
    if (st)
        return st;
    bool col_major = edgec__attr_int(ctx->node, "storage_order", 0) != 0;
    bool want_idx = ctx->n_outputs > 1 && ctx->outputs && ctx->node->n_outputs > 1 &&
                    ctx->node->outputs[1] && ctx->node->outputs[1][0];
    bool is_f32 = x->dtype == EDGEC_DTYPE_FLOAT;
    bool ok_type = edgec__kc_is_float_type(x->dtype) || x->dtype == EDGEC_DTYPE_INT8 ||
                   x->dtype == EDGEC_DTYPE_UINT8;
    if (!ok_type)
        return edgec__op_fail(ctx, EDGEC_STATUS_UNSUPPORTED, "MaxPool on %s tensors",
                              edgec__dtype(x->dtype)->name);
    edgec_rt_tensor *y = edgec__rt_output(ctx, 0, x->dtype, pa.out_rank, pa.out_dims);
    if (!y)
        return EDGEC_STATUS_NO_MEMORY;
    edgec_rt_tensor *yi = NULL;
    if (want_idx && !(yi = edgec__rt_output(ctx, 1, EDGEC_DTYPE_INT64, pa.out_rank, pa.out_dims)))
        return EDGEC_STATUS_NO_MEMORY;
    const kc_geom *g = &pa.g;
    if (is_f32 && !want_idx) {
        /* tap-major: each valid tap updates a run of outputs (vectorizes at stride 1) */
        const float *X = x->data;
        float *Y = y->data;
        int64_t OW = g->out[2];
        for (int64_t nc = 0; nc < pa.N * pa.C; nc++) {
            const float *xp = X + nc * g->in_size;
            for (int64_t od = 0; od < g->out[0]; od++)
                for (int64_t oh = 0; oh < g->out[1]; oh++) {
                    float *restrict yr = Y + nc * g->out_size + (od * g->out[1] + oh) * OW;
                    for (int64_t ow = 0; ow < OW; ow++)
                        yr[ow] = -INFINITY;
                    for (int64_t kd = 0; kd < g->k[0]; kd++) {
                        int64_t id = od * g->s[0] - g->pb[0] + kd * g->d[0];
                        if (id < 0 || id >= g->in[0])
                            continue;
                        for (int64_t kh = 0; kh < g->k[1]; kh++) {
                            int64_t ih = oh * g->s[1] - g->pb[1] + kh * g->d[1];
                            if (ih < 0 || ih >= g->in[1])
                                continue;
                            const float *xr = xp + (id * g->in[1] + ih) * g->in[2];
                            for (int64_t kw = 0; kw < g->k[2]; kw++) {
                                int64_t off = kw * g->d[2] - g->pb[2];
                                int64_t lo = off >= 0 ? 0 : edgec__kc_ceil_div(-off, g->s[2]);
                                int64_t hi = g->in[2] - 1 - off < 0
                                                 ? 0
                                                 : edgec__kc_floor_div(g->in[2] - 1 - off, g->s[2]) + 1;
                                if (hi > OW)
                                    hi = OW;
                                const float *restrict xs = xr + off;
                                if (g->s[2] == 1)
                                    for (int64_t ow = lo; ow < hi; ow++)
                                        yr[ow] = xs[ow] > yr[ow] ? xs[ow] : yr[ow];
                                else
                                    for (int64_t ow = lo; ow < hi; ow++) {
                                        float v = xs[ow * g->s[2]];
                                        yr[ow] = v > yr[ow] ? v : yr[ow];
                                    }
                            }
                        }
                    }
                }
        }
        return EDGEC_STATUS_OK;
    }
    const float *X = is_f32 ? x->data : NULL;
    float *Y = is_f32 ? y->data : NULL;
    int64_t *I = yi ? yi->data : NULL;
    for (int64_t nc = 0; nc < pa.N * pa.C; nc++) {
        int64_t xb = nc * g->in_size, yb = nc * g->out_size;
        for (int64_t od = 0; od < g->out[0]; od++) {
            int64_t d0, d1, ds;
            taps(od, g->s[0], g->pb[0], g->d[0], g->k[0], g->in[0], &d0, &d1, &ds);
            for (int64_t oh = 0; oh < g->out[1]; oh++) {
                int64_t h0, h1, hs;
                taps(oh, g->s[1], g->pb[1], g->d[1], g->k[1], g->in[1], &h0, &h1, &hs);
                for (int64_t ow = 0; ow < g->out[2]; ow++) {
                    int64_t w0, w1, ws;
                    taps(ow, g->s[2], g->pb[2], g->d[2], g->k[2], g->in[2], &w0, &w1, &ws);
                    double best = -INFINITY;
                    int64_t bi = -1;
                    for (int64_t a = d0; a < d1; a++)
                        for (int64_t b = h0; b < h1; b++)
                            for (int64_t c = w0; c < w1; c++) {
                                int64_t id = ds + a * g->d[0], ih = hs + b * g->d[1],
                                        iw = ws + c * g->d[2];
                                int64_t off = (id * g->in[1] + ih) * g->in[2] + iw;
                                double v = X ? (double)X[xb + off] : edgec__rt_get_f64(x, xb + off);
                                if (v > best || bi < 0) {
                                    best = v;
                                    bi = col_major ? id + ih * g->in[0] + iw * g->in[0] * g->in[1]
                                                   : off;
                                }
                            }
                    int64_t o = yb + (od * g->out[1] + oh) * g->out[2] + ow;
                    if (Y)
                        Y[o] = (float)best;
                    else
                        edgec__rt_set_f64(y, o, best);
                    if (I)
                        I[o] = bi < 0 ? -1 : xb + bi;
                }
            }
        }
    }
    return EDGEC_STATUS_OK;
}

/* ---- global pools ------------------------------------------------------------------- */

static edgec_status global_pool(edgec_op_ctx *ctx, bool is_max)
{
    const edgec_rt_tensor *x = edgec__kc_in(ctx, 0);
    if (!x)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "needs input X");
    if (x->rank < 2)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "X has rank %d; expected at least N and C", (int)x->rank);
    if (!edgec__kc_is_float_type(x->dtype))
        return edgec__op_fail(ctx, EDGEC_STATUS_UNSUPPORTED, "%s on %s tensors",
                              ctx->node->op_type, edgec__dtype(x->dtype)->name);
    int64_t dims[EDGEC_MAX_RANK];
    int64_t sp = 1;
    for (int32_t i = 0; i < x->rank; i++) {
        dims[i] = i < 2 ? x->dims[i] : 1;
        if (i >= 2)
            sp *= x->dims[i];
    }
    const float *X;
    float *own;
    edgec_status st = edgec__kc_in_f32(ctx, 0, &X, &own);
    if (st)
        return st;
    edgec_rt_tensor *y;
    float *Y = edgec__kc_out_f32(ctx, 0, x->dtype, x->rank, dims, &y);
    if (!Y) {
        free(own);
        return EDGEC_STATUS_NO_MEMORY;
    }
    int64_t planes = x->dims[0] * x->dims[1];
    for (int64_t p = 0; p < planes; p++) {
        const float *xp = X + p * sp;
        if (is_max) {
            float m = sp ? xp[0] : -INFINITY;
            for (int64_t i = 1; i < sp; i++)
                if (xp[i] > m || m != m)
                    m = xp[i];
            Y[p] = m;
        } else {
            double s = 0;
            for (int64_t i = 0; i < sp; i++)
                s += xp[i];
            Y[p] = sp ? (float)(s / (double)sp) : NAN;
        }
    }
    edgec__kc_out_f32_done(y, Y);
    free(own);
    return EDGEC_STATUS_OK;
}

static edgec_status run_global_average_pool(edgec_op_ctx *ctx)
{
    return global_pool(ctx, false);
}

static edgec_status run_global_max_pool(edgec_op_ctx *ctx)
{
    return global_pool(ctx, true);
}

const edgec_op edgec__ops_pool[] = {
    {"AveragePool", "", 1, run_average_pool},
    {"MaxPool", "", 1, run_max_pool},
    {"GlobalAveragePool", "", 1, run_global_average_pool},
    {"GlobalMaxPool", "", 1, run_global_max_pool},
    {0},
};
