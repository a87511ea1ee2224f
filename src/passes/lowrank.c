/* Low-rank linear algebra (see lowrank.h). */
#include "passes/linalg_small.h"
#include "passes/lowrank.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/gemm.h"

#define NOMEM edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory in the low-rank factorization")

/* Panel width of the blocked QR: wide enough that the trailing updates are real GEMMs,
 * narrow enough that the double-precision panel work stays a small share. */
#define QR_BLOCK 32
#define JACOBI_MAX_SWEEPS 80

/* malloc of a*b*size bytes, NULL on overflow. */
static void *alloc2(int64_t a, int64_t b, size_t size)
{
    size_t n;
    if (a < 0 || b < 0 || !edgec__mul_size((size_t)a, (size_t)b, &n) ||
        !edgec__mul_size(n, size, &n))
        return NULL;
    return malloc(n ? n : 1);
}

/* A dot product with four accumulators: the fixed summation order keeps results
 * reproducible while breaking the add latency chain. */
static double dot(const double *x, const double *y, int64_t n)
{
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += x[i] * y[i];
        s1 += x[i + 1] * y[i + 1];
        s2 += x[i + 2] * y[i + 2];
        s3 += x[i + 3] * y[i + 3];
    }
    for (; i < n; i++)
        s0 += x[i] * y[i];
    return (s0 + s1) + (s2 + s3);
}

/* ---- Householder QR ----------------------------------------------------------------- */

/* Factorizes the panel P (mr x jb, column-major double, stride mr) in place: R on and
 * above the diagonal, the reflectors' tails below (v[0] = 1 implied), tau per column. */
static void panel_qr(double *P, int64_t mr, int64_t jb, double *tau)
{
    for (int64_t c = 0; c < jb; c++) {
        double *x = P + c * mr + c;
        int64_t len = mr - c;
        double alpha = x[0];
        double xn = len > 1 ? sqrt(dot(x + 1, x + 1, len - 1)) : 0.0;
        if (xn == 0.0) {
            tau[c] = 0.0;
            continue;
        }
        double beta = -copysign(hypot(alpha, xn), alpha);
        tau[c] = (beta - alpha) / beta;
        double scale = 1.0 / (alpha - beta);
        for (int64_t i = 1; i < len; i++)
            x[i] *= scale;
        x[0] = beta;
        for (int64_t j = c + 1; j < jb; j++) {
            double *y = P + j * mr + c;
            double w = y[0] + dot(x + 1, y + 1, len - 1);
            w *= tau[c];
            y[0] -= w;
            for (int64_t i = 1; i < len; i++)
                y[i] -= w * x[i];
        }
    }
}

