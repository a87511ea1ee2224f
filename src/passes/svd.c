/* --svd E | --svd rank:K: low-rank factorization of Gemm, MatMul and Conv weights.
 *
 * A weight seen as the matrix M (n_out x n_in) of y = M x is replaced by two factors,
 * M ~= Left (n_out x k) * Right (k x n_in), with the singular values split evenly
 * (U sqrt(S), sqrt(S) V^T). The layer becomes two layers: Right first (no bias), Left
 * second (with the original bias, alpha, beta), so the model stays plain ONNX that any
 * runtime executes:
 *   MatMul X W        -> MatMul(MatMul(X, Right^T), Left^T)
 *   Gemm A B C        -> MatMul(A, Right^T) (Gemm with transA when A was transposed),
 *                        then the original Gemm on that with the Left factor
 *   Conv (Cout, Cin, kh, kw), group 1 -> Conv with k filters (Cin, kh, kw) and the
 *                        original strides/pads/dilations, then a 1x1 Conv to Cout (bias)
 * A layer is factorized only when it saves bytes: k (m + n) < m n.
 *
 * With --calib the factors minimise the error of the layer's output on the calibration
 * inputs (whitening by the Cholesky factor of the inputs' Gram matrix, see lowrank.h)
 * for layers in the main graph; layers in subgraphs, and layers whose input is too wide
 * for a Gram matrix, use the weight error. Weights are found wherever they live
 * (initializers, Constant nodes, enclosing scopes of subgraphs); a weight no node uses
 * any more is removed. */
#include <stdlib.h>
#include <string.h>

#include "passes/lowrank.h"
#include "passes/pass.h"
#include "runtime/gemm.h"

#define NOMEM edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory in --svd")

/* Widest layer input (n_in) that gets a Gram matrix for --calib: 2304 = 3x3x256, 42 MB of
 * doubles; wider layers fall back to the weight error. */
#define SVD_GRAM_MAX 2304
/* Calibration samples used at most, and output positions per sample and Conv layer
 * (evenly spaced) that feed its Gram matrix: enough for a well-conditioned estimate. */
#define SVD_CALIB_SAMPLES 512
#define SVD_CONV_POSITIONS 1024

enum layer_kind { LAYER_MATMUL, LAYER_GEMM, LAYER_CONV };

typedef struct layer {
    edgec_node *node;
    edgec_weight w;
    enum layer_kind kind;
    int64_t m, n;      /* M is n_out (m) x n_in (n) */
    bool trans_b;      /* Gemm: B is stored (n_out, n_in) */
    bool trans_a;      /* Gemm: A is transposed */
    double *gram;      /* n x n, or NULL */
    int64_t gram_rows; /* input vectors accumulated into gram */
    const char *why_plain; /* why --calib does not apply, or NULL */
} layer;

typedef struct svd_cfg {
    int64_t rank;  /* > 0 for rank:K */
    double energy; /* otherwise */
} svd_cfg;

static edgec_status parse(const char *arg, svd_cfg *cfg)
{
    *cfg = (svd_cfg){0};
    if (arg && !strncmp(arg, "rank:", 5)) {
        char *end;
        const char *v = arg + 5;
        long long k = strtoll(v, &end, 10);
        if (!*v || *end || *v == '-' || *v == '+' || k < 1 || k > 1000000000LL)
            return edgec__fail(EDGEC_STATUS_USAGE,
                               "--svd rank:K needs a whole number K >= 1, not '%s'", v);
        cfg->rank = k;
        return EDGEC_STATUS_OK;
    }
    return edgec__parse_double(arg, "--svd (energy fraction E, or rank:K)", 0.0, 1.0, true,
                               false, &cfg->energy);
}

static edgec_status check(const char *arg)
{
    svd_cfg cfg;
    return parse(arg, &cfg);
}

static int64_t attr_int(const edgec_node *n, const char *name, int64_t dflt)
{
    const edgec_attr *a = edgec__node_attr(n, name);
    return a && a->type == EDGEC_ATTR_INT ? a->i : dflt;
}

