/* Small dense linear algebra shared by the pruning and quantization passes. */
#include <math.h>

#include "passes/linalg_small.h"

bool edgec__cholesky(double *a, int64_t n)
{
    for (int64_t j = 0; j < n; j++) {
        double s = a[j * n + j];
        for (int64_t k = 0; k < j; k++)
            s -= a[j * n + k] * a[j * n + k];
        if (!(s > 0.0))
            return false;
        double l = sqrt(s);
        a[j * n + j] = l;
        for (int64_t i = j + 1; i < n; i++) {
            double t = a[i * n + j];
            for (int64_t k = 0; k < j; k++)
                t -= a[i * n + k] * a[j * n + k];
            a[i * n + j] = t / l;
        }
    }
    return true;
}

void edgec__cholesky_solve(const double *l, int64_t n, double *x)
{
    /* Forward substitution with L, then back substitution with L^T. */
    for (int64_t i = 0; i < n; i++) {
        double t = x[i];
        for (int64_t k = 0; k < i; k++)
            t -= l[i * n + k] * x[k];
        x[i] = t / l[i * n + i];
    }
    for (int64_t i = n - 1; i >= 0; i--) {
        double t = x[i];
        for (int64_t k = i + 1; k < n; k++)
            t -= l[k * n + i] * x[k];
        x[i] = t / l[i * n + i];
    }
}