edgec_status edgec__lowrank_qr(float *A, int64_t m, int64_t n, int64_t lda, float *R)
{
    edgec_status st = EDGEC_STATUS_OK;
    int64_t nblocks = (n + QR_BLOCK - 1) / QR_BLOCK;
    float *V = alloc2(m, n, sizeof(float));
    float *T = alloc2(nblocks * QR_BLOCK, QR_BLOCK, sizeof(float));
    float *W = alloc2(QR_BLOCK, n, sizeof(float));
    float *W2 = alloc2(QR_BLOCK, n, sizeof(float));
    double *P = alloc2(m, QR_BLOCK, sizeof(double));
    double tau[QR_BLOCK], z[QR_BLOCK];
    if (m < n || n < 1) {
        st = edgec__fail(EDGEC_STATUS_INTERNAL, "QR of a %lld x %lld matrix: needs m >= n >= 1",
                         (long long)m, (long long)n);
        goto cleanup;
    }
    if (!V || !T || !W || !W2 || !P) {
        st = NOMEM;
        goto cleanup;
    }
    for (int64_t b = 0; b < nblocks; b++) {
        int64_t j0 = b * QR_BLOCK, jb = n - j0 < QR_BLOCK ? n - j0 : QR_BLOCK, mr = m - j0;
        float *Tb = T + b * QR_BLOCK * QR_BLOCK;
        for (int64_t c = 0; c < jb; c++)
            for (int64_t i = 0; i < mr; i++)
                P[c * mr + i] = A[(j0 + i) * lda + j0 + c];
        panel_qr(P, mr, jb, tau);
        /* V (unit lower trapezoid) into its slot of the block column, R back into A. */
        for (int64_t i = 0; i < mr; i++)
            for (int64_t c = 0; c < jb; c++) {
                float v = i < c ? 0.0f : i == c ? 1.0f : (float)P[c * mr + i];
                V[(j0 + i) * n + j0 + c] = v;
                if (i <= c)
                    A[(j0 + i) * lda + j0 + c] = (float)P[c * mr + i];
            }
        /* T of the compact WY form H_1...H_jb = I - V T V^T (forward, column by column). */
        memset(Tb, 0, sizeof(float) * QR_BLOCK * QR_BLOCK);
        double Td[QR_BLOCK][QR_BLOCK];
        for (int64_t c = 0; c < jb; c++) {
            for (int64_t j = 0; j < c; j++) {
                /* v_j^T v_c over rows >= c, where v_c starts with an implicit 1. */
                const double *vj = P + j * mr, *vc = P + c * mr;
                z[j] = vj[c] + dot(vj + c + 1, vc + c + 1, mr - c - 1);
            }
            for (int64_t i = 0; i < c; i++) {
                double s = 0;
                for (int64_t j = i; j < c; j++)
                    s += Td[i][j] * z[j];
                Td[i][c] = -tau[c] * s;
            }
            Td[c][c] = tau[c];
            for (int64_t i = c + 1; i < jb; i++)
                Td[i][c] = 0;
        }
        for (int64_t i = 0; i < jb; i++)
            for (int64_t j = 0; j < jb; j++)
                Tb[i * jb + j] = (float)Td[i][j];
        /* Trailing columns: C <- (I - V T^T V^T) C. */
        int64_t rest = n - j0 - jb;
        if (rest > 0) {
            float *C = A + j0 * lda + j0 + jb;
            const float *Vb = V + j0 * n + j0;
            edgec__sgemm(true, false, jb, rest, mr, 1.0f, Vb, n, C, lda, 0.0f, W, rest, 1);
            edgec__sgemm(true, false, jb, rest, jb, 1.0f, Tb, jb, W, rest, 0.0f, W2, rest, 1);
            edgec__sgemm(false, false, mr, rest, jb, -1.0f, Vb, n, W2, rest, 1.0f, C, lda, 1);
        }
    }
    if (R)
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j < n; j++)
                R[i * n + j] = j >= i ? A[i * lda + j] : 0.0f;
    /* Q = H_1 ... H_n [I; 0], applying the blocks last to first; columns left of a block
     * are still unit vectors above it, so only its own and later columns change. */
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++)
            A[i * lda + j] = i == j ? 1.0f : 0.0f;
    for (int64_t b = nblocks - 1; b >= 0; b--) {
        int64_t j0 = b * QR_BLOCK, jb = n - j0 < QR_BLOCK ? n - j0 : QR_BLOCK, mr = m - j0;
        int64_t cols = n - j0;
        const float *Tb = T + b * QR_BLOCK * QR_BLOCK;
        const float *Vb = V + j0 * n + j0;
        float *C = A + j0 * lda + j0;
        edgec__sgemm(true, false, jb, cols, mr, 1.0f, Vb, n, C, lda, 0.0f, W, cols, 1);
        edgec__sgemm(false, false, jb, cols, jb, 1.0f, Tb, jb, W, cols, 0.0f, W2, cols, 1);
        edgec__sgemm(false, false, mr, cols, jb, -1.0f, Vb, n, W2, cols, 1.0f, C, lda, 1);
    }
cleanup:
    free(V);
    free(T);
    free(W);
    free(W2);
    free(P);
    return st;
}