/* ---- finding the layers ----------------------------------------------------------------- */

typedef struct finder {
    edgec_pass_ctx *ctx;
    layer *layers;
    size_t n, cap;
    size_t seen; /* candidate ops, factorized or not */
} finder;

/* Fills `L` when `node` is a layer the pass can factorize; logs why not otherwise. */
static bool classify(finder *f, edgec_node *node, layer *L)
{
    edgec_model *m = f->ctx->model;
    const char *op = node->op_type;
    if (*node->domain || node->n_inputs < 2)
        return false;
    enum layer_kind kind;
    if (!strcmp(op, "MatMul"))
        kind = LAYER_MATMUL;
    else if (!strcmp(op, "Gemm"))
        kind = LAYER_GEMM;
    else if (!strcmp(op, "Conv"))
        kind = LAYER_CONV;
    else
        return false;
    edgec_weight w;
    if (!edgec__find_const(m, node->graph, node->inputs[1], false, &w) || !w.tensor ||
        w.dtype != EDGEC_DTYPE_FLOAT || !w.tensor->data)
        return false;
    f->seen++;
    if (edgec__pass_excluded(f->ctx, node, w.name)) {
        edgec__pass_log(f->ctx, "%s '%s': excluded", op, *node->name ? node->name : w.name);
        return false;
    }
    *L = (layer){.node = node, .w = w, .kind = kind};
    const int64_t *d = w.dims;
    if (kind == LAYER_CONV) {
        if (w.rank < 3 || attr_int(node, "group", 1) != 1) {
            edgec__pass_log(f->ctx, "Conv '%s': kept (grouped or depthwise convolution)",
                            *node->name ? node->name : w.name);
            return false;
        }
        L->m = d[0];
        L->n = w.numel / (d[0] ? d[0] : 1);
    } else {
        if (w.rank != 2 || (kind == LAYER_MATMUL && node->n_inputs != 2))
            return false;
        L->trans_b = kind == LAYER_GEMM && attr_int(node, "transB", 0);
        L->trans_a = kind == LAYER_GEMM && attr_int(node, "transA", 0);
        L->m = L->trans_b ? d[0] : d[1];
        L->n = L->trans_b ? d[1] : d[0];
        if (L->trans_a && edgec__model_opset(m, "") < 11) {
            edgec__pass_log(f->ctx, "Gemm '%s': kept (transA needs opset 11 to split)",
                            *node->name ? node->name : w.name);
            return false;
        }
    }
    return L->m >= 2 && L->n >= 2;
}

static edgec_status find_in_graph(edgec_graph *g, void *vf)
{
    finder *f = vf;
    for (size_t i = 0; i < g->n_nodes; i++) {
        layer L;
        if (!classify(f, g->nodes[i], &L))
            continue;
        if (f->n == f->cap) {
            size_t c = f->cap ? 2 * f->cap : 16;
            layer *nl = realloc(f->layers, c * sizeof *nl);
            if (!nl)
                return NOMEM;
            f->layers = nl;
            f->cap = c;
        }
        f->layers[f->n++] = L;
    }
    return EDGEC_STATUS_OK;
}

/* ---- calibration: Gram matrices of the layers' inputs ------------------------------------ */

typedef struct calib_ctx {
    layer **layers; /* the layers that get a Gram matrix, in `names` order */
    size_t n;
    float *tmp;     /* n x n scratch for the largest layer */
    float *patches; /* Conv patches, SVD_CONV_POSITIONS x n */
} calib_ctx;

static void add_gram(layer *L, const float *X, int64_t rows, bool transposed, float *tmp)
{
    int64_t n = L->n;
    /* X is rows x n (or n x rows when transposed); G += X^T X. */
    if (transposed)
        edgec__sgemm(false, true, n, n, rows, 1.0f, X, rows, X, rows, 0.0f, tmp, n, 1);
    else
        edgec__sgemm(true, false, n, n, rows, 1.0f, X, n, X, n, 0.0f, tmp, n, 1);
    for (int64_t i = 0; i < n * n; i++)
        L->gram[i] += tmp[i];
    L->gram_rows += rows;
}

