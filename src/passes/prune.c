/* --prune R: unstructured magnitude pruning of the weights of Conv, ConvTranspose, Gemm,
 * MatMul, LSTM, GRU and RNN nodes, wherever the weights live; with --calib the kept
 * weights are re-solved layer by layer (see prune_common.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "passes/prune_common.h"

#define NOMEM edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory")

static edgec_status check(const char *arg)
{
    double r;
    return edgec__parse_double(arg, "--prune", 0.0, 1.0, false, true, &r);
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

/* The per-layer ceiling of the global scope: at most this fraction of a layer goes, so
 * that no layer is emptied, and layers the global threshold would strip harder give
 * their excess back to the others. */
static double layer_cap(double r)
{
    return r + (1.0 - r) * 0.5;
}

/* How many of the sorted magnitudes `v` (n of them) are <= t. */
static int64_t count_le(const float *v, int64_t n, float t)
{
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (v[mid] <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Per-layer counts of weights to remove: `r` of each layer (layer scope), or `r` of all
 * weights by one magnitude threshold, each layer capped (global scope). */
static edgec_status plan_counts(edgec_prune_layer *layers, size_t n, double r, bool global,
                                int64_t *count)
{
    if (!global) {
        for (size_t i = 0; i < n; i++)
            count[i] = (int64_t)floor(r * (double)layers[i].numel + 0.5);
        return EDGEC_STATUS_OK;
    }
    float **sorted = calloc(n + 1, sizeof *sorted);
    int64_t total = 0;
    edgec_status st = EDGEC_STATUS_OK;
    if (!sorted)
        return NOMEM;
    float hi = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t m = layers[i].numel;
        if (!(sorted[i] = malloc((size_t)m * sizeof(float)))) {
            st = NOMEM;
            goto cleanup;
        }
        for (int64_t e = 0; e < m; e++)
            sorted[i][e] = fabsf(layers[i].data[e]);
        qsort(sorted[i], (size_t)m, sizeof(float), cmp_float);
        if (sorted[i][m - 1] > hi)
            hi = sorted[i][m - 1];
        total += m;
    }
    int64_t target = (int64_t)floor(r * (double)total + 0.5);
    double cap = layer_cap(r);
    /* Bisection on the threshold: the smallest one whose capped counts reach the target. */
    float lo_t = 0.0f, hi_t = hi;
    for (int it = 0; it < 64; it++) {
        float mid = lo_t + (hi_t - lo_t) / 2;
        if (mid <= lo_t || mid >= hi_t)
            break;
        int64_t got = 0;
        for (size_t i = 0; i < n; i++) {
            int64_t c = count_le(sorted[i], layers[i].numel, mid);
            int64_t lim = (int64_t)floor(cap * (double)layers[i].numel);
            got += c < lim ? c : lim;
        }
        if (got >= target)
            hi_t = mid;
        else
            lo_t = mid;
    }
    int64_t got = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t c = count_le(sorted[i], layers[i].numel, hi_t);
        int64_t lim = (int64_t)floor(cap * (double)layers[i].numel);
        count[i] = c < lim ? c : lim;
        got += count[i];
    }
    /* Ties at the threshold may overshoot: give the excess back from the last layers. */
    for (size_t i = n; got > target && i-- > 0;) {
        int64_t back = got - target < count[i] ? got - target : count[i];
        count[i] -= back;
        got -= back;
    }
cleanup:
    for (size_t i = 0; i < n; i++)
        free(sorted[i]);
    free(sorted);
    return st;
}

/* Marks the `k` smallest-magnitude elements of `v` as pruned; ties go by position, so
 * the mask is deterministic. */
