/* cleanup: semantics-preserving graph simplification that runs before every other pass
 * (src/passes/pipeline.c adds it unless --no-cleanup): constant subgraphs folded with the
 * interpreter's kernels, BatchNormalization folded into the Conv / ConvTranspose / Gemm
 * before it, Identity and inference-mode Dropout removed, identical weights merged, dead
 * nodes and unused initializers dropped. Every graph is cleaned, subgraphs included. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "edgec/runtime.h"
#include "passes/prune_common.h"
#include "runtime/rt.h"

#define NOMEM edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory")

/* A folded value larger than this and than the constants it came from is left to be
 * computed at run time: folding would make the file bigger (ConstantOfShape, Expand). */
#define FOLD_FREE_BYTES 4096

typedef struct cleanup_stats {
    size_t folded_nodes, folded_values, bn, identity, dups, dead, unused;
} cleanup_stats;

typedef struct cleanup_ctx {
    edgec_pass_ctx *pc;
    cleanup_stats s;
} cleanup_ctx;

/* Makes every reader of `from` in `g` and in the subgraphs inside it read `to`. The outputs
 * of subgraphs are renamed too (they bind by position); those of `g` are never. */
static void rename_uses(edgec_graph *g, const char *from, const char *to, bool outputs)
{
    for (size_t i = 0; i < g->n_nodes; i++) {
        edgec_node *n = g->nodes[i];
        for (size_t k = 0; k < n->n_inputs; k++)
            if (!strcmp(n->inputs[k], from))
                n->inputs[k] = (char *)to;
        for (size_t k = 0; k < n->n_attrs; k++) {
            edgec_attr *a = &n->attrs[k];
            if (a->g)
                rename_uses(a->g, from, to, true);
            for (size_t j = 0; a->type == EDGEC_ATTR_GRAPHS && j < a->n; j++)
                rename_uses(a->graphs[j], from, to, true);
        }
    }
    for (size_t i = 0; outputs && i < g->n_outputs; i++)
        if (!strcmp(g->outputs[i].name, from))
            g->outputs[i].name = to;
}

static bool has_subgraph(const edgec_node *n)
{
    for (size_t k = 0; k < n->n_attrs; k++)
        if (n->attrs[k].g || n->attrs[k].type == EDGEC_ATTR_GRAPHS)
            return true;
    return false;
}

/* ---- constant folding ---- */

static bool never_fold(const edgec_node *n)
{
    /* Random ops differ per run; quantize/dequantize pairs are what keeps weights small;
     * Constant already is a constant. */
    static const char *const ops[] = {
        "Constant", "RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike",
        "Multinomial", "Bernoulli", "DequantizeLinear", "QuantizeLinear",
        "DynamicQuantizeLinear", "If", "Loop", "Scan", NULL};
    for (const char *const *o = ops; *o; o++)
        if (!strcmp(n->op_type, *o))
            return true;
    return has_subgraph(n) || *n->domain;
}

typedef struct name_list {
    const char **v;
    size_t n, cap;
} name_list;

static bool list_has(const name_list *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i], s))
            return true;
    return false;
}

static edgec_status list_add(name_list *l, const char *s)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        const char **v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return NOMEM;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = s;
    return EDGEC_STATUS_OK;
}

static bool in_nodes(edgec_node *const *v, size_t n, const edgec_node *x)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == x)
            return true;
    return false;
}

typedef struct node_set {
    edgec_node **v;
    size_t n;
} node_set;

static bool drop_listed(const edgec_node *n, void *ctx)
{
    const node_set *s = ctx;
    return in_nodes(s->v, s->n, n);
}

/* Runs the nodes `f` (a set closed under "inputs are constant") on their constant inputs
 * and returns every output they make, in `outs` (same order as `names`). */