/* The patches a 2-D Conv multiplies its weight with, at evenly spaced output positions;
 * their order inside a patch (channel, kernel row, kernel column) matches the weight. */
static edgec_status conv_gram(layer *L, const edgec_array *x, calib_ctx *c)
{
    const edgec_node *node = L->node;
    const int64_t *wd = L->w.dims;
    int64_t kh = wd[2], kw = wd[3], cin = wd[1];
    if (x->rank != 4 || x->dims[1] != cin)
        return edgec__fail(EDGEC_STATUS_INVALID_DATA,
                           "Conv '%s': calibration input '%s' is not [N, %lld, H, W]", node->name,
                           node->inputs[0], (long long)cin);
    int64_t pads[4] = {0, 0, 0, 0}, strides[2] = {1, 1}, dil[2] = {1, 1};
    const edgec_attr *a;
    if ((a = edgec__node_attr(node, "pads")) && a->n == 4)
        memcpy(pads, a->ints, sizeof pads);
    if ((a = edgec__node_attr(node, "strides")) && a->n == 2)
        memcpy(strides, a->ints, sizeof strides);
    if ((a = edgec__node_attr(node, "dilations")) && a->n == 2)
        memcpy(dil, a->ints, sizeof dil);
    int64_t N = x->dims[0], H = x->dims[2], W = x->dims[3];
    int64_t oh = (H + pads[0] + pads[2] - dil[0] * (kh - 1) - 1) / strides[0] + 1;
    int64_t ow = (W + pads[1] + pads[3] - dil[1] * (kw - 1) - 1) / strides[1] + 1;
    if (oh < 1 || ow < 1)
        return EDGEC_STATUS_OK;
    int64_t total = N * oh * ow, take = total < SVD_CONV_POSITIONS ? total : SVD_CONV_POSITIONS;
    const float *X = x->data;
    for (int64_t p = 0; p < take; p++) {
        /* Evenly spaced positions, the same for every sample: deterministic. */
        int64_t pos = p * total / take;
        int64_t b = pos / (oh * ow), y = pos / ow % oh, xx = pos % ow;
        float *row = c->patches + p * L->n;
        for (int64_t ch = 0; ch < cin; ch++)
            for (int64_t i = 0; i < kh; i++)
                for (int64_t j = 0; j < kw; j++) {
                    int64_t iy = y * strides[0] - pads[0] + i * dil[0];
                    int64_t ix = xx * strides[1] - pads[1] + j * dil[1];
                    bool in = iy >= 0 && iy < H && ix >= 0 && ix < W;
                    row[(ch * kh + i) * kw + j] = in ? X[((b * cin + ch) * H + iy) * W + ix] : 0.0f;
                }
    }
    add_gram(L, c->patches, take, false, c->tmp);
    return EDGEC_STATUS_OK;
}

static edgec_status on_sample(int64_t sample, const edgec_array *const *values, void *vc)
{
    (void)sample;
    calib_ctx *c = vc;
    for (size_t i = 0; i < c->n; i++) {
        layer *L = c->layers[i];
        const edgec_array *x = values[i];
        if (L->kind == LAYER_CONV) {
            edgec_status st = conv_gram(L, x, c);
            if (st)
                return st;
            continue;
        }
        int64_t inner = L->trans_a ? (x->rank ? x->dims[0] : 1) : (x->rank ? x->dims[x->rank - 1] : 1);
        if (inner != L->n || x->numel % L->n)
            return edgec__fail(EDGEC_STATUS_INVALID_DATA,
                               "%s '%s': calibration input '%s' does not have %lld features",
                               L->node->op_type, L->node->name, L->node->inputs[0],
                               (long long)L->n);
        add_gram(L, x->data, x->numel / L->n, L->trans_a, c->tmp);
    }
    return EDGEC_STATUS_OK;
}

