/* Reductions: ReduceSum ReduceMean ReduceMax ReduceMin ReduceProd ReduceL1 ReduceL2
 * ReduceSumSquare ReduceLogSum ReduceLogSumExp, ArgMax ArgMin, TopK.
 *
 * Axes come from the `axes` attribute before opset 18 (13 for ReduceSum) and from input 1
 * after. Float types accumulate in double; integer types accumulate exactly in int64. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/kernels_b.h"

enum red { R_SUM, R_MEAN, R_MAX, R_MIN, R_PROD, R_L1, R_L2, R_SUMSQ, R_LOGSUM, R_LSE };

/* The reduction as alternating groups of merged dims: reduced groups have an output
 * stride of 0, kept groups the stride of their first element in the output. */
typedef struct plan {
    int m;
    int64_t size[EDGEC_MAX_RANK];
    int64_t ostr[EDGEC_MAX_RANK];
    bool red[EDGEC_MAX_RANK];
    int64_t numel;
} plan;

#define SUMC(a, v) ((a) + (v))
#define PRODC(a, v) ((a) * (v))
#define MAXC(a, v) (((v) > (a) || (v) != (v)) ? (v) : (a))
#define MINC(a, v) (((v) < (a) || (v) != (v)) ? (v) : (a))

#define RED_LOOP(NAME, ST, AT, COMB, IDENT)                                                             \
    static void NAME(const plan *p, const ST *x, AT *acc)                                          \
    {                                                                                              \
        int m = p->m;                                                                              \
        int64_t inner = p->size[m - 1];                                                            \
        bool ired = p->red[m - 1];                                                                 \
        int64_t blocks = p->numel / inner, cnt[EDGEC_MAX_RANK] = {0}, off = 0;                     \
        for (int64_t blk = 0; blk < blocks; blk++) {                                               \
            const ST *px = x + blk * inner;                                                        \
            if (ired) {                                                                            \
                /* four partial results in a fixed order: deterministic and not latency bound */  \
                AT a0 = acc[off], a1 = IDENT, a2 = IDENT, a3 = IDENT;                              \
                int64_t j = 0;                                                                     \
                for (; j + 4 <= inner; j += 4) {                                                   \
                    a0 = COMB(a0, (AT)px[j]);                                                      \
                    a1 = COMB(a1, (AT)px[j + 1]);                                                  \
                    a2 = COMB(a2, (AT)px[j + 2]);                                                  \
                    a3 = COMB(a3, (AT)px[j + 3]);                                                  \
                }                                                                                  \
                for (; j < inner; j++)                                                             \
                    a0 = COMB(a0, (AT)px[j]);                                                      \
                acc[off] = COMB(COMB(a0, a1), COMB(a2, a3));                                       \
            } else {                                                                               \
                AT *pa = acc + off;                                                                \
                for (int64_t j = 0; j < inner; j++)                                                \
                    pa[j] = COMB(pa[j], (AT)px[j]);                                                \
            }                                                                                      \
            for (int k = m - 2; k >= 0; k--) {                                                     \
                off += p->ostr[k];                                                                 \
                if (++cnt[k] < p->size[k])                                                         \
                    break;                                                                         \
                off -= p->ostr[k] * p->size[k];                                                    \
                cnt[k] = 0;                                                                        \
            }                                                                                      \
        }                                                                                          \
    }

RED_LOOP(sum_f, float, double, SUMC, 0)
RED_LOOP(prod_f, float, double, PRODC, 1)
RED_LOOP(max_f, float, double, MAXC, -INFINITY)
RED_LOOP(min_f, float, double, MINC, INFINITY)
RED_LOOP(sum_d, double, double, SUMC, 0)
RED_LOOP(prod_d, double, double, PRODC, 1)
RED_LOOP(max_d, double, double, MAXC, -INFINITY)
RED_LOOP(min_d, double, double, MINC, INFINITY)
RED_LOOP(sum_i, int64_t, int64_t, SUMC, 0)
RED_LOOP(max_i, int64_t, int64_t, MAXC, INT64_MIN)
RED_LOOP(min_i, int64_t, int64_t, MINC, INT64_MAX)

