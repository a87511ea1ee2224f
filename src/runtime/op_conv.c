/* Convolutions: Conv, ConvTranspose, ConvInteger, QLinearConv; and the sliding-window
 * geometry the pools share (kernels_c.h).
 *
 * Conv runs as im2col + SGEMM per image and group, with direct paths for 1x1 stride-1
 * convolutions (the input is already the GEMM operand) and for depthwise convolutions
 * (one input channel per group). ConvTranspose is a GEMM followed by col2im. The integer
 * versions use the same im2col with exact int32 accumulation. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/kernels_c.h"

/* Caps the im2col scratch; larger outputs are processed in row chunks. */
#define COL_BUDGET ((int64_t)4 << 20) /* elements */
#define ATTR_MAX ((int64_t)1 << 31)

/* ---- geometry ---------------------------------------------------------------------- */

static edgec_status read_ints(const edgec_op_ctx *ctx, const char *name, int nsp, int mult,
                              int64_t def, int64_t lo, int64_t *out)
{
    int64_t v[2 * KC_SP];
    size_t n = edgec__attr_ints(ctx->node, name, v, 2 * KC_SP);
    if (n == 0) {
        for (int i = 0; i < nsp * mult; i++)
            out[i] = def;
        return EDGEC_STATUS_OK;
    }
    if (n != (size_t)(nsp * mult))
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "attribute %s has %zu values; expected %d", name, n, nsp * mult);
    for (int i = 0; i < nsp * mult; i++) {
        if (v[i] < lo || v[i] >= ATTR_MAX)
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                                  "attribute %s value %lld is out of range", name,
                                  (long long)v[i]);
        out[i] = v[i];
    }
    return EDGEC_STATUS_OK;
}

enum { PAD_NOTSET, PAD_SAME_UPPER, PAD_SAME_LOWER, PAD_VALID };

static edgec_status read_auto_pad(const edgec_op_ctx *ctx, int *mode)
{
    char buf[32];
    const char *s = edgec__attr_string(ctx->node, "auto_pad", buf, sizeof buf, "NOTSET");
    if (!strcmp(s, "NOTSET") || !*s)
        *mode = PAD_NOTSET;
    else if (!strcmp(s, "SAME_UPPER"))
        *mode = PAD_SAME_UPPER;
    else if (!strcmp(s, "SAME_LOWER"))
        *mode = PAD_SAME_LOWER;
    else if (!strcmp(s, "VALID"))
        *mode = PAD_VALID;
    else
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "unknown auto_pad '%s'", s);
    return EDGEC_STATUS_OK;
}

edgec_status edgec__kc_geom(const edgec_op_ctx *ctx, int nsp, const int64_t *in,
                            const int64_t *kernel, bool ceil_mode, bool use_dilations,
                            kc_geom *g)
{
    memset(g, 0, sizeof *g);
    if (nsp < 1 || nsp > KC_SP)
        return edgec__op_fail(ctx, EDGEC_STATUS_UNSUPPORTED,
                              "%d spatial dimensions (1 to 3 are supported)", nsp);
    int64_t s[KC_SP], d[KC_SP], p[2 * KC_SP];
    int mode;
    edgec_status st;
    if ((st = read_ints(ctx, "strides", nsp, 1, 1, 1, s)) ||
        (st = read_ints(ctx, "pads", nsp, 2, 0, 0, p)) || (st = read_auto_pad(ctx, &mode)))
        return st;
    if (use_dilations) {
        if ((st = read_ints(ctx, "dilations", nsp, 1, 1, 1, d)))
            return st;
    } else {
        for (int i = 0; i < nsp; i++)
            d[i] = 1;
    }
    int off = KC_SP - nsp;
    g->nsp = nsp;
    g->in_size = g->out_size = g->k_size = 1;
    for (int i = 0; i < KC_SP; i++) {
        g->in[i] = g->k[i] = g->s[i] = g->d[i] = g->out[i] = 1;
        g->pb[i] = g->pe[i] = 0;
    }
    for (int i = 0; i < nsp; i++) {
        int j = off + i;
        if (kernel[i] < 1 || kernel[i] >= ATTR_MAX)
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                                  "kernel size %lld is out of range", (long long)kernel[i]);
        g->in[j] = in[i];
        g->k[j] = kernel[i];
        g->s[j] = s[i];
        g->d[j] = d[i];
        int64_t dk = (kernel[i] - 1) * d[i] + 1, o;
        if (mode == PAD_SAME_UPPER || mode == PAD_SAME_LOWER) {
            o = (in[i] + s[i] - 1) / s[i];
            int64_t total = (o - 1) * s[i] + dk - in[i];
            if (total < 0)
                total = 0;
            if (mode == PAD_SAME_UPPER) {
                g->pb[j] = total / 2;
                g->pe[j] = total - total / 2;
            } else {
                g->pe[j] = total / 2;
                g->pb[j] = total - total / 2;
            }
        } else {
            if (mode == PAD_NOTSET) {
                g->pb[j] = p[i];
                g->pe[j] = p[nsp + i];
            }
            int64_t num = in[i] + g->pb[j] + g->pe[j] - dk;
            if (num < 0)
                return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                                      "the window (%lld with dilation) is larger than the padded "
                                      "input (%lld) in spatial dimension %d",
                                      (long long)dk, (long long)(in[i] + g->pb[j] + g->pe[j]), i);
            if (ceil_mode) {
                o = (num + s[i] - 1) / s[i] + 1;
                if ((o - 1) * s[i] >= in[i] + g->pb[j])
                    o--;
            } else {
                o = num / s[i] + 1;
            }
        }
        g->out[j] = o;
    }
    for (int i = 0; i < KC_SP; i++) {
        if (!edgec__mul_i64(g->in_size, g->in[i], &g->in_size) ||
            !edgec__mul_i64(g->out_size, g->out[i], &g->out_size) ||
            !edgec__mul_i64(g->k_size, g->k[i], &g->k_size))
            return edgec__op_fail(ctx, EDGEC_STATUS_LIMIT, "window sizes overflow");
    }
    return EDGEC_STATUS_OK;
}