/* True when a Conv's padding comes from `pads` (auto_pad absent or NOTSET). */
static bool explicit_pads(const edgec_node *node)
{
    const edgec_attr *a = edgec__node_attr(node, "auto_pad");
    return !a || !a->s.len || (a->s.len == 6 && !memcmp(a->s.data, "NOTSET", 6));
}

/* Runs the calibration data once and accumulates every eligible layer's Gram matrix. */
static edgec_status collect_grams(edgec_pass_ctx *ctx, layer *layers, size_t n)
{
    edgec_status st = EDGEC_STATUS_OK;
    calib_ctx c = {0};
    const char **names = calloc(n ? n : 1, sizeof *names);
    c.layers = calloc(n ? n : 1, sizeof *c.layers);
    int64_t widest = 1;
    if (!names || !c.layers) {
        st = NOMEM;
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++) {
        layer *L = &layers[i];
        if (L->node->graph != ctx->model->graph)
            L->why_plain = "in a subgraph";
        else if (L->n > SVD_GRAM_MAX)
            L->why_plain = "input too wide for a Gram matrix";
        else if (L->kind == LAYER_CONV && (L->w.rank != 4 || !explicit_pads(L->node)))
            L->why_plain = "not a 2-D Conv with explicit pads";
        if (L->why_plain)
            continue;
        if (!(L->gram = calloc((size_t)(L->n * L->n), sizeof *L->gram))) {
            st = NOMEM;
            goto cleanup;
        }
        names[c.n] = L->node->inputs[0];
        c.layers[c.n++] = L;
        if (L->n > widest)
            widest = L->n;
    }
    if (!c.n)
        goto cleanup;
    c.tmp = malloc(sizeof(float) * (size_t)(widest * widest));
    c.patches = malloc(sizeof(float) * (size_t)(SVD_CONV_POSITIONS * widest));
    if (!c.tmp || !c.patches) {
        st = NOMEM;
        goto cleanup;
    }
    st = edgec__collect(ctx->model, ctx->calib, names, c.n, SVD_CALIB_SAMPLES, on_sample, &c);
cleanup:
    free(names);
    free(c.layers);
    free(c.tmp);
    free(c.patches);
    return st;
}

/* ---- rewriting -------------------------------------------------------------------------- */

static edgec_status add_weight(edgec_model *m, edgec_graph *g, const char *base, int32_t rank,
                               const int64_t *dims, const float *data, const char **name)
{
    const char *nm = edgec__unique_name(m, base);
    edgec_tensor *t = nm ? edgec__tensor_new(m, nm, EDGEC_DTYPE_FLOAT, rank, dims) : NULL;
    if (!t)
        return NOMEM;
    memcpy(t->data, data, t->nbytes);
    *name = t->name;
    return edgec__graph_add_init(m, g, t);
}

static size_t node_pos(const edgec_graph *g, const edgec_node *n)
{
    for (size_t i = 0; i < g->n_nodes; i++)
        if (g->nodes[i] == n)
            return i;
    return g->n_nodes;
}

/* Copies the attributes a Conv's geometry depends on. */
static edgec_status copy_conv_attrs(edgec_model *m, const edgec_node *from, edgec_node *to)
{
    edgec_status st = EDGEC_STATUS_OK;
    for (size_t i = 0; i < from->n_attrs && !st; i++) {
        const edgec_attr *a = &from->attrs[i];
        if (a->type == EDGEC_ATTR_INT)
            st = edgec__attr_set_int(m, to, a->name, a->i);
        else if (a->type == EDGEC_ATTR_INTS)
            st = edgec__attr_set_ints(m, to, a->name, a->ints, a->n);
        else if (a->type == EDGEC_ATTR_STRING) {
            char buf[64];
            size_t len = a->s.len < sizeof buf - 1 ? a->s.len : sizeof buf - 1;
            memcpy(buf, a->s.data, len);
            buf[len] = '\0';
            st = edgec__attr_set_string(m, to, a->name, buf);
        }
    }
    return st;
}

