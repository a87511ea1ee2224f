/* The low-rank linear algebra of the svd pass: Householder QR, the exact Jacobi SVD
 * (checked against numpy's LAPACK singular values of the same matrix), the randomized
 * truncated SVD against the Eckart-Young optimum, determinism, and the data-aware
 * (whitened) factorization against the plain one on layer-output error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixtures/lowrank_ref.h"
#include "passes/lowrank.h"

static uint64_t xs = 88172645463325252ull;

/* xorshift64 (13, 7, 17) on a 24-bit grid in [-1, 1), as make_lowrank_ref.py does. */
static double urand_state(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return (double)(*x >> 40) / 8388608.0 - 1.0;
}

static double urand(void)
{
    return urand_state(&xs);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    assert_non_null(p);
    return p;
}

/* The fixture's matrix: rank-64 signal with decaying weights plus `noise` * uniform. */
static float *lowrank_test_matrix(double noise)
{
    const int M = LOWRANK_REF_M, N = LOWRANK_REF_N, R = LOWRANK_REF_R;
    double *a = xmalloc(sizeof(double) * M * R), *b = xmalloc(sizeof(double) * N * R);
    double *acc = calloc((size_t)M * N, sizeof(double));
    float *A = xmalloc(sizeof(float) * M * N);
    assert_non_null(acc);
    uint64_t s = LOWRANK_REF_SEED;
    for (int i = 0; i < M * R; i++)
        a[i] = urand_state(&s);
    for (int i = 0; i < N * R; i++)
        b[i] = urand_state(&s);
    for (int r = 0; r < R; r++) {
        double sv = LOWRANK_REF_SCALE * pow(LOWRANK_REF_DECAY, r);
        for (int i = 0; i < M; i++) {
            double ai = a[i * R + r] * sv;
            for (int j = 0; j < N; j++)
                acc[(size_t)i * N + j] += ai * b[j * R + r];
        }
    }
    for (int i = 0; i < M * N; i++)
        A[i] = (float)(acc[i] + noise * urand_state(&s));
    free(a);
    free(b);
    free(acc);
    return A;
}

/* ||A - U diag(S) Vt||_F in double. */
static double residual(const float *A, int64_t m, int64_t n, int64_t k, const float *U,
                       const float *S, const float *Vt)
{
    double e = 0;
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double s = A[i * n + j];
            for (int64_t r = 0; r < k; r++)
                s -= (double)U[i * k + r] * S[r] * Vt[r * n + j];
            e += s * s;
        }
    return sqrt(e);
}

/* Exact singular values by Jacobi on the whole matrix in double (no QR, no float). */
static double *jacobi_values(const float *A, int64_t m, int64_t n)
{
    double *X = xmalloc(sizeof(double) * (size_t)(m * n)), *S = xmalloc(sizeof(double) * (size_t)n);
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++)
            X[j * m + i] = A[i * n + j];
    assert_int_equal(edgec__lowrank_jacobi(X, m, n, m, S, NULL, 0), EDGEC_STATUS_OK);
    free(X);
    return S;
}

static double tail(const double *S, int64_t n, int64_t k)
{
    double t = 0;
    for (int64_t i = k; i < n; i++)
        t += S[i] * S[i];
    return sqrt(t);
}

