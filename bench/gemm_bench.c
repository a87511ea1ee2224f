/* SGEMM throughput: bench/gemm_bench [M N K [threads [reps]]] -> GFLOP/s.
 * Build: cmake --build BUILD --target gemm_bench is not wired; compile directly:
 *   cc -O3 -std=c11 -D_GNU_SOURCE -Isrc bench/gemm_bench.c src/runtime/gemm.c -o gemm_bench */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "runtime/gemm.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    long M = argc > 3 ? atol(argv[1]) : 512, N = argc > 3 ? atol(argv[2]) : 512,
         K = argc > 3 ? atol(argv[3]) : 512;
    int threads = argc > 4 ? atoi(argv[4]) : 1, reps = argc > 5 ? atoi(argv[5]) : 0;
    float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * K * N),
          *C = malloc(sizeof(float) * M * N);
    for (long i = 0; i < M * K; i++)
        A[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
    for (long i = 0; i < K * N; i++)
        B[i] = (float)((i * 104729) % 1000) / 1000.0f - 0.5f;
    double flops = 2.0 * M * N * K;
    if (!reps)
        reps = (int)(2e10 / flops) + 1;
    edgec__sgemm(false, false, M, N, K, 1.0f, A, K, B, N, 0.0f, C, N, threads);
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        edgec__sgemm(false, false, M, N, K, 1.0f, A, K, B, N, 0.0f, C, N, threads);
        double t = now() - t0;
        if (t < best)
            best = t;
    }
    printf("sgemm %ldx%ldx%ld threads=%d kernel=%s: %.2f ms, %.1f GFLOP/s\n", M, N, K, threads,
           edgec__sgemm_kernel_name(), best * 1e3, flops / best * 1e-9);
    free(A);
    free(B);
    free(C);
    return 0;
}