static edgec_status run_fold(edgec_model *m, edgec_graph *g, edgec_node **f, size_t nf,
                             const name_list *leaves, const name_list *names, edgec_array **outs)
{
    edgec_graph tg = {.name = "cleanup-fold", .nodes = f, .n_nodes = nf, .cap_nodes = nf};
    edgec_tensor **inits = calloc(leaves->n + 1, sizeof *inits);
    edgec_value_info *vo = calloc(names->n + 1, sizeof *vo);
    edgec_session *s = NULL;
    edgec_status st = EDGEC_STATUS_OK;
    if (!inits || !vo) {
        st = NOMEM;
        goto cleanup;
    }
    for (size_t i = 0; i < leaves->n; i++) {
        edgec_weight w;
        edgec__find_const(m, g, leaves->v[i], false, &w);
        /* Constant-node tensors may be unnamed: a shallow copy carries the value's name. */
        if (!(inits[i] = edgec__arena_alloc(m->arena, sizeof **inits))) {
            st = NOMEM;
            goto cleanup;
        }
        *inits[i] = *w.tensor;
        inits[i]->name = leaves->v[i];
    }
    for (size_t i = 0; i < names->n; i++)
        vo[i] = (edgec_value_info){.name = names->v[i], .rank = -1, .dirty = true};
    tg.inits = inits;
    tg.n_inits = tg.cap_inits = leaves->n;
    tg.outputs = vo;
    tg.n_outputs = names->n;
    edgec_graph *main = m->graph;
    m->graph = &tg;
    st = edgec_session_create(m, NULL, &s);
    if (!st) {
        const edgec_array *none[1] = {NULL};
        st = edgec_session_run(s, none, 0, outs, names->n);
    }
    edgec_session_free(s);
    m->graph = main;
cleanup:
    free(inits);
    free(vo);
    return st;
}

static edgec_status fold_constants(cleanup_ctx *c, edgec_graph *g)
{
    edgec_model *m = c->pc->model;
    edgec_graph_index *ix;
    edgec_status st = edgec__graph_index(m->arena, g, &ix);
    if (st)
        return st;
    size_t n_topo;
    edgec_node *const *topo = edgec__index_topo(ix, &n_topo);
    edgec_node **f = calloc(n_topo + 1, sizeof *f);
    edgec_array **outs = NULL;
    name_list produced = {0}, leaves = {0};
    size_t nf = 0;
    uint64_t leaf_bytes = 0;
    if (!f)
        return NOMEM;
    int64_t opset = edgec__model_opset(m, "");
    for (size_t i = 0; i < n_topo && !st; i++) {
        edgec_node *n = topo[i];
        if (never_fold(n) || !edgec__op_find(n->op_type, "", opset) || !n->n_inputs)
            continue;
        bool ok = true, any = false;
        for (size_t k = 0; k < n->n_inputs && ok; k++) {
            const char *in = n->inputs[k];
            edgec_weight w;
            if (!*in)
                continue;
            any = true;
            if (list_has(&produced, in))
                continue;
            ok = edgec__find_const(m, g, in, false, &w) && w.tensor && w.tensor->data;
        }
        for (size_t k = 0; k < n->n_outputs && ok; k++)
            ok = !edgec__graph_is_output(g, n->outputs[k]);
        if (!ok || !any)
            continue;
        for (size_t k = 0; k < n->n_inputs && !st; k++) {
            edgec_weight w;
            const char *in = n->inputs[k];
            if (*in && !list_has(&produced, in) && !list_has(&leaves, in)) {
                edgec__find_const(m, g, in, false, &w);
                leaf_bytes += w.tensor->nbytes;
                st = list_add(&leaves, in);
            }
        }
        for (size_t k = 0; k < n->n_outputs && !st; k++)
            if (*n->outputs[k])
                st = list_add(&produced, n->outputs[k]);
        f[nf++] = n;
    }
    if (st || !nf)
        goto cleanup;
    if (!(outs = calloc(produced.n + 1, sizeof *outs))) {
        st = NOMEM;
        goto cleanup;
    }
    if ((st = run_fold(m, g, f, nf, &leaves, &produced, outs))) {
        /* A kernel refused these constants: they stay for the runtime to compute. */
        edgec__pass_log(c->pc, "constant folding skipped: %s", edgec_error_message());
        edgec__error_clear();
        st = EDGEC_STATUS_OK;
        goto cleanup;
    }
    /* Nodes whose big results would bloat the file stay; the rest are replaced by the
     * values that nodes outside the folded set read. */
    edgec_node **keep = calloc(nf + 1, sizeof *keep);
    size_t nk = 0;
    if (!keep) {
        st = NOMEM;
        goto cleanup;
    }
    for (size_t i = 0; i < produced.n; i++) {
        size_t cnt;
        edgec_node *const *cons = edgec__index_consumers(ix, produced.v[i], &cnt);
        bool outside = false;
        for (size_t k = 0; k < cnt; k++)
            outside |= !in_nodes(f, nf, cons[k]);
        if (outside && outs[i]->nbytes > FOLD_FREE_BYTES && outs[i]->nbytes > leaf_bytes)
            keep[nk++] = edgec__index_producer(ix, produced.v[i]);
    }
    size_t kept_f = 0;
    for (size_t i = 0; i < nf; i++)
        if (!in_nodes(keep, nk, f[i]))
            f[kept_f++] = f[i];
    nf = kept_f;
    for (size_t i = 0; i < produced.n && !st; i++) {
        edgec_node *p = edgec__index_producer(ix, produced.v[i]);
        if (!in_nodes(f, nf, p))
            continue;
        size_t cnt;
        edgec_node *const *cons = edgec__index_consumers(ix, produced.v[i], &cnt);
        bool outside = false;
        for (size_t k = 0; k < cnt; k++)
            outside |= !in_nodes(f, nf, cons[k]);
        if (!outside)
            continue;
        const edgec_array *a = outs[i];
        int64_t dims[EDGEC_MAX_RANK];
        for (int k = 0; k < a->rank; k++)
            dims[k] = a->dims[k];
        edgec_tensor *t = edgec__tensor_new(m, produced.v[i], (int32_t)a->type, a->rank, dims);
        if (!t) {
            st = NOMEM;
            break;
        }
        memcpy(t->data, a->data, a->nbytes);
        st = edgec__graph_add_init(m, g, t);
        c->s.folded_values++;
    }
    if (!st) {
        node_set dc = {f, nf};
        edgec__graph_remove_nodes(g, drop_listed, &dc);
        c->s.folded_nodes += nf;
    }
    free(keep);
cleanup:
    for (size_t i = 0; outs && i < produced.n; i++)
        edgec_array_free(outs[i]);
    free(outs);
    free(f);
    free(produced.v);
    free(leaves.v);
    return st;
}

