/* Small dense linear algebra in double for the data-aware passes (pruning reconstruction,
 * GPTQ rounding): Cholesky factorisation and solves with its factor. Matrices are n x n,
 * row-major; everything runs in a fixed order, so results are bit-identical run to run. */
#ifndef EDGEC_LINALG_SMALL_H
#define EDGEC_LINALG_SMALL_H

#include <stdbool.h>
#include <stdint.h>

/* Cholesky factorisation A = L L^T of the symmetric matrix `a` in place: L is written to
 * the lower triangle (the strict upper triangle is left as it was). False when `a` is not
 * positive definite, i.e. a pivot is not > 0 (NaN included). */
bool edgec__cholesky(double *a, int64_t n);

/* Solves L L^T x = b in place (`x` holds b on entry) with the factor from
 * edgec__cholesky. */
void edgec__cholesky_solve(const double *l, int64_t n, double *x);

#endif