static void prod_i(const plan *p, const int64_t *x, int64_t *acc)
{
    /* wrap-around product without signed overflow */
    int m = p->m;
    int64_t inner = p->size[m - 1], blocks = p->numel / inner, cnt[EDGEC_MAX_RANK] = {0}, off = 0;
    bool ired = p->red[m - 1];
    for (int64_t blk = 0; blk < blocks; blk++) {
        const int64_t *px = x + blk * inner;
        for (int64_t j = 0; j < inner; j++) {
            int64_t *a = &acc[off + (ired ? 0 : j)];
            *a = (int64_t)((uint64_t)*a * (uint64_t)px[j]);
        }
        for (int k = m - 2; k >= 0; k--) {
            off += p->ostr[k];
            if (++cnt[k] < p->size[k])
                break;
            off -= p->ostr[k] * p->size[k];
            cnt[k] = 0;
        }
    }
}

static edgec_status unsupported(const edgec_op_ctx *ctx, int32_t dt)
{
    return edgec__op_fail(ctx, EDGEC_STATUS_UNSUPPORTED, "data type %s is not supported",
                          edgec__dtype(dt)->name);
}

static edgec_status reduce(edgec_op_ctx *ctx, enum red kind)
{
    edgec_status st = edgec__kb_need_inputs(ctx, 1);
    if (st)
        return st;
    const edgec_rt_tensor *x = ctx->inputs[0];
    int32_t dt = x->dtype;
    bool isf = edgec__kb_is_float(dt);
    if (!isf && !edgec__kb_is_int(dt) && dt != EDGEC_DTYPE_BOOL)
        return unsupported(ctx, dt);
    int64_t axes_from = !strcmp(ctx->node->op_type, "ReduceSum") ? 13 : 18;
    int64_t axes[EDGEC_MAX_RANK * 2];
    size_t na = 0;
    bool have_axes = false;
    if (ctx->opset >= axes_from) {
        const edgec_rt_tensor *ta = edgec__kb_in(ctx, 1);
        if (ta) {
            if ((st = edgec__kb_read_ints(ctx, ta, "axes", axes, EDGEC_MAX_RANK * 2, &na)))
                return st;
            have_axes = na > 0;
        }
    } else {
        const edgec_attr *a = edgec__node_attr(ctx->node, "axes");
        if (a && a->type == EDGEC_ATTR_INTS) {
            if (a->n > EDGEC_MAX_RANK * 2)
                return edgec__op_fail(ctx, EDGEC_STATUS_LIMIT, "too many axes");
            na = edgec__attr_ints(ctx->node, "axes", axes, EDGEC_MAX_RANK * 2);
            have_axes = na > 0;
        }
    }
    bool keep = edgec__attr_int(ctx->node, "keepdims", 1) != 0;
    bool noop = edgec__attr_int(ctx->node, "noop_with_empty_axes", 0) != 0;
    if (!have_axes && noop && ctx->opset >= axes_from)
        return edgec__kb_output_copy(ctx, 0, x, x->rank, x->dims);
    bool red[EDGEC_MAX_RANK];
    for (int32_t i = 0; i < x->rank; i++)
        red[i] = !have_axes;
    for (size_t i = 0; i < na; i++) {
        int32_t a = 0;
        if ((st = edgec__kb_axis(ctx, axes[i], x->rank, false, &a)))
            return st;
        red[a] = true;
    }
    int64_t od[EDGEC_MAX_RANK], count = 1;
    int32_t orank = 0;
    for (int32_t i = 0; i < x->rank; i++) {
        if (red[i]) {
            count *= x->dims[i];
            if (keep)
                od[orank++] = 1;
        } else {
            od[orank++] = x->dims[i];
        }
    }
    edgec_rt_tensor *o = edgec__rt_output(ctx, 0, dt, orank, od);
    if (!o)
        return EDGEC_STATUS_NO_MEMORY;
    int64_t on = o->numel;
    if (!on)
        return EDGEC_STATUS_OK;

    /* plan: merge dims of the same kind, dropping unit dims */
    plan p = {0};
    p.numel = x->numel;
    for (int32_t i = 0; i < x->rank; i++) {
        if (x->dims[i] == 1)
            continue;
        if (p.m > 0 && p.red[p.m - 1] == red[i]) {
            p.size[p.m - 1] *= x->dims[i];
        } else {
            p.size[p.m] = x->dims[i];
            p.red[p.m] = red[i];
            p.m++;
        }
    }
    if (p.m == 0) {
        p.m = 1;
        p.size[0] = 1;
        p.red[0] = false;
    }
    int64_t s = 1;
    for (int k = p.m - 1; k >= 0; k--) {
        p.ostr[k] = p.red[k] ? 0 : s;
        if (!p.red[k])
            s *= p.size[k];
    }

    bool intpath = !isf && (kind == R_SUM || kind == R_MEAN || kind == R_MAX || kind == R_MIN ||
                            kind == R_PROD || kind == R_L1 || kind == R_SUMSQ);
    void *acc = calloc((size_t)on, 8);
    void *src = NULL; /* converted / transformed input */
    if (!acc)
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
    if (intpath) {
        int64_t *ai = acc, init = kind == R_PROD ? 1 : kind == R_MAX ? INT64_MIN
                                                  : kind == R_MIN    ? INT64_MAX
                                                                     : 0;
        for (int64_t i = 0; i < on; i++)
            ai[i] = init;
        int64_t *xi = malloc((size_t)(x->numel ? x->numel : 1) * 8);
        if (!xi) {
            free(acc);
            return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
        }
        bool uns = dt == EDGEC_DTYPE_UINT64;
        for (int64_t i = 0; i < x->numel; i++) {
            int64_t v = edgec__rt_get_i64(x, i);
            if (kind == R_L1)
                v = v < 0 && !uns ? (int64_t)(0 - (uint64_t)v) : v;
            else if (kind == R_SUMSQ)
                v = (int64_t)((uint64_t)v * (uint64_t)v);
            xi[i] = v;
        }
        if (x->numel) {
            if (kind == R_MAX)
                max_i(&p, xi, ai);
            else if (kind == R_MIN)
                min_i(&p, xi, ai);
            else if (kind == R_PROD)
                prod_i(&p, xi, ai);
            else
                sum_i(&p, xi, ai);
        }
        free(xi);
        for (int64_t i = 0; i < on; i++) {
            int64_t v = ai[i];
            if (kind == R_MEAN)
                v = count ? v / count : 0;
            edgec__kb_set_i64(o, i, v);
        }
        free(acc);
        return EDGEC_STATUS_OK;
    }

    double *ad = acc;
    double init = kind == R_PROD ? 1.0 : kind == R_MAX || kind == R_LSE ? -INFINITY
                                     : kind == R_MIN                    ? INFINITY
                                                                        : 0.0;
    for (int64_t i = 0; i < on; i++)
        ad[i] = init;
    bool direct = dt == EDGEC_DTYPE_FLOAT && (kind == R_SUM || kind == R_MEAN || kind == R_MAX ||
                                              kind == R_MIN || kind == R_PROD || kind == R_LOGSUM);
    if (direct) {
        if (x->numel) {
            const float *xf = x->data;
            if (kind == R_MAX)
                max_f(&p, xf, ad);
            else if (kind == R_MIN)
                min_f(&p, xf, ad);
            else if (kind == R_PROD)
                prod_f(&p, xf, ad);
            else
                sum_f(&p, xf, ad);
        }
    } else {
        double *xd = malloc((size_t)(x->numel ? x->numel : 1) * 8);
        src = xd;
        if (!xd) {
            free(acc);
            return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
        }
        for (int64_t i = 0; i < x->numel; i++)
            xd[i] = edgec__rt_get_f64(x, i);
        if (kind == R_LSE && x->numel) {
            /* max per output, broadcast back over the input, then sum of exp(x - max) */
            max_d(&p, xd, ad);
            double *mb = malloc((size_t)x->numel * 8);
            if (!mb) {
                free(acc);
                free(xd);
                return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
            }
            int64_t vs[EDGEC_MAX_RANK], vd[EDGEC_MAX_RANK];
            for (int k = 0; k < p.m; k++)
                vd[k] = p.size[k], vs[k] = p.ostr[k];
            for (int64_t i = 0; i < on; i++)
                if (!isfinite(ad[i]))
                    ad[i] = 0;
            edgec__kb_strided_copy(mb, ad, 8, p.m, vd, vs);
            for (int64_t i = 0; i < x->numel; i++)
                xd[i] = exp(xd[i] - mb[i]);
            free(mb);
            double *sh = malloc((size_t)on * 8);
            if (!sh) {
                free(acc);
                free(xd);
                return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
            }
            memcpy(sh, ad, (size_t)on * 8);
            for (int64_t i = 0; i < on; i++)
                ad[i] = 0;
            sum_d(&p, xd, ad);
            for (int64_t i = 0; i < on; i++)
                ad[i] = sh[i] + log(ad[i]);
            free(sh);
        } else if (kind != R_LSE) {
            if (kind == R_L1)
                for (int64_t i = 0; i < x->numel; i++)
                    xd[i] = fabs(xd[i]);
            else if (kind == R_L2 || kind == R_SUMSQ)
                for (int64_t i = 0; i < x->numel; i++)
                    xd[i] *= xd[i];
            if (x->numel) {
                if (kind == R_MAX)
                    max_d(&p, xd, ad);
                else if (kind == R_MIN)
                    min_d(&p, xd, ad);
                else if (kind == R_PROD)
                    prod_d(&p, xd, ad);
                else
                    sum_d(&p, xd, ad);
            }
        }
    }
    for (int64_t i = 0; i < on; i++) {
        double v = ad[i];
        switch (kind) {
        case R_MEAN:
            v = v / (double)count;
            break;
        case R_L2:
            v = sqrt(v);
            break;
        case R_LOGSUM:
            v = log(v);
            break;
        default:
            break;
        }
        if (isf)
            edgec__rt_set_f64(o, i, v);
        else
            edgec__kb_set_i64(o, i, v != v ? 0 : (int64_t)v);
    }
    free(src);
    free(acc);
    return EDGEC_STATUS_OK;
}