/* ---- one-sided Jacobi SVD ---------------------------------------------------------------- */

static void rotate(double *x, double *y, int64_t n, double c, double s)
{
    for (int64_t i = 0; i < n; i++) {
        double a = x[i], b = y[i];
        x[i] = c * a - s * b;
        y[i] = s * a + c * b;
    }
}

static void swap_cols(double *X, int64_t ld, int64_t rows, int64_t a, int64_t b)
{
    for (int64_t i = 0; i < rows; i++) {
        double t = X[a * ld + i];
        X[a * ld + i] = X[b * ld + i];
        X[b * ld + i] = t;
    }
}

edgec_status edgec__lowrank_jacobi(double *A, int64_t m, int64_t n, int64_t lda, double *S,
                                   double *V, int64_t ldv)
{
    if (m < n || n < 1)
        return edgec__fail(EDGEC_STATUS_INTERNAL, "Jacobi SVD of a %lld x %lld matrix: needs m >= n >= 1",
                           (long long)m, (long long)n);
    /* Rotations stop once every pair of columns is orthogonal to working precision. */
    double tol = DBL_EPSILON * (double)(m > 16 ? m : 16);
    if (V)
        for (int64_t j = 0; j < n; j++)
            for (int64_t i = 0; i < n; i++)
                V[j * ldv + i] = i == j ? 1.0 : 0.0;
    int sweep = 0;
    bool converged = false;
    for (; sweep < JACOBI_MAX_SWEEPS && !converged; sweep++) {
        /* Squared column norms, refreshed every sweep so that updates do not drift. */
        for (int64_t j = 0; j < n; j++)
            S[j] = dot(A + j * lda, A + j * lda, m);
        converged = true;
        for (int64_t p = 0; p + 1 < n; p++) {
            for (int64_t q = p + 1; q < n; q++) {
                double alpha = S[p], beta = S[q];
                if (alpha == 0.0 || beta == 0.0)
                    continue;
                double gamma = dot(A + p * lda, A + q * lda, m);
                if (fabs(gamma) <= tol * sqrt(alpha) * sqrt(beta))
                    continue;
                converged = false;
                double zeta = (beta - alpha) / (2.0 * gamma);
                double t = copysign(1.0, zeta) / (fabs(zeta) + sqrt(1.0 + zeta * zeta));
                double c = 1.0 / sqrt(1.0 + t * t), s = c * t;
                rotate(A + p * lda, A + q * lda, m, c, s);
                if (V)
                    rotate(V + p * ldv, V + q * ldv, n, c, s);
                S[p] = alpha - t * gamma;
                S[q] = beta + t * gamma;
            }
        }
    }
    if (!converged)
        return edgec__fail(EDGEC_STATUS_INTERNAL,
                           "Jacobi SVD of a %lld x %lld matrix did not converge in %d sweeps "
                           "(non-finite values?)",
                           (long long)m, (long long)n, JACOBI_MAX_SWEEPS);
    for (int64_t j = 0; j < n; j++)
        S[j] = sqrt(dot(A + j * lda, A + j * lda, m));
    /* Descending order; selection sort keeps ties in column order (deterministic). */
    for (int64_t j = 0; j + 1 < n; j++) {
        int64_t best = j;
        for (int64_t i = j + 1; i < n; i++)
            if (S[i] > S[best])
                best = i;
        if (best != j) {
            double t = S[j];
            S[j] = S[best];
            S[best] = t;
            swap_cols(A, lda, m, j, best);
            if (V)
                swap_cols(V, ldv, n, j, best);
        }
    }
    return EDGEC_STATUS_OK;
}

/* ---- SVD drivers ------------------------------------------------------------------------ */

static double frob2(const float *A, int64_t m, int64_t n)
{
    double s = 0;
    for (int64_t i = 0; i < m * n; i++)
        s += (double)A[i] * (double)A[i];
    return s;
}