static void check_qr(int64_t m, int64_t n)
{
    float *A = xmalloc(sizeof(float) * (size_t)(m * n)), *Q = xmalloc(sizeof(float) * (size_t)(m * n));
    float *R = xmalloc(sizeof(float) * (size_t)(n * n));
    for (int64_t i = 0; i < m * n; i++)
        A[i] = (float)urand();
    memcpy(Q, A, sizeof(float) * (size_t)(m * n));
    assert_int_equal(edgec__lowrank_qr(Q, m, n, n, R), EDGEC_STATUS_OK);
    double worst_orth = 0, worst_rec = 0, norm = 0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < n; j++) {
            double s = 0;
            for (int64_t r = 0; r < m; r++)
                s += (double)Q[r * n + i] * Q[r * n + j];
            worst_orth = fmax(worst_orth, fabs(s - (i == j)));
            if (j < i)
                assert_true(R[i * n + j] == 0.0f);
        }
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double s = 0;
            for (int64_t r = 0; r < n; r++)
                s += (double)Q[i * n + r] * R[r * n + j];
            worst_rec = fmax(worst_rec, fabs(s - A[i * n + j]));
            norm = fmax(norm, fabs(A[i * n + j]));
        }
    print_message("qr %lldx%lld: |Q^T Q - I| %.2e, |QR - A| %.2e\n", (long long)m, (long long)n,
                  worst_orth, worst_rec);
    assert_true(worst_orth < 1e-5);
    assert_true(worst_rec < 1e-5 * norm * sqrt((double)n));
    free(A);
    free(Q);
    free(R);
}

static void test_qr(void **state)
{
    (void)state;
    check_qr(1, 1);
    check_qr(33, 1);
    check_qr(40, 40);
    check_qr(300, 70);
    check_qr(1000, 97);
}

static void test_jacobi_small(void **state)
{
    (void)state;
    const int64_t m = 50, n = 30;
    double *A = xmalloc(sizeof(double) * m * n), *X = xmalloc(sizeof(double) * m * n);
    double S[30], V[30 * 30];
    for (int64_t i = 0; i < m * n; i++)
        A[i] = X[i] = urand();
    /* Two equal columns: one singular value must come out (numerically) zero. */
    for (int64_t i = 0; i < m; i++)
        A[7 * m + i] = X[7 * m + i] = A[3 * m + i];
    assert_int_equal(edgec__lowrank_jacobi(X, m, n, m, S, V, n), EDGEC_STATUS_OK);
    for (int64_t j = 1; j < n; j++)
        assert_true(S[j] <= S[j - 1]);
    assert_true(S[n - 1] < 1e-12 * S[0]);
    double worst = 0;
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double s = 0;
            for (int64_t r = 0; r < n; r++)
                s += X[r * m + i] * V[r * n + j]; /* (U S) V^T */
            worst = fmax(worst, fabs(s - A[j * m + i]));
        }
    assert_true(worst < 1e-12);
    for (int64_t a = 0; a < n; a++)
        for (int64_t b = 0; b < n; b++) {
            double s = 0;
            for (int64_t r = 0; r < n; r++)
                s += V[a * n + r] * V[b * n + r];
            assert_true(fabs(s - (a == b)) < 1e-12);
        }
    assert_int_not_equal(edgec__lowrank_jacobi(X, 3, 5, 3, S, NULL, 0), EDGEC_STATUS_OK);
    free(A);
    free(X);
}