/* Output columns [lo, hi) whose input column ow*s + off falls inside [0, n). */
static inline void col_range(int64_t ow_n, int64_t s, int64_t off, int64_t n, int64_t *lo,
                             int64_t *hi)
{
    int64_t l = off >= 0 ? 0 : edgec__kc_ceil_div(-off, s);
    int64_t h = n - 1 - off < 0 ? 0 : edgec__kc_floor_div(n - 1 - off, s) + 1;
    if (l > ow_n)
        l = ow_n;
    if (h > ow_n)
        h = ow_n;
    if (h < l)
        h = l;
    *lo = l;
    *hi = h;
}

#define DEFINE_IM2COL(NAME, T, ...)                                                          \
    void NAME(const kc_geom *g, const T *x, int64_t nc, int64_t r0, int64_t r1, T *col __VA_ARGS__) \
    {                                                                                          \
        int64_t OW = g->out[2], OH = g->out[1];                                               \
        int64_t ncols = (r1 - r0) * OW;                                                        \
        int64_t row = 0;                                                                       \
        for (int64_t c = 0; c < nc; c++) {                                                     \
            const T *xc = x + c * g->in_size;                                                  \
            for (int64_t kd = 0; kd < g->k[0]; kd++)                                           \
                for (int64_t kh = 0; kh < g->k[1]; kh++)                                       \
                    for (int64_t kw = 0; kw < g->k[2]; kw++, row++) {                          \
                        T *dst = col + row * ncols;                                            \
                        int64_t off = kw * g->d[2] - g->pb[2], lo, hi;                         \
                        col_range(OW, g->s[2], off, g->in[2], &lo, &hi);                       \
                        for (int64_t r = r0; r < r1; r++, dst += OW) {                         \
                            int64_t od = r / OH, oh = r % OH;                                  \
                            int64_t id = od * g->s[0] - g->pb[0] + kd * g->d[0];               \
                            int64_t ih = oh * g->s[1] - g->pb[1] + kh * g->d[1];               \
                            if (id < 0 || id >= g->in[0] || ih < 0 || ih >= g->in[1]) {        \
                                for (int64_t ow = 0; ow < OW; ow++)                            \
                                    dst[ow] = padval;                                          \
                                continue;                                                      \
                            }                                                                  \
                            const T *xr = xc + (id * g->in[1] + ih) * g->in[2];                \
                            for (int64_t ow = 0; ow < lo; ow++)                                \
                                dst[ow] = padval;                                              \
                            if (g->s[2] == 1)                                                  \
                                memcpy(dst + lo, xr + lo + off, (size_t)(hi - lo) * sizeof(T)); \
                            else                                                               \
                                for (int64_t ow = lo; ow < hi; ow++)                           \
                                    dst[ow] = xr[ow * g->s[2] + off];                          \
                            for (int64_t ow = hi; ow < OW; ow++)                               \
                                dst[ow] = padval;                                              \
                        }                                                                      \
                    }                                                                          \
        }                                                                                      \
    }

#define padval padv
DEFINE_IM2COL(edgec__kc_im2col_f32, float, , float padv)
#undef padval
#define padval 0
DEFINE_IM2COL(edgec__kc_im2col_i32, int32_t, )
#undef padval

/* ---- shared validation -------------------------------------------------------------- */

typedef struct conv_shape {
    int64_t N, C, M, group, Cg, Mg;
    int nsp;
    kc_geom g;
    int32_t out_rank;
    int64_t out_dims[2 + KC_SP];
} conv_shape;

