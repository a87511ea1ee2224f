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

/* The key of +infinity, the largest magnitude that is a number, and a key above all. */
#define KEY_INF 0x7f800000u
#define KEY_NONE UINT32_MAX

/* The order key of a weight's magnitude: the IEEE bit pattern of |x|, which orders like
 * the value for every non-NaN x. NaN, which a float comparison never counts as <= any
 * threshold, maps to KEY_NONE, above every other key; `raw` keeps its bits instead
 * (above infinity too, ordered by payload), the order the masks have always used. */
static inline uint32_t order_key(float x, bool raw)
{
    uint32_t k;
    memcpy(&k, &x, sizeof k);
    k &= 0x7fffffffu;
    return raw || k <= KEY_INF ? k : KEY_NONE;
}

static inline uint32_t mag_key(float x)
{
    return order_key(x, false);
}

/* The smallest key K such that sum over layers of min(#{keys <= K}, lim[i]) reaches
 * `target`, or KEY_NONE when even K = +infinity does not; `*less` gets the same capped
 * sum for the keys < K. K is found digit by digit from the top: each level histograms,
 * per layer, the next digit of the keys that share the digits chosen so far, so the
 * weights are read once per level and never copied. The top digit has 16 bits when the
 * layers are large enough to pay for 65536 buckets each (three levels), else 8 (four
 * levels); the result is exact either way. */
static edgec_status select_key(const edgec_prune_layer *layers, size_t n, const int64_t *lim,
                               int64_t target, bool raw, uint32_t *key, int64_t *less)
{
    int64_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += layers[i].numel;
    int width = n && total / (int64_t)n >= 65536 ? 16 : 8;
    *key = KEY_NONE;
    *less = 0;
    /* reached[d]: the capped count of keys <= prefix | d << shift | (1 << shift) - 1. */
    int64_t *hist = malloc(2 * ((size_t)1 << width) * sizeof *hist);
    if (!hist)
        return NOMEM;
    int64_t *reached = hist + ((size_t)1 << width);
    uint32_t prefix = 0;
    for (int shift = 32 - width; shift >= 0; width = 8, shift -= width) {
        size_t buckets = (size_t)1 << width;
        uint64_t range = (uint64_t)1 << (shift + width);
        int64_t base = 0; /* capped count of the keys below the prefix */
        memset(reached, 0, buckets * sizeof *reached);
        for (size_t i = 0; i < n; i++) {
            const float *v = layers[i].data;
            int64_t below = 0;
            memset(hist, 0, buckets * sizeof *hist);
            for (int64_t e = 0; e < layers[i].numel; e++) {
                uint32_t k = order_key(v[e], raw);
                below += k < prefix;
                /* Keys below the prefix wrap around to huge offsets and fall out. */
                uint64_t off = (uint64_t)k - prefix;
                if (off < range)
                    hist[off >> shift]++;
            }
            /* A magnitude's top bit is 0: at the top level the last bucket holds only
             * the NaNs that order_key moved to KEY_NONE, which count nowhere. */
            if (shift + width == 32)
                hist[buckets - 1] = 0;
            base += below < lim[i] ? below : lim[i];
            int64_t c = below;
            for (size_t d = 0; d < buckets; d++) {
                c += hist[d];
                reached[d] += c < lim[i] ? c : lim[i];
            }
        }
        size_t d = 0;
        while (d < buckets && reached[d] < target)
            d++;
        if (d == buckets)
            goto cleanup; /* only possible at the top level */
        prefix |= (uint32_t)d << shift;
        *less = d ? reached[d - 1] : base;
    }
    *key = prefix;
cleanup:
    free(hist);
    return EDGEC_STATUS_OK;
}

/* How many of the `n` weights `v` have a magnitude key <= `key`. */
static int64_t count_le(const float *v, int64_t n, uint32_t key)
{
    int64_t c = 0;
    for (int64_t e = 0; e < n; e++)
        c += mag_key(v[e]) <= key;
    return c;
}

/* The per-layer ceiling of the global scope: at most this fraction of a layer goes, so
 * that no layer is emptied, and layers the global threshold would strip harder give
 * their excess back to the others. */
static double layer_cap(double r)
{
    return r + (1.0 - r) * 0.5;
}

/* Per-layer counts of weights to remove: `r` of each layer (layer scope), or `r` of all
 * weights by one magnitude threshold, each layer capped (global scope).
 *
 * The global threshold is the end point of a float bisection on [0, largest magnitude]
 * for the smallest threshold whose capped counts reach the target. Each bisection step
 * only asks whether the capped count at `mid` reaches the target, which holds exactly
 * when mid's key is at least the key select_key finds; so the bisection is replayed on
 * that comparison, without holding sorted copies of the weights. */
