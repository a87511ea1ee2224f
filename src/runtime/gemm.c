/* Blocked, packed SGEMM (see gemm.h).
 *
 * Loop nest (GotoBLAS/BLIS): jc over N in NC columns, pc over K in KC, pack a KC x NC
 * slab of B into NR-wide panels; ic over M in MC rows, pack an MC x KC block of A into
 * MR-tall panels; then an MR x NR micro-kernel walks both panels. Packed panels are
 * zero-padded to whole tiles, so the kernel always runs full tiles; partial tiles at
 * the edges go through a small stack tile.
 *
 * Each element of C is accumulated over k in the same order (k blocks of KC, ascending,
 * the block's partial sum added to C) however the work is split, so results do not
 * depend on the thread count. */
#include "runtime/gemm.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MR 6
#define NR 16
#define KC 256
#define MC 120  /* multiple of MR */
#define NC 2048 /* multiple of NR */

/* One micro-tile: C[MR x NR] (or [MR x 8] for the narrow kernel) from kc steps.
 * A element (r, k) is a[r * a_rs + k * a_ks] (packed panels: a_rs 1, a_ks MR; A read in
 * place: a_rs lda, a_ks 1); rows >= m repeat row m-1 (their results are discarded).
 * B is a packed panel b[k * NR + j]. `first` k block: C = alpha*acc + beta*C (beta == 0:
 * C = alpha*acc); later blocks: C += alpha*acc. */
typedef struct uk_args {
    int64_t kc;
    const float *a;
    int64_t a_rs, a_ks;
    int m;
    const float *b;
    float *c;
    int64_t ldc;
    float alpha, beta;
    int first;
} uk_args;

typedef void (*ukernel_fn)(const uk_args *u);

/* ---- portable micro-kernel ------------------------------------------------------- */

static void ukernel_c(const uk_args *u)
{
    float acc[MR][NR];
    const float *ar[MR];
    memset(acc, 0, sizeof acc);
    for (int r = 0; r < MR; r++)
        ar[r] = u->a + (r < u->m ? r : u->m - 1) * u->a_rs;
    const float *restrict b = u->b;
    for (int64_t k = 0; k < u->kc; k++) {
        const float *bk = b + k * NR;
        for (int r = 0; r < MR; r++) {
            float av = ar[r][k * u->a_ks];
            for (int j = 0; j < NR; j++)
                acc[r][j] += av * bk[j];
        }
    }
    for (int r = 0; r < MR; r++) {
        float *cr = u->c + r * u->ldc;
        if (u->first && u->beta == 0.0f)
            for (int j = 0; j < NR; j++)
                cr[j] = u->alpha * acc[r][j];
        else if (u->first)
            for (int j = 0; j < NR; j++)
                cr[j] = u->alpha * acc[r][j] + u->beta * cr[j];
        else
            for (int j = 0; j < NR; j++)
                cr[j] += u->alpha * acc[r][j];
    }
}

/* ---- AVX2 + FMA micro-kernels (GCC vector extensions, selected at run time) --------- */

#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#define EDGEC_HAVE_AVX2_KERNEL 1
typedef float v8 __attribute__((vector_size(32)));
typedef float v8u __attribute__((vector_size(32), aligned(4)));
#define V8(x) ((v8){(x), (x), (x), (x), (x), (x), (x), (x)})

#if defined(__clang__)
#define AVX2_FN __attribute__((target("avx2,fma")))
#else
#define AVX2_FN __attribute__((target("avx2,fma"), optimize("fp-contract=fast")))
#endif

AVX2_FN static inline void store8(float *c, v8 x, v8 va, v8 vb, int first, int beta_zero)
{
    v8u *p = (v8u *)c;
    if (first && beta_zero)
        p[0] = va * x;
    else if (first)
        p[0] = va * x + vb * p[0];
    else
        p[0] = p[0] + va * x;
}

#define ROWPTRS                                                                                \
    const float *a0 = u->a, *a1 = a0 + (u->m > 1 ? u->a_rs : 0),                                \
                *a2 = a0 + (u->m > 2 ? 2 : u->m - 1) * u->a_rs,                                 \
                *a3 = a0 + (u->m > 3 ? 3 : u->m - 1) * u->a_rs,                                 \
                *a4 = a0 + (u->m > 4 ? 4 : u->m - 1) * u->a_rs,                                 \
                *a5 = a0 + (u->m > 5 ? 5 : u->m - 1) * u->a_rs;                                 \
    const int64_t ks = u->a_ks;                                                                 \
    const float *restrict b = u->b