/* Splitmix64: a small, well-mixed generator, identical on every platform. */
static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Standard normal samples by Box-Muller. */
static void gaussian(float *x, int64_t n, uint64_t seed)
{
    uint64_t s = seed ^ 0x5eed5eed5eedull;
    for (int64_t i = 0; i < n; i += 2) {
        double u1 = ((double)(splitmix(&s) >> 11) + 1.0) / 9007199254740993.0; /* (0, 1] */
        double u2 = (double)(splitmix(&s) >> 11) / 9007199254740992.0;
        double r = sqrt(-2.0 * log(u1)), a = 6.283185307179586 * u2;
        x[i] = (float)(r * cos(a));
        if (i + 1 < n)
            x[i + 1] = (float)(r * sin(a));
    }
}

/* Given a tall matrix's thin QR (Q m x r) and the column-major double r x r matrix X = R
 * (or its SVD source) overwritten by Jacobi with Ur*S and Vr: U = Q Ur[:, :k],
 * Vt = Vr[:, :k]^T. */
static edgec_status finish_from_small(const float *Q, int64_t m, int64_t r, double *X, double *Sd,
                                      double *Vr, int64_t k, float *U, float *S, float *Vt,
                                      const float *Qb, int64_t nb)
{
    float *Ur = alloc2(r, k, sizeof(float));
    float *VrT = Qb ? alloc2(k, r, sizeof(float)) : NULL;
    if (!Ur || (Qb && !VrT)) {
        free(Ur);
        free(VrT);
        return NOMEM;
    }
    for (int64_t j = 0; j < k; j++) {
        double inv = Sd[j] > 0 ? 1.0 / Sd[j] : 0.0;
        for (int64_t i = 0; i < r; i++)
            Ur[i * k + j] = (float)(X[j * r + i] * inv);
        S[j] = (float)Sd[j];
    }
    edgec__sgemm(false, false, m, k, r, 1.0f, Q, r, Ur, k, 0.0f, U, k, 1);
    if (Qb) {
        /* Vt = Vr_k^T Qb^T: the right factor lives in the span of Qb (nb x r). */
        for (int64_t j = 0; j < k; j++)
            for (int64_t i = 0; i < r; i++)
                VrT[j * r + i] = (float)Vr[j * r + i];
        edgec__sgemm(false, true, k, nb, r, 1.0f, VrT, r, Qb, r, 0.0f, Vt, nb, 1);
    } else {
        for (int64_t j = 0; j < k; j++)
            for (int64_t i = 0; i < r; i++)
                Vt[j * r + i] = (float)Vr[j * r + i];
    }
    free(Ur);
    free(VrT);
    return EDGEC_STATUS_OK;
}

/* Exact SVD of a tall A (m >= n): QR, then Jacobi on R. Writes the top k triplets. */
static edgec_status exact_tall(const float *A, int64_t m, int64_t n, int64_t k, float *U,
                               float *S, float *Vt, double *Sall)
{
    edgec_status st;
    float *Q = alloc2(m, n, sizeof(float)), *R = alloc2(n, n, sizeof(float));
    double *X = alloc2(n, n, sizeof(double)), *Vr = alloc2(n, n, sizeof(double));
    double *Sd = alloc2(n, 1, sizeof(double));
    if (!Q || !R || !X || !Vr || !Sd) {
        st = NOMEM;
        goto cleanup;
    }
    memcpy(Q, A, sizeof(float) * (size_t)(m * n));
    if ((st = edgec__lowrank_qr(Q, m, n, n, R)))
        goto cleanup;
    /* R as a column-major matrix: element (i, j) at X[j * n + i]. */
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < n; j++)
            X[j * n + i] = R[i * n + j];
    if ((st = edgec__lowrank_jacobi(X, n, n, n, Sd, U ? Vr : NULL, n)))
        goto cleanup;
    if (Sall)
        memcpy(Sall, Sd, sizeof(double) * (size_t)n);
    if (U)
        st = finish_from_small(Q, m, n, X, Sd, Vr, k, U, S, Vt, NULL, 0);