/* Replaces layer L by Right then Left (see the file comment). */
static edgec_status rewrite(edgec_pass_ctx *ctx, layer *L, int64_t k, const float *Left,
                            const float *Right)
{
    edgec_model *m = ctx->model;
    edgec_node *node = L->node;
    edgec_graph *g = node->graph;
    edgec_status st = EDGEC_STATUS_OK;
    int64_t mo = L->m, n = L->n;
    const char *base = *node->name ? node->name : L->w.name;
    char buf[512];
    const char *w1 = NULL, *w2 = NULL, *mid = NULL;
    float *t1 = NULL, *t2 = NULL;
    snprintf(buf, sizeof buf, "%s_lowrank", base);
    edgec_node *first = edgec__node_new(m, L->kind == LAYER_CONV ? "Conv"
                                           : L->trans_a         ? "Gemm"
                                                                : "MatMul",
                                        buf, 2, 1);
    snprintf(buf, sizeof buf, "%s_lowrank_out", base);
    if (!first || !(mid = edgec__unique_name(m, buf)))
        return NOMEM;
    if (L->kind == LAYER_CONV) {
        int64_t d1[EDGEC_MAX_RANK], d2[EDGEC_MAX_RANK];
        int32_t r = L->w.rank;
        d1[0] = k;
        d2[0] = mo;
        d2[1] = k;
        for (int32_t i = 1; i < r; i++)
            d1[i] = L->w.dims[i];
        for (int32_t i = 2; i < r; i++)
            d2[i] = 1;
        snprintf(buf, sizeof buf, "%s_lowrank_a", L->w.name);
        if ((st = add_weight(m, g, buf, r, d1, Right, &w1)))
            return st;
        snprintf(buf, sizeof buf, "%s_lowrank_b", L->w.name);
        if ((st = add_weight(m, g, buf, r, d2, Left, &w2)))
            return st;
        if ((st = copy_conv_attrs(m, node, first)))
            return st;
        /* The second Conv is pointwise: 1x1 kernel, unit strides and dilations, no pads. */
        int64_t ones[EDGEC_MAX_RANK], zeros[2 * EDGEC_MAX_RANK] = {0};
        for (int32_t i = 0; i < r; i++)
            ones[i] = 1;
        edgec__attr_remove(node, "auto_pad");
        if ((st = edgec__attr_set_ints(m, node, "kernel_shape", ones, (size_t)(r - 2))) ||
            (st = edgec__attr_set_ints(m, node, "strides", ones, (size_t)(r - 2))) ||
            (st = edgec__attr_set_ints(m, node, "dilations", ones, (size_t)(r - 2))) ||
            (st = edgec__attr_set_ints(m, node, "pads", zeros, (size_t)(2 * (r - 2)))))
            return st;
    } else {
        /* First factor as the right operand of X @ (.): (n_in x k), or (k x n_in) under
         * Gemm's transB; second likewise (k x n_out) or (n_out x k). */
        bool tb = L->trans_b;
        if (!(t1 = malloc(sizeof(float) * (size_t)(k * n))) ||
            !(t2 = malloc(sizeof(float) * (size_t)(k * mo)))) {
            st = NOMEM;
            goto cleanup;
        }
        bool first_tb = L->trans_a && tb; /* a MatMul first layer never transposes */
        for (int64_t r = 0; r < k; r++)
            for (int64_t i = 0; i < n; i++)
                t1[first_tb ? r * n + i : i * k + r] = Right[r * n + i];
        for (int64_t r = 0; r < k; r++)
            for (int64_t i = 0; i < mo; i++)
                t2[tb ? i * k + r : r * mo + i] = Left[i * k + r];
        int64_t d1[2] = {first_tb ? k : n, first_tb ? n : k}, d2[2] = {tb ? mo : k, tb ? k : mo};
        snprintf(buf, sizeof buf, "%s_lowrank_a", L->w.name);
        if ((st = add_weight(m, g, buf, 2, d1, t1, &w1)))
            goto cleanup;
        snprintf(buf, sizeof buf, "%s_lowrank_b", L->w.name);
        if ((st = add_weight(m, g, buf, 2, d2, t2, &w2)))
            goto cleanup;
        if (L->trans_a) {
            if ((st = edgec__attr_set_int(m, first, "transA", 1)) ||
                (first_tb && (st = edgec__attr_set_int(m, first, "transB", 1))))
                goto cleanup;
            edgec__attr_remove(node, "transA");
        }
    }
    if ((st = edgec__node_set_input(m, first, 0, node->inputs[0])) ||
        (st = edgec__node_set_input(m, first, 1, w1)))
        goto cleanup;
    first->outputs[0] = (char *)mid;
    if ((st = edgec__node_set_input(m, node, 0, mid)) || (st = edgec__node_set_input(m, node, 1, w2)))
        goto cleanup;
    st = edgec__graph_insert(m, g, node_pos(g, node), first);
cleanup:
    free(t1);
    free(t2);
    return st;
}