AVX2_FN static void ukernel_avx2(const uk_args *u)
{
    ROWPTRS;
    v8 c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0}, c20 = {0}, c21 = {0};
    v8 c30 = {0}, c31 = {0}, c40 = {0}, c41 = {0}, c50 = {0}, c51 = {0};
    for (int64_t k = 0, o = 0; k < u->kc; k++, o += ks) {
        v8 b0 = *(const v8 *)(b);
        v8 b1 = *(const v8 *)(b + 8);
        v8 av;
        av = V8(a0[o]);
        c00 += av * b0;
        c01 += av * b1;
        av = V8(a1[o]);
        c10 += av * b0;
        c11 += av * b1;
        av = V8(a2[o]);
        c20 += av * b0;
        c21 += av * b1;
        av = V8(a3[o]);
        c30 += av * b0;
        c31 += av * b1;
        av = V8(a4[o]);
        c40 += av * b0;
        c41 += av * b1;
        av = V8(a5[o]);
        c50 += av * b0;
        c51 += av * b1;
        b += NR;
    }
    v8 va = V8(u->alpha), vb = V8(u->beta);
    int bz = u->beta == 0.0f, f = u->first;
    float *c = u->c;
    int64_t ldc = u->ldc;
    store8(c + 0 * ldc, c00, va, vb, f, bz);
    store8(c + 0 * ldc + 8, c01, va, vb, f, bz);
    store8(c + 1 * ldc, c10, va, vb, f, bz);
    store8(c + 1 * ldc + 8, c11, va, vb, f, bz);
    store8(c + 2 * ldc, c20, va, vb, f, bz);
    store8(c + 2 * ldc + 8, c21, va, vb, f, bz);
    store8(c + 3 * ldc, c30, va, vb, f, bz);
    store8(c + 3 * ldc + 8, c31, va, vb, f, bz);
    store8(c + 4 * ldc, c40, va, vb, f, bz);
    store8(c + 4 * ldc + 8, c41, va, vb, f, bz);
    store8(c + 5 * ldc, c50, va, vb, f, bz);
    store8(c + 5 * ldc + 8, c51, va, vb, f, bz);
}

/* The left half of a tile (edge panels with at most 8 valid columns): the same
 * per-element operations as ukernel_avx2, half the work. */
AVX2_FN static void ukernel_avx2_n8(const uk_args *u)
{
    ROWPTRS;
    v8 c0 = {0}, c1 = {0}, c2 = {0}, c3 = {0}, c4 = {0}, c5 = {0};
    for (int64_t k = 0, o = 0; k < u->kc; k++, o += ks) {
        v8 b0 = *(const v8 *)(b);
        c0 += V8(a0[o]) * b0;
        c1 += V8(a1[o]) * b0;
        c2 += V8(a2[o]) * b0;
        c3 += V8(a3[o]) * b0;
        c4 += V8(a4[o]) * b0;
        c5 += V8(a5[o]) * b0;
        b += NR;
    }
    v8 va = V8(u->alpha), vb = V8(u->beta);
    int bz = u->beta == 0.0f, f = u->first;
    float *c = u->c;
    int64_t ldc = u->ldc;
    store8(c + 0 * ldc, c0, va, vb, f, bz);
    store8(c + 1 * ldc, c1, va, vb, f, bz);
    store8(c + 2 * ldc, c2, va, vb, f, bz);
    store8(c + 3 * ldc, c3, va, vb, f, bz);
    store8(c + 4 * ldc, c4, va, vb, f, bz);
    store8(c + 5 * ldc, c5, va, vb, f, bz);
}
#endif

static bool g_force_portable;

/* The full-tile kernel and the narrow one for edge panels with <= 8 columns. */
static ukernel_fn pick_kernel(ukernel_fn *narrow)
{
#ifdef EDGEC_HAVE_AVX2_KERNEL
    if (!g_force_portable) {
        static int has = -1;
        if (has < 0) {
            __builtin_cpu_init();
            has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
        }
        if (has) {
            *narrow = ukernel_avx2_n8;
            return ukernel_avx2;
        }
    }
#endif
    *narrow = ukernel_c;
    return ukernel_c;
}

const char *edgec__sgemm_kernel_name(void)
{
    ukernel_fn n;
    return pick_kernel(&n) == ukernel_c ? "c" : "avx2+fma";
}

bool edgec__sgemm_force_portable(bool on)
{
    bool old = g_force_portable;
    g_force_portable = on;
    return old;
}

/* ---- packing --------------------------------------------------------------------- */

