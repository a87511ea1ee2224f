/* Single-precision GEMM for the reference interpreter.
 *
 * C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C, all matrices row-major; op(X) is X
 * or its transpose. Blocked and packed (GotoBLAS-style loops around a register-blocked
 * micro-kernel). On x86-64 with GCC/Clang the micro-kernel has an AVX2+FMA version chosen
 * at run time (the build itself stays at the SSE2 baseline); elsewhere a portable C
 * version. With `threads` > 1 the output is split into blocks aligned to the micro-tile,
 * so every element is computed by the same sequence of operations whatever the thread
 * count: results are bit-identical to one thread. beta == 0 means C is not read (NaNs in
 * C do not propagate). */
#ifndef EDGEC_GEMM_H
#define EDGEC_GEMM_H

#include <stdbool.h>
#include <stdint.h>

void edgec__sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                  const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C,
                  int64_t ldc, int threads);

/* The micro-kernel in use: "avx2+fma" or "c". */
const char *edgec__sgemm_kernel_name(void);

/* Forces the portable kernel (tests compare both); returns the previous setting. */
bool edgec__sgemm_force_portable(bool on);

/* Runs fn(arg, i) for i in [0, n) on up to `threads` threads (the caller's thread takes a
 * share). Work items must write disjoint memory. */
void edgec__parallel_for(int threads, int64_t n, void (*fn)(void *arg, int64_t i), void *arg);

#endif