static edgec_status conv_validate(const edgec_op_ctx *ctx, const edgec_rt_tensor *x,
                                  const edgec_rt_tensor *w, conv_shape *cs)
{
    memset(cs, 0, sizeof *cs);
    if (x->rank < 3 || x->rank > 2 + KC_SP)
        return edgec__op_fail(ctx, x->rank < 3 ? EDGEC_STATUS_INVALID_MODEL : EDGEC_STATUS_UNSUPPORTED,
                              "X has rank %d; expected 3 to %d (N, C, spatial...)",
                              (int)x->rank, 2 + KC_SP);
    if (w->rank != x->rank)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "W has rank %d but X has rank %d", (int)w->rank, (int)x->rank);
    cs->nsp = (int)x->rank - 2;
    cs->group = edgec__attr_int(ctx->node, "group", 1);
    if (cs->group < 1 || cs->group >= ATTR_MAX)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "group %lld is invalid",
                              (long long)cs->group);
    int64_t ks[KC_SP];
    size_t nks = edgec__attr_ints(ctx->node, "kernel_shape", ks, KC_SP);
    if (nks && nks != (size_t)cs->nsp)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "kernel_shape has %zu values for %d spatial dimensions", nks,
                              cs->nsp);
    for (int i = 0; i < cs->nsp; i++)
        if (nks && ks[i] != w->dims[2 + i])
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                                  "kernel_shape[%d] = %lld but W has %lld there", i,
                                  (long long)ks[i], (long long)w->dims[2 + i]);
    cs->N = x->dims[0];
    cs->C = x->dims[1];
    return EDGEC_STATUS_OK;
}

/* Conv-style (not transposed) shapes: W is [M, C/group, k...]. */
static edgec_status conv_fwd_shapes(const edgec_op_ctx *ctx, const edgec_rt_tensor *x,
                                    const edgec_rt_tensor *w, conv_shape *cs)
{
    edgec_status st = conv_validate(ctx, x, w, cs);
    if (st)
        return st;
    cs->M = w->dims[0];
    cs->Cg = w->dims[1];
    if (cs->Cg * cs->group != cs->C)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "X has %lld channels but W expects %lld (%lld per group x %lld "
                              "groups)",
                              (long long)cs->C, (long long)(cs->Cg * cs->group),
                              (long long)cs->Cg, (long long)cs->group);
    if (cs->M % cs->group)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "W has %lld output channels, not a multiple of group %lld",
                              (long long)cs->M, (long long)cs->group);
    cs->Mg = cs->M / cs->group;
    if ((st = edgec__kc_geom(ctx, cs->nsp, x->dims + 2, w->dims + 2, false, true, &cs->g)))
        return st;
    cs->out_rank = x->rank;
    cs->out_dims[0] = cs->N;
    cs->out_dims[1] = cs->M;
    for (int i = 0; i < cs->nsp; i++)
        cs->out_dims[2 + i] = cs->g.out[KC_SP - cs->nsp + i];
    return EDGEC_STATUS_OK;
}

static edgec_status check_bias(const edgec_op_ctx *ctx, const edgec_rt_tensor *b, int64_t M)
{
    if (b && (b->rank != 1 || b->dims[0] != M))
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "bias B has %lld elements (rank %d); expected a vector of %lld",
                              (long long)b->numel, (int)b->rank, (long long)M);
    return EDGEC_STATUS_OK;
}

/* ---- Conv --------------------------------------------------------------------------- */

typedef struct dw_job {
    const conv_shape *cs;
    const float *x, *w, *b;
    float *y;
} dw_job;

