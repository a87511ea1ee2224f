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

/* Sorts non-negative floats ascending in linear time: their IEEE bit patterns order
 * like their values, so an LSD radix sort over the 32-bit patterns (4 passes of 8 bits)
 * gives the same order as a comparison sort, without a comparator call per pair. */
static bool sort_magnitudes(float *v, int64_t n)
{
    uint32_t *a = (uint32_t *)v, *b = malloc((size_t)n * sizeof *b);
    if (!b)
        return false;
    for (int shift = 0; shift < 32; shift += 8) {
        int64_t count[257] = {0};
        for (int64_t i = 0; i < n; i++)
            count[((a[i] >> shift) & 0xff) + 1]++;
        for (int d = 0; d < 256; d++)
            count[d + 1] += count[d];
        for (int64_t i = 0; i < n; i++)
            b[count[(a[i] >> shift) & 0xff]++] = a[i];
        uint32_t *t = a;
        a = b;
        b = t;
    }
    /* After an even number of passes the data is back in `v`; `b` is the scratch. */
    free(b);
    return true;
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
        if (!sort_magnitudes(sorted[i], m)) {
            st = NOMEM;
            goto cleanup;
        }
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
 * the mask is deterministic. Each element becomes the unique key (|v| bits, index):
 * the k smallest keys are exactly the first k of a stable sort by magnitude, and a
 * selection finds them in linear expected time instead of sorting. */
static edgec_status mask_smallest(const float *v, int64_t n, int64_t k, uint8_t *keep)
{
    memset(keep, 1, (size_t)n);
    if (k <= 0)
        return EDGEC_STATUS_OK;
    if (k >= n) {
        memset(keep, 0, (size_t)n);
        return EDGEC_STATUS_OK;
    }
    if (n > (int64_t)UINT32_MAX)
        return edgec__fail(EDGEC_STATUS_LIMIT, "a layer of %lld weights is too large to prune",
                           (long long)n);
    uint64_t *key = malloc((size_t)n * sizeof *key);
    if (!key)
        return NOMEM;
    for (int64_t i = 0; i < n; i++) {
        float a = fabsf(v[i]);
        uint32_t bits;
        memcpy(&bits, &a, sizeof bits);
        key[i] = (uint64_t)bits << 32 | (uint64_t)i;
    }
    /* Quickselect with a median-of-three pivot; the keys are distinct, so the result does
     * not depend on the pivots chosen. */
    int64_t lo = 0, hi = n - 1, want = k - 1;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        uint64_t x = key[lo], y = key[mid], z = key[hi];
        uint64_t pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
        int64_t i = lo, j = hi;
        while (i <= j) {
            while (key[i] < pivot)
                i++;
            while (key[j] > pivot)
                j--;
            if (i <= j) {
                uint64_t t = key[i];
                key[i++] = key[j];
                key[j--] = t;
            }
        }
        if (want <= j)
            hi = j;
        else if (want >= i)
            lo = i;
        else
            break;
    }
    for (int64_t i = 0; i < k; i++)
        keep[key[i] & 0xffffffffu] = 0;
    free(key);
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
