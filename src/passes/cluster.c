/* --cluster K: weight sharing by k-means, per tensor.
 *
 * Every float weight of at least MIN_NUMEL elements becomes a codebook of at most K
 * floats and one uint8 index per weight; in the graph, Cast(indices -> int32) and
 * Gather(codebook, indices) rebuild the weight under its old name, which ONNX Runtime
 * and the interpreter both run (Gather wants int32/int64 indices, hence the Cast). The
 * file holds one byte per weight instead of four, and the .edgec container codes the
 * indices in a few bits each.
 *
 * The clustering is 1-D, so it runs on the sorted values: Lloyd's iterations move the
 * boundaries between neighbouring centroids, and each centroid's mean comes from prefix
 * sums. The start is linear between the smallest and the largest weight (Deep
 * Compression found it keeps the rare large weights, which matter most, better than
 * density-based starts); nothing is random, so the result is deterministic. Exact zeros
 * (pruned weights) keep a centroid of exactly 0.0 at index 0, so that sparsity survives
 * clustering and the container's run-length coding still sees it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "passes/pass.h"
#include "passes/prune_common.h"

#define MIN_NUMEL 64
#define MAX_ITERS 200

static edgec_status parse_k(const char *arg, int *k)
{
    double v;
    edgec_status st = edgec__parse_double(arg, "--cluster K", 2, 256, false, false, &v);
    if (st)
        return st;
    if (v != floor(v))
        return edgec__fail(EDGEC_STATUS_USAGE, "--cluster K must be a whole number, not '%s'",
                           arg);
    *k = (int)v;
    return EDGEC_STATUS_OK;
}

static edgec_status check(const char *arg)
{
    int k;
    return parse_k(arg, &k);
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* First index in s[0..n) whose value is >= v. */
static size_t lower_bound(const float *s, size_t n, double v)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if ((double)s[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Clusters sorted values s[0..n) into at most k centroids, written ascending to c;
 * returns how many are used. `ps` holds n + 1 prefix sums, `b` k + 1 boundaries. */
static int kmeans_sorted(const float *s, size_t n, int k, const double *ps, size_t *b,
                         double *c)
{
    int distinct = 1;
    for (size_t i = 1; i < n && distinct <= k; i++)
        distinct += s[i] != s[i - 1];
    if (distinct <= k) {
        /* Few enough values to keep them all: clustering is exact. */
        int j = 0;
        for (size_t i = 0; i < n; i++)
            if (!i || s[i] != s[i - 1])
                c[j++] = s[i];
        return j;
    }
    for (int j = 0; j < k; j++)
        c[j] = k == 1 ? ps[n] / (double)n
                      : (double)s[0] + ((double)s[n - 1] - (double)s[0]) * j / (k - 1);
    b[0] = 0;
    b[k] = n;
    for (int it = 0; it < MAX_ITERS; it++) {
        bool moved = false;
        for (int j = 1; j < k; j++) {
            size_t nb = lower_bound(s, n, (c[j - 1] + c[j]) / 2);
            moved |= nb != b[j] || it == 0;
            b[j] = nb;
        }
        if (!moved)
            break;
        /* Empty clusters keep their place; they are dropped below. */
        for (int j = 0; j < k; j++)
            if (b[j + 1] > b[j])
                c[j] = (ps[b[j + 1]] - ps[b[j]]) / (double)(b[j + 1] - b[j]);
    }
    int used = 0;
    for (int j = 0; j < k; j++)
        if (b[j + 1] > b[j])
            c[used++] = c[j];
    return used;
}

typedef struct cluster_stats {
    size_t tensors, refit;
    int64_t weights;
    double sq_err, sq_ref;
} cluster_stats;

/* Clusters one tensor's n values into a codebook (returned count) and indices. */
static edgec_status cluster_values(const float *x, size_t n, int k, float *codebook,
                                   int *k_used, uint8_t *idx, cluster_stats *stats)
{
    float *s = malloc(n * sizeof *s);
    double *ps = malloc((n + 1) * sizeof *ps), c[256], mid[256];
    size_t *b = malloc(((size_t)k + 1) * sizeof *b), m = 0;
    edgec_status st = EDGEC_STATUS_OK;
    if (!s || !ps || !b) {
        st = edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
        goto cleanup;
    }
    bool pin_zero = false;
    for (size_t i = 0; i < n; i++) {
        if (x[i] == 0.0f)
            pin_zero = true;
        else
            s[m++] = x[i];
    }
    if (!pin_zero || k == 1) {
        pin_zero = false;
        memcpy(s, x, n * sizeof *s);
        m = n;
    }
    qsort(s, m, sizeof *s, cmp_float);
    ps[0] = 0;
    for (size_t i = 0; i < m; i++)
        ps[i + 1] = ps[i] + s[i];
    int base = pin_zero ? 1 : 0;
    int used = m ? kmeans_sorted(s, m, k - base, ps, b, c) : 0;
    if (pin_zero)
        codebook[0] = 0.0f;
    for (int j = 0; j < used; j++)
        codebook[base + j] = (float)c[j];
    for (int j = 0; j + 1 < used; j++)
        mid[j] = ((double)codebook[base + j] + codebook[base + j + 1]) / 2;
    for (size_t i = 0; i < n; i++) {
        int j = 0;
        if (pin_zero && x[i] == 0.0f) {
            idx[i] = 0;
        } else {
            int lo = 0, hi = used - 1; /* nearest centroid: count the midpoints below x */
            while (lo < hi) {
                int h = (lo + hi) / 2;
                if ((double)x[i] >= mid[h])
                    lo = h + 1;
                else
                    hi = h;
            }
            j = lo;
            idx[i] = (uint8_t)(base + j);
        }
        double e = (double)codebook[idx[i]] - x[i];
        stats->sq_err += e * e;
        stats->sq_ref += (double)x[i] * x[i];
    }
    *k_used = base + used;
cleanup:
    free(s);
    free(ps);
    free(b);
    return st;
}

typedef struct candidates {
    edgec_pass_ctx *ctx;
    edgec_weight *v;
    size_t n, cap;
    size_t skipped_nonfinite;
} candidates;

static edgec_status collect(edgec_weight *w, void *arg)
{
    candidates *c = arg;
    if ((w->kind != EDGEC_WEIGHT_INITIALIZER && w->kind != EDGEC_WEIGHT_CONSTANT) || !w->tensor ||
        w->dtype != EDGEC_DTYPE_FLOAT || w->numel < MIN_NUMEL || w->numel > INT32_MAX ||
        edgec__pass_excluded(c->ctx, w->node, w->name) ||
        (w->kind == EDGEC_WEIGHT_INITIALIZER && edgec__graph_is_input(w->graph, w->name)))
        return EDGEC_STATUS_OK;
    const float *x = w->tensor->data;
    for (int64_t i = 0; i < w->numel; i++) {
        if (!isfinite(x[i])) {
            c->skipped_nonfinite++;
            return EDGEC_STATUS_OK;
        }
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 16;
        edgec_weight *v = realloc(c->v, cap * sizeof *v);
        if (!v)
            return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
        c->v = v;
        c->cap = cap;
    }
    c->v[c->n++] = *w;
    return EDGEC_STATUS_OK;
}

static bool drop_tensor(const edgec_tensor *t, void *target)
{
    return t == target;
}

static bool drop_node(const edgec_node *n, void *target)
{
    return n == target;
}

/* Name `base` + `suffix`, unique in the model. */
static const char *derived(edgec_model *m, const char *base, const char *suffix)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s%s", base, suffix);
    return edgec__unique_name(m, buf);
}

/* Replaces weight w by codebook + indices and the Cast + Gather that rebuild it. */
static edgec_status rewrite(edgec_model *m, const edgec_weight *w, const float *codebook, int k,
                            const uint8_t *idx, size_t *front)
{
    edgec_graph *g = w->graph;
    const char *cb_name = derived(m, w->name, "_codebook");
    const char *ix_name = derived(m, w->name, "_indices");
    const char *i32_name = derived(m, w->name, "_indices_i32");
    int64_t kd = k;
    edgec_tensor *cb = cb_name ? edgec__tensor_new(m, cb_name, EDGEC_DTYPE_FLOAT, 1, &kd) : NULL;
    edgec_tensor *ix = ix_name ? edgec__tensor_new(m, ix_name, EDGEC_DTYPE_UINT8, w->rank, w->dims)
                               : NULL;
    char base[512];
    snprintf(base, sizeof base, "%s_cast", w->name);
    edgec_node *cast = edgec__node_new(m, "Cast", base, 1, 1); /* node_new makes it unique */
    snprintf(base, sizeof base, "%s_gather", w->name);
    edgec_node *gather = edgec__node_new(m, "Gather", base, 2, 1);
    if (!cb || !ix || !i32_name || !cast || !gather)
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
    memcpy(cb->data, codebook, (size_t)k * sizeof *codebook);
    memcpy(ix->data, idx, (size_t)w->numel);
    cast->inputs[0] = (char *)ix_name;
    cast->outputs[0] = (char *)i32_name;
    gather->inputs[0] = (char *)cb_name;
    gather->inputs[1] = (char *)i32_name;
    gather->outputs[0] = (char *)w->name;
    edgec_status st = edgec__attr_set_int(m, cast, "to", EDGEC_DTYPE_INT32);
    size_t pos = *front;
    if (w->kind == EDGEC_WEIGHT_INITIALIZER) {
        edgec__graph_remove_inits(g, drop_tensor, w->tensor);
        *front += 2;
    } else {
        for (pos = 0; pos < g->n_nodes && g->nodes[pos] != w->node; pos++)
            ;
        edgec__graph_remove_nodes(g, drop_node, w->node);
    }
    if (!st && !(st = edgec__graph_add_init(m, g, cb)) && !(st = edgec__graph_add_init(m, g, ix)) &&
        !(st = edgec__graph_insert(m, g, pos, cast)))
        st = edgec__graph_insert(m, g, pos + 1, gather);
    return st;
}

static edgec_status run(edgec_pass_ctx *ctx)
{
    edgec_model *m = ctx->model;
    candidates c = {ctx, NULL, 0, 0, 0};
    cluster_stats stats = {0};
    uint8_t *idx = NULL;
    int k = 0, k_max = 0;
    edgec_status st = ctx->arg ? parse_k(ctx->arg, &k) : EDGEC_STATUS_OK;
    if (st)
        return st;
    if (edgec__model_opset(m, "") < 6)
        return edgec__fail(EDGEC_STATUS_UNSUPPORTED,
                           "--cluster needs opset 6 or later (Cast with an integer 'to'); "
                           "the model imports opset %lld",
                           (long long)edgec__model_opset(m, ""));
    if ((st = edgec__model_weights(m, collect, &c)))
        goto cleanup;
    /* Nodes go in front of each graph in weight order; count per graph. */
    edgec_graph *front_graph = NULL;
    size_t front = 0;
    for (size_t i = 0; i < c.n; i++) {
        const edgec_weight *w = &c.v[i];
        float codebook[256];
        int used = 0;
        free(idx);
        if (!(idx = malloc((size_t)w->numel))) {
            st = edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
            goto cleanup;
        }
        /* A layer setting gives this tensor its own K. */
        if ((st = parse_k(edgec__pass_arg(ctx, w->name), &k)))
            goto cleanup;
        k_max = k > k_max ? k : k_max;
        if ((st = cluster_values(w->tensor->data, (size_t)w->numel, k, codebook, &used, idx,
                                 &stats)))
            goto cleanup;
        /* With calibration data, the shared values of a layer's weight are re-solved for
         * the layer's outputs rather than the weights' own distances (k-means), keeping
         * the assignment and an exact zero. */
        bool refit = false, zero = used > 1 && codebook[0] == 0.0f;
        if (ctx->calib && (st = edgec__refit_codebook(ctx, w->name, idx, codebook, used, zero,
                                                      &refit)))
            goto cleanup;
        stats.refit += refit;
        if (w->graph != front_graph) {
            front_graph = w->graph;
            front = 0;
        }
        if ((st = rewrite(m, w, codebook, used, idx, &front))) {
            char pre[300];
            snprintf(pre, sizeof pre, "weight '%.256s': ", w->name);
            edgec__fail_prefix(pre);
            goto cleanup;
        }
        stats.tensors++;
        stats.weights += w->numel;
    }
    edgec__pass_log(ctx,
                    "%zu tensors, %lld weights shared among at most %d values each; "
                    "relative error %.4f (RMS error / RMS weight, k-means)%s; %zu codebooks "
                    "re-solved on calibration data",
                    stats.tensors, (long long)stats.weights, k_max,
                    stats.sq_ref > 0 ? sqrt(stats.sq_err / stats.sq_ref) : 0.0,
                    c.skipped_nonfinite ? "; tensors with NaN/Inf left as they are" : "",
                    stats.refit);
cleanup:
    free(idx);
    free(c.v);
    return st;
}

static const char help[] =
    "k-means weight sharing: every float weight of 64 or more elements becomes at most K "
    "(2..256) shared values (uint8 indices + codebook via Cast+Gather); pruned zeros stay "
    "exact";

const edgec_pass edgec__pass_cluster = {
    "cluster", "K", true, help, EDGEC_ORDER_CLUSTER, NULL, check, run, true,
};