/* Acceptance 1: 768x512 low-rank-plus-noise at rank 64 within 1.01x of Eckart-Young. */
static void test_rsvd_768x512(void **state)
{
    (void)state;
    const int64_t m = LOWRANK_REF_M, n = LOWRANK_REF_N, k = LOWRANK_REF_R;
    float *A = lowrank_test_matrix(LOWRANK_REF_NOISE);
    double sum = 0;
    for (int64_t i = 0; i < m * n; i++)
        sum += A[i];
    assert_true(fabs(sum - lowrank_ref_sum_a) < 1e-6 * fabs(lowrank_ref_sum_a) + 1e-6);
    /* The exact reference: Jacobi on the full matrix, cross-checked with numpy's. */
    double *S = jacobi_values(A, m, n);
    double worst = 0;
    for (int64_t i = 0; i < n; i++)
        worst = fmax(worst, fabs(S[i] - lowrank_ref_s[i]));
    double opt = tail(S, n, k);
    print_message("Jacobi vs numpy: max |s_i - s_i(numpy)| = %.3e (s_0 = %.3f); optimal rank-%lld "
                  "error %.6f (numpy %.6f)\n",
                  worst, S[0], (long long)k, opt, lowrank_ref_opt_err);
    assert_true(worst < 1e-9 * S[0]);
    assert_true(fabs(opt - lowrank_ref_opt_err) < 1e-9 * lowrank_ref_opt_err);

    float *U = xmalloc(sizeof(float) * m * k), *Sk = xmalloc(sizeof(float) * k);
    float *Vt = xmalloc(sizeof(float) * k * n);
    float *U2 = xmalloc(sizeof(float) * m * k), *S2 = xmalloc(sizeof(float) * k);
    float *Vt2 = xmalloc(sizeof(float) * k * n);
    edgec_lowrank_opts o = {.seed = 0};
    double energy = 0;
    assert_int_equal(edgec__lowrank_svd(A, m, n, k, &o, U, Sk, Vt, &energy), EDGEC_STATUS_OK);
    double err = residual(A, m, n, k, U, Sk, Vt);
    print_message("randomized rank %lld: error %.6f = %.6fx optimal, energy kept %.6f\n",
                  (long long)k, err, err / opt, energy);
    assert_true(err <= 1.01 * opt);
    for (int64_t j = 0; j < k; j++)
        assert_true(fabs(Sk[j] - S[j]) <= 1e-4 * S[0]);

    /* Byte-identical on a second run; another seed is just as good. */
    assert_int_equal(edgec__lowrank_svd(A, m, n, k, &o, U2, S2, Vt2, NULL), EDGEC_STATUS_OK);
    assert_memory_equal(U, U2, sizeof(float) * m * k);
    assert_memory_equal(Sk, S2, sizeof(float) * k);
    assert_memory_equal(Vt, Vt2, sizeof(float) * k * n);
    o.seed = 12345;
    assert_int_equal(edgec__lowrank_svd(A, m, n, k, &o, U2, S2, Vt2, NULL), EDGEC_STATUS_OK);
    double err2 = residual(A, m, n, k, U2, S2, Vt2);
    assert_true(err2 <= 1.01 * opt);
    assert_memory_not_equal(U, U2, sizeof(float) * m * k);

    /* Without power iterations and oversampling the bare sketch misses the bound: the
     * check above can fail. */
    o = (edgec_lowrank_opts){.oversample = 1, .power_iters = -1};
    assert_int_equal(edgec__lowrank_svd(A, m, n, k, &o, U2, S2, Vt2, NULL), EDGEC_STATUS_OK);
    double bare = residual(A, m, n, k, U2, S2, Vt2);
    print_message("bare sketch (p=1, q=0): %.4fx optimal\n", bare / opt);
    assert_true(bare > 1.05 * opt);
    free(A);
    free(S);
    free(U);
    free(Sk);
    free(Vt);
    free(U2);
    free(S2);
    free(Vt2);
}

/* A flatter spectrum (noise 5x stronger) and a wide matrix, against the Jacobi optimum;
 * and the exact path. */