/* Vector-width dispatch for the direct loops: an AVX2 clone chosen at load time on CPUs
 * that have it (no FMA contraction, so results equal the baseline clone's). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define KC_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define KC_CLONES
#endif

/* Direct convolution of one output channel when each group has one input channel. */
KC_CLONES static void dw_channel(void *arg, int64_t idx)
{
    const dw_job *j = arg;
    const conv_shape *cs = j->cs;
    const kc_geom *g = &cs->g;
    int64_t n = idx / cs->M, m = idx % cs->M, c = m / cs->Mg;
    const float *x = j->x + (n * cs->C + c) * g->in_size;
    const float *w = j->w + m * g->k_size;
    float *y = j->y + idx * g->out_size;
    float bias = j->b ? j->b[m] : 0.0f;
    for (int64_t i = 0; i < g->out_size; i++)
        y[i] = bias;
    int64_t OW = g->out[2], OH = g->out[1];
    int64_t los[16], his[16];
    bool pre = g->k[2] <= 16;
    for (int64_t kw = 0; pre && kw < g->k[2]; kw++)
        col_range(OW, g->s[2], kw * g->d[2] - g->pb[2], g->in[2], &los[kw], &his[kw]);
    /* row-major over outputs, taps inner: each output row stays in L1 while the taps
     * accumulate into it (per element: bias, then taps in (kd, kh, kw) order) */
    for (int64_t od = 0; od < g->out[0]; od++)
        for (int64_t oh = 0; oh < OH; oh++) {
            float *restrict yr = y + (od * OH + oh) * OW;
            for (int64_t kd = 0; kd < g->k[0]; kd++) {
                int64_t id = od * g->s[0] - g->pb[0] + kd * g->d[0];
                if (id < 0 || id >= g->in[0])
                    continue;
                for (int64_t kh = 0; kh < g->k[1]; kh++) {
                    int64_t ih = oh * g->s[1] - g->pb[1] + kh * g->d[1];
                    if (ih < 0 || ih >= g->in[1])
                        continue;
                    const float *xrow = x + (id * g->in[1] + ih) * g->in[2];
                    const float *wk = w + (kd * g->k[1] + kh) * g->k[2];
                    for (int64_t kw = 0; kw < g->k[2]; kw++) {
                        float wv = wk[kw];
                        int64_t off = kw * g->d[2] - g->pb[2], lo, hi;
                        if (pre)
                            lo = los[kw], hi = his[kw];
                        else
                            col_range(OW, g->s[2], off, g->in[2], &lo, &hi);
                        const float *restrict xr = xrow + off;
                        if (g->s[2] == 1)
                            for (int64_t ow = lo; ow < hi; ow++)
                                yr[ow] += wv * xr[ow];
                        else if (g->s[2] == 2)
                            for (int64_t ow = lo; ow < hi; ow++)
                                yr[ow] += wv * xr[2 * ow];
                        else
                            for (int64_t ow = lo; ow < hi; ow++)
                                yr[ow] += wv * xr[ow * g->s[2]];
                    }
                }
            }
        }
}

static edgec_status run_conv(edgec_op_ctx *ctx)
{
    const edgec_rt_tensor *x = edgec__kc_in(ctx, 0), *w = edgec__kc_in(ctx, 1);
    const edgec_rt_tensor *b = edgec__kc_in(ctx, 2);
    if (!x || !w)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "needs inputs X and W");
    if (!edgec__kc_is_float_type(x->dtype) || w->dtype != x->dtype || (b && b->dtype != x->dtype))
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "X, W and B must have one float type (got %s, %s%s%s)",
                              edgec__dtype(x->dtype)->name, edgec__dtype(w->dtype)->name,
                              b ? ", " : "", b ? edgec__dtype(b->dtype)->name : "");
    conv_shape cs;
    edgec_status st = conv_fwd_shapes(ctx, x, w, &cs);
    if (st || (st = check_bias(ctx, b, cs.M)))
        return st;
    const float *X, *W, *B = NULL;
    float *ox = NULL, *ow = NULL, *ob = NULL, *col = NULL;
    if ((st = edgec__kc_in_f32(ctx, 0, &X, &ox)) || (st = edgec__kc_in_f32(ctx, 1, &W, &ow)) ||
        (b && (st = edgec__kc_in_f32(ctx, 2, &B, &ob))))
        goto done;
    edgec_rt_tensor *y;
    float *Y = edgec__kc_out_f32(ctx, 0, x->dtype, cs.out_rank, cs.out_dims, &y);
    if (!Y) {
        st = EDGEC_STATUS_NO_MEMORY;
        goto done;
    }
    const kc_geom *g = &cs.g;
    int64_t K = cs.Cg * g->k_size, OS = g->out_size;
    if (cs.N * cs.M * OS == 0)
        goto finish;
    if (cs.Cg == 1 && g->k_size > 1) {
        dw_job j = {&cs, X, W, B, Y};
        edgec__parallel_for(ctx->threads, cs.N * cs.M, dw_channel, &j);
        goto finish;
    }
    bool pointwise = g->k_size == 1;
    for (int i = 0; i < KC_SP; i++)
        if (g->s[i] != 1 || g->pb[i] || g->pe[i])
            pointwise = false;
    int64_t rows = g->out[0] * g->out[1], OW = g->out[2], chunk = rows;
    if (!pointwise) {
        int64_t per_row = K * OW;
        if (per_row > 0 && per_row * chunk > COL_BUDGET)
            chunk = COL_BUDGET / per_row > 0 ? COL_BUDGET / per_row : 1;
        size_t n;
        if (!edgec__mul_size((size_t)K, (size_t)(chunk * OW), &n) ||
            !edgec__mul_size(n, sizeof(float), &n) || !(col = malloc(n ? n : 1))) {
            st = edgec__op_fail(ctx, EDGEC_STATUS_NO_MEMORY, "out of memory for im2col");
            goto done;
        }
    }
    for (int64_t n = 0; n < cs.N; n++) {
        for (int64_t gi = 0; gi < cs.group; gi++) {
            const float *xg = X + (n * cs.C + gi * cs.Cg) * g->in_size;
            const float *wg = W + gi * cs.Mg * K;
            float *yg = Y + (n * cs.M + gi * cs.Mg) * OS;
            float beta = 0.0f;
            if (B) {
                for (int64_t m = 0; m < cs.Mg; m++) {
                    float bv = B[gi * cs.Mg + m];
                    float *yr = yg + m * OS;
                    for (int64_t i = 0; i < OS; i++)
                        yr[i] = bv;
                }
                beta = 1.0f;
            }
            if (pointwise) {
                edgec__sgemm(false, false, cs.Mg, OS, K, 1.0f, wg, K, xg, g->in_size, beta, yg,
                             OS, ctx->threads);
                continue;
            }
            for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
                int64_t r1 = r0 + chunk < rows ? r0 + chunk : rows, nc = (r1 - r0) * OW;
                edgec__kc_im2col_f32(g, xg, cs.Cg, r0, r1, col, 0.0f);
                edgec__sgemm(false, false, cs.Mg, nc, K, 1.0f, wg, K, col, nc, beta,
                             yg + r0 * OW, OS, ctx->threads);
            }
        }
    }