/* ---- BatchNormalization folding ---- */

/* A dense float constant with `n` elements behind input `i` of `node`, or NULL. */
static const float *const_floats(edgec_model *m, const edgec_node *node, size_t i, int64_t n)
{
    edgec_weight w;
    if (i >= node->n_inputs || !edgec__find_const(m, node->graph, node->inputs[i], false, &w) ||
        !w.tensor || w.dtype != EDGEC_DTYPE_FLOAT || w.numel != n || !w.tensor->data)
        return NULL;
    return w.tensor->data;
}

static edgec_status new_init(edgec_model *m, edgec_graph *g, const char *base, int32_t rank,
                             const int64_t *dims, edgec_tensor **out)
{
    const char *name = edgec__unique_name(m, base);
    if (!name || !(*out = edgec__tensor_new(m, name, EDGEC_DTYPE_FLOAT, rank, dims)))
        return NOMEM;
    return edgec__graph_add_init(m, g, *out);
}

/* Where a folded constant goes. The original tensor itself, with new data, when it is an
 * initializer of `g` of `numel` floats (rank `rank`, or any rank when `rank` < 0) that only
 * this node reads: the folded model then keeps the names of the original, so layer
 * settings and plans written against it still find "stem.weight". Otherwise a new
 * initializer named from `base`. `*dst` is the buffer to fill. */