/* Packs op(A)[i0:i0+mc, p0:p0+kc] into MR-row panels: pa[panel][k][MR]. */
static void pack_a(bool ta, const float *A, int64_t lda, int64_t i0, int64_t mc, int64_t p0,
                   int64_t kc, float *restrict pa)
{
    for (int64_t ir = 0; ir < mc; ir += MR) {
        int64_t m = mc - ir < MR ? mc - ir : MR;
        float *dst = pa + ir * kc;
        if (ta) {
            const float *src = A + p0 * lda + i0 + ir;
            for (int64_t k = 0; k < kc; k++) {
                const float *s = src + k * lda;
                float *d = dst + k * MR;
                int64_t r = 0;
                for (; r < m; r++)
                    d[r] = s[r];
                for (; r < MR; r++)
                    d[r] = 0.0f;
            }
        } else if (m == MR) {
            const float *s0 = A + (i0 + ir) * lda + p0, *s1 = s0 + lda, *s2 = s1 + lda,
                        *s3 = s2 + lda, *s4 = s3 + lda, *s5 = s4 + lda;
            for (int64_t k = 0; k < kc; k++) {
                float *d = dst + k * MR;
                d[0] = s0[k];
                d[1] = s1[k];
                d[2] = s2[k];
                d[3] = s3[k];
                d[4] = s4[k];
                d[5] = s5[k];
            }
        } else {
            for (int64_t k = 0; k < kc; k++) {
                float *d = dst + k * MR;
                int64_t r = 0;
                for (; r < m; r++)
                    d[r] = A[(i0 + ir + r) * lda + p0 + k];
                for (; r < MR; r++)
                    d[r] = 0.0f;
            }
        }
    }
}

/* Packs op(B)[p0:p0+kc, j0:j0+nc] into NR-column panels: pb[panel][k][NR]. */
static void pack_b(bool tb, const float *B, int64_t ldb, int64_t p0, int64_t kc, int64_t j0,
                   int64_t nc, float *restrict pb)
{
    for (int64_t jr = 0; jr < nc; jr += NR) {
        int64_t n = nc - jr < NR ? nc - jr : NR;
        float *dst = pb + jr * kc;
        if (!tb) {
            const float *src = B + p0 * ldb + j0 + jr;
            if (n == NR) {
                for (int64_t k = 0; k < kc; k++)
                    memcpy(dst + k * NR, src + k * ldb, NR * sizeof(float));
            } else {
                for (int64_t k = 0; k < kc; k++) {
                    float *d = dst + k * NR;
                    const float *s = src + k * ldb;
                    int64_t j = 0;
                    for (; j < n; j++)
                        d[j] = s[j];
                    for (; j < NR; j++)
                        d[j] = 0.0f;
                }
            }
        } else {
            for (int64_t j = 0; j < NR; j++) {
                if (j < n) {
                    const float *s = B + (j0 + jr + j) * ldb + p0;
                    for (int64_t k = 0; k < kc; k++)
                        dst[k * NR + j] = s[k];
                } else {
                    for (int64_t k = 0; k < kc; k++)
                        dst[k * NR + j] = 0.0f;
                }
            }
        }
    }
}

/* ---- driver ---------------------------------------------------------------------- */

typedef struct gemm_job {
    bool ta, tb;
    int64_t M, N, K;
    float alpha, beta;
    const float *A, *B;
    int64_t lda, ldb, ldc;
    float *C;
} gemm_job;

static size_t round_up(size_t n, size_t a)
{
    return (n + a - 1) / a * a;
}

/* Serial GEMM on rows [m0,m1) and columns [n0,n1) of C (m0 % MR == 0, n0 % NR == 0).
 * Returns false when scratch cannot be allocated. */