static void test_rsvd_shapes(void **state)
{
    (void)state;
    const int64_t m = LOWRANK_REF_M, n = LOWRANK_REF_N;
    float *A = lowrank_test_matrix(1.5);
    float *At = xmalloc(sizeof(float) * m * n);
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++)
            At[j * m + i] = A[i * n + j];
    double *S = jacobi_values(A, m, n);
    int64_t ks[] = {16, 64, 100, 200, 400};
    for (size_t t = 0; t < sizeof ks / sizeof ks[0]; t++) {
        int64_t k = ks[t];
        float *U = xmalloc(sizeof(float) * n * k > sizeof(float) * m * k ? sizeof(float) * n * k
                                                                          : sizeof(float) * m * k);
        float *Sk = xmalloc(sizeof(float) * k), *Vt = xmalloc(sizeof(float) * k * m);
        double opt = tail(S, n, k);
        assert_int_equal(edgec__lowrank_svd(A, m, n, k, NULL, U, Sk, Vt, NULL), EDGEC_STATUS_OK);
        double e1 = residual(A, m, n, k, U, Sk, Vt);
        assert_int_equal(edgec__lowrank_svd(At, n, m, k, NULL, U, Sk, Vt, NULL), EDGEC_STATUS_OK);
        double e2 = residual(At, n, m, k, U, Sk, Vt);
        print_message("noise 1.5, rank %lld: tall %.6fx, wide %.6fx optimal\n", (long long)k,
                      e1 / opt, e2 / opt);
        assert_true(e1 <= 1.01 * opt);
        assert_true(e2 <= 1.01 * opt);
        free(U);
        free(Sk);
        free(Vt);
    }
    /* A small matrix takes the exact path: optimal up to float rounding. */
    float B[40 * 60], U[40 * 10], Sk[10], Vt[10 * 60];
    for (int i = 0; i < 40 * 60; i++)
        B[i] = (float)urand();
    float Bt[60 * 40];
    for (int i = 0; i < 40; i++)
        for (int j = 0; j < 60; j++)
            Bt[j * 40 + i] = B[i * 60 + j];
    double *Sbt = jacobi_values(Bt, 60, 40);
    assert_int_equal(edgec__lowrank_svd(B, 40, 60, 10, &(edgec_lowrank_opts){.exact = true}, U,
                                        Sk, Vt, NULL),
                     EDGEC_STATUS_OK);
    double e = residual(B, 40, 60, 10, U, Sk, Vt);
    assert_true(e <= 1.0001 * tail(Sbt, 40, 10));
    free(Sbt);
    /* Invalid ranks are refused, not run. */
    assert_int_not_equal(edgec__lowrank_svd(B, 40, 60, 41, NULL, U, Sk, Vt, NULL), EDGEC_STATUS_OK);
    assert_int_not_equal(edgec__lowrank_svd(B, 40, 60, 0, NULL, U, Sk, Vt, NULL), EDGEC_STATUS_OK);
    free(A);
    free(At);
    free(S);
}

static void test_zero_and_energy(void **state)
{
    (void)state;
    float Z[20 * 30] = {0}, U[20 * 3], S[3], Vt[3 * 30];
    double energy = -1;
    assert_int_equal(edgec__lowrank_svd(Z, 20, 30, 3, NULL, U, S, Vt, &energy), EDGEC_STATUS_OK);
    for (int i = 0; i < 3; i++)
        assert_true(S[i] == 0.0f);
    assert_true(energy == 1.0);
    const double s[] = {3, 2, 1, 0.5};
    /* Energies: 9, 13, 14, 14.25 of 14.25. */
    assert_int_equal(edgec__lowrank_rank_for_energy(s, 4, 0.5), 1);
    assert_int_equal(edgec__lowrank_rank_for_energy(s, 4, 0.9), 2);
    assert_int_equal(edgec__lowrank_rank_for_energy(s, 4, 0.98), 3);
    assert_int_equal(edgec__lowrank_rank_for_energy(s, 4, 1.0), 4);
}

/* Output error ||(W - Left Right) X^T||_F over the calibration rows X (N x n). */
static double output_error(const float *W, const float *L, const float *R, int64_t m, int64_t n,
                           int64_t k, const double *X, int64_t N)
{
    double e = 0;
    for (int64_t s = 0; s < N; s++)
        for (int64_t i = 0; i < m; i++) {
            double y = 0;
            for (int64_t j = 0; j < n; j++) {
                double d = W[i * n + j];
                for (int64_t r = 0; r < k; r++)
                    d -= (double)L[i * k + r] * R[r * n + j];
                y += d * X[s * n + j];
            }
            e += y * y;
        }
    return sqrt(e);
}

/* Data-aware: inputs with a few dominant directions; the whitened factors must beat the
 * weight-space ones on the layer's output error, and do it on held-out inputs too. */