static edgec_status mask_smallest(const float *v, int64_t n, int64_t k, uint8_t *keep)
{
    memset(keep, 1, (size_t)n);
    if (k <= 0)
        return EDGEC_STATUS_OK;
    int64_t *idx = malloc((size_t)n * sizeof *idx);
    float *a = malloc((size_t)n * sizeof *a);
    if (!idx || !a) {
        free(idx);
        free(a);
        return NOMEM;
    }
    for (int64_t i = 0; i < n; i++)
        a[i] = fabsf(v[i]);
    /* Sort indices by (magnitude, index) with a merge sort: stable and qsort-free of
     * global state. */
    int64_t *tmp = malloc((size_t)n * sizeof *tmp);
    if (!tmp) {
        free(idx);
        free(a);
        return NOMEM;
    }
    for (int64_t i = 0; i < n; i++)
        idx[i] = i;
    for (int64_t w = 1; w < n; w *= 2) {
        for (int64_t lo = 0; lo < n; lo += 2 * w) {
            int64_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            int64_t i = lo, j = mid, o = lo;
            while (i < mid && j < hi)
                tmp[o++] = a[idx[j]] < a[idx[i]] ? idx[j++] : idx[i++];
            while (i < mid)
                tmp[o++] = idx[i++];
            while (j < hi)
                tmp[o++] = idx[j++];
        }
        memcpy(idx, tmp, (size_t)n * sizeof *idx);
    }
    for (int64_t i = 0; i < k && i < n; i++)
        keep[idx[i]] = 0;
    free(tmp);
    free(idx);
    free(a);
    return EDGEC_STATUS_OK;
}

static edgec_status run(edgec_pass_ctx *ctx)
{
    double r;
    edgec_status st = edgec__parse_double(ctx->arg, "--prune", 0.0, 1.0, false, true, &r);
    if (st)
        return st;
    const char *scope = edgec__pass_option(ctx, "prune-scope");
    if (scope && strcmp(scope, "global") && strcmp(scope, "layer"))
        return edgec__fail(EDGEC_STATUS_USAGE, "--prune-scope must be 'global' or 'layer', not '%s'",
                           scope);
    bool global = !scope || !strcmp(scope, "global");
    edgec_prune_layer *layers = NULL;
    size_t n = 0;
    int64_t *count = NULL;
    uint8_t **keep = NULL;
    edgec_prune_macs macs = {0};
    if ((st = edgec__prune_layers(ctx, &layers, &n)))
        return st;
    if (!n) {
        edgec__pass_log(ctx, "no prunable weights (Conv, ConvTranspose, Gemm, MatMul, LSTM, "
                             "GRU, RNN with constant float weights)");
        goto cleanup;
    }
    edgec__prune_log_macs(ctx, &macs, false);
    count = calloc(n, sizeof *count);
    keep = calloc(n, sizeof *keep);
    if (!count || !keep) {
        st = NOMEM;
        goto cleanup;
    }
    if ((st = plan_counts(layers, n, r, global, count)))
        goto cleanup;
    for (size_t i = 0; i < n && !st; i++) {
        if (!(keep[i] = malloc((size_t)layers[i].numel))) {
            st = NOMEM;
            break;
        }
        st = mask_smallest(layers[i].data, layers[i].numel, count[i], keep[i]);
    }
    if (st || (st = edgec__prune_apply(ctx, layers, n, keep, NULL)))
        goto cleanup;
    int64_t zeros = 0, total = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t z = edgec__count_zeros(layers[i].data, layers[i].numel);
        char where[256];
        edgec__graph_path(layers[i].w.graph, where, sizeof where);
        edgec__pass_log(ctx, "%s (%s of %s, %s): %lld of %lld weights zero (%.1f%%)",
                        layers[i].w.name, layers[i].node->op_type,
                        *layers[i].node->name ? layers[i].node->name : layers[i].node->outputs[0],
                        where, (long long)z, (long long)layers[i].numel,
                        100.0 * (double)z / (double)layers[i].numel);
        zeros += z;
        total += layers[i].numel;
    }
    edgec__pass_log(ctx, "%s scope: %lld of %lld weights zero (%.2f%%) in %zu tensors",
                    global ? "global" : "layer", (long long)zeros, (long long)total,
                    100.0 * (double)zeros / (double)total, n);
    st = edgec__prune_finish(ctx, layers, n, &macs);
cleanup:
    edgec__prune_masks_free(keep, n);
    free(count);
    free(layers);
    return st;
}

static const edgec_pass_option options[] = {
    {"prune-scope", "global|layer",
     "--prune: one magnitude threshold over all layers, each capped so none is emptied "
     "(global, default), or the same fraction of every layer"},
    {0},
};

const edgec_pass edgec__pass_prune = {
    "prune",
    "R",
    true,
    "zero the fraction R (0 <= R < 1) of weights with the smallest magnitude; with --calib "
    "the kept weights are re-solved layer by layer to match the original outputs",
    EDGEC_ORDER_PRUNE,
    options,
    check,
    run,
};