finish:
    edgec__kc_out_f32_done(y, Y);
done:
    free(col);
    free(ox);
    free(ow);
    free(ob);
    return st;
}

/* ---- ConvTranspose ------------------------------------------------------------------- */

static edgec_status run_conv_transpose(edgec_op_ctx *ctx)
{
    const edgec_rt_tensor *x = edgec__kc_in(ctx, 0), *w = edgec__kc_in(ctx, 1);
    const edgec_rt_tensor *b = edgec__kc_in(ctx, 2);
    if (!x || !w)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "needs inputs X and W");
    if (!edgec__kc_is_float_type(x->dtype) || w->dtype != x->dtype || (b && b->dtype != x->dtype))
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "X, W and B must have one float type");
    conv_shape cs;
    edgec_status st = conv_validate(ctx, x, w, &cs);
    if (st)
        return st;
    int nsp = cs.nsp, off = KC_SP - nsp;
    if (w->dims[0] != cs.C)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "X has %lld channels but W has %lld input channels",
                              (long long)cs.C, (long long)w->dims[0]);
    if (cs.C % cs.group)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "X has %lld channels, not a multiple of group %lld",
                              (long long)cs.C, (long long)cs.group);
    cs.Cg = cs.C / cs.group;
    cs.Mg = w->dims[1];
    cs.M = cs.Mg * cs.group;
    if ((st = check_bias(ctx, b, cs.M)))
        return st;
    int64_t s[KC_SP], d[KC_SP], p[2 * KC_SP], op[KC_SP], oshape[KC_SP + 2];
    int mode;
    if ((st = read_ints(ctx, "strides", nsp, 1, 1, 1, s)) ||
        (st = read_ints(ctx, "dilations", nsp, 1, 1, 1, d)) ||
        (st = read_ints(ctx, "pads", nsp, 2, 0, 0, p)) || (st = read_auto_pad(ctx, &mode)))
        return st;
    {
        int64_t v[2 * KC_SP];
        size_t n = edgec__attr_ints(ctx->node, "output_padding", v, 2 * KC_SP);
        if (n && n != (size_t)nsp && n != (size_t)(2 * nsp))
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                                  "output_padding has %zu values for %d spatial dimensions", n,
                                  nsp);
        for (int i = 0; i < nsp; i++) {
            op[i] = n ? v[i] : 0;
            if (op[i] < 0 || op[i] >= ATTR_MAX)
                return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                                      "output_padding value %lld is out of range",
                                      (long long)op[i]);
        }
    }
    size_t nos = edgec__attr_ints(ctx->node, "output_shape", oshape, KC_SP + 2);
    if (nos && nos != (size_t)nsp && nos != (size_t)nsp + 2)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "output_shape has %zu values for %d spatial dimensions", nos, nsp);
    const int64_t *os = nos == (size_t)nsp + 2 ? oshape + 2 : oshape;
    kc_geom *g = &cs.g;
    g->nsp = nsp;
    g->in_size = g->out_size = g->k_size = 1;
    for (int i = 0; i < KC_SP; i++) {
        g->in[i] = g->k[i] = g->s[i] = g->d[i] = g->out[i] = 1;
        g->pb[i] = g->pe[i] = 0;
    }
    for (int i = 0; i < nsp; i++) {
        int j = off + i;
        int64_t in = x->dims[2 + i], k = w->dims[2 + i];
        int64_t dk = (k - 1) * d[i] + 1;
        g->in[j] = in;
        g->k[j] = k;
        g->s[j] = s[i];
        g->d[j] = d[i];
        int64_t full = s[i] * (in - 1) + op[i] + dk, out;
        if (mode == PAD_SAME_UPPER || mode == PAD_SAME_LOWER) {
            out = nos ? os[i] : in * s[i];
            int64_t total = full - out;
            int64_t half = edgec__kc_floor_div(total, 2);
            if (mode == PAD_SAME_UPPER) {
                g->pb[j] = half;
                g->pe[j] = total - half;
            } else {
                g->pb[j] = total - half;
                g->pe[j] = half;
            }
        } else {
            if (mode == PAD_NOTSET) {
                g->pb[j] = p[i];
                g->pe[j] = p[nsp + i];
            }
            out = nos ? os[i] : full - g->pb[j] - g->pe[j];
        }
        if (out < 0 || out >= ATTR_MAX)
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                                  "output size %lld in spatial dimension %d is invalid",
                                  (long long)out, i);
        g->out[j] = out;
    }
    for (int i = 0; i < KC_SP; i++) {
        if (!edgec__mul_i64(g->in_size, g->in[i], &g->in_size) ||
            !edgec__mul_i64(g->out_size, g->out[i], &g->out_size) ||
            !edgec__mul_i64(g->k_size, g->k[i], &g->k_size))
            return edgec__op_fail(ctx, EDGEC_STATUS_LIMIT, "sizes overflow");
    }
    cs.out_rank = x->rank;
    cs.out_dims[0] = cs.N;
    cs.out_dims[1] = cs.M;
    for (int i = 0; i < nsp; i++)
        cs.out_dims[2 + i] = g->out[off + i];

    const float *X, *W, *B = NULL;
    float *ox = NULL, *ow = NULL, *ob = NULL, *col = NULL;
    if ((st = edgec__kc_in_f32(ctx, 0, &X, &ox)) || (st = edgec__kc_in_f32(ctx, 1, &W, &ow)) ||
        (b && (st = edgec__kc_in_f32(ctx, 2, &B, &ob))))
        goto done;
    edgec_rt_tensor *y;
    float *Y = edgec__kc_out_f32(ctx, 0, x->dtype, cs.out_rank, cs.out_dims, &y);
    if (!Y) {
        st = EDGEC_STATUS_NO_MEMORY;
        goto done;
    }
    int64_t MK = cs.Mg * g->k_size, IS = g->in_size, OS = g->out_size;
    size_t nbytes;
    if (!edgec__mul_size((size_t)MK, (size_t)IS, &nbytes) ||
        !edgec__mul_size(nbytes, sizeof(float), &nbytes) || !(col = malloc(nbytes ? nbytes : 1))) {
        st = edgec__op_fail(ctx, EDGEC_STATUS_NO_MEMORY, "out of memory for col2im");
        goto done;
    }
    for (int64_t n = 0; n < cs.N; n++) {
        for (int64_t gi = 0; gi < cs.group; gi++) {
            const float *xg = X + (n * cs.C + gi * cs.Cg) * IS;
            const float *wg = W + gi * cs.Cg * MK;
            float *yg = Y + (n * cs.M + gi * cs.Mg) * OS;
            /* col[Mg*k, IS] = Wg^T [Mg*k, Cg] x Xg [Cg, IS] */
            edgec__sgemm(true, false, MK, IS, cs.Cg, 1.0f, wg, MK, xg, IS, 0.0f, col, IS,
                         ctx->threads);
            for (int64_t m = 0; m < cs.Mg; m++) {
                float *ym = yg + m * OS;
                float bv = B ? B[gi * cs.Mg + m] : 0.0f;
                for (int64_t i = 0; i < OS; i++)
                    ym[i] = bv;
                int64_t row = m * g->k_size;
                for (int64_t kd = 0; kd < g->k[0]; kd++)
                    for (int64_t kh = 0; kh < g->k[1]; kh++)
                        for (int64_t kw = 0; kw < g->k[2]; kw++, row++) {
                            const float *cr = col + row * IS;
                            for (int64_t id = 0; id < g->in[0]; id++) {
                                int64_t od = id * g->s[0] - g->pb[0] + kd * g->d[0];
                                if (od < 0 || od >= g->out[0])
                                    continue;
                                for (int64_t ih = 0; ih < g->in[1]; ih++) {
                                    int64_t oh = ih * g->s[1] - g->pb[1] + kh * g->d[1];
                                    if (oh < 0 || oh >= g->out[1])
                                        continue;
                                    const float *src = cr + (id * g->in[1] + ih) * g->in[2];
                                    float *dst = ym + (od * g->out[1] + oh) * g->out[2];
                                    int64_t o0 = kw * g->d[2] - g->pb[2];
                                    for (int64_t iw = 0; iw < g->in[2]; iw++) {
                                        int64_t owp = iw * g->s[2] + o0;
                                        if (owp >= 0 && owp < g->out[2])
                                            dst[owp] += src[iw];
                                    }
                                }
                            }
                        }
            }
        }
    }
    edgec__kc_out_f32_done(y, Y);