static edgec_status fold_target(edgec_model *m, edgec_graph *g, const edgec_weight *old,
                                int32_t rank, const char *base, int32_t new_rank,
                                const int64_t *new_dims, edgec_tensor **out, float **dst)
{
    int64_t numel = 1;
    for (int32_t i = 0; i < new_rank; i++)
        numel *= new_dims[i];
    if (old && old->kind == EDGEC_WEIGHT_INITIALIZER && old->graph == g && old->tensor &&
        old->numel == numel && (rank < 0 || old->rank == rank) &&
        edgec__value_uses(g, old->name) == 1) {
        *dst = edgec__arena_alloc(m->arena, (size_t)numel * sizeof **dst);
        *out = old->tensor;
        return *dst ? EDGEC_STATUS_OK : NOMEM;
    }
    edgec_status st = new_init(m, g, base, new_rank, new_dims, out);
    *dst = st ? NULL : (*out)->data;
    return st;
}

/* Puts `data` in place when `t` is an existing tensor that fold_target chose. */
static void fold_commit(edgec_model *m, edgec_tensor *t, float *data)
{
    if (t->data == data)
        return;
    void *old = t->data;
    edgec__tensor_replace(t, EDGEC_DTYPE_FLOAT, t->rank, t->dims, data,
                          (size_t)t->numel * sizeof *data);
    edgec__arena_release(m->arena, old);
}

/* "stem.weight" -> "stem.bias", "W" -> "W_bias": the name a folded bias gets when the
 * layer had none of its own. */
static const char *bias_name(edgec_model *m, const char *weight)
{
    size_t n = strlen(weight), suf = strlen("weight");
    char *b = edgec__arena_alloc(m->arena, n + 8);
    if (!b)
        return NULL;
    if (n > suf && !strcmp(weight + n - suf, "weight"))
        snprintf(b, n + 8, "%.*sbias", (int)(n - suf), weight);
    else
        snprintf(b, n + 8, "%s_bias", *weight ? weight : "folded");
    return b;
}

/* Folds BN node `b` into producer `p` when the shapes and constants allow; `*done` says
 * whether it did. */