#define REDUCE_OP(NAME, KIND)                                                                      \
    static edgec_status NAME(edgec_op_ctx *ctx) { return reduce(ctx, KIND); }
REDUCE_OP(op_reduce_sum, R_SUM)
REDUCE_OP(op_reduce_mean, R_MEAN)
REDUCE_OP(op_reduce_max, R_MAX)
REDUCE_OP(op_reduce_min, R_MIN)
REDUCE_OP(op_reduce_prod, R_PROD)
REDUCE_OP(op_reduce_l1, R_L1)
REDUCE_OP(op_reduce_l2, R_L2)
REDUCE_OP(op_reduce_sum_square, R_SUMSQ)
REDUCE_OP(op_reduce_log_sum, R_LOGSUM)
REDUCE_OP(op_reduce_log_sum_exp, R_LSE)

/* ---------------------------------------------------------------- ArgMax / ArgMin */

static edgec_status arg_reduce(edgec_op_ctx *ctx, bool is_max)
{
    edgec_status st = edgec__kb_need_inputs(ctx, 1);
    if (st)
        return st;
    const edgec_rt_tensor *x = ctx->inputs[0];
    if (!edgec__kb_is_numeric(x->dtype))
        return unsupported(ctx, x->dtype);
    int32_t axis = 0;
    if ((st = edgec__kb_axis(ctx, edgec__attr_int(ctx->node, "axis", 0), x->rank > 0 ? x->rank : 1,
                             false, &axis)))
        return st;
    bool keep = edgec__attr_int(ctx->node, "keepdims", 1) != 0;
    bool last = edgec__attr_int(ctx->node, "select_last_index", 0) != 0;
    int64_t outer = 1, n = x->rank ? x->dims[axis] : 1, inner = 1, od[EDGEC_MAX_RANK];
    int32_t orank = 0;
    for (int32_t i = 0; i < x->rank; i++) {
        if (i < axis)
            outer *= x->dims[i];
        else if (i > axis)
            inner *= x->dims[i];
        if (i == axis) {
            if (keep)
                od[orank++] = 1;
        } else {
            od[orank++] = x->dims[i];
        }
    }
    if (n == 0 && outer * inner > 0)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "cannot reduce an empty axis");
    edgec_rt_tensor *o = edgec__rt_output(ctx, 0, EDGEC_DTYPE_INT64, orank, od);
    if (!o)
        return EDGEC_STATUS_NO_MEMORY;
    int64_t *po = o->data;
    bool f32 = x->dtype == EDGEC_DTYPE_FLOAT;
    if (x->dtype == EDGEC_DTYPE_INT64 || x->dtype == EDGEC_DTYPE_UINT64) {
        bool u = x->dtype == EDGEC_DTYPE_UINT64;
        const int64_t *px = x->data;
        for (int64_t a = 0; a < outer; a++)
            for (int64_t b = 0; b < inner; b++) {
                int64_t base = a * n * inner + b, best = 0, bv = px[base];
                for (int64_t i = 1; i < n; i++) {
                    int64_t v = px[base + i * inner];
                    bool gt = u ? (uint64_t)v > (uint64_t)bv : v > bv;
                    bool lt = u ? (uint64_t)v < (uint64_t)bv : v < bv;
                    bool better = is_max ? (gt || (last && v == bv)) : (lt || (last && v == bv));
                    if (better) {
                        bv = v;
                        best = i;
                    }
                }
                po[a * inner + b] = best;
            }
        return EDGEC_STATUS_OK;
    }
    for (int64_t a = 0; a < outer; a++)
        for (int64_t b = 0; b < inner; b++) {
            int64_t base = a * n * inner + b, best = 0;
            double bv = f32 ? ((const float *)x->data)[base] : edgec__rt_get_f64(x, base);
            for (int64_t i = 1; i < n; i++) {
                int64_t idx = base + i * inner;
                double v = f32 ? ((const float *)x->data)[idx] : edgec__rt_get_f64(x, idx);
                bool better = is_max ? (last ? v >= bv : v > bv) : (last ? v <= bv : v < bv);
                if (better) {
                    bv = v;
                    best = i;
                }
            }
            po[a * inner + b] = best;
        }
    return EDGEC_STATUS_OK;
}