done:
    free(col);
    free(ox);
    free(ow);
    free(ob);
    return st;
}

/* ---- integer convolutions ------------------------------------------------------------ */

static bool is_8bit(int32_t dt)
{
    return dt == EDGEC_DTYPE_UINT8 || dt == EDGEC_DTYPE_INT8;
}

static inline int32_t ld8(const edgec_rt_tensor *t, int64_t i)
{
    return t->dtype == EDGEC_DTYPE_INT8 ? (int32_t)((const int8_t *)t->data)[i]
                                        : (int32_t)((const uint8_t *)t->data)[i];
}

/* acc[N, M, out] = sum (x - xz) * (w - wz[m]), exact int32. */
static edgec_status int_conv(edgec_op_ctx *ctx, const conv_shape *cs,
                             const edgec_rt_tensor *x, int32_t xz, const edgec_rt_tensor *w,
                             const edgec_rt_tensor *wz, int32_t *acc)
{
    const kc_geom *g = &cs->g;
    int64_t K = cs->Cg * g->k_size, OS = g->out_size, IS = g->in_size;
    int64_t rows = g->out[0] * g->out[1], OW = g->out[2];
    size_t ncol, nx, nw;
    if (!edgec__mul_size((size_t)K, (size_t)OS, &ncol) ||
        !edgec__mul_size((size_t)cs->Cg, (size_t)IS, &nx) ||
        !edgec__mul_size((size_t)cs->M, (size_t)K, &nw) || ncol > SIZE_MAX / 16 ||
        nx > SIZE_MAX / 16 || nw > SIZE_MAX / 16)
        return edgec__op_fail(ctx, EDGEC_STATUS_LIMIT, "sizes overflow");
    int32_t *col = malloc((ncol + nx + nw + 1) * sizeof(int32_t));
    if (!col)
        return edgec__op_fail(ctx, EDGEC_STATUS_NO_MEMORY, "out of memory for im2col");
    int32_t *xi = col + ncol, *wi = xi + nx;
    for (int64_t m = 0; m < cs->M; m++) {
        int32_t z = wz ? (int32_t)edgec__rt_get_i64(wz, wz->numel == 1 ? 0 : m) : 0;
        for (int64_t k = 0; k < K; k++)
            wi[m * K + k] = ld8(w, m * K + k) - z;
    }
    for (int64_t n = 0; n < cs->N; n++)
        for (int64_t gi = 0; gi < cs->group; gi++) {
            int64_t base = (n * cs->C + gi * cs->Cg) * IS;
            for (int64_t i = 0; i < cs->Cg * IS; i++)
                xi[i] = ld8(x, base + i) - xz;
            edgec__kc_im2col_i32(g, xi, cs->Cg, 0, rows, col);
            (void)OW;
            for (int64_t m = 0; m < cs->Mg; m++) {
                int64_t mm = gi * cs->Mg + m;
                int32_t *restrict ym = acc + (n * cs->M + mm) * OS;
                const int32_t *wm = wi + mm * K;
                for (int64_t k = 0; k < K; k++) {
                    int32_t wv = wm[k];
                    if (!wv)
                        continue;
                    const int32_t *restrict cr = col + k * OS;
                    for (int64_t i = 0; i < OS; i++)
                        ym[i] = (int32_t)((uint32_t)ym[i] + (uint32_t)(wv * cr[i]));
                }
            }
        }
    free(col);
    return EDGEC_STATUS_OK;
}

