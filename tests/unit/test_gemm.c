/* SGEMM against a naive double-precision reference on odd sizes, every transpose
 * combination, alpha/beta variants, both micro-kernels, and thread-count invariance. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/gemm.h"

static uint64_t rng = 88172645463325252ull;
static float frand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((rng >> 40) & 0xffff) / 32768.0f - 1.0f;
}

/* Runs one case and checks every element against the reference. */
static void check_case(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha,
                       float beta, int threads)
{
    int64_t lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 1, ldc = N + 2;
    int64_t arows = ta ? K : M, brows = tb ? N : K;
    float *A = malloc(sizeof(float) * (size_t)(arows * lda + 1));
    float *B = malloc(sizeof(float) * (size_t)(brows * ldb + 1));
    float *C = malloc(sizeof(float) * (size_t)(M * ldc + 1));
    double *R = malloc(sizeof(double) * (size_t)(M * N + 1));
    for (int64_t i = 0; i < arows * lda; i++)
        A[i] = frand();
    for (int64_t i = 0; i < brows * ldb; i++)
        B[i] = frand();
    for (int64_t i = 0; i < M * ldc; i++)
        C[i] = beta == 0.0f ? NAN : frand(); /* beta 0: C must not be read */
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            double s = 0;
            for (int64_t k = 0; k < K; k++)
                s += (double)(ta ? A[k * lda + i] : A[i * lda + k]) *
                     (double)(tb ? B[j * ldb + k] : B[k * ldb + j]);
            R[i * N + j] = alpha * s + (beta == 0.0f ? 0.0 : beta * (double)C[i * ldc + j]);
        }
    float guard = C[M * ldc - 1]; /* padding column of the last row stays untouched */
    edgec__sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, threads);
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            double tol = 1e-5 * (double)(K + 1) * 4 + 1e-5;
            double got = C[i * ldc + j], want = R[i * N + j];
            if (!(fabs(got - want) <= tol)) {
                print_error("ta=%d tb=%d M=%lld N=%lld K=%lld C[%lld,%lld]=%g want %g\n", ta,
                            tb, (long long)M, (long long)N, (long long)K, (long long)i,
                            (long long)j, got, want);
                fail();
            }
        }
    if (beta != 0.0f)
        assert_true(C[M * ldc - 1] == guard);
    else
        assert_true(isnan(C[M * ldc - 1]));
    free(A);
    free(B);
    free(C);
    free(R);
}

static const int64_t sizes[][3] = {
    {1, 1, 1},   {7, 13, 5},   {65, 129, 33}, {6, 16, 1},  {12, 32, 300},
    {5, 8, 257}, {1, 100, 37}, {100, 1, 37},  {121, 17, 513}, {2, 2049, 3},
};

static void run_all(bool portable)
{
    bool old = edgec__sgemm_force_portable(portable);
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (int t = 0; t < 4; t++)
            check_case(t & 1, t & 2, sizes[s][0], sizes[s][1], sizes[s][2], 1.0f, 0.0f, 1);
    edgec__sgemm_force_portable(old);
}

static void test_sizes_transposes(void **state)
{
    (void)state;
    run_all(false);
}

static void test_portable_kernel(void **state)
{
    (void)state;
    run_all(true);
}

static void test_alpha_beta(void **state)
{
    (void)state;
    check_case(false, false, 33, 47, 29, 0.5f, 1.0f, 1);
    check_case(true, false, 33, 47, 29, -2.0f, 0.25f, 1);
    check_case(false, true, 7, 300, 600, 1.0f, 1.0f, 1);
    check_case(true, true, 1, 5, 9, 3.0f, -1.0f, 1);
}

static void test_k_zero(void **state)
{
    (void)state;
    float C[6] = {1, 2, 3, 4, 5, 6};
    edgec__sgemm(false, false, 2, 3, 0, 1.0f, NULL, 1, NULL, 3, 2.0f, C, 3, 1);
    assert_true(C[0] == 2.0f && C[5] == 12.0f);
    edgec__sgemm(false, false, 2, 3, 0, 1.0f, NULL, 1, NULL, 3, 0.0f, C, 3, 1);
    assert_true(C[0] == 0.0f && C[5] == 0.0f);
}

/* Results must be bit-identical whatever the thread count. */
static void test_threads_identical(void **state)
{
    (void)state;
    int64_t shapes[][3] = {{200, 300, 150}, {37, 1000, 70}, {1000, 20, 64}};
    for (size_t s = 0; s < 3; s++) {
        int64_t M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
        float *A = malloc(sizeof(float) * (size_t)(M * K)), *B = malloc(sizeof(float) * (size_t)(K * N));
        float *C1 = malloc(sizeof(float) * (size_t)(M * N)), *C3 = malloc(sizeof(float) * (size_t)(M * N));
        for (int64_t i = 0; i < M * K; i++)
            A[i] = frand();
        for (int64_t i = 0; i < K * N; i++)
            B[i] = frand();
        edgec__sgemm(false, false, M, N, K, 1.0f, A, K, B, N, 0.0f, C1, N, 1);
        for (int t = 2; t <= 4; t++) {
            edgec__sgemm(false, false, M, N, K, 1.0f, A, K, B, N, 0.0f, C3, N, t);
            assert_memory_equal(C1, C3, sizeof(float) * (size_t)(M * N));
        }
        /* and the same run twice */
        edgec__sgemm(false, false, M, N, K, 1.0f, A, K, B, N, 0.0f, C3, N, 1);
        assert_memory_equal(C1, C3, sizeof(float) * (size_t)(M * N));
        free(A);
        free(B);
        free(C1);
        free(C3);
    }
}

static void test_kernel_name(void **state)
{
    (void)state;
    const char *n = edgec__sgemm_kernel_name();
    assert_true(!strcmp(n, "c") || !strcmp(n, "avx2+fma"));
    bool old = edgec__sgemm_force_portable(true);
    assert_string_equal(edgec__sgemm_kernel_name(), "c");
    edgec__sgemm_force_portable(old);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes_transposes), cmocka_unit_test(test_portable_kernel),
        cmocka_unit_test(test_alpha_beta),       cmocka_unit_test(test_k_zero),
        cmocka_unit_test(test_threads_identical), cmocka_unit_test(test_kernel_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