static edgec_status fold_bn(cleanup_ctx *c, edgec_graph *g, edgec_node *p, edgec_node *b,
                            bool *done)
{
    edgec_model *m = c->pc->model;
    *done = false;
    edgec_weight w;
    const char *op = p->op_type;
    bool conv = !strcmp(op, "Conv"), convt = !strcmp(op, "ConvTranspose");
    bool gemm = !strcmp(op, "Gemm");
    if ((!conv && !convt && !gemm) || *p->domain || p->n_inputs < 2 ||
        !edgec__find_const(m, g, p->inputs[1], false, &w) || !w.tensor ||
        w.dtype != EDGEC_DTYPE_FLOAT || !w.tensor->data || w.rank < 2)
        return EDGEC_STATUS_OK;
    if (edgec__attr_int(b, "training_mode", 0) || b->n_inputs < 5)
        return EDGEC_STATUS_OK;
    for (size_t k = 1; k < b->n_outputs; k++)
        if (*b->outputs[k])
            return EDGEC_STATUS_OK;
    int64_t group = edgec__attr_int(p, "group", 1);
    bool tb = edgec__attr_int(p, "transB", 0) != 0;
    int64_t C;
    if (conv)
        C = w.dims[0];
    else if (convt)
        C = w.dims[1] * group;
    else {
        if (w.rank != 2 || edgec__attr_int(p, "transA", 0) > 1)
            return EDGEC_STATUS_OK;
        C = tb ? w.dims[0] : w.dims[1];
    }
    const float *gamma = const_floats(m, b, 1, C), *beta = const_floats(m, b, 2, C);
    const float *mean = const_floats(m, b, 3, C), *var = const_floats(m, b, 4, C);
    if (!gamma || !beta || !mean || !var || group < 1 || (convt && w.dims[0] % group))
        return EDGEC_STATUS_OK;
    /* The existing bias: Conv's is [C]; Gemm's C broadcasts from a scalar or [C]/[1,C]. */
    const float *bias = NULL;
    float bias0 = 0.0f;
    bool bias_scalar = false, has_bias = false;
    float gemm_beta = gemm ? edgec__attr_float(p, "beta", 1.0f) : 1.0f;
    edgec_weight bw;
    if (p->n_inputs > 2 && *p->inputs[2]) {
        has_bias = true;
        if (!edgec__find_const(m, g, p->inputs[2], false, &bw) || !bw.tensor ||
            bw.dtype != EDGEC_DTYPE_FLOAT || !bw.tensor->data)
            return EDGEC_STATUS_OK;
        if (bw.numel == C && (!gemm || bw.rank == 1 || (bw.rank == 2 && bw.dims[0] == 1)))
            bias = bw.tensor->data;
        else if (gemm && bw.numel == 1)
            bias_scalar = true, bias0 = ((const float *)bw.tensor->data)[0];
        else
            return EDGEC_STATUS_OK;
    }
    float eps = edgec__attr_float(b, "epsilon", 1e-5f);
    double *s = malloc((size_t)C * sizeof *s);
    if (!s)
        return NOMEM;
    for (int64_t i = 0; i < C; i++)
        s[i] = (double)gamma[i] / sqrt((double)var[i] + (double)eps);
    edgec_tensor *nw, *nb;
    float *dst, *bd;
    const char *bname = has_bias ? p->inputs[2] : bias_name(m, w.name);
    edgec_status st = bname ? EDGEC_STATUS_OK : NOMEM;
    if (!st)
        st = fold_target(m, g, &w, -1, w.name[0] ? w.name : "weight", w.rank, w.dims, &nw, &dst);
    if (!st)
        st = fold_target(m, g, has_bias && bias ? &bw : NULL, 1, bname, 1, &C, &nb, &bd);
    if (st) {
        free(s);
        return st;
    }
    const float *src = w.tensor->data;
    int64_t inner = 1;
    for (int32_t i = 2; i < w.rank; i++)
        inner *= w.dims[i];
    for (int64_t e = 0; e < w.numel; e++) {
        int64_t o;
        if (conv)
            o = e / (w.numel / C);
        else if (convt) {
            int64_t ci = e / (w.dims[1] * inner), j = (e / inner) % w.dims[1];
            o = (ci / (w.dims[0] / group)) * w.dims[1] + j;
        } else
            o = tb ? e / w.dims[1] : e % w.dims[1];
        dst[e] = (float)((double)src[e] * s[o]);
    }
    for (int64_t o = 0; o < C; o++) {
        double b0 = bias ? bias[o] : bias_scalar ? bias0 : 0.0;
        bd[o] = (float)(s[o] * (double)gemm_beta * b0 + (double)beta[o] - (double)mean[o] * s[o]);
    }
    free(s);
    fold_commit(m, nw, dst);
    fold_commit(m, nb, bd);
    if ((st = edgec__node_set_input(m, p, 1, nw->name)) ||
        (st = edgec__node_set_input(m, p, 2, nb->name)))
        return st;
    if (gemm && (st = edgec__attr_set_float(m, p, "beta", 1.0f)))
        return st;
    p->outputs[0] = b->outputs[0];
    *done = true;
    return EDGEC_STATUS_OK;
}

static bool drop_node(const edgec_node *n, void *ctx)
{
    return n == ctx;
}

static edgec_status fold_batchnorms(cleanup_ctx *c, edgec_graph *g)
{
    for (bool again = true; again;) {
        again = false;
        edgec_graph_index *ix;
        edgec_status st = edgec__graph_index(c->pc->model->arena, g, &ix);
        if (st)
            return st;
        for (size_t i = 0; i < g->n_nodes; i++) {
            edgec_node *b = g->nodes[i];
            if (strcmp(b->op_type, "BatchNormalization") || *b->domain || !b->n_inputs)
                continue;
            const char *x = b->inputs[0];
            edgec_node *p = edgec__index_producer(ix, x);
            size_t cnt;
            edgec__index_consumers(ix, x, &cnt);
            if (!p || cnt != 1 || edgec__graph_is_output(g, x) || p->n_outputs != 1)
                continue;
            bool done;
            if ((st = fold_bn(c, g, p, b, &done)))
                return st;
            if (done) {
                edgec__graph_remove_nodes(g, drop_node, b);
                c->s.bn++;
                again = true; /* the index is stale now */
                break;
            }
        }
    }
    return EDGEC_STATUS_OK;
}