static edgec_status check_zp(const edgec_op_ctx *ctx, const edgec_rt_tensor *z, int32_t dtype,
                             int64_t n, const char *what)
{
    if (!z)
        return EDGEC_STATUS_OK;
    if (z->dtype != dtype)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "%s is %s; expected %s", what,
                              edgec__dtype(z->dtype)->name, edgec__dtype(dtype)->name);
    if (z->numel != 1 && z->numel != n)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "%s has %lld elements; expected 1 or %lld", what,
                              (long long)z->numel, (long long)n);
    return EDGEC_STATUS_OK;
}

static edgec_status run_conv_integer(edgec_op_ctx *ctx)
{
    const edgec_rt_tensor *x = edgec__kc_in(ctx, 0), *w = edgec__kc_in(ctx, 1);
    const edgec_rt_tensor *xz = edgec__kc_in(ctx, 2), *wz = edgec__kc_in(ctx, 3);
    if (!x || !w)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "needs inputs x and w");
    if (!is_8bit(x->dtype) || !is_8bit(w->dtype))
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "x and w must be int8 or uint8 (got %s and %s)",
                              edgec__dtype(x->dtype)->name, edgec__dtype(w->dtype)->name);
    conv_shape cs;
    edgec_status st = conv_fwd_shapes(ctx, x, w, &cs);
    if (st || (st = check_zp(ctx, xz, x->dtype, 1, "x_zero_point")) ||
        (st = check_zp(ctx, wz, w->dtype, cs.M, "w_zero_point")))
        return st;
    edgec_rt_tensor *y = edgec__rt_output(ctx, 0, EDGEC_DTYPE_INT32, cs.out_rank, cs.out_dims);
    if (!y)
        return EDGEC_STATUS_NO_MEMORY;
    return int_conv(ctx, &cs, x, xz ? (int32_t)edgec__rt_get_i64(xz, 0) : 0, w, wz, y->data);
}