cleanup:
    free(Q);
    free(R);
    free(X);
    free(Vr);
    free(Sd);
    return st;
}

static float *transposed(const float *A, int64_t m, int64_t n)
{
    float *T = alloc2(m, n, sizeof(float));
    if (T)
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++)
                T[j * m + i] = A[i * n + j];
    return T;
}

/* Exact SVD of any shape (the wide case runs on A^T and swaps the factors). U, S, Vt may
 * be NULL when only the singular values (Sall) are wanted. */
static edgec_status exact_svd(const float *A, int64_t m, int64_t n, int64_t k, float *U,
                              float *S, float *Vt, double *Sall)
{
    if (m >= n)
        return exact_tall(A, m, n, k, U, S, Vt, Sall);
    edgec_status st = EDGEC_STATUS_OK;
    float *At = transposed(A, m, n);
    float *U2 = U ? alloc2(n, k, sizeof(float)) : NULL, *Vt2 = U ? alloc2(k, m, sizeof(float)) : NULL;
    if (!At || (U && (!U2 || !Vt2))) {
        st = NOMEM;
        goto cleanup;
    }
    /* A^T = U2 S Vt2, so A = Vt2^T S U2^T. */
    if ((st = exact_tall(At, n, m, k, U2, S, Vt2, Sall)) || !U)
        goto cleanup;
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < k; j++)
            U[i * k + j] = Vt2[j * m + i];
    for (int64_t j = 0; j < k; j++)
        for (int64_t i = 0; i < n; i++)
            Vt[j * n + i] = U2[i * k + j];
cleanup:
    free(At);
    free(U2);
    free(Vt2);
    return st;
}

/* Halko et al., algorithm 4.4 (randomized subspace iteration) + 5.1 (direct SVD). */
static edgec_status randomized(const float *A, int64_t m, int64_t n, int64_t k, int64_t l,
                               int q, uint64_t seed, float *U, float *S, float *Vt)
{
    edgec_status st = EDGEC_STATUS_OK;
    float *Om = alloc2(n, l, sizeof(float)), *Y = alloc2(m, l, sizeof(float));
    float *Z = alloc2(n, l, sizeof(float)), *Rb = alloc2(l, l, sizeof(float));
    double *X = alloc2(l, l, sizeof(double)), *Vr = alloc2(l, l, sizeof(double));
    double *Sd = alloc2(l, 1, sizeof(double));
    if (!Om || !Y || !Z || !Rb || !X || !Vr || !Sd) {
        st = NOMEM;
        goto cleanup;
    }
    gaussian(Om, n * l, seed);
    /* Range finder: Y = orth(A Omega), then q rounds of Y = orth(A orth(A^T Y)). */
    edgec__sgemm(false, false, m, l, n, 1.0f, A, n, Om, l, 0.0f, Y, l, 1);
    if ((st = edgec__lowrank_qr(Y, m, l, l, NULL)))
        goto cleanup;
    for (int it = 0; it < q; it++) {
        edgec__sgemm(true, false, n, l, m, 1.0f, A, n, Y, l, 0.0f, Z, l, 1);
        if ((st = edgec__lowrank_qr(Z, n, l, l, NULL)))
            goto cleanup;
        edgec__sgemm(false, false, m, l, n, 1.0f, A, n, Z, l, 0.0f, Y, l, 1);
        if ((st = edgec__lowrank_qr(Y, m, l, l, NULL)))
            goto cleanup;
    }
    /* B = Y^T A (l x n), formed as B^T = A^T Y = Qb Rb, so B = Rb^T Qb^T; the SVD of the
     * small Rb^T = Ur S Vr^T gives A ~= (Y Ur) S (Qb Vr)^T. */
    edgec__sgemm(true, false, n, l, m, 1.0f, A, n, Y, l, 0.0f, Z, l, 1);
    if ((st = edgec__lowrank_qr(Z, n, l, l, Rb)))
        goto cleanup;
    /* Rb^T column-major has the same layout as Rb row-major. */
    for (int64_t i = 0; i < l * l; i++)
        X[i] = Rb[i];
    if ((st = edgec__lowrank_jacobi(X, l, l, l, Sd, Vr, l)))
        goto cleanup;
    st = finish_from_small(Y, m, l, X, Sd, Vr, k, U, S, Vt, Z, n);
cleanup:
    free(Om);
    free(Y);
    free(Z);
    free(Rb);
    free(X);
    free(Vr);
    free(Sd);
    return st;
}