static void test_data_aware(void **state)
{
    (void)state;
    enum { m = 32, n = 48, N = 400, k = 6 };
    float *W = xmalloc(sizeof(float) * m * n);
    double *X = xmalloc(sizeof(double) * N * n), *X2 = xmalloc(sizeof(double) * N * n);
    double *G = calloc(n * n, sizeof(double));
    assert_non_null(G);
    for (int i = 0; i < m * n; i++)
        W[i] = (float)urand();
    /* Inputs: 8 strong latent factors mixed into 48 dims, plus weak isotropic noise. */
    double mix[8][n];
    for (int f = 0; f < 8; f++)
        for (int j = 0; j < n; j++)
            mix[f][j] = urand();
    for (int pass = 0; pass < 2; pass++) {
        double *D = pass ? X2 : X;
        for (int s = 0; s < N; s++) {
            double z[8];
            for (int f = 0; f < 8; f++)
                z[f] = urand();
            for (int j = 0; j < n; j++) {
                double v = 0.05 * urand();
                for (int f = 0; f < 8; f++)
                    v += mix[f][j] * z[f];
                D[s * n + j] = v;
            }
        }
    }
    for (int s = 0; s < N; s++)
        for (int a = 0; a < n; a++)
            for (int b = 0; b < n; b++)
                G[a * n + b] += X[s * n + a] * X[s * n + b];
    float *L1 = xmalloc(sizeof(float) * m * k), *R1 = xmalloc(sizeof(float) * k * n);
    float *L2 = xmalloc(sizeof(float) * m * k), *R2 = xmalloc(sizeof(float) * k * n);
    int64_t kk = 0;
    double kept1 = 0, kept2 = 0;
    assert_int_equal(edgec__lowrank_factor(W, m, n, NULL, k, 0, 0, NULL, L1, R1, &kk, &kept1),
                     EDGEC_STATUS_OK);
    assert_int_equal(kk, k);
    assert_int_equal(edgec__lowrank_factor(W, m, n, G, k, 0, 0, NULL, L2, R2, &kk, &kept2),
                     EDGEC_STATUS_OK);
    double plain = output_error(W, L1, R1, m, n, k, X, N);
    double aware = output_error(W, L2, R2, m, n, k, X, N);
    double plain_h = output_error(W, L1, R1, m, n, k, X2, N);
    double aware_h = output_error(W, L2, R2, m, n, k, X2, N);
    print_message("output error at rank %d: plain %.4f, data-aware %.4f (held out: %.4f, %.4f); "
                  "energy kept %.4f / %.4f\n",
                  k, plain, aware, plain_h, aware_h, kept1, kept2);
    assert_true(aware < 0.5 * plain);
    assert_true(aware_h < 0.5 * plain_h);

    /* Energy mode: the rank is chosen, and no factors when it would not be below max_k. */
    float Lb[m * m], Rb[m * n];
    assert_int_equal(edgec__lowrank_factor(W, m, n, NULL, 0, 0.5, 19, NULL, Lb, Rb, &kk, &kept1),
                     EDGEC_STATUS_OK);
    print_message("energy 0.5: rank %lld of %d, kept %.4f\n", (long long)kk, m, kept1);
    assert_true(kk >= 1 && kk < 19 && kept1 >= 0.5);
    memset(Lb, 0x7f, sizeof Lb);
    assert_int_equal(edgec__lowrank_factor(W, m, n, NULL, 0, 0.9999, 19, NULL, Lb, Rb, &kk, NULL),
                     EDGEC_STATUS_OK);
    assert_true(kk >= 19);
    assert_true(Lb[0] != Lb[0] || Lb[0] > 1e38f); /* untouched */
    free(W);
    free(X);
    free(X2);
    free(G);
    free(L1);
    free(R1);
    free(L2);
    free(R2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qr),
        cmocka_unit_test(test_jacobi_small),
        cmocka_unit_test(test_rsvd_768x512),
        cmocka_unit_test(test_rsvd_shapes),
        cmocka_unit_test(test_zero_and_energy),
        cmocka_unit_test(test_data_aware),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
