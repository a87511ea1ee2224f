/* Linear algebra: MatMul, Gemm, MatMulInteger, QLinearMatMul; and the float view helpers
 * the other compute families share (kernels_c.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/kernels_c.h"

/* ---- shared helpers ---------------------------------------------------------------- */

edgec_status edgec__kc_in_f32(const edgec_op_ctx *ctx, size_t i, const float **p, float **own)
{
    *own = NULL;
    *p = NULL;
    const edgec_rt_tensor *t = i < ctx->n_inputs ? ctx->inputs[i] : NULL;
    if (!t)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "input %zu is missing", i);
    if (t->dtype == EDGEC_DTYPE_FLOAT) {
        *p = t->data;
        return EDGEC_STATUS_OK;
    }
    if (!edgec__kc_is_float_type(t->dtype))
        return edgec__op_fail(ctx, EDGEC_STATUS_UNSUPPORTED,
                              "input %zu has type %s; this op runs on float tensors", i,
                              edgec__dtype(t->dtype)->name);
    float *b = malloc((size_t)(t->numel ? t->numel : 1) * sizeof(float));
    if (!b)
        return edgec__op_fail(ctx, EDGEC_STATUS_NO_MEMORY, "out of memory converting input %zu",
                              i);
    for (int64_t k = 0; k < t->numel; k++)
        b[k] = (float)edgec__rt_get_f64(t, k);
    *own = b;
    *p = b;
    return EDGEC_STATUS_OK;
}

float *edgec__kc_out_f32(edgec_op_ctx *ctx, size_t i, int32_t dtype, int32_t rank,
                         const int64_t *dims, edgec_rt_tensor **t)
{
    *t = edgec__rt_output(ctx, i, dtype, rank, dims);
    if (!*t)
        return NULL;
    if (dtype == EDGEC_DTYPE_FLOAT)
        return (*t)->data;
    float *b = calloc((size_t)((*t)->numel ? (*t)->numel : 1), sizeof(float));
    if (!b)
        edgec__op_fail(ctx, EDGEC_STATUS_NO_MEMORY, "out of memory for output %zu", i);
    return b;
}

void edgec__kc_out_f32_done(edgec_rt_tensor *t, float *buf)
{
    if (!t || !buf || buf == t->data)
        return;
    for (int64_t k = 0; k < t->numel; k++)
        edgec__rt_set_f64(t, k, buf[k]);
    free(buf);
}

bool edgec__kc_int_range(int32_t dtype, int64_t *lo, int64_t *hi)
{
    switch (dtype) {
    case EDGEC_DTYPE_UINT8:
        *lo = 0, *hi = 255;
        return true;
    case EDGEC_DTYPE_INT8:
        *lo = -128, *hi = 127;
        return true;
    case EDGEC_DTYPE_UINT16:
        *lo = 0, *hi = 65535;
        return true;
    case EDGEC_DTYPE_INT16:
        *lo = -32768, *hi = 32767;
        return true;
    case EDGEC_DTYPE_INT32:
        *lo = INT32_MIN, *hi = INT32_MAX;
        return true;
    case EDGEC_DTYPE_UINT4:
        *lo = 0, *hi = 15;
        return true;
    case EDGEC_DTYPE_INT4:
        *lo = -8, *hi = 7;
        return true;
    default:
        return false;
    }
}

/* ---- batched matrix product planning (numpy matmul semantics) ---------------------- */

typedef struct mm_plan {
    int64_t M, K, N;
    int32_t out_rank;
    int64_t out_dims[EDGEC_MAX_RANK];
    int32_t brank;                     /* broadcast batch rank */
    int64_t bdims[EDGEC_MAX_RANK];     /* broadcast batch dims */
    int64_t astr[EDGEC_MAX_RANK];      /* A batch strides in matrices (0: broadcast) */
    int64_t bstr[EDGEC_MAX_RANK];
    int64_t batches;
    bool a_vec, b_vec;
} mm_plan;