/* ---- removing weights nothing uses any more ---------------------------------------------- */

typedef struct use_ctx {
    const char *name;
    bool used;
} use_ctx;

static edgec_status find_use(edgec_graph *g, void *vu)
{
    use_ctx *u = vu;
    for (size_t i = 0; i < g->n_nodes && !u->used; i++)
        for (size_t k = 0; k < g->nodes[i]->n_inputs; k++)
            if (!strcmp(g->nodes[i]->inputs[k], u->name))
                u->used = true;
    for (size_t i = 0; i < g->n_outputs; i++)
        if (!strcmp(g->outputs[i].name, u->name))
            u->used = true;
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

static void remove_if_unused(edgec_model *m, const edgec_weight *w)
{
    use_ctx u = {w->name, false};
    edgec__model_graphs(m, find_use, &u);
    if (u.used)
        return;
    if (w->kind == EDGEC_WEIGHT_INITIALIZER)
        edgec__graph_remove_inits(w->graph, drop_tensor, w->tensor);
    else if (w->kind == EDGEC_WEIGHT_CONSTANT)
        edgec__graph_remove_nodes(w->graph, drop_node, w->node);
}

/* ---- the pass ---------------------------------------------------------------------------- */

/* M (n_out x n_in) of a layer, from its weight's layout. */
static float *layer_matrix(const layer *L)
{
    const float *W = L->w.tensor->data;
    float *M = malloc(sizeof(float) * (size_t)(L->m * L->n));
    if (!M)
        return NULL;
    if (L->kind == LAYER_CONV || L->trans_b)
        memcpy(M, W, sizeof(float) * (size_t)(L->m * L->n));
    else
        for (int64_t i = 0; i < L->n; i++)
            for (int64_t j = 0; j < L->m; j++)
                M[j * L->n + i] = W[i * L->m + j];
    return M;
}

static uint64_t name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static edgec_status run(edgec_pass_ctx *ctx)
{
    edgec_model *m = ctx->model;
    svd_cfg cfg;
    finder f = {ctx, NULL, 0, 0, 0};
    float *M = NULL, *Left = NULL, *Right = NULL;
    size_t done = 0;
    double before = 0, after = 0;
    edgec_status st = ctx->arg ? parse(ctx->arg, &cfg) : EDGEC_STATUS_OK;
    if (st)
        return st;
    if ((st = edgec__model_graphs(m, find_in_graph, &f)))
        goto cleanup;
    if (ctx->calib && f.n && (st = collect_grams(ctx, f.layers, f.n)))
        goto cleanup;
    for (size_t i = 0; i < f.n; i++) {
        layer *L = &f.layers[i];
        const char *what = *L->node->name ? L->node->name : L->w.name;
        int64_t mo = L->m, n = L->n, r = mo < n ? mo : n;
        /* k saves bytes iff k (m + n) < m n, i.e. k <= (m n - 1) / (m + n). */
        int64_t max_k = (mo * n - 1) / (mo + n) + 1;
        /* A layer setting gives this layer its own rank or energy. */
        if ((st = parse(edgec__pass_arg(ctx, L->w.name), &cfg)))
            goto cleanup;
        int64_t k = cfg.rank;
        if (k && (k >= max_k || k >= r)) {
            edgec__pass_log(ctx, "%s '%s' (%lld x %lld): kept, rank %lld saves no bytes (needs < %.1f)",
                            L->node->op_type, what, (long long)mo, (long long)n, (long long)k,
                            (double)(mo * n) / (double)(mo + n));
            continue;
        }
        int64_t cap = k ? k : max_k;
        free(M);
        free(Left);
        free(Right);
        M = layer_matrix(L);
        Left = malloc(sizeof(float) * (size_t)(mo * cap));
        Right = malloc(sizeof(float) * (size_t)(cap * n));
        if (!M || !Left || !Right) {
            st = NOMEM;
            goto cleanup;
        }
        edgec_lowrank_opts o = {.seed = ctx->seed ^ name_hash(L->w.name) ^ (uint64_t)i};
        double kept = 0;
        int64_t got = 0;
        const double *gram = L->gram && L->gram_rows > 0 ? L->gram : NULL;
        if ((st = edgec__lowrank_factor(M, mo, n, gram, k, cfg.energy, max_k, &o, Left, Right,
                                        &got, &kept)) == EDGEC_STATUS_INTERNAL) {
            /* Weights near the float limit (or non-finite ones let through with
             * --allow-nonfinite) can keep the SVD from converging: such a layer is
             * left as it is rather than failing the whole run. */
            edgec__pass_log(ctx, "%s '%s' (%lld x %lld): kept, %s", L->node->op_type, what,
                            (long long)mo, (long long)n, edgec_error_message());
            edgec__error_clear();
            st = EDGEC_STATUS_OK;
            continue;
        }
        if (st) {
            char pre[300];
            snprintf(pre, sizeof pre, "%s '%s', weight '%s': ", L->node->op_type, what, L->w.name);
            edgec__fail_prefix(pre);
            goto cleanup;
        }
        if (got >= max_k) {
            edgec__pass_log(ctx, "%s '%s' (%lld x %lld): kept, energy %g needs rank %lld, which "
                            "saves no bytes",
                            L->node->op_type, what, (long long)mo, (long long)n, cfg.energy,
                            (long long)got);
            continue;
        }
        if ((st = rewrite(ctx, L, got, Left, Right)))
            goto cleanup;
        done++;
        before += 4.0 * (double)(mo * n);
        after += 4.0 * (double)(got * (mo + n));
        edgec__pass_log(ctx, "%s '%s' (%lld x %lld): rank %lld, %s energy kept %.2f%%, %lld -> %lld "
                        "bytes%s%s",
                        L->node->op_type, what, (long long)mo, (long long)n, (long long)got,
                        gram ? "output" : "weight", 100.0 * kept, (long long)(4 * mo * n),
                        (long long)(4 * got * (mo + n)), ctx->calib && L->why_plain ? "; --calib not used: " : "",
                        ctx->calib && L->why_plain ? L->why_plain : "");
    }
    /* Weights the factors replaced, once no node uses them. */
    for (size_t i = 0; i < f.n; i++)
        remove_if_unused(m, &f.layers[i].w);
    edgec__pass_log(ctx, "factorized %zu of %zu layers: %.0f -> %.0f bytes of their weights", done,
                    f.seen, before, after);
cleanup:
    for (size_t i = 0; i < f.n; i++)
        free(f.layers[i].gram);
    free(f.layers);
    free(M);
    free(Left);
    free(Right);
    return st;
}

const edgec_pass edgec__pass_svd = {
    "svd",
    "E|rank:K",
    true,
    "low-rank factorization of Gemm/MatMul/Conv weights: smallest rank keeping energy E in "
    "(0, 1] per layer, or rank K; with --calib it minimises the layers' output error",
    EDGEC_ORDER_FACTORIZE,
    NULL,
    check,
    run,
    true, /* layer settings */
};