/* ---- Identity / Dropout ---- */

static bool is_passthrough(const edgec_node *n)
{
    if (*n->domain || n->n_inputs < 1 || !*n->inputs[0] || n->n_outputs < 1)
        return false;
    if (!strcmp(n->op_type, "Identity"))
        return n->n_outputs == 1;
    if (strcmp(n->op_type, "Dropout"))
        return false;
    /* Inference-mode Dropout: no training_mode input, no mask output used. */
    for (size_t k = 1; k < n->n_outputs; k++)
        if (*n->outputs[k])
            return false;
    return n->n_inputs < 3 || !*n->inputs[2];
}

static edgec_status remove_identities(cleanup_ctx *c, edgec_graph *g)
{
    size_t k = 0;
    for (size_t i = 0; i < g->n_nodes; i++) {
        edgec_node *n = g->nodes[i];
        if (is_passthrough(n) && !edgec__graph_is_output(g, n->outputs[0])) {
            rename_uses(g, n->outputs[0], n->inputs[0], false);
            c->s.identity++;
            continue;
        }
        g->nodes[k++] = n;
    }
    g->n_nodes = k;
    return EDGEC_STATUS_OK;
}

/* ---- duplicate weights ---- */

typedef struct dup_entry {
    const char *name;
    const edgec_tensor *t;
    uint64_t hash;
} dup_entry;

static uint64_t tensor_hash(const edgec_tensor *t)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)t->dtype;
    for (int32_t i = 0; i < t->rank; i++)
        h = (h ^ (uint64_t)t->dims[i]) * 1099511628211ull;
    const uint8_t *d = t->data;
    for (size_t i = 0; i < t->nbytes; i++)
        h = (h ^ d[i]) * 1099511628211ull;
    return h;
}

static bool same_tensor(const edgec_tensor *a, const edgec_tensor *b)
{
    if (a->dtype != b->dtype || a->rank != b->rank || a->nbytes != b->nbytes)
        return false;
    for (int32_t i = 0; i < a->rank; i++)
        if (a->dims[i] != b->dims[i])
            return false;
    return !memcmp(a->data, b->data, a->nbytes);
}

static edgec_status merge_duplicates(cleanup_ctx *c, edgec_graph *g)
{
    size_t cap = g->n_inits + g->n_nodes + 1, n = 0;
    dup_entry *v = calloc(cap, sizeof *v);
    if (!v)
        return NOMEM;
    for (size_t i = 0; i < g->n_inits; i++) {
        const edgec_tensor *t = g->inits[i];
        if (t->data && !edgec__graph_is_input(g, t->name) && !edgec__graph_is_output(g, t->name))
            v[n++] = (dup_entry){t->name, t, 0};
    }
    for (size_t i = 0; i < g->n_nodes; i++) {
        const edgec_node *nd = g->nodes[i];
        if (strcmp(nd->op_type, "Constant") || *nd->domain || nd->n_attrs < 1 || !nd->attrs[0].t ||
            !nd->attrs[0].t->data || nd->n_outputs != 1 || edgec__graph_is_output(g, nd->outputs[0]))
            continue;
        v[n++] = (dup_entry){nd->outputs[0], nd->attrs[0].t, 0};
    }
    for (size_t i = 0; i < n; i++)
        v[i].hash = tensor_hash(v[i].t);
    for (size_t i = 0; i < n; i++) {
        if (!v[i].name)
            continue;
        for (size_t j = i + 1; j < n; j++) {
            if (!v[j].name || v[j].hash != v[i].hash || !same_tensor(v[i].t, v[j].t))
                continue;
            rename_uses(g, v[j].name, v[i].name, false);
            v[j].name = NULL;
            c->s.dups++;
        }
    }
    free(v);
    return EDGEC_STATUS_OK;
}

/* ---- dead nodes, unused initializers ---- */

typedef struct dead_ctx {
    edgec_graph_index *ix;
    edgec_graph *g;
    size_t removed;
} dead_ctx;