edgec_status edgec__lowrank_svd(const float *A, int64_t m, int64_t n, int64_t k,
                                const edgec_lowrank_opts *opts, float *U, float *S, float *Vt,
                                double *energy)
{
    int64_t r = m < n ? m : n;
    if (m < 1 || n < 1 || k < 1 || k > r)
        return edgec__fail(EDGEC_STATUS_INTERNAL, "truncated SVD of a %lld x %lld matrix at rank %lld",
                           (long long)m, (long long)n, (long long)k);
    edgec_lowrank_opts o = opts ? *opts : (edgec_lowrank_opts){0};
    int64_t p = o.oversample > 0 ? o.oversample : EDGEC_LOWRANK_OVERSAMPLE;
    int q = o.power_iters == 0 ? EDGEC_LOWRANK_POWER_ITERS : o.power_iters < 0 ? 0 : o.power_iters;
    int64_t l = k + p < r ? k + p : r;
    edgec_status st = o.exact || 4 * l >= r ? exact_svd(A, m, n, k, U, S, Vt, NULL)
                                            : randomized(A, m, n, k, l, q, o.seed, U, S, Vt);
    if (!st && energy) {
        double total = frob2(A, m, n), kept = 0;
        for (int64_t j = 0; j < k; j++)
            kept += (double)S[j] * (double)S[j];
        *energy = total > 0 ? (kept < total ? kept / total : 1.0) : 1.0;
    }
    return st;
}

edgec_status edgec__lowrank_singular_values(const float *A, int64_t m, int64_t n, double *S)
{
    return exact_svd(A, m, n, 0, NULL, NULL, NULL, S);
}

int64_t edgec__lowrank_rank_for_energy(const double *S, int64_t n, double energy)
{
    double total = 0, acc = 0;
    for (int64_t i = 0; i < n; i++)
        total += S[i] * S[i];
    for (int64_t i = 0; i < n; i++) {
        acc += S[i] * S[i];
        if (acc >= energy * total)
            return i + 1;
    }
    return n > 0 ? n : 1;
}

/* ---- data-aware factorization ----------------------------------------------------------- */

/* In-place Cholesky G = L L^T with the upper triangle zeroed, since L is then used as a
 * full matrix in products. Returns false when G is not numerically positive definite. */
static bool cholesky(double *G, int64_t n)
{
    if (!edgec__cholesky(G, n))
        return false;
    for (int64_t j = 0; j < n; j++)
        for (int64_t i = j + 1; i < n; i++)
            G[j * n + i] = 0.0;
    return true;
}

/* Cholesky factor of gram + d I, with the dampening d = 1% of the mean diagonal (raised
 * tenfold while the factorization fails): calibration inputs rarely span every
 * direction (dead pixels, ReLU zeros), and the dampening keeps those directions close to
 * the plain weight-error solution. */
static edgec_status whitening(const double *gram, int64_t n, double *L)
{
    double mean = 0;
    for (int64_t i = 0; i < n; i++)
        mean += gram[i * n + i];
    mean = mean > 0 ? mean / (double)n : 1.0;
    for (double damp = 1e-2; damp <= 1e4; damp *= 10) {
        memcpy(L, gram, sizeof(double) * (size_t)(n * n));
        for (int64_t i = 0; i < n; i++)
            L[i * n + i] += damp * mean;
        if (cholesky(L, n))
            return EDGEC_STATUS_OK;
    }
    return edgec__fail(EDGEC_STATUS_INVALID_DATA,
                       "the calibration inputs' Gram matrix is not positive definite (non-finite "
                       "values in the calibration data?)");
}

