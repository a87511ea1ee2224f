/* Low-rank linear algebra for the svd pass, in C without LAPACK.
 *
 * - Blocked Householder QR of tall float matrices: panels are factorized in double, the
 *   trailing updates and the formation of Q go through edgec__sgemm (compact WY form).
 * - An exact one-sided (Hestenes) Jacobi SVD in double, for small matrices and for the
 *   final step of the randomized method.
 * - A randomized truncated SVD after Halko, Martinsson and Tropp (2011): a Gaussian sketch
 *   from a fixed seed, oversampling, power iterations with re-orthonormalization, then an
 *   exact SVD of the small projected matrix.
 * - A data-aware factorization that minimises the error of the layer's output on
 *   calibration inputs instead of the weight error (whitening by the Cholesky factor of
 *   the inputs' Gram matrix).
 *
 * Matrices are row-major unless a function says otherwise. Everything runs on one thread
 * and in a fixed order of operations, so results are bit-identical from run to run. */
#ifndef EDGEC_LOWRANK_H
#define EDGEC_LOWRANK_H

#include <stdbool.h>
#include <stdint.h>

#include "common/common.h"

/* Defaults of the randomized SVD. Halko et al. suggest p = 5..10 and q = 1..2; a rank that
 * cuts through a flat noise tail needs more (768x512, noise-level tail, rank 100: q = 2
 * gives 1.012x the optimal error, q = 3 1.007x), and each iteration costs two GEMMs and two
 * QRs: 4096x4096 at rank 256 takes about 0.9 s at q = 2 and 1.1 s at q = 3. */
#define EDGEC_LOWRANK_OVERSAMPLE 16
#define EDGEC_LOWRANK_POWER_ITERS 3

/* Thin QR of a tall matrix: A (m x n, row stride lda, m >= n >= 1) is overwritten by Q
 * with orthonormal columns; R (n x n, upper triangular, row-major) is written when not
 * NULL. */
edgec_status edgec__lowrank_qr(float *A, int64_t m, int64_t n, int64_t lda, float *R);

/* Exact SVD by one-sided Jacobi rotations, in double. A is column-major (m x n, m >= n,
 * column stride lda) and is overwritten by U * diag(S) (column j scaled by S[j]). S gets
 * the n singular values in descending order (columns of A and V permuted to match). V
 * (n x n, column-major, stride ldv) gets the right singular vectors when not NULL.
 * Fails with INTERNAL if the rotations do not converge (they do for finite input). */
edgec_status edgec__lowrank_jacobi(double *A, int64_t m, int64_t n, int64_t lda, double *S,
                                   double *V, int64_t ldv);

typedef struct edgec_lowrank_opts {
    int64_t oversample; /* extra sketch columns; <= 0 means EDGEC_LOWRANK_OVERSAMPLE */
    int power_iters;    /* 0 means EDGEC_LOWRANK_POWER_ITERS, negative means none */
    uint64_t seed;      /* seed of the Gaussian sketch */
    bool exact;         /* skip the sketch: exact SVD of the whole matrix */
} edgec_lowrank_opts;

/* Truncated SVD A ~= U diag(S) Vt of A (m x n), rank k (1 <= k <= min(m, n)). U is m x k,
 * S has k values (descending), Vt is k x n. Randomized unless opts->exact or the sketch
 * would cover a quarter of the smaller dimension or more: there the exact SVD costs about
 * the same, and a rank that deep usually sits in a flat tail of the spectrum, where a
 * sketch converges slowly. `energy`, when not NULL, gets sum(S^2) / ||A||_F^2 (1 for a zero matrix). */
edgec_status edgec__lowrank_svd(const float *A, int64_t m, int64_t n, int64_t k,
                                const edgec_lowrank_opts *opts, float *U, float *S, float *Vt,
                                double *energy);

/* All min(m, n) singular values of A, descending (exact, via QR and Jacobi). */
edgec_status edgec__lowrank_singular_values(const float *A, int64_t m, int64_t n, double *S);

/* The smallest rank whose singular values keep a fraction `energy` of the total energy
 * sum(S^2) (n values, descending); at least 1. */
int64_t edgec__lowrank_rank_for_energy(const double *S, int64_t n, double energy);

/* Rank-k factors of W (m x n) as two matrices: W ~= Left (m x k) * Right (k x n), with the
 * singular values split evenly (Left = U sqrt(S), Right = sqrt(S) Vt).
 *
 * When `gram` (n x n, row-major, double: sum over calibration inputs x of x x^T, where the
 * layer computes y = W x) is not NULL, the factors minimise ||(W - Left Right) X|| over the
 * calibration inputs instead of ||W - Left Right||: with G + d I = L L^T (Cholesky, d a
 * small dampening), the best rank-k approximation of W L, mapped back by L^-1.
 *
 * `k` <= 0 selects the rank instead: the smallest keeping a fraction `energy` of the
 * weight's energy (also with `gram`), written to *k_out, and factors are only computed when that rank is
 * below `max_k` (otherwise *k_out is set and Left/Right are untouched). Left and Right
 * must have room for max_k columns/rows in that case. `kept`, when not NULL, gets the
 * fraction of the (output) energy the factors keep. */
edgec_status edgec__lowrank_factor(const float *W, int64_t m, int64_t n, const double *gram,
                                   int64_t k, double energy, int64_t max_k,
                                   const edgec_lowrank_opts *opts, float *Left, float *Right,
                                   int64_t *k_out, double *kept);

#endif