static bool value_used(const dead_ctx *d, const char *name)
{
    size_t cnt;
    if (!*name)
        return false;
    edgec__index_consumers(d->ix, name, &cnt);
    return cnt || edgec__graph_is_output(d->g, name);
}

static bool drop_dead(const edgec_node *n, void *ctx)
{
    dead_ctx *d = ctx;
    if (!n->n_outputs)
        return false;
    for (size_t k = 0; k < n->n_outputs; k++)
        if (value_used(d, n->outputs[k]))
            return false;
    d->removed++;
    return true;
}

static bool drop_unused_init(const edgec_tensor *t, void *ctx)
{
    dead_ctx *d = ctx;
    if (value_used(d, t->name) || edgec__graph_is_input(d->g, t->name))
        return false;
    d->removed++;
    return true;
}

static edgec_status remove_dead(cleanup_ctx *c, edgec_graph *g)
{
    edgec_model *m = c->pc->model;
    dead_ctx d = {.g = g};
    edgec_status st;
    do {
        d.removed = 0;
        if ((st = edgec__graph_index(m->arena, g, &d.ix)))
            return st;
        edgec__graph_remove_nodes(g, drop_dead, &d);
        c->s.dead += d.removed;
    } while (d.removed);
    if ((st = edgec__graph_index(m->arena, g, &d.ix)))
        return st;
    edgec__graph_remove_inits(g, drop_unused_init, &d);
    c->s.unused += d.removed;
    size_t k = 0;
    for (size_t i = 0; i < g->n_sparse_inits; i++) {
        const char *nm = g->sparse_inits[i]->values->name;
        if (value_used(&d, nm) || edgec__graph_is_input(g, nm))
            g->sparse_inits[k++] = g->sparse_inits[i];
        else
            c->s.unused++;
    }
    g->n_sparse_inits = k;
    return EDGEC_STATUS_OK;
}

edgec_status edgec__fold_batchnorms(edgec_pass_ctx *ctx, edgec_graph *g, size_t *n_folded)
{
    cleanup_ctx c = {.pc = ctx};
    edgec_status st = fold_batchnorms(&c, g);
    *n_folded = c.s.bn;
    return st;
}

static edgec_status clean_graph(edgec_graph *g, void *vctx)
{
    cleanup_ctx *c = vctx;
    edgec_status st;
    /* Structured pruning reads the main graph's BatchNormalization statistics to estimate
     * the mean of the channels it removes, and folds them itself afterwards. */
    bool defer_bn = g == c->pc->model->graph && edgec__pass_enabled(c->pc, "prune-structured");
    if ((st = fold_constants(c, g)) || (!defer_bn && (st = fold_batchnorms(c, g))) ||
        (st = remove_identities(c, g)) || (st = merge_duplicates(c, g)) ||
        (st = remove_dead(c, g)))
        return st;
    return EDGEC_STATUS_OK;
}

static edgec_status run(edgec_pass_ctx *ctx)
{
    cleanup_ctx c = {.pc = ctx};
    edgec_status st = edgec__model_graphs(ctx->model, clean_graph, &c);
    if (st)
        return st;
    edgec__pass_log(ctx,
                    "%zu BatchNormalization folded, %zu Identity/Dropout removed, %zu constant "
                    "nodes folded into %zu values, %zu duplicate weights merged, %zu dead nodes "
                    "and %zu unused initializers dropped",
                    c.s.bn, c.s.identity, c.s.folded_nodes, c.s.folded_values, c.s.dups, c.s.dead,
                    c.s.unused);
    return EDGEC_STATUS_OK;
}

static const edgec_pass_option options[] = {
    {"no-cleanup", NULL,
     "do not run the cleanup that otherwise precedes every other pass"},
    {0},
};

const edgec_pass edgec__pass_cleanup = {
    "cleanup",
    NULL,
    false,
    "simplify the graph without changing its results: fold BatchNormalization into the "
    "Conv/Gemm before it, fold constant subgraphs, drop Identity, Dropout, dead nodes, unused "
    "and duplicate weights (runs first whenever any pass runs)",
    EDGEC_ORDER_CLEANUP,
    options,
    NULL,
    run,
    false, /* no layer settings */
};