static edgec_status mm_prepare(const edgec_op_ctx *ctx, const edgec_rt_tensor *a,
                               const edgec_rt_tensor *b, mm_plan *p)
{
    memset(p, 0, sizeof *p);
    if (a->rank < 1 || b->rank < 1)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "inputs must have rank >= 1 (got %d and %d)", (int)a->rank,
                              (int)b->rank);
    int64_t ad[EDGEC_MAX_RANK + 1], bd[EDGEC_MAX_RANK + 1];
    int32_t ar = a->rank, br = b->rank;
    memcpy(ad, a->dims, sizeof(int64_t) * (size_t)ar);
    memcpy(bd, b->dims, sizeof(int64_t) * (size_t)br);
    if (ar == 1) {
        ad[1] = ad[0];
        ad[0] = 1;
        ar = 2;
        p->a_vec = true;
    }
    if (br == 1) {
        bd[1] = 1;
        br = 2;
        p->b_vec = true;
    }
    p->M = ad[ar - 2];
    p->K = ad[ar - 1];
    p->N = bd[br - 1];
    if (bd[br - 2] != p->K)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "inner dimensions differ: A has %lld columns, B has %lld rows",
                              (long long)p->K, (long long)bd[br - 2]);
    int32_t abr = ar - 2, bbr = br - 2;
    if (!edgec__broadcast_shape(abr, ad, bbr, bd, &p->brank, p->bdims))
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "batch dimensions of A and B do not broadcast");
    /* strides in matrices, right-aligned */
    int64_t sa = 1, sb = 1;
    for (int32_t i = p->brank - 1; i >= 0; i--) {
        int32_t ia = i - (p->brank - abr), ib = i - (p->brank - bbr);
        int64_t da = ia >= 0 ? ad[ia] : 1, db = ib >= 0 ? bd[ib] : 1;
        p->astr[i] = da == 1 ? 0 : sa;
        p->bstr[i] = db == 1 ? 0 : sb;
        sa *= da;
        sb *= db;
    }
    p->batches = 1;
    for (int32_t i = 0; i < p->brank; i++)
        p->batches *= p->bdims[i];
    int32_t r = 0;
    for (int32_t i = 0; i < p->brank; i++)
        p->out_dims[r++] = p->bdims[i];
    if (!p->a_vec)
        p->out_dims[r++] = p->M;
    if (!p->b_vec)
        p->out_dims[r++] = p->N;
    p->out_rank = r;
    return EDGEC_STATUS_OK;
}

/* Matrix offsets (in matrices) of A and B for output batch `idx`. */
static void mm_offsets(const mm_plan *p, int64_t idx, int64_t *oa, int64_t *ob)
{
    int64_t a = 0, b = 0;
    for (int32_t i = p->brank - 1; i >= 0; i--) {
        int64_t c = idx % p->bdims[i];
        idx /= p->bdims[i];
        a += c * p->astr[i];
        b += c * p->bstr[i];
    }
    *oa = a;
    *ob = b;
}

/* ---- MatMul ------------------------------------------------------------------------- */