static edgec_status run_qlinear_conv(edgec_op_ctx *ctx)
{
    const edgec_rt_tensor *x = edgec__kc_in(ctx, 0), *xs = edgec__kc_in(ctx, 1),
                          *xz = edgec__kc_in(ctx, 2), *w = edgec__kc_in(ctx, 3),
                          *ws = edgec__kc_in(ctx, 4), *wz = edgec__kc_in(ctx, 5),
                          *ys = edgec__kc_in(ctx, 6), *yz = edgec__kc_in(ctx, 7),
                          *b = edgec__kc_in(ctx, 8);
    if (!x || !xs || !w || !ws || !ys)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "x, x_scale, w, w_scale and y_scale are required");
    if (!is_8bit(x->dtype) || !is_8bit(w->dtype))
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "x and w must be int8 or uint8 (got %s and %s)",
                              edgec__dtype(x->dtype)->name, edgec__dtype(w->dtype)->name);
    if (!edgec__kc_is_float_type(xs->dtype) || !edgec__kc_is_float_type(ws->dtype) ||
        !edgec__kc_is_float_type(ys->dtype))
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "scales must be float");
    int32_t ydt = yz ? yz->dtype : EDGEC_DTYPE_UINT8;
    int64_t lo, hi;
    if (!is_8bit(ydt) || !edgec__kc_int_range(ydt, &lo, &hi))
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "y_zero_point must be 8-bit");
    conv_shape cs;
    edgec_status st = conv_fwd_shapes(ctx, x, w, &cs);
    if (st || (st = check_zp(ctx, xz, x->dtype, 1, "x_zero_point")) ||
        (st = check_zp(ctx, wz, w->dtype, cs.M, "w_zero_point")) ||
        (st = check_zp(ctx, yz, ydt, 1, "y_zero_point")))
        return st;
    if (xs->numel != 1 || ys->numel != 1 || (ws->numel != 1 && ws->numel != cs.M))
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "x_scale and y_scale must be scalars and w_scale a scalar or "
                              "one per output channel (%lld)",
                              (long long)cs.M);
    if (b && (b->dtype != EDGEC_DTYPE_INT32 || b->numel != cs.M))
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "B must be int32 with %lld elements", (long long)cs.M);
    edgec_rt_tensor *y = edgec__rt_output(ctx, 0, ydt, cs.out_rank, cs.out_dims);
    if (!y)
        return EDGEC_STATUS_NO_MEMORY;
    size_t n = (size_t)y->numel;
    int32_t *acc = calloc(n ? n : 1, sizeof(int32_t));
    if (!acc)
        return edgec__op_fail(ctx, EDGEC_STATUS_NO_MEMORY, "out of memory");
    st = int_conv(ctx, &cs, x, xz ? (int32_t)edgec__rt_get_i64(xz, 0) : 0, w, wz, acc);
    if (!st) {
        float xsv = (float)edgec__rt_get_f64(xs, 0), ysv = (float)edgec__rt_get_f64(ys, 0);
        /* Every output is divided by y_scale: a zero or non-finite one has no result. */
        if (!(ysv != 0.0f) || !isfinite(ysv)) {
            free(acc);
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                                  "y_scale is %g; it must be a non-zero finite number", (double)ysv);
        }
        int64_t yzv = yz ? edgec__rt_get_i64(yz, 0) : 0, OS = cs.g.out_size;
        for (int64_t nn = 0; nn < cs.N; nn++)
            for (int64_t m = 0; m < cs.M; m++) {
                float scale = xsv * (float)edgec__rt_get_f64(ws, ws->numel == 1 ? 0 : m) / ysv;
                int32_t bias = b ? ((const int32_t *)b->data)[m] : 0;
                int64_t base = (nn * cs.M + m) * OS;
                for (int64_t i = 0; i < OS; i++) {
                    int32_t a = (int32_t)((uint32_t)acc[base + i] + (uint32_t)bias);
                    int64_t q = edgec__kc_quantize((float)a * scale, yzv, lo, hi);
                    if (ydt == EDGEC_DTYPE_UINT8)
                        ((uint8_t *)y->data)[base + i] = (uint8_t)q;
                    else
                        ((int8_t *)y->data)[base + i] = (int8_t)q;
                }
            }
    }
    free(acc);
    return st;
}

const edgec_op edgec__ops_conv[] = {
    {"Conv", "", 1, run_conv},
    {"ConvTranspose", "", 1, run_conv_transpose},
    {"ConvInteger", "", 10, run_conv_integer},
    {"QLinearConv", "", 10, run_qlinear_conv},
    {0},
};