static edgec_status plan_counts(edgec_prune_layer *layers, size_t n, double r, bool global,
                                int64_t *count)
{
    if (!global) {
        for (size_t i = 0; i < n; i++)
            count[i] = (int64_t)floor(r * (double)layers[i].numel + 0.5);
        return EDGEC_STATUS_OK;
    }
    int64_t *lim = malloc((n ? n : 1) * sizeof *lim);
    if (!lim)
        return NOMEM;
    int64_t total = 0;
    double cap = layer_cap(r);
    /* The bisection's upper end: the largest magnitude over the layers, where a layer
     * holding a NaN counts as having none (its largest key is the NaN). */
    uint32_t hi_key = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t top = 0;
        for (int64_t e = 0; e < layers[i].numel; e++) {
            uint32_t k = mag_key(layers[i].data[e]);
            top = k > top ? k : top;
        }
        if (top != KEY_NONE && top > hi_key)
            hi_key = top;
        lim[i] = (int64_t)floor(cap * (double)layers[i].numel);
        total += layers[i].numel;
    }
    int64_t target = (int64_t)floor(r * (double)total + 0.5);
    uint32_t reach;
    int64_t less;
    edgec_status st = select_key(layers, n, lim, target, false, &reach, &less);
    if (st) {
        free(lim);
        return st;
    }
    float lo_t = 0.0f, hi_t;
    memcpy(&hi_t, &hi_key, sizeof hi_t);
    for (int it = 0; it < 64; it++) {
        float mid = lo_t + (hi_t - lo_t) / 2;
        if (mid <= lo_t || mid >= hi_t)
            break;
        if (reach != KEY_NONE && mag_key(mid) >= reach)
            hi_t = mid;
        else
            lo_t = mid;
    }
    int64_t got = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t c = count_le(layers[i].data, layers[i].numel, mag_key(hi_t));
        count[i] = c < lim[i] ? c : lim[i];
        got += count[i];
    }
    /* Ties at the threshold may overshoot: give the excess back from the last layers. */
    for (size_t i = n; got > target && i-- > 0;) {
        int64_t back = got - target < count[i] ? got - target : count[i];
        count[i] -= back;
        got -= back;
    }
    free(lim);
    return EDGEC_STATUS_OK;
}

/* Marks the `k` smallest-magnitude elements of `v` as pruned; ties go by position, so
 * the mask is deterministic: the k smallest of the unique keys (|v| bits, index), which
 * are exactly the first k of a stable sort by magnitude. The k-th smallest magnitude key
 * comes from select_key on this layer alone; everything below it goes, and of the
 * elements equal to it, the first ones by position. No copy of the layer is made. */
static edgec_status mask_smallest(const float *v, int64_t n, int64_t k, uint8_t *keep)
{
    memset(keep, 1, (size_t)n);
    if (k <= 0)
        return EDGEC_STATUS_OK;
    if (k >= n) {
        memset(keep, 0, (size_t)n);
        return EDGEC_STATUS_OK;
    }
    edgec_prune_layer one = {.data = (float *)v, .numel = n};
    /* Raw keys: every element has one, so the k-th smallest exists (0 < k < n). */
    uint32_t kth;
    int64_t less;
    edgec_status st = select_key(&one, 1, &n, k, true, &kth, &less);
    if (st)
        return st;
    int64_t ties = k - less; /* elements equal to the k-th that go, first by position */
    for (int64_t i = 0; i < n; i++) {
        uint32_t key = order_key(v[i], true);
        bool go = key < kth;
        if (key == kth && ties > 0) {
            go = true;
            ties--;
        }
        keep[i] = !go;
    }
    return EDGEC_STATUS_OK;
}

/* Counts to zero per layer: a layer's own setting gives its exact fraction; the layers
 * without one share the model-wide fraction (global or per layer, as plan_counts). */
static edgec_status layer_counts(const edgec_pass_ctx *ctx, edgec_prune_layer *layers, size_t n,
                                 double r, bool global, int64_t *count)
{
    edgec_prune_layer *rest = malloc((n ? n : 1) * sizeof *rest);
    size_t *where = malloc((n ? n : 1) * sizeof *where);
    int64_t *rest_count = malloc((n ? n : 1) * sizeof *rest_count);
    size_t n_rest = 0;
    edgec_status st = EDGEC_STATUS_OK;
    if (!rest || !where || !rest_count) {
        st = NOMEM;
        goto cleanup;
    }
    for (size_t i = 0; i < n && !st; i++) {
        const char *own = edgec__pass_arg(ctx, layers[i].w.name);
        if (own == ctx->arg) {
            where[n_rest] = i;
            rest[n_rest++] = layers[i];
            continue;
        }
        double ri;
        if (!(st = edgec__parse_double(own, "--prune", 0.0, 1.0, false, true, &ri)))
            count[i] = (int64_t)floor(ri * (double)layers[i].numel + 0.5);
    }
    if (!st && n_rest && !(st = plan_counts(rest, n_rest, r, global, rest_count)))
        for (size_t k = 0; k < n_rest; k++)
            count[where[k]] = rest_count[k];
cleanup:
    free(rest);
    free(where);
    free(rest_count);
    return st;
}

static edgec_status run(edgec_pass_ctx *ctx)
{
    /* Without a model-wide value the pass runs for layer settings only. */
    double r = 0;
    edgec_status st = ctx->arg ? edgec__parse_double(ctx->arg, "--prune", 0.0, 1.0, false, true, &r)
                               : EDGEC_STATUS_OK;
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
    if ((st = layer_counts(ctx, layers, n, r, global, count)))
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
    st = edgec__prune_finish(ctx, layers, n, &macs, true);
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
    {"prune-storage", "auto|dense",
     "--prune: store a pruned weight as an ONNX sparse tensor when that is smaller (auto, "
     "default), or always dense (best for --huffman, which codes the zeros itself)"},
    {"prune-dead", "remove|zero",
     "--prune: units whose outgoing weights are all pruned are removed from the model, "
     "shrinking both layers (remove, default; exact), or only have their incoming weights "
     "and bias zeroed, keeping every shape (zero)"},
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
    true, /* layer settings */
};