static edgec_status run_matmul(edgec_op_ctx *ctx)
{
    const edgec_rt_tensor *a = edgec__kc_in(ctx, 0), *b = edgec__kc_in(ctx, 1);
    if (!a || !b)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "needs inputs A and B");
    if (a->dtype != b->dtype)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "A is %s but B is %s",
                              edgec__dtype(a->dtype)->name, edgec__dtype(b->dtype)->name);
    mm_plan p;
    edgec_status st = mm_prepare(ctx, a, b, &p);
    if (st)
        return st;
    int64_t M = p.M, K = p.K, N = p.N;
    if (edgec__kc_is_float_type(a->dtype) && a->dtype != EDGEC_DTYPE_DOUBLE) {
        const float *A, *B;
        float *ownA = NULL, *ownB = NULL;
        edgec_rt_tensor *y;
        if ((st = edgec__kc_in_f32(ctx, 0, &A, &ownA)) || (st = edgec__kc_in_f32(ctx, 1, &B, &ownB))) {
            free(ownA);
            free(ownB);
            return st;
        }
        float *Y = edgec__kc_out_f32(ctx, 0, a->dtype, p.out_rank, p.out_dims, &y);
        if (!Y) {
            free(ownA);
            free(ownB);
            return y ? EDGEC_STATUS_NO_MEMORY : EDGEC_STATUS_NO_MEMORY;
        }
        bool b_shared = true, a_contig = true;
        for (int32_t i = 0; i < p.brank; i++) {
            if (p.bstr[i] != 0)
                b_shared = false;
        }
        /* A's batches are contiguous in output order when A is not broadcast. */
        {
            int64_t s = 1;
            for (int32_t i = p.brank - 1; i >= 0; i--) {
                if (p.bdims[i] != 1 && p.astr[i] != s)
                    a_contig = false;
                s *= p.bdims[i];
            }
        }
        if (M * N > 0) {
            if (b_shared && a_contig) {
                /* one product: [batches*M, K] x [K, N] */
                edgec__sgemm(false, false, p.batches * M, N, K, 1.0f, A, K, B, N, 0.0f, Y, N,
                             ctx->threads);
            } else {
                for (int64_t bi = 0; bi < p.batches; bi++) {
                    int64_t oa, ob;
                    mm_offsets(&p, bi, &oa, &ob);
                    edgec__sgemm(false, false, M, N, K, 1.0f, A + oa * M * K, K, B + ob * K * N,
                                 N, 0.0f, Y + bi * M * N, N, ctx->threads);
                }
            }
        }
        edgec__kc_out_f32_done(y, Y);
        free(ownA);
        free(ownB);
        return EDGEC_STATUS_OK;
    }
    int32_t dt = a->dtype;
    bool is_double = dt == EDGEC_DTYPE_DOUBLE;
    if (!is_double && dt != EDGEC_DTYPE_INT32 && dt != EDGEC_DTYPE_INT64 &&
        dt != EDGEC_DTYPE_UINT32 && dt != EDGEC_DTYPE_UINT64)
        return edgec__op_fail(ctx, EDGEC_STATUS_UNSUPPORTED, "MatMul on %s tensors",
                              edgec__dtype(dt)->name);
    edgec_rt_tensor *y = edgec__rt_output(ctx, 0, dt, p.out_rank, p.out_dims);
    if (!y)
        return EDGEC_STATUS_NO_MEMORY;
    for (int64_t bi = 0; bi < p.batches; bi++) {
        int64_t oa, ob;
        mm_offsets(&p, bi, &oa, &ob);
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) {
                double sd = 0;
                int64_t si = 0;
                for (int64_t k = 0; k < K; k++) {
                    int64_t ia = oa * M * K + i * K + k, ib = ob * K * N + k * N + j;
                    if (is_double)
                        sd += ((const double *)a->data)[ia] * ((const double *)b->data)[ib];
                    else
                        si = (int64_t)((uint64_t)si + (uint64_t)edgec__rt_get_i64(a, ia) *
                                                          (uint64_t)edgec__rt_get_i64(b, ib));
                }
                int64_t o = bi * M * N + i * N + j;
                if (is_double)
                    ((double *)y->data)[o] = sd;
                else if (dt == EDGEC_DTYPE_INT32 || dt == EDGEC_DTYPE_UINT32)
                    ((uint32_t *)y->data)[o] = (uint32_t)si;
                else
                    ((int64_t *)y->data)[o] = si;
            }
    }
    return EDGEC_STATUS_OK;
}

/* ---- Gemm --------------------------------------------------------------------------- */