static edgec_status op_argmax(edgec_op_ctx *ctx) { return arg_reduce(ctx, true); }
static edgec_status op_argmin(edgec_op_ctx *ctx) { return arg_reduce(ctx, false); }

/* ---------------------------------------------------------------- TopK */

/* Stable merge sort of `idx` (n entries) by the key `v[idx]`, descending when `desc`;
 * equal keys keep their order, so ties go to the lower index. NaN sorts as largest. */
static inline bool key_before(double a, double b, bool desc)
{
    if (a != a)
        return desc && b == b;
    if (b != b)
        return !desc;
    return desc ? a > b : a < b;
}

static void merge_sort(int64_t *idx, int64_t *tmp, int64_t n, const double *v, bool desc)
{
    for (int64_t w = 1; w < n; w *= 2) {
        for (int64_t lo = 0; lo < n; lo += 2 * w) {
            int64_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            int64_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                tmp[k++] = key_before(v[idx[j]], v[idx[i]], desc) ? idx[j++] : idx[i++];
            while (i < mid)
                tmp[k++] = idx[i++];
            while (j < hi)
                tmp[k++] = idx[j++];
        }
        memcpy(idx, tmp, (size_t)n * sizeof *idx);
    }
}

static edgec_status op_topk(edgec_op_ctx *ctx)
{
    edgec_status st = edgec__kb_need_inputs(ctx, ctx->opset >= 10 ? 2 : 1);
    if (st)
        return st;
    const edgec_rt_tensor *x = ctx->inputs[0];
    if (!edgec__kb_is_float(x->dtype) && !edgec__kb_is_int(x->dtype))
        return unsupported(ctx, x->dtype);
    if (x->rank == 0)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "input must have rank >= 1");
    int32_t axis = 0;
    if ((st = edgec__kb_axis(ctx, edgec__attr_int(ctx->node, "axis", -1), x->rank, false, &axis)))
        return st;
    int64_t k;
    if (ctx->opset >= 10) {
        const edgec_rt_tensor *tk = ctx->inputs[1];
        if (tk->numel != 1 || (tk->dtype != EDGEC_DTYPE_INT64 && tk->dtype != EDGEC_DTYPE_INT32))
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "K must be one int64 value");
        k = edgec__rt_get_i64(tk, 0);
    } else {
        k = edgec__attr_int(ctx->node, "k", -1);
    }
    int64_t n = x->dims[axis];
    if (k < 0 || k > n)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "k = %lld is out of range [0, %lld]",
                              (long long)k, (long long)n);
    bool largest = edgec__attr_int(ctx->node, "largest", 1) != 0;
    int64_t od[EDGEC_MAX_RANK], outer = 1, inner = 1;
    for (int32_t i = 0; i < x->rank; i++) {
        od[i] = i == axis ? k : x->dims[i];
        if (i < axis)
            outer *= x->dims[i];
        else if (i > axis)
            inner *= x->dims[i];
    }
    edgec_rt_tensor *ov = edgec__rt_output(ctx, 0, x->dtype, x->rank, od);
    if (!ov)
        return EDGEC_STATUS_NO_MEMORY;
    edgec_rt_tensor *oi = NULL;
    if (edgec__kb_want_output(ctx, 1)) {
        oi = edgec__rt_output(ctx, 1, EDGEC_DTYPE_INT64, x->rank, od);
        if (!oi)
            return EDGEC_STATUS_NO_MEMORY;
    }
    if (k == 0 || outer * inner == 0)
        return EDGEC_STATUS_OK;
    double *v = malloc((size_t)n * sizeof *v);
    int64_t *idx = malloc((size_t)n * sizeof *idx), *tmp = malloc((size_t)n * sizeof *tmp);
    if (!v || !idx || !tmp) {
        free(v), free(idx), free(tmp);
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
    }
    bool exact_int = x->dtype == EDGEC_DTYPE_INT64 || x->dtype == EDGEC_DTYPE_UINT64;
    for (int64_t a = 0; a < outer; a++)
        for (int64_t b = 0; b < inner; b++) {
            int64_t base = a * n * inner + b;
            for (int64_t i = 0; i < n; i++) {
                v[i] = edgec__rt_get_f64(x, base + i * inner);
                idx[i] = i;
            }
            merge_sort(idx, tmp, n, v, largest);
            /* int64 values that collide as doubles: re-sort ties exactly (rare) */
            if (exact_int) {
                for (int64_t i = 1; i < n; i++) {
                    int64_t j = i;
                    while (j > 0 && v[idx[j]] == v[idx[j - 1]]) {
                        int64_t p = edgec__rt_get_i64(x, base + idx[j - 1] * inner);
                        int64_t q = edgec__rt_get_i64(x, base + idx[j] * inner);
                        bool swap = largest ? q > p : q < p;
                        if (!swap)
                            break;
                        int64_t t = idx[j];
                        idx[j] = idx[j - 1];
                        idx[j - 1] = t;
                        j--;
                    }
                }
            }
            int64_t obase = a * k * inner + b;
            size_t es = edgec__kb_esize(x->dtype);
            for (int64_t i = 0; i < k; i++) {
                memcpy((char *)ov->data + (size_t)(obase + i * inner) * es,
                       (const char *)x->data + (size_t)(base + idx[i] * inner) * es, es);
                if (oi)
                    ((int64_t *)oi->data)[obase + i * inner] = idx[i];
            }
        }
    free(v), free(idx), free(tmp);
    return EDGEC_STATUS_OK;
}

const edgec_op edgec__ops_reduce[] = {
    {"ReduceSum", "", 1, op_reduce_sum},
    {"ReduceMean", "", 1, op_reduce_mean},
    {"ReduceMax", "", 1, op_reduce_max},
    {"ReduceMin", "", 1, op_reduce_min},
    {"ReduceProd", "", 1, op_reduce_prod},
    {"ReduceL1", "", 1, op_reduce_l1},
    {"ReduceL2", "", 1, op_reduce_l2},
    {"ReduceSumSquare", "", 1, op_reduce_sum_square},
    {"ReduceLogSum", "", 1, op_reduce_log_sum},
    {"ReduceLogSumExp", "", 1, op_reduce_log_sum_exp},
    {"ArgMax", "", 1, op_argmax},
    {"ArgMin", "", 1, op_argmin},
    {"TopK", "", 1, op_topk},
    {0},
};