static bool gemm_range(const gemm_job *g, int64_t m0, int64_t m1, int64_t n0, int64_t n1)
{
    if (m1 <= m0 || n1 <= n0)
        return true;
    ukernel_fn narrow, kern = pick_kernel(&narrow);
    /* A is read in place when its rows are contiguous in k; packed when transposed. */
    bool pack_a_needed = g->ta;
    int64_t nmax = n1 - n0 < NC ? n1 - n0 : NC;
    int64_t mmax = m1 - m0 < MC ? m1 - m0 : MC;
    int64_t kmax = g->K < KC ? g->K : KC;
    if (kmax < 1)
        kmax = 1;
    size_t pb_n = round_up((size_t)nmax, NR) * (size_t)kmax;
    size_t pa_n = pack_a_needed ? round_up((size_t)mmax, MR) * (size_t)kmax : 0;
    size_t bytes = round_up((pb_n + pa_n) * sizeof(float), 64);
    float *buf = aligned_alloc(64, bytes);
    if (!buf)
        return false;
    float *pb = buf, *pa = buf + pb_n;
    float tile[MR * NR];
    memset(tile, 0, sizeof tile);
    uk_args u = {0};
    u.alpha = g->alpha;
    u.beta = g->beta;
    for (int64_t jc = n0; jc < n1; jc += NC) {
        int64_t nc = n1 - jc < NC ? n1 - jc : NC;
        for (int64_t pc = 0; pc < g->K; pc += KC) {
            int64_t kc = g->K - pc < KC ? g->K - pc : KC;
            u.kc = kc;
            u.first = pc == 0;
            pack_b(g->tb, g->B, g->ldb, pc, kc, jc, nc, pb);
            for (int64_t ic = m0; ic < m1; ic += MC) {
                int64_t mc = m1 - ic < MC ? m1 - ic : MC;
                if (pack_a_needed)
                    pack_a(g->ta, g->A, g->lda, ic, mc, pc, kc, pa);
                for (int64_t jr = 0; jr < nc; jr += NR) {
                    int64_t n = nc - jr < NR ? nc - jr : NR;
                    ukernel_fn kf = n <= NR / 2 ? narrow : kern;
                    u.b = pb + jr * kc;
                    for (int64_t ir = 0; ir < mc; ir += MR) {
                        int64_t m = mc - ir < MR ? mc - ir : MR;
                        u.m = (int)m;
                        if (pack_a_needed) {
                            u.a = pa + ir * kc;
                            u.a_rs = 1;
                            u.a_ks = MR;
                        } else {
                            u.a = g->A + (ic + ir) * g->lda + pc;
                            u.a_rs = g->lda;
                            u.a_ks = 1;
                        }
                        float *c = g->C + (ic + ir) * g->ldc + jc + jr;
                        if (m == MR && n == NR) {
                            u.c = c;
                            u.ldc = g->ldc;
                            kern(&u);
                        } else {
                            /* Edge tile: run the kernel on a stack tile holding the
                             * current C values, then copy back the valid part. */
                            for (int64_t r = 0; r < m; r++)
                                memcpy(tile + r * NR, c + r * g->ldc, (size_t)n * sizeof(float));
                            u.c = tile;
                            u.ldc = NR;
                            kf(&u);
                            for (int64_t r = 0; r < m; r++)
                                memcpy(c + r * g->ldc, tile + r * NR, (size_t)n * sizeof(float));
                        }
                    }
                }
            }
        }
    }
    free(buf);
    return true;
}

/* Fallback when scratch cannot be allocated: a plain triple loop with the same result
 * semantics (used only under memory pressure). */
static void gemm_naive(const gemm_job *g, int64_t m0, int64_t m1, int64_t n0, int64_t n1)
{
    for (int64_t i = m0; i < m1; i++)
        for (int64_t j = n0; j < n1; j++) {
            float s = 0.0f;
            for (int64_t k = 0; k < g->K; k++) {
                float a = g->ta ? g->A[k * g->lda + i] : g->A[i * g->lda + k];
                float b = g->tb ? g->B[j * g->ldb + k] : g->B[k * g->ldb + j];
                s += a * b;
            }
            float *c = &g->C[i * g->ldc + j];
            *c = g->beta == 0.0f ? g->alpha * s : g->alpha * s + g->beta * *c;
        }
}

typedef struct split_job {
    const gemm_job *g;
    int64_t parts;
    bool by_n;
    int64_t step; /* rows or columns per part, a multiple of MR or NR */
} split_job;

static void run_part(void *arg, int64_t i)
{
    const split_job *s = arg;
    int64_t lo = i * s->step, hi;
    if (s->by_n) {
        hi = lo + s->step < s->g->N ? lo + s->step : s->g->N;
        if (!gemm_range(s->g, 0, s->g->M, lo, hi))
            gemm_naive(s->g, 0, s->g->M, lo, hi);
    } else {
        hi = lo + s->step < s->g->M ? lo + s->step : s->g->M;
        if (!gemm_range(s->g, lo, hi, 0, s->g->N))
            gemm_naive(s->g, lo, hi, 0, s->g->N);
    }
}