static edgec_status run_gemm(edgec_op_ctx *ctx)
{
    const edgec_rt_tensor *a = edgec__kc_in(ctx, 0), *b = edgec__kc_in(ctx, 1);
    const edgec_rt_tensor *c = edgec__kc_in(ctx, 2);
    if (!a || !b)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "needs inputs A and B");
    if (a->rank != 2 || b->rank != 2)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "A and B must be 2-D (got rank %d and %d)", (int)a->rank,
                              (int)b->rank);
    if (!edgec__kc_is_float_type(a->dtype))
        return edgec__op_fail(ctx, EDGEC_STATUS_UNSUPPORTED, "Gemm on %s tensors",
                              edgec__dtype(a->dtype)->name);
    bool ta = edgec__attr_int(ctx->node, "transA", 0) != 0;
    bool tb = edgec__attr_int(ctx->node, "transB", 0) != 0;
    float alpha = edgec__attr_float(ctx->node, "alpha", 1.0f);
    float beta = edgec__attr_float(ctx->node, "beta", 1.0f);
    int64_t M = ta ? a->dims[1] : a->dims[0], K = ta ? a->dims[0] : a->dims[1];
    int64_t Kb = tb ? b->dims[1] : b->dims[0], N = tb ? b->dims[0] : b->dims[1];
    if (K != Kb)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "inner dimensions differ: op(A) is %lldx%lld, op(B) is %lldx%lld",
                              (long long)M, (long long)K, (long long)Kb, (long long)N);
    if (c) {
        int64_t cd[2] = {1, 1};
        if (c->rank > 2)
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "C has rank %d, over 2",
                                  (int)c->rank);
        for (int32_t i = 0; i < c->rank; i++)
            cd[2 - c->rank + i] = c->dims[i];
        if ((cd[0] != 1 && cd[0] != M) || (cd[1] != 1 && cd[1] != N))
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                                  "C does not broadcast to the %lldx%lld output", (long long)M,
                                  (long long)N);
    }
    const float *A, *B, *Cp = NULL;
    float *oa = NULL, *ob = NULL, *oc = NULL;
    edgec_status st;
    if ((st = edgec__kc_in_f32(ctx, 0, &A, &oa)) || (st = edgec__kc_in_f32(ctx, 1, &B, &ob)) ||
        (c && (st = edgec__kc_in_f32(ctx, 2, &Cp, &oc))))
        goto done;
    int64_t dims[2] = {M, N};
    edgec_rt_tensor *y;
    float *Y = edgec__kc_out_f32(ctx, 0, a->dtype, 2, dims, &y);
    if (!Y) {
        st = EDGEC_STATUS_NO_MEMORY;
        goto done;
    }
    float gb = 0.0f;
    if (c && beta != 0.0f && M * N > 0) {
        int64_t cr = c->rank == 2 ? c->dims[0] : 1, cc = c->rank >= 1 ? c->dims[c->rank - 1] : 1;
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++)
                Y[i * N + j] = Cp[(cr == 1 ? 0 : i) * cc + (cc == 1 ? 0 : j)];
        gb = beta;
    }
    edgec__sgemm(ta, tb, M, N, K, alpha, A, a->dims[1], B, b->dims[1], gb, Y, N, ctx->threads);
    edgec__kc_out_f32_done(y, Y);
done:
    free(oa);
    free(ob);
    free(oc);
    return st;
}

/* ---- integer products ---------------------------------------------------------------- */

static bool is_8bit(int32_t dt)
{
    return dt == EDGEC_DTYPE_UINT8 || dt == EDGEC_DTYPE_INT8;
}

/* Zero point / scale indexing: a tensor that is a scalar (numel 1) applies to all; else it
 * must have `n` elements (per row of A or per column of B). For batched inputs a zero
 * point may also be [batch..., M, 1] / [batch..., 1, N]; we accept numel == n only and
 * numel == batches * n. */
static edgec_status check_param(const edgec_op_ctx *ctx, const edgec_rt_tensor *t, int64_t n,
                                int64_t batches, const char *what)
{
    if (!t || t->numel == 1 || t->numel == n || t->numel == n * batches)
        return EDGEC_STATUS_OK;
    return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                          "%s has %lld elements; expected 1 or %lld", what, (long long)t->numel,
                          (long long)n);
}

static inline int32_t param_i(const edgec_rt_tensor *t, int64_t bi, int64_t n, int64_t i)
{
    if (!t)
        return 0;
    if (t->numel == 1)
        return (int32_t)edgec__rt_get_i64(t, 0);
    if (t->numel == n)
        return (int32_t)edgec__rt_get_i64(t, i);
    return (int32_t)edgec__rt_get_i64(t, bi * n + i);
}

static inline float param_f(const edgec_rt_tensor *t, int64_t bi, int64_t n, int64_t i)
{
    if (t->numel == 1)
        return (float)edgec__rt_get_f64(t, 0);
    if (t->numel == n)
        return (float)edgec__rt_get_f64(t, i);
    return (float)edgec__rt_get_f64(t, bi * n + i);
}