edgec_status edgec__lowrank_factor(const float *W, int64_t m, int64_t n, const double *gram,
                                   int64_t k, double energy, int64_t max_k,
                                   const edgec_lowrank_opts *opts, float *Left, float *Right,
                                   int64_t *k_out, double *kept)
{
    edgec_status st = EDGEC_STATUS_OK;
    int64_t r = m < n ? m : n;
    double *L = NULL, *Sall = NULL, *row = NULL;
    float *Lf = NULL, *WL = NULL, *U = NULL, *Vt = NULL, *S = NULL;
    const float *M = W;
    if (gram) {
        L = alloc2(n, n, sizeof(double));
        Lf = alloc2(n, n, sizeof(float));
        WL = alloc2(m, n, sizeof(float));
        if (!L || !Lf || !WL) {
            st = NOMEM;
            goto cleanup;
        }
        if ((st = whitening(gram, n, L)))
            goto cleanup;
        for (int64_t i = 0; i < n * n; i++)
            Lf[i] = (float)L[i];
        /* ||(W - W_k) X|| = ||(W - W_k) L||: the best rank k of W L is the answer. */
        edgec__sgemm(false, false, m, n, n, 1.0f, W, n, Lf, n, 0.0f, WL, n, 1);
        M = WL;
    }
    if (k <= 0) {
        if (!(Sall = alloc2(r, 1, sizeof(double)))) {
            st = NOMEM;
            goto cleanup;
        }
        /* The rank comes from the weight's own spectrum even with calibration data: the
         * output energy of uncentred activations is dominated by their mean and would
         * pick tiny ranks. The data then only chooses the best factors of that rank. */
        if ((st = edgec__lowrank_singular_values(W, m, n, Sall)))
            goto cleanup;
        k = edgec__lowrank_rank_for_energy(Sall, r, energy);
        *k_out = k;
        if (k >= max_k)
            goto cleanup;
    }
    *k_out = k;
    U = alloc2(m, k, sizeof(float));
    Vt = alloc2(k, n, sizeof(float));
    S = alloc2(k, 1, sizeof(float));
    if (!U || !Vt || !S) {
        st = NOMEM;
        goto cleanup;
    }
    if ((st = edgec__lowrank_svd(M, m, n, k, opts, U, S, Vt, kept)))
        goto cleanup;
    for (int64_t j = 0; j < k; j++) {
        float s = sqrtf(S[j]);
        for (int64_t i = 0; i < m; i++)
            Left[i * k + j] = U[i * k + j] * s;
        for (int64_t i = 0; i < n; i++)
            Right[j * n + i] = Vt[j * n + i] * s;
    }
    if (gram) {
        /* Right <- Right L^-1: each row x solves x L = r, i.e. L^T x^T = r^T, by back
         * substitution; L is transposed first so that the sums run over contiguous rows. */
        if (!(row = alloc2(n, 1, sizeof(double)))) {
            st = NOMEM;
            goto cleanup;
        }
        for (int64_t i = 0; i < n; i++)
            for (int64_t c = 0; c < i; c++) {
                L[c * n + i] = L[i * n + c];
                L[i * n + c] = 0.0;
            }
        for (int64_t j = 0; j < k; j++) {
            float *rj = Right + j * n;
            for (int64_t c = n - 1; c >= 0; c--)
                row[c] = (rj[c] - dot(row + c + 1, L + c * n + c + 1, n - c - 1)) / L[c * n + c];
            for (int64_t c = 0; c < n; c++)
                rj[c] = (float)row[c];
        }
    }
cleanup:
    free(L);
    free(Lf);
    free(WL);
    free(Sall);
    free(row);
    free(U);
    free(Vt);
    free(S);
    return st;
}