/* M == 1: a row vector times a matrix, streamed without packing. */
static void gemv_row(const gemm_job *g)
{
    float *c = g->C;
    int64_t N = g->N, K = g->K;
    if (!g->tb) {
        /* c[j] = alpha * sum_k a[k] * B[k][j] (+ beta c[j]); accumulate rows in k order. */
        float *acc = calloc((size_t)N ? (size_t)N : 1, sizeof(float));
        if (!acc) {
            gemm_naive(g, 0, 1, 0, N);
            return;
        }
        for (int64_t k = 0; k < K; k++) {
            float a = g->ta ? g->A[k * g->lda] : g->A[k];
            const float *restrict b = g->B + k * g->ldb;
            for (int64_t j = 0; j < N; j++)
                acc[j] += a * b[j];
        }
        for (int64_t j = 0; j < N; j++)
            c[j] = g->beta == 0.0f ? g->alpha * acc[j] : g->alpha * acc[j] + g->beta * c[j];
        free(acc);
        return;
    }
    float *abuf = NULL;
    const float *a = g->A;
    if (g->ta && K > 1) {
        abuf = malloc((size_t)K * sizeof(float));
        if (!abuf) {
            gemm_naive(g, 0, 1, 0, N);
            return;
        }
        for (int64_t k = 0; k < K; k++)
            abuf[k] = g->A[k * g->lda];
        a = abuf;
    }
    for (int64_t j = 0; j < N; j++) {
        const float *restrict b = g->B + j * g->ldb;
        float s8[8] = {0};
        int64_t k = 0;
        for (; k + 8 <= K; k += 8)
            for (int u = 0; u < 8; u++)
                s8[u] += a[k + u] * b[k + u];
        float s = ((s8[0] + s8[1]) + (s8[2] + s8[3])) + ((s8[4] + s8[5]) + (s8[6] + s8[7]));
        for (; k < K; k++)
            s += a[k] * b[k];
        c[j] = g->beta == 0.0f ? g->alpha * s : g->alpha * s + g->beta * c[j];
    }
    free(abuf);
}

void edgec__sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                  const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C,
                  int64_t ldc, int threads)
{
    if (M <= 0 || N <= 0)
        return;
    gemm_job g = {trans_a, trans_b, M, N, K, alpha, beta, A, B, lda, ldb, ldc, C};
    if (K <= 0 || alpha == 0.0f) {
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) {
                float *c = &C[i * ldc + j];
                *c = beta == 0.0f ? 0.0f : beta * *c;
            }
        return;
    }
    if (M == 1) {
        gemv_row(&g);
        return;
    }
    if (threads < 1)
        threads = 1;
    {
        ukernel_fn narrow;
        (void)pick_kernel(&narrow); /* resolve the CPU check before any worker starts */
    }
    double flops = 2.0 * (double)M * (double)N * (double)K;
    if (threads > 1 && flops > 4e6) {
        split_job s = {&g, 0, N >= M, 0};
        int64_t unit = s.by_n ? NR : MR, total = s.by_n ? N : M;
        int64_t units = (total + unit - 1) / unit;
        int64_t parts = threads < units ? threads : units;
        s.step = (units + parts - 1) / parts * unit;
        s.parts = (total + s.step - 1) / s.step;
        if (s.parts > 1) {
            edgec__parallel_for(threads, s.parts, run_part, &s);
            return;
        }
    }
    if (!gemm_range(&g, 0, M, 0, N))
        gemm_naive(&g, 0, M, 0, N);
}

/* ---- a small fork-join helper ---------------------------------------------------- */

typedef struct pf_worker {
    pthread_t tid;
    int t, nt;
    int64_t n;
    void (*fn)(void *, int64_t);
    void *arg;
} pf_worker;

static void *pf_main(void *p)
{
    pf_worker *w = p;
    for (int64_t i = w->t; i < w->n; i += w->nt)
        w->fn(w->arg, i);
    return NULL;
}

void edgec__parallel_for(int threads, int64_t n, void (*fn)(void *arg, int64_t i), void *arg)
{
    if (threads > n)
        threads = (int)n;
    if (threads > 64)
        threads = 64;
    if (threads <= 1) {
        for (int64_t i = 0; i < n; i++)
            fn(arg, i);
        return;
    }
    pf_worker w[64];
    bool started[64] = {false};
    for (int t = 0; t < threads; t++)
        w[t] = (pf_worker){0, t, threads, n, fn, arg};
    for (int t = 1; t < threads; t++)
        started[t] = pthread_create(&w[t].tid, NULL, pf_main, &w[t]) == 0;
    pf_main(&w[0]);
    for (int t = 1; t < threads; t++) {
        if (started[t])
            pthread_join(w[t].tid, NULL);
        else
            pf_main(&w[t]); /* could not start a thread: do its share here */
    }
}