/* acc[M,N] = sum_k (A[i,k]-za[i]) * (B[k,j]-zb[j]) for one batch, int32 accumulation. */
static void int_mm(const mm_plan *p, const edgec_rt_tensor *a, const edgec_rt_tensor *b,
                   int64_t oa, int64_t ob, const edgec_rt_tensor *za, const edgec_rt_tensor *zb,
                   int64_t bi, int32_t *acc, int32_t *rowbuf, int32_t *zbv)
{
    int64_t M = p->M, K = p->K, N = p->N;
    bool as = a->dtype == EDGEC_DTYPE_INT8, bs = b->dtype == EDGEC_DTYPE_INT8;
    const uint8_t *ab = (const uint8_t *)a->data + oa * M * K;
    const uint8_t *bb = (const uint8_t *)b->data + ob * K * N;
    for (int64_t j = 0; j < N; j++)
        zbv[j] = param_i(zb, bi, N, j);
    for (int64_t i = 0; i < M; i++) {
        int32_t zai = param_i(za, bi, M, i);
        int32_t *restrict ci = acc + i * N;
        memset(ci, 0, sizeof(int32_t) * (size_t)N);
        for (int64_t k = 0; k < K; k++) {
            int32_t av = (as ? (int32_t)(int8_t)ab[i * K + k] : (int32_t)ab[i * K + k]) - zai;
            if (!av)
                continue;
            const uint8_t *bk = bb + k * N;
            if (bs)
                for (int64_t j = 0; j < N; j++)
                    rowbuf[j] = (int32_t)(int8_t)bk[j] - zbv[j];
            else
                for (int64_t j = 0; j < N; j++)
                    rowbuf[j] = (int32_t)bk[j] - zbv[j];
            for (int64_t j = 0; j < N; j++)
                ci[j] = (int32_t)((uint32_t)ci[j] + (uint32_t)(av * rowbuf[j]));
        }
    }
}

static edgec_status run_matmul_integer(edgec_op_ctx *ctx)
{
    const edgec_rt_tensor *a = edgec__kc_in(ctx, 0), *b = edgec__kc_in(ctx, 1);
    const edgec_rt_tensor *za = edgec__kc_in(ctx, 2);
    const edgec_rt_tensor *zb = edgec__kc_in(ctx, 3);
    if (!a || !b)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "needs inputs A and B");
    if (!is_8bit(a->dtype) || !is_8bit(b->dtype))
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "A and B must be int8 or uint8 (got %s and %s)",
                              edgec__dtype(a->dtype)->name, edgec__dtype(b->dtype)->name);
    if ((za && za->dtype != a->dtype) || (zb && zb->dtype != b->dtype))
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "zero point types must match their inputs");
    mm_plan p;
    edgec_status st = mm_prepare(ctx, a, b, &p);
    if (st)
        return st;
    if ((st = check_param(ctx, za, p.M, p.batches, "a_zero_point")) ||
        (st = check_param(ctx, zb, p.N, p.batches, "b_zero_point")))
        return st;
    edgec_rt_tensor *y = edgec__rt_output(ctx, 0, EDGEC_DTYPE_INT32, p.out_rank, p.out_dims);
    if (!y)
        return EDGEC_STATUS_NO_MEMORY;
    int32_t *tmp = malloc(sizeof(int32_t) * (size_t)(2 * p.N + 1));
    if (!tmp)
        return edgec__op_fail(ctx, EDGEC_STATUS_NO_MEMORY, "out of memory");
    for (int64_t bi = 0; bi < p.batches; bi++) {
        int64_t oa, ob;
        mm_offsets(&p, bi, &oa, &ob);
        int_mm(&p, a, b, oa, ob, za, zb, bi, (int32_t *)y->data + bi * p.M * p.N, tmp,
               tmp + p.N);
    }
    free(tmp);
    return EDGEC_STATUS_OK;
}

static edgec_status run_qlinear_matmul(edgec_op_ctx *ctx)
{
    if (ctx->n_inputs < 8)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "needs 8 inputs");
    const edgec_rt_tensor *a = edgec__kc_in(ctx, 0), *sa = edgec__kc_in(ctx, 1), *za = edgec__kc_in(ctx, 2);
    const edgec_rt_tensor *b = edgec__kc_in(ctx, 3), *sb = edgec__kc_in(ctx, 4), *zb = edgec__kc_in(ctx, 5);
    const edgec_rt_tensor *sy = edgec__kc_in(ctx, 6), *zy = edgec__kc_in(ctx, 7);
    if (!a || !b || !sa || !sb || !sy)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "a, a_scale, b, b_scale and y_scale are required");
    if (!is_8bit(a->dtype) || !is_8bit(b->dtype))
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "a and b must be int8 or uint8 (got %s and %s)",
                              edgec__dtype(a->dtype)->name, edgec__dtype(b->dtype)->name);
    if (!edgec__kc_is_float_type(sa->dtype) || !edgec__kc_is_float_type(sb->dtype) ||
        !edgec__kc_is_float_type(sy->dtype))
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "scales must be float");
    int32_t ydt = zy ? zy->dtype : EDGEC_DTYPE_UINT8;
    int64_t lo, hi;
    if (!is_8bit(ydt) || !edgec__kc_int_range(ydt, &lo, &hi))
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "y_zero_point must be 8-bit");
    if (sy->numel != 1 || (zy && zy->numel != 1))
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "y_scale and y_zero_point must be scalars");
    mm_plan p;
    edgec_status st = mm_prepare(ctx, a, b, &p);
    if (st)
        return st;
    if ((st = check_param(ctx, za, p.M, p.batches, "a_zero_point")) ||
        (st = check_param(ctx, sa, p.M, p.batches, "a_scale")) ||
        (st = check_param(ctx, zb, p.N, p.batches, "b_zero_point")) ||
        (st = check_param(ctx, sb, p.N, p.batches, "b_scale")))
        return st;
    edgec_rt_tensor *y = edgec__rt_output(ctx, 0, ydt, p.out_rank, p.out_dims);
    if (!y)
        return EDGEC_STATUS_NO_MEMORY;
    int64_t MN = p.M * p.N;
    int32_t *acc = malloc(sizeof(int32_t) * (size_t)(MN + 2 * p.N + 1));
    if (!acc)
        return edgec__op_fail(ctx, EDGEC_STATUS_NO_MEMORY, "out of memory");
    float ys = (float)edgec__rt_get_f64(sy, 0);
    int64_t yz = zy ? edgec__rt_get_i64(zy, 0) : 0;
    /* Every output is divided by y_scale: a zero or non-finite one has no result. */
    if (!(ys != 0.0f) || !isfinite(ys)) {
        free(acc);
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "y_scale is %g; it must be a non-zero finite number", (double)ys);
    }
    for (int64_t bi = 0; bi < p.batches; bi++) {
        int64_t oa, ob;
        mm_offsets(&p, bi, &oa, &ob);
        int_mm(&p, a, b, oa, ob, za, zb, bi, acc, acc + MN, acc + MN + p.N);
        for (int64_t i = 0; i < p.M; i++) {
            float sai = param_f(sa, bi, p.M, i);
            for (int64_t j = 0; j < p.N; j++) {
                float scale = sai * param_f(sb, bi, p.N, j) / ys;
                int64_t q = edgec__kc_quantize((float)acc[i * p.N + j] * scale, yz, lo, hi);
                int64_t o = bi * MN + i * p.N + j;
                if (ydt == EDGEC_DTYPE_UINT8)
                    ((uint8_t *)y->data)[o] = (uint8_t)q;
                else
                    ((int8_t *)y->data)[o] = (int8_t)q;
            }
        }
    }
    free(acc);
    return EDGEC_STATUS_OK;
}

const edgec_op edgec__ops_linalg[] = {
    {"MatMul", "", 1, run_matmul},
    {"Gemm", "", 1, run_gemm},
    {"MatMulInteger", "", 10, run_matmul_integer},
    {"QLinearMatMul", "", 10, run_qlinear_matmul},
    {0},
};
