/* --prune-structured R: removes the fraction R of the output channels of Conv and of the
 * neurons of Gemm / MatMul layers, and rewrites every consumer so the model stays valid
 * and really shrinks.
 *
 * The main graph is walked in topological order while each value's channel axis is
 * described as a list of segments, each a run of channels of one channel group (a
 * Flatten makes every channel cover `inner` features; a Concat joins the lists).
 * Groups tied by elementwise ops (a residual Add) are merged with union-find and pruned
 * together. A value reaching anything the walk does not understand, a graph output or a
 * subgraph locks its groups, which then keep every channel. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "passes/equalize.h"
#include "passes/prune_common.h"
#include "report/macs.h"
#include "runtime/rt.h"

#define NOMEM edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory")

typedef struct seg {
    size_t gid;
    int64_t count, inner;
} seg;

/* The channel layout of one value: its channel axis is `neg_axis` from the end. */
typedef struct layout {
    const char *name;
    seg *segs;
    size_t n_segs;
    int32_t neg_axis;
} layout;

typedef enum rewrite_kind { RW_ABSORB, RW_DEPTHWISE, RW_BN, RW_CONST } rewrite_kind;

/* A consumer whose constants must follow the channels of its input layout. */
typedef struct rewrite {
    rewrite_kind kind;
    edgec_node *node;
    const layout *in;
    size_t input;  /* RW_CONST: which input is the constant */
    int32_t axis;  /* RW_ABSORB: weight axis of the input features; RW_CONST: const axis */
} rewrite;

typedef struct chgroup {
    size_t parent;
    int64_t count;
    bool locked;
} chgroup;

typedef struct producer {
    edgec_node *node;
    size_t gid;
    int32_t out_axis; /* weight axis of the output channels */
} producer;

typedef struct sp_ctx {
    edgec_pass_ctx *pc;
    edgec_model *m;
    edgec_shapes shapes;
    edgec_graph_index *ix;
    layout **lay; /* arena-allocated, so pointers stay valid while the list grows */
    size_t n_lay, cap_lay;
    chgroup *grp;
    size_t n_grp, cap_grp;
    producer *prod;
    size_t n_prod, cap_prod;
    rewrite *rw;
    size_t n_rw, cap_rw;
    int64_t **keep; /* per root group: kept channels ascending, NULL = all */
    int64_t *n_keep;
} sp_ctx;

/* Grows `*v` (of `*cap` elements of `size`) to hold `need`. */
static bool grow(void **v, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return true;
    size_t c = *cap ? *cap * 2 : 32;
    while (c < need)
        c *= 2;
    void *n = realloc(*v, c * size);
    if (!n)
        return false;
    *v = n;
    *cap = c;
    return true;
}

static size_t find(sp_ctx *c, size_t g)
{
    while (c->grp[g].parent != g) {
        c->grp[g].parent = c->grp[c->grp[g].parent].parent;
        g = c->grp[g].parent;
    }
    return g;
}

static edgec_status new_group(sp_ctx *c, int64_t count, bool locked, size_t *out)
{
    if (!grow((void **)&c->grp, &c->cap_grp, c->n_grp + 1, sizeof *c->grp))
        return NOMEM;
    c->grp[c->n_grp] = (chgroup){c->n_grp, count, locked};
    *out = c->n_grp++;
    return EDGEC_STATUS_OK;
}

static void unite(sp_ctx *c, size_t a, size_t b)
{
    a = find(c, a);
    b = find(c, b);
    if (a == b)
        return;
    if (c->grp[a].count != c->grp[b].count)
        c->grp[a].locked = c->grp[b].locked = true;
    c->grp[b].parent = a;
    c->grp[a].locked |= c->grp[b].locked;
}

static const layout *get_layout(const sp_ctx *c, const char *name)
{
    for (size_t i = c->n_lay; i-- > 0;)
        if (!strcmp(c->lay[i]->name, name))
            return c->lay[i];
    return NULL;
}

static void lock(sp_ctx *c, const layout *l)
{
    for (size_t i = 0; l && i < l->n_segs; i++)
        c->grp[find(c, l->segs[i].gid)].locked = true;
}

static edgec_status set_layout(sp_ctx *c, const char *name, const seg *segs, size_t n,
                               int32_t neg_axis, int64_t inner_mul)
{
    if (!*name)
        return EDGEC_STATUS_OK;
    seg *s = edgec__arena_calloc(c->m->arena, n ? n : 1, sizeof *s);
    layout *l = edgec__arena_calloc(c->m->arena, 1, sizeof *l);
    if (!s || !l || !grow((void **)&c->lay, &c->cap_lay, c->n_lay + 1, sizeof *c->lay))
        return NOMEM;
    for (size_t i = 0; i < n; i++) {
        s[i] = segs[i];
        s[i].inner *= inner_mul;
    }
    *l = (layout){name, s, n, neg_axis};
    c->lay[c->n_lay++] = l;
    return EDGEC_STATUS_OK;
}

static edgec_status add_rewrite(sp_ctx *c, rewrite r)
{
    if (!grow((void **)&c->rw, &c->cap_rw, c->n_rw + 1, sizeof *c->rw))
        return NOMEM;
    c->rw[c->n_rw++] = r;
    return EDGEC_STATUS_OK;
}

static int64_t total(const layout *l)
{
    int64_t t = 0;
    for (size_t i = 0; i < l->n_segs; i++)
        t += l->segs[i].count * l->segs[i].inner;
    return t;
}

static bool plain(const layout *l)
{
    for (size_t i = 0; i < l->n_segs; i++)
        if (l->segs[i].inner != 1)
            return false;
    return true;
}

static int32_t rank_of(const sp_ctx *c, const char *name)
{
    const edgec_value_shape *s = edgec__shapes_find(&c->shapes, name);
    return s ? s->rank : -1;
}

/* The dense float constant behind input `i` of `n`. */
static bool weight(sp_ctx *c, const edgec_node *n, size_t i, edgec_weight *w)
{
    return i < n->n_inputs && *n->inputs[i] &&
           edgec__find_const(c->m, n->graph, n->inputs[i], false, w) && w->tensor &&
           w->dtype == EDGEC_DTYPE_FLOAT && w->tensor->data;
}

/* A layer that makes new channels: a group for them, prunable unless excluded. */
static edgec_status add_producer(sp_ctx *c, edgec_node *n, const edgec_weight *w, int32_t out_axis,
                                 int32_t neg_axis)
{
    size_t gid = 0;
    bool locked = edgec__pass_excluded(c->pc, n, w->name);
    edgec_status st = new_group(c, w->dims[out_axis], locked, &gid);
    if (st || !grow((void **)&c->prod, &c->cap_prod, c->n_prod + 1, sizeof *c->prod))
        return st ? st : NOMEM;
    c->prod[c->n_prod++] = (producer){n, gid, out_axis};
    seg s = {gid, w->dims[out_axis], 1};
    return set_layout(c, n->outputs[0], &s, 1, neg_axis, 1);
}

static bool is_unary_passthrough(const char *op)
{
    static const char *const ops[] = {
        "Relu", "LeakyRelu", "PRelu", "Sigmoid", "Tanh", "Clip", "HardSigmoid", "HardSwish",
        "Elu", "Selu", "Softplus", "Softsign", "Gelu", "Identity", "Dropout", "Abs", "Neg",
        "Mish", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "LpPool", NULL};
    for (const char *const *o = ops; *o; o++)
        if (!strcmp(op, *o))
            return true;
    return false;
}

static bool is_binary_elementwise(const char *op)
{
    static const char *const ops[] = {"Add", "Sub", "Mul", "Div", "Max", "Min", "Sum", NULL};
    for (const char *const *o = ops; *o; o++)
        if (!strcmp(op, *o))
            return true;
    return false;
}

/* Locks every input layout of `n`. */
static void lock_inputs(sp_ctx *c, const edgec_node *n)
{
    for (size_t i = 0; i < n->n_inputs; i++)
        if (*n->inputs[i])
            lock(c, get_layout(c, n->inputs[i]));
}

static edgec_status visit_conv(sp_ctx *c, edgec_node *n, const layout *in)
{
    edgec_weight w;
    int64_t group = edgec__attr_int(n, "group", 1);
    if (!weight(c, n, 1, &w) || w.rank < 3) {
        lock_inputs(c, n);
        return EDGEC_STATUS_OK;
    }
    edgec_status st = EDGEC_STATUS_OK;
    if (group == 1) {
        if (in && plain(in) && total(in) == w.dims[1] && in->neg_axis == w.rank - 1)
            st = add_rewrite(c, (rewrite){RW_ABSORB, n, in, 1, 1});
        else
            lock(c, in);
        return st ? st : add_producer(c, n, &w, 0, w.rank - 1);
    }
    /* Depthwise: one filter per input channel, so the channels pass straight through. */
    if (in && plain(in) && group == w.dims[0] && w.dims[1] == 1 && total(in) == group &&
        in->neg_axis == w.rank - 1 && !edgec__pass_excluded(c->pc, n, w.name)) {
        if ((st = add_rewrite(c, (rewrite){RW_DEPTHWISE, n, in, 1, 0})))
            return st;
        return set_layout(c, n->outputs[0], in->segs, in->n_segs, in->neg_axis, 1);
    }
    lock_inputs(c, n);
    return EDGEC_STATUS_OK;
}

/* Gemm (A not transposed) and MatMul with a constant 2-D B: a dense layer. */
static edgec_status visit_dense(sp_ctx *c, edgec_node *n, const layout *in, bool gemm)
{
    edgec_weight w;
    if (!weight(c, n, 1, &w) || w.rank != 2 || (gemm && edgec__attr_int(n, "transA", 0)) ||
        (!gemm && rank_of(c, n->inputs[0]) != 2)) {
        lock_inputs(c, n);
        return EDGEC_STATUS_OK;
    }
    bool tb = gemm && edgec__attr_int(n, "transB", 0);
    int32_t k_axis = tb ? 1 : 0, n_axis = tb ? 0 : 1;
    edgec_status st = EDGEC_STATUS_OK;
    if (in && in->neg_axis == 1 && total(in) == w.dims[k_axis])
        st = add_rewrite(c, (rewrite){RW_ABSORB, n, in, 1, k_axis});
    else
        lock(c, in);
    /* A Gemm bias of another shape than [N] / [1, N] / scalar cannot follow the pruning. */
    edgec_weight b;
    if (gemm && n->n_inputs > 2 && *n->inputs[2] &&
        (!weight(c, n, 2, &b) ||
         !(b.numel == 1 || (b.numel == w.dims[n_axis] && (b.rank == 1 || b.dims[0] == 1))))) {
        if ((st = add_producer(c, n, &w, n_axis, 1)))
            return st;
        c->grp[c->prod[c->n_prod - 1].gid].locked = true;
        return EDGEC_STATUS_OK;
    }
    return st ? st : add_producer(c, n, &w, n_axis, 1);
}

static edgec_status visit_bn(sp_ctx *c, edgec_node *n, const layout *in)
{
    int32_t r = rank_of(c, n->inputs[0]);
    bool ok = in && plain(in) && r >= 2 && in->neg_axis == r - 1 && n->n_inputs >= 5;
    for (size_t i = 1; ok && i < 5; i++) {
        edgec_weight w;
        ok = weight(c, n, i, &w) && w.numel == total(in) && w.rank == 1;
    }
    for (size_t k = 1; ok && k < n->n_outputs; k++)
        ok = !*n->outputs[k];
    if (!ok) {
        lock_inputs(c, n);
        return EDGEC_STATUS_OK;
    }
    edgec_status st = add_rewrite(c, (rewrite){RW_BN, n, in, 0, 0});
    return st ? st : set_layout(c, n->outputs[0], in->segs, in->n_segs, in->neg_axis, 1);
}

static bool same_structure(const layout *a, const layout *b)
{
    if (a->n_segs != b->n_segs || a->neg_axis != b->neg_axis)
        return false;
    for (size_t i = 0; i < a->n_segs; i++)
        if (a->segs[i].count != b->segs[i].count || a->segs[i].inner != b->segs[i].inner)
            return false;
    return true;
}

static edgec_status visit_elementwise(sp_ctx *c, edgec_node *n)
{
    const layout *first = NULL;
    bool ok = n->n_outputs == 1;
    for (size_t i = 0; i < n->n_inputs && ok; i++) {
        const layout *l = *n->inputs[i] ? get_layout(c, n->inputs[i]) : NULL;
        if (l && !first)
            first = l;
        else if (l)
            ok = same_structure(first, l);
    }
    if (!first || !ok) {
        lock_inputs(c, n);
        return EDGEC_STATUS_OK;
    }
    /* Constant operands broadcast along the channel axis follow the channels. */
    for (size_t i = 0; i < n->n_inputs && ok; i++) {
        if (!*n->inputs[i] || get_layout(c, n->inputs[i]))
            continue;
        edgec_weight w;
        if (!edgec__find_const(c->m, n->graph, n->inputs[i], false, &w) || !w.tensor) {
            ok = false;
            break;
        }
        if (w.rank < first->neg_axis)
            continue; /* broadcasts over the channel axis */
        int32_t axis = w.rank - first->neg_axis;
        if (w.dims[axis] == 1)
            continue;
        if (w.dims[axis] != total(first) || !plain(first) || w.dtype != EDGEC_DTYPE_FLOAT) {
            ok = false;
            break;
        }
        edgec_status st = add_rewrite(c, (rewrite){RW_CONST, n, first, i, axis});
        if (st)
            return st;
    }
    if (!ok) {
        lock_inputs(c, n);
        return EDGEC_STATUS_OK;
    }
    for (size_t i = 0; i < n->n_inputs; i++) {
        const layout *l = *n->inputs[i] ? get_layout(c, n->inputs[i]) : NULL;
        for (size_t k = 0; l && k < l->n_segs; k++)
            unite(c, first->segs[k].gid, l->segs[k].gid);
    }
    return set_layout(c, n->outputs[0], first->segs, first->n_segs, first->neg_axis, 1);
}

static edgec_status visit_concat(sp_ctx *c, edgec_node *n)
{
    int32_t r = rank_of(c, n->outputs[0]);
    int64_t axis = edgec__attr_int(n, "axis", 0);
    if (axis < 0)
        axis += r;
    size_t total_segs = 0;
    bool ok = r > 0 && n->n_outputs == 1;
    for (size_t i = 0; i < n->n_inputs && ok; i++) {
        const layout *l = get_layout(c, n->inputs[i]);
        ok = l && l->neg_axis == r - axis;
        total_segs += ok ? l->n_segs : 0;
    }
    if (!ok) {
        lock_inputs(c, n);
        return EDGEC_STATUS_OK;
    }
    seg *s = malloc((total_segs + 1) * sizeof *s);
    if (!s)
        return NOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n->n_inputs; i++) {
        const layout *l = get_layout(c, n->inputs[i]);
        memcpy(s + k, l->segs, l->n_segs * sizeof *s);
        k += l->n_segs;
    }
    edgec_status st = set_layout(c, n->outputs[0], s, k, (int32_t)(r - axis), 1);
    free(s);
    return st;
}

/* Flatten(axis=1) and Reshape to [N, -1] of an NC... value: channel c becomes the
 * features [c * inner, (c + 1) * inner). */
static edgec_status visit_flatten(sp_ctx *c, edgec_node *n, const layout *in)
{
    const edgec_value_shape *x = edgec__shapes_find(&c->shapes, n->inputs[0]);
    const edgec_value_shape *y = edgec__shapes_find(&c->shapes, n->outputs[0]);
    bool ok = in && x && y && y->rank == 2 && x->rank >= 2 && in->neg_axis == x->rank - 1 &&
              y->dims[0] == x->dims[0];
    if (ok && !strcmp(n->op_type, "Flatten"))
        ok = edgec__attr_int(n, "axis", 1) == 1 || edgec__attr_int(n, "axis", 1) == 1 - x->rank;
    if (ok && !strcmp(n->op_type, "Reshape")) {
        /* A constant target shape must infer the feature size, or it breaks. */
        edgec_weight w;
        if (n->n_inputs > 1 && edgec__find_const(c->m, n->graph, n->inputs[1], false, &w)) {
            const int64_t *v = w.tensor && w.dtype == EDGEC_DTYPE_INT64 ? w.tensor->data : NULL;
            ok = v && w.numel == 2 && v[1] == -1;
        }
    }
    if (!ok) {
        lock_inputs(c, n);
        return EDGEC_STATUS_OK;
    }
    int64_t inner = 1;
    for (int32_t i = 2; i < x->rank; i++)
        inner *= x->dims[i];
    return set_layout(c, n->outputs[0], in->segs, in->n_segs, 1, inner);
}

static edgec_status analyse(sp_ctx *c, edgec_graph_index *ix)
{
    edgec_graph *g = c->m->graph;
    size_t n_topo;
    edgec_node *const *topo = edgec__index_topo(ix, &n_topo);
    edgec_status st = EDGEC_STATUS_OK;
    for (size_t i = 0; i < n_topo && !st; i++) {
        edgec_node *n = topo[i];
        const char *op = n->op_type;
        const layout *in = n->n_inputs && *n->inputs[0] ? get_layout(c, n->inputs[0]) : NULL;
        if (*n->domain || !n->n_outputs) {
            lock_inputs(c, n);
        } else if (!strcmp(op, "Conv")) {
            st = visit_conv(c, n, in);
        } else if (!strcmp(op, "Gemm") || !strcmp(op, "MatMul")) {
            st = visit_dense(c, n, in, !strcmp(op, "Gemm"));
        } else if (!strcmp(op, "BatchNormalization")) {
            st = visit_bn(c, n, in);
        } else if (is_unary_passthrough(op)) {
            bool ok = in != NULL && n->n_outputs >= 1;
            for (size_t k = 1; ok && k < n->n_inputs; k++) {
                edgec_weight w;
                ok = !*n->inputs[k] ||
                     (edgec__find_const(c->m, g, n->inputs[k], false, &w) && w.numel == 1);
            }
            for (size_t k = 1; ok && k < n->n_outputs; k++)
                ok = !*n->outputs[k];
            if (ok)
                st = set_layout(c, n->outputs[0], in->segs, in->n_segs, in->neg_axis, 1);
            else
                lock_inputs(c, n);
        } else if (is_binary_elementwise(op)) {
            st = visit_elementwise(c, n);
        } else if (!strcmp(op, "Concat")) {
            st = visit_concat(c, n);
        } else if (!strcmp(op, "Flatten") || !strcmp(op, "Reshape")) {
            st = visit_flatten(c, n, in);
        } else {
            lock_inputs(c, n);
        }
    }
    /* Graph outputs keep their shapes; values subgraphs capture are not followed. */
    for (size_t i = 0; i < g->n_outputs; i++)
        lock(c, get_layout(c, g->outputs[i].name));
    for (size_t i = 0; i < c->n_lay; i++) {
        size_t cnt;
        edgec_node *const *cons = edgec__index_consumers(ix, c->lay[i]->name, &cnt);
        for (size_t k = 0; k < cnt; k++)
            for (size_t a = 0; a < cons[k]->n_attrs; a++)
                if (cons[k]->attrs[a].g || cons[k]->attrs[a].type == EDGEC_ATTR_GRAPHS)
                    lock(c, c->lay[i]);
    }
    return st;
}

/* ---- choosing channels ---- */

typedef struct scored {
    double score;
    int64_t index;
} scored;

static int cmp_scored(const void *a, const void *b)
{
    const scored *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1; /* best first */
    return x->index < y->index ? -1 : x->index > y->index;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* L2 norm of each output channel of a producer's weight, scaled to mean 1 so that layers
 * of different scales count alike in a merged group. */
static void channel_norms(sp_ctx *c, const producer *p, double *acc, int64_t C)
{
    edgec_weight w;
    if (!weight(c, p->node, 1, &w))
        return;
    const float *d = w.tensor->data;
    double *nrm = calloc((size_t)C, sizeof *nrm), mean = 0;
    if (!nrm)
        return;
    int64_t inner = 1, outer = 1;
    for (int32_t i = p->out_axis + 1; i < w.rank; i++)
        inner *= w.dims[i];
    for (int32_t i = 0; i < p->out_axis; i++)
        outer *= w.dims[i];
    for (int64_t o = 0; o < outer; o++)
        for (int64_t ch = 0; ch < C; ch++)
            for (int64_t k = 0; k < inner; k++) {
                double v = d[(o * C + ch) * inner + k];
                nrm[ch] += v * v;
            }
    /* The bias belongs to the channel: after BatchNormalization folding a channel with
     * small weights may still carry a large constant. */
    edgec_weight b;
    if (p->node->n_inputs > 2 && weight(c, p->node, 2, &b) && b.numel == C)
        for (int64_t ch = 0; ch < C; ch++)
            nrm[ch] += (double)((const float *)b.tensor->data)[ch] *
                       (double)((const float *)b.tensor->data)[ch];
    for (int64_t ch = 0; ch < C; ch++)
        mean += (nrm[ch] = sqrt(nrm[ch]));
    mean /= (double)C;
    for (int64_t ch = 0; ch < C; ch++)
        acc[ch] += mean > 0 ? nrm[ch] / mean : 0;
    free(nrm);
}

/* Data-aware scores: the root-mean-square activation of each channel of the producers'
 * outputs on the calibration data, scaled to mean 1 per producer. */
typedef struct act_ctx {
    double *sum; /* [n_names][C] */
    const int64_t *C;
    size_t n;
} act_ctx;

static edgec_status on_acts(int64_t sample, const edgec_array *const *v, void *vctx)
{
    act_ctx *a = vctx;
    size_t off = 0;
    for (size_t i = 0; i < a->n; off += (size_t)a->C[i], i++) {
        const edgec_array *x = v[i];
        int64_t C = a->C[i];
        int64_t inner = x->rank >= 2 ? x->numel / (x->dims[0] * C) : 0;
        if (x->rank < 2 || x->dims[1] != C || inner < 1)
            continue;
        const float *d = x->data;
        for (int64_t b = 0; b < x->dims[0]; b++)
            for (int64_t ch = 0; ch < C; ch++)
                for (int64_t k = 0; k < inner; k++) {
                    double t = d[(b * C + ch) * inner + k];
                    a->sum[off + (size_t)ch] += t * t;
                }
    }
    (void)sample;
    return EDGEC_STATUS_OK;
}

static edgec_status activation_scores(sp_ctx *c, double **scores)
{
    size_t np = c->n_prod, off = 0;
    const char **names = calloc(np + 1, sizeof *names);
    int64_t *C = calloc(np + 1, sizeof *C);
    act_ctx a = {NULL, C, 0};
    edgec_status st = EDGEC_STATUS_OK;
    size_t total_c = 0;
    for (size_t i = 0; names && C && i < np; i++)
        total_c += (size_t)c->grp[c->prod[i].gid].count;
    if (!names || !C || !(a.sum = calloc(total_c + 1, sizeof *a.sum))) {
        st = NOMEM;
        goto cleanup;
    }
    for (size_t i = 0; i < np; i++) {
        names[i] = c->prod[i].node->outputs[0];
        C[i] = c->grp[c->prod[i].gid].count;
    }
    a.n = np;
    if ((st = edgec__collect(c->m, c->pc->calib, names, np, 256, on_acts, &a)))
        goto cleanup;
    for (size_t i = 0; i < np; off += (size_t)C[i], i++) {
        double mean = 0;
        for (int64_t ch = 0; ch < C[i]; ch++)
            mean += (a.sum[off + (size_t)ch] = sqrt(a.sum[off + (size_t)ch]));
        mean /= (double)C[i];
        double *sc = scores[find(c, c->prod[i].gid)];
        for (int64_t ch = 0; sc && ch < C[i]; ch++)
            sc[ch] += mean > 0 ? a.sum[off + (size_t)ch] / mean : 0;
    }
cleanup:
    free(names);
    free(C);
    free(a.sum);
    return st;
}

static edgec_status choose(sp_ctx *c, double r, size_t *n_pruned_groups)
{
    edgec_status st = EDGEC_STATUS_OK;
    double **scores = calloc(c->n_grp + 1, sizeof *scores);
    c->keep = calloc(c->n_grp + 1, sizeof *c->keep);
    c->n_keep = calloc(c->n_grp + 1, sizeof *c->n_keep);
    *n_pruned_groups = 0;
    if (!scores || !c->keep || !c->n_keep) {
        st = NOMEM;
        goto cleanup;
    }
    for (size_t g = 0; g < c->n_grp; g++)
        c->grp[find(c, g)].locked |= c->grp[g].locked;
    for (size_t i = 0; i < c->n_prod && !st; i++) {
        size_t g = find(c, c->prod[i].gid);
        if (c->grp[g].locked)
            continue;
        if (!scores[g] && !(scores[g] = calloc((size_t)c->grp[g].count, sizeof **scores)))
            st = NOMEM;
        else if (!c->pc->calib)
            channel_norms(c, &c->prod[i], scores[g], c->grp[g].count);
    }
    if (!st && c->pc->calib)
        st = activation_scores(c, scores);
    for (size_t g = 0; g < c->n_grp && !st; g++) {
        if (!scores[g])
            continue;
        int64_t C = c->grp[g].count, drop = (int64_t)floor(r * (double)C);
        if (drop >= C)
            drop = C - 1;
        if (drop <= 0)
            continue;
        scored *s = malloc((size_t)C * sizeof *s);
        int64_t *k = edgec__arena_calloc(c->m->arena, (size_t)(C - drop), sizeof *k);
        if (!s || !k) {
            free(s);
            st = NOMEM;
            break;
        }
        for (int64_t i = 0; i < C; i++)
            s[i] = (scored){scores[g][i], i};
        qsort(s, (size_t)C, sizeof *s, cmp_scored);
        for (int64_t i = 0; i < C - drop; i++)
            k[i] = s[i].index;
        qsort(k, (size_t)(C - drop), sizeof *k, cmp_i64);
        c->keep[g] = k;
        c->n_keep[g] = C - drop;
        (*n_pruned_groups)++;
        free(s);
    }
cleanup:
    for (size_t g = 0; scores && g < c->n_grp; g++)
        free(scores[g]);
    free(scores);
    return st;
}

/* ---- rewriting ---- */

/* The features of a layout that survive, ascending; `*changed` says whether any went. */
static int64_t *kept_features(sp_ctx *c, const layout *l, int64_t *n, bool *changed)
{
    int64_t cnt = 0, off = 0;
    for (size_t i = 0; i < l->n_segs; i++) {
        size_t g = find(c, l->segs[i].gid);
        cnt += (c->keep[g] ? c->n_keep[g] : l->segs[i].count) * l->segs[i].inner;
    }
    int64_t *v = malloc((size_t)(cnt ? cnt : 1) * sizeof *v), k = 0;
    if (!v)
        return NULL;
    *changed = false;
    for (size_t i = 0; i < l->n_segs; i++) {
        const seg *s = &l->segs[i];
        size_t g = find(c, s->gid);
        int64_t nk = c->keep[g] ? c->n_keep[g] : s->count;
        *changed |= nk != s->count;
        for (int64_t j = 0; j < nk; j++) {
            int64_t ch = c->keep[g] ? c->keep[g][j] : j;
            for (int64_t q = 0; q < s->inner; q++)
                v[k++] = off + ch * s->inner + q;
        }
        off += s->count * s->inner;
    }
    *n = cnt;
    return v;
}

/* Replaces input `i` of `n` by its constant with `axis` reduced to `keep`, as a new
 * initializer (the old constant may be shared; unused ones are dropped at the end). */
static edgec_status slice_input(sp_ctx *c, edgec_node *n, size_t i, int32_t axis,
                                const int64_t *keep, int64_t n_keep)
{
    edgec_weight w;
    if (i >= n->n_inputs || !*n->inputs[i] ||
        !edgec__find_const(c->m, n->graph, n->inputs[i], false, &w) || !w.tensor)
        return edgec__fail(EDGEC_STATUS_INTERNAL, "node '%s' (%s): input %zu is not a constant",
                           n->name, n->op_type, i);
    if (axis < 0 || axis >= w.rank || edgec__dtype(w.dtype)->bits < 8 ||
        edgec__dtype(w.dtype)->bits % 8)
        return edgec__fail(EDGEC_STATUS_INTERNAL, "node '%s' (%s): cannot slice input '%s'",
                           n->name, n->op_type, w.name);
    edgec_tensor *t = edgec__tensor_select(c->m, w.tensor, axis, keep, n_keep);
    const char *name = t ? edgec__unique_name(c->m, w.name[0] ? w.name : "pruned") : NULL;
    if (!name)
        return NOMEM;
    t->name = name;
    edgec_status st = edgec__graph_add_init(c->m, c->m->graph, t);
    return st ? st : edgec__node_set_input(c->m, n, i, name);
}

/* ---- compensating for the removed channels ----
 *
 * A removed channel often carries a large constant (a folded BatchNormalization shift
 * through a ReLU) that the next layer relies on. Each consumer that loses input channels
 * gets their expected contribution added to its bias. With --calib the consumer's kept
 * weights and bias are re-solved instead, by least squares on the calibration
 * activations (edgec__prune_apply), which also absorbs the mean; without data the mean
 * comes from the BatchNormalization statistics (Nagel et al. 2019: a BN output is about
 * N(beta, gamma^2)), carried through ReLU, residual Add and pooling. */

/* Estimates deeper than this many producers are given up (residual chains are linear). */
#define ESTIMATE_MAX_DEPTH 64

typedef struct chstat {
    double *mean, *var;
    int64_t n;
} chstat;

static void chstat_free(chstat *s)
{
    free(s->mean);
    free(s->var);
    *s = (chstat){0};
}

static bool chstat_alloc(chstat *s, int64_t n)
{
    s->n = n;
    s->mean = calloc((size_t)n, sizeof *s->mean);
    s->var = calloc((size_t)n, sizeof *s->var);
    if (s->mean && s->var)
        return true;
    chstat_free(s);
    return false;
}

static bool is_mean_passthrough(const char *op)
{
    static const char *const ops[] = {"MaxPool", "AveragePool", "GlobalAveragePool",
                                      "GlobalMaxPool", "Identity", "Dropout", "Flatten",
                                      "Reshape", NULL};
    for (const char *const *o = ops; *o; o++)
        if (!strcmp(op, *o))
            return true;
    return false;
}

/* The per-channel mean and variance of value `name`, without data; false (and `*out`
 * empty) when unknown. */
static bool estimate(sp_ctx *c, const char *name, int depth, chstat *out)
{
    *out = (chstat){0};
    edgec_node *p = depth < ESTIMATE_MAX_DEPTH ? edgec__index_producer(c->ix, name) : NULL;
    if (!p || *p->domain || !p->n_inputs)
        return false;
    const char *op = p->op_type;
    edgec_weight g, b;
    if (!strcmp(op, "BatchNormalization")) {
        if (!weight(c, p, 1, &g) || !weight(c, p, 2, &b) || g.numel != b.numel ||
            !chstat_alloc(out, g.numel))
            return false;
        for (int64_t i = 0; i < g.numel; i++) {
            double gv = ((const float *)g.tensor->data)[i];
            out->mean[i] = ((const float *)b.tensor->data)[i];
            out->var[i] = gv * gv;
        }
        return true;
    }
    if (!strcmp(op, "Relu")) {
        if (!estimate(c, p->inputs[0], depth + 1, out))
            return false;
        for (int64_t i = 0; i < out->n; i++)
            edgec__relu_normal_moments(out->mean[i], sqrt(out->var[i]), &out->mean[i],
                                       &out->var[i]);
        return true;
    }
    if (!strcmp(op, "Add") || !strcmp(op, "Sum")) {
        /* Branches taken as independent: means and variances add. */
        for (size_t k = 0; k < p->n_inputs; k++) {
            chstat t;
            if (!*p->inputs[k] || !estimate(c, p->inputs[k], depth + 1, &t) ||
                (k && t.n != out->n)) {
                chstat_free(&t);
                chstat_free(out);
                return false;
            }
            if (!k) {
                *out = t;
                continue;
            }
            for (int64_t i = 0; i < t.n; i++) {
                out->mean[i] += t.mean[i];
                out->var[i] += t.var[i];
            }
            chstat_free(&t);
        }
        return true;
    }
    if (is_mean_passthrough(op))
        return estimate(c, p->inputs[0], depth + 1, out);
    /* A Conv/Gemm bias alone is no estimate: with BatchNormalization folded in beforehand,
     * relu(bias) made the digits CNN worse (14.4% top-1) than no compensation (22.2%). */
    return false;
}

/* The fraction of a Conv's output positions at which kernel tap (a, b) reads inside the
 * input rather than zero padding, for each tap; 1 where the geometry is unknown. */
static void tap_coverage(sp_ctx *c, const edgec_node *n, const edgec_weight *w, double *frac)
{
    int64_t taps = w->numel / (w->dims[0] * w->dims[1]);
    for (int64_t t = 0; t < taps; t++)
        frac[t] = 1.0;
    const edgec_value_shape *x = edgec__shapes_find(&c->shapes, n->inputs[0]);
    const edgec_value_shape *y = edgec__shapes_find(&c->shapes, n->outputs[0]);
    int64_t pads[4] = {0}, strides[2] = {1, 1}, dil[2] = {1, 1};
    if (w->rank != 4 || !x || !y || x->rank != 4 || y->rank != 4 ||
        (edgec__node_attr(n, "pads") && edgec__attr_ints(n, "pads", pads, 4) != 4))
        return;
    char buf[32];
    if (strcmp(edgec__attr_string(n, "auto_pad", buf, sizeof buf, "NOTSET"), "NOTSET"))
        return;
    edgec__attr_ints(n, "strides", strides, 2);
    edgec__attr_ints(n, "dilations", dil, 2);
    double f[2][64];
    for (int d = 0; d < 2; d++) {
        int64_t k = w->dims[2 + d], in = x->dims[2 + d], out = y->dims[2 + d];
        if (k > 64 || out < 1)
            return;
        for (int64_t a = 0; a < k; a++) {
            int64_t inside = 0;
            for (int64_t o = 0; o < out; o++) {
                int64_t i = o * strides[d] - pads[d] + a * dil[d];
                inside += i >= 0 && i < in;
            }
            f[d][a] = (double)inside / (double)out;
        }
    }
    for (int64_t a = 0; a < w->dims[2]; a++)
        for (int64_t b = 0; b < w->dims[3]; b++)
            frac[a * w->dims[3] + b] = f[0][a] * f[1][b];
}

/* The expected contribution of the removed input features of absorbing consumer `r` to
 * each of its outputs: sum over removed f of W[o, f] * E[x_f] (over the kernel's taps for
 * a Conv). `*delta` (malloc'd, one per output) is NULL when the means are unknown. */
static edgec_status removed_contribution(sp_ctx *c, const rewrite *r, const int64_t *kept,
                                         int64_t n_kept, double **delta, int64_t *n_out)
{
    *delta = NULL;
    edgec_node *n = r->node;
    bool conv = !strcmp(n->op_type, "Conv");
    edgec_weight w;
    chstat s;
    int64_t T = total(r->in);
    if (!weight(c, n, 1, &w) || !estimate(c, n->inputs[0], 0, &s))
        return EDGEC_STATUS_OK;
    edgec_status st = EDGEC_STATUS_OK;
    int64_t O = w.dims[conv ? 0 : 1 - r->axis], taps = conv ? w.numel / (w.dims[0] * T) : 1;
    uint8_t *gone = NULL;
    double *frac = NULL;
    if (T % s.n || (conv && w.dims[1] != T))
        goto cleanup;
    gone = malloc((size_t)T);
    frac = malloc((size_t)taps * sizeof *frac);
    *delta = calloc((size_t)O, sizeof **delta);
    if (!gone || !frac || !*delta) {
        st = NOMEM;
        goto cleanup;
    }
    memset(gone, 1, (size_t)T);
    for (int64_t i = 0; i < n_kept; i++)
        gone[kept[i]] = 0;
    if (conv)
        tap_coverage(c, n, &w, frac);
    else
        frac[0] = 1.0;
    const float *d = w.tensor->data;
    int64_t per = T / s.n;
    for (int64_t f = 0; f < T; f++) {
        double mu = s.mean[f / per];
        if (!gone[f] || mu == 0.0)
            continue;
        for (int64_t o = 0; o < O; o++) {
            double acc = 0;
            for (int64_t t = 0; t < taps; t++) {
                int64_t idx = conv ? (o * T + f) * taps + t : r->axis == 1 ? o * T + f : f * O + o;
                acc += d[idx] * frac[t];
            }
            (*delta)[o] += acc * mu;
        }
    }
    *n_out = O;
cleanup:
    if (st) {
        free(*delta);
        *delta = NULL;
    }
    free(gone);
    free(frac);
    chstat_free(&s);
    return st;
}

/* Gives Conv / Gemm `n` a private float bias of `O` entries (zeros when it had none, a
 * scalar Gemm C broadcast), so that it can absorb a shift; false when it cannot (MatMul,
 * Gemm with beta = 0 or a C of another shape). `*scale` is what a shift of the output must
 * be multiplied by to go into the bias (1 / beta). */
static edgec_status private_bias(sp_ctx *c, edgec_node *n, int64_t O, float **out, double *scale)
{
    bool gemm = !strcmp(n->op_type, "Gemm");
    *out = NULL;
    *scale = 1.0;
    if (strcmp(n->op_type, "Conv") && !gemm)
        return EDGEC_STATUS_OK;
    float beta = gemm ? edgec__attr_float(n, "beta", 1.0f) : 1.0f;
    edgec_weight b;
    bool has = n->n_inputs > 2 && *n->inputs[2];
    if (has && (!weight(c, n, 2, &b) || !(b.numel == 1 || b.numel == O) ||
                (b.numel == O && b.rank != 1 && !(b.rank == 2 && b.dims[0] == 1)) || beta == 0.0f))
        return EDGEC_STATUS_OK;
    edgec_tensor *t = edgec__tensor_new(c->m, "", EDGEC_DTYPE_FLOAT, 1, &O);
    const char *name = t ? edgec__unique_name(c->m, has && *b.name ? b.name : "bias") : NULL;
    if (!name)
        return NOMEM;
    t->name = name;
    float *v = t->data;
    for (int64_t o = 0; has && o < O; o++)
        v[o] = ((const float *)b.tensor->data)[b.numel == 1 ? 0 : o];
    edgec_status st = edgec__graph_add_init(c->m, c->m->graph, t);
    if (!st)
        st = edgec__node_set_input(c->m, n, 2, name);
    if (!st && gemm && !has && (st = edgec__attr_set_float(c->m, n, "beta", 1.0f)))
        return st;
    *out = v;
    *scale = has ? 1.0 / (double)beta : 1.0;
    if (gemm)
        *scale *= (double)edgec__attr_float(n, "alpha", 1.0f);
    return st;
}

/* Whether rewrite `r` drops input features of an absorbing consumer; `*kept` (malloc'd)
 * lists the survivors. */
static edgec_status absorb_kept(sp_ctx *c, const rewrite *r, int64_t **kept, int64_t *n_kept,
                                bool *changed)
{
    *changed = false;
    *kept = NULL;
    if (r->kind != RW_ABSORB)
        return EDGEC_STATUS_OK;
    if (!(*kept = kept_features(c, r->in, n_kept, changed)))
        return NOMEM;
    return EDGEC_STATUS_OK;
}

static edgec_status compensate(sp_ctx *c, size_t *n_mean, size_t *n_solved, size_t *n_none)
{
    edgec_status st = EDGEC_STATUS_OK;
    edgec_prune_layer *all = NULL, *sel = NULL;
    size_t n_all = 0, n_sel = 0;
    uint8_t **keep = NULL;
    double **delta = calloc(c->n_rw + 1, sizeof *delta);
    double *scale = calloc(c->n_rw + 1, sizeof *scale);
    float **bias = calloc(c->n_rw + 1, sizeof *bias);
    size_t *which = calloc(c->n_rw + 1, sizeof *which);
    bool *redone = calloc(c->n_rw + 1, sizeof *redone);
    *n_mean = *n_solved = *n_none = 0;
    if (!delta || !scale || !bias || !which || !redone ||
        (c->pc->calib && !(keep = calloc(c->n_rw + 1, sizeof *keep)))) {
        st = NOMEM;
        goto cleanup;
    }
    if (c->pc->calib && (st = edgec__prune_layers(c->pc, &all, &n_all)))
        goto cleanup;
    if (n_all && !(sel = calloc(n_all, sizeof *sel))) {
        st = NOMEM;
        goto cleanup;
    }
    /* Expected contributions first, from the weights as they are; then private biases. */
    for (size_t i = 0; i < c->n_rw && !st; i++) {
        int64_t *kept, nk, O = 0;
        bool changed;
        if ((st = absorb_kept(c, &c->rw[i], &kept, &nk, &changed)) || !changed) {
            free(kept);
            continue;
        }
        st = removed_contribution(c, &c->rw[i], kept, nk, &delta[i], &O);
        edgec_weight w;
        if (!st && weight(c, c->rw[i].node, 1, &w)) {
            if (!O)
                O = w.dims[strcmp(c->rw[i].node->op_type, "Conv") ? 1 - c->rw[i].axis : 0];
            st = private_bias(c, c->rw[i].node, O, &bias[i], &scale[i]);
        }
        /* The layer for reconstruction, masked along the dropped input features. */
        for (size_t k = 0; !st && keep && k < n_all; k++) {
            edgec_prune_layer *L = &all[k];
            if (L->node != c->rw[i].node || L->input != 1 || !bias[i])
                continue;
            uint8_t *mk = malloc((size_t)L->numel);
            if (!mk) {
                st = NOMEM;
                break;
            }
            int64_t outer = 1, len = L->w.dims[c->rw[i].axis], inner = 1;
            for (int32_t a = 0; a < L->w.rank; a++)
                *(a < c->rw[i].axis ? &outer : &inner) *= a == c->rw[i].axis ? 1 : L->w.dims[a];
            memset(mk, 0, (size_t)L->numel);
            for (int64_t o = 0; o < outer; o++)
                for (int64_t j = 0; j < nk; j++)
                    memset(mk + (o * len + kept[j]) * inner, 1, (size_t)inner);
            /* The bias was just replaced: the layer reads the private copy now. */
            keep[n_sel] = mk;
            which[n_sel] = i;
            sel[n_sel++] = *L;
        }
        free(kept);
    }
    if (!st && n_sel)
        st = edgec__prune_apply(c->pc, sel, n_sel, keep, redone);
    bool *solved = calloc(c->n_rw + 1, sizeof *solved);
    if (!solved && !st)
        st = NOMEM;
    for (size_t k = 0; !st && k < n_sel; k++)
        solved[which[k]] = redone[k];
    for (size_t i = 0; !st && i < c->n_rw; i++) {
        if (solved[i]) {
            (*n_solved)++;
            continue;
        }
        if (!bias[i] && !delta[i])
            continue;
        if (!bias[i] || !delta[i]) {
            (*n_none)++;
            continue;
        }
        /* Through the node's current bias input: the private copy made above. */
        edgec_weight b;
        if (weight(c, c->rw[i].node, 2, &b))
            for (int64_t o = 0; o < b.numel; o++)
                ((float *)b.tensor->data)[o] =
                    (float)((double)((float *)b.tensor->data)[o] + scale[i] * delta[i][o]);
        (*n_mean)++;
    }
    free(solved);
cleanup:
    for (size_t i = 0; delta && i < c->n_rw; i++)
        free(delta[i]);
    edgec__prune_masks_free(keep, n_sel);
    free(delta);
    free(scale);
    free(bias);
    free(which);
    free(redone);
    free(all);
    free(sel);
    return st;
}

static edgec_status rewrite_producers(sp_ctx *c)
{
    edgec_status st = EDGEC_STATUS_OK;
    for (size_t i = 0; i < c->n_prod && !st; i++) {
        producer *p = &c->prod[i];
        size_t g = find(c, p->gid);
        if (!c->keep[g])
            continue;
        edgec_node *n = p->node;
        if ((st = slice_input(c, n, 1, p->out_axis, c->keep[g], c->n_keep[g])))
            break;
        edgec_weight b;
        if (n->n_inputs > 2 && weight(c, n, 2, &b) && b.numel == c->grp[g].count)
            st = slice_input(c, n, 2, b.rank - 1, c->keep[g], c->n_keep[g]);
    }
    return st;
}

static edgec_status apply_rewrite(sp_ctx *c, const rewrite *r)
{
    int64_t nk;
    bool changed;
    int64_t *k = kept_features(c, r->in, &nk, &changed);
    edgec_status st = EDGEC_STATUS_OK;
    if (!k)
        return NOMEM;
    if (!changed)
        goto cleanup;
    switch (r->kind) {
    case RW_ABSORB:
        st = slice_input(c, r->node, 1, r->axis, k, nk);
        break;
    case RW_DEPTHWISE: {
        edgec_weight b;
        st = slice_input(c, r->node, 1, 0, k, nk);
        if (!st && r->node->n_inputs > 2 && weight(c, r->node, 2, &b))
            st = slice_input(c, r->node, 2, 0, k, nk);
        if (!st)
            st = edgec__attr_set_int(c->m, r->node, "group", nk);
        break;
    }
    case RW_BN:
        for (size_t i = 1; i < 5 && !st; i++)
            st = slice_input(c, r->node, i, 0, k, nk);
        break;
    case RW_CONST:
        st = slice_input(c, r->node, r->input, r->axis, k, nk);
        break;
    }
cleanup:
    free(k);
    return st;
}

/* Value infos of rewritten values get their new channel count. */
static edgec_status update_value_infos(sp_ctx *c)
{
    edgec_graph *g = c->m->graph;
    for (size_t i = 0; i < c->n_lay; i++) {
        const layout *l = c->lay[i];
        edgec_value_info *v = edgec__graph_value_info(g, l->name);
        if (!v || v->rank < l->neg_axis)
            continue;
        int64_t n;
        bool changed;
        int64_t *k = kept_features(c, l, &n, &changed);
        if (!k)
            return NOMEM;
        free(k);
        if (!changed)
            continue;
        int64_t *d = edgec__arena_calloc(c->m->arena, (size_t)v->rank, sizeof *d);
        if (!d)
            return NOMEM;
        memcpy(d, v->dims, (size_t)v->rank * sizeof *d);
        d[v->rank - l->neg_axis] = n;
        v->dims = d;
        v->dirty = true;
    }
    return EDGEC_STATUS_OK;
}

static bool unused_init(const edgec_tensor *t, void *ctx)
{
    edgec_graph_index *ix = ctx;
    size_t cnt;
    edgec__index_consumers(ix, t->name, &cnt);
    return cnt == 0;
}

static bool unused_constant(const edgec_node *n, void *ctx)
{
    edgec_graph_index *ix = ctx;
    size_t cnt;
    if (strcmp(n->op_type, "Constant") || *n->domain || n->n_outputs != 1)
        return false;
    edgec__index_consumers(ix, n->outputs[0], &cnt);
    return cnt == 0;
}

/* Drops the constants the slicing replaced (never graph inputs or outputs). */
static edgec_status drop_replaced(sp_ctx *c)
{
    edgec_graph *g = c->m->graph;
    edgec_graph_index *ix;
    edgec_status st = edgec__graph_index(c->m->arena, g, &ix);
    if (st)
        return st;
    size_t k = 0;
    for (size_t i = 0; i < g->n_inits; i++)
        if (edgec__graph_is_input(g, g->inits[i]->name) ||
            edgec__graph_is_output(g, g->inits[i]->name) || !unused_init(g->inits[i], ix))
            g->inits[k++] = g->inits[i];
    g->n_inits = k;
    edgec__graph_remove_nodes(g, unused_constant, ix);
    return EDGEC_STATUS_OK;
}

static edgec_status check(const char *arg)
{
    double r;
    return edgec__parse_double(arg, "--prune-structured", 0.0, 1.0, false, true, &r);
}

static edgec_status run(edgec_pass_ctx *ctx)
{
    double r;
    edgec_status st = edgec__parse_double(ctx->arg, "--prune-structured", 0.0, 1.0, false, true, &r);
    if (st)
        return st;
    sp_ctx c = {.pc = ctx, .m = ctx->model};
    edgec_graph_index *ix;
    edgec_prune_macs macs = {0};
    size_t n_groups = 0;
    uint64_t params_before = 0, params_after = 0;
    if ((st = edgec__shapes_run(c.m, &c.shapes))) {
        edgec__fail_prefix("structured pruning needs the shapes of the model's values: ");
        return st;
    }
    edgec__prune_log_macs(ctx, &macs, false);
    for (size_t i = 0; i < c.m->graph->n_inits; i++)
        params_before += (uint64_t)c.m->graph->inits[i]->numel;
    size_t n_mean = 0, n_solved = 0, n_none = 0, n_bn = 0;
    if ((st = edgec__graph_index(c.m->arena, c.m->graph, &ix)))
        goto cleanup;
    c.ix = ix;
    if ((st = analyse(&c, ix)) || (st = choose(&c, r, &n_groups)) ||
        (st = compensate(&c, &n_mean, &n_solved, &n_none)) || (st = rewrite_producers(&c)))
        goto cleanup;
    for (size_t i = 0; i < c.n_rw && !st; i++)
        st = apply_rewrite(&c, &c.rw[i]);
    if (st || (st = update_value_infos(&c)))
        goto cleanup;
    /* Cleanup left the main graph's BatchNormalization to this pass (see cleanup.c). */
    if ((edgec__pass_enabled(ctx, "cleanup") || !edgec__pass_option(ctx, "no-cleanup")) &&
        (st = edgec__fold_batchnorms(ctx, c.m->graph, &n_bn)))
        goto cleanup;
    if ((st = drop_replaced(&c)))
        goto cleanup;
    size_t locked = 0;
    int64_t ch_before = 0, ch_after = 0;
    for (size_t g = 0; g < c.n_grp; g++) {
        if (find(&c, g) != g)
            continue;
        locked += c.grp[g].locked;
        ch_before += c.grp[g].count;
        ch_after += c.keep[g] ? c.n_keep[g] : c.grp[g].count;
    }
    for (size_t i = 0; i < c.m->graph->n_inits; i++)
        params_after += (uint64_t)c.m->graph->inits[i]->numel;
    edgec__pass_log(ctx, "%zu channel groups pruned (%s), %zu kept whole (graph outputs or "
                    "consumers that cannot follow); channels %lld -> %lld",
                    n_groups, ctx->calib ? "by calibration activations" : "by weight L2 norm",
                    locked, (long long)ch_before, (long long)ch_after);
    edgec__pass_log(ctx, "consumers of removed channels: %zu re-solved on calibration data, "
                    "%zu given the removed channels' expected contribution in their bias, %zu "
                    "not compensated (mean unknown or no bias to absorb it); %zu "
                    "BatchNormalization folded afterwards",
                    n_solved, n_mean, n_none, n_bn);
    edgec__pass_log(ctx, "main-graph initializer parameters %llu -> %llu (%.3fx)",
                    (unsigned long long)params_before, (unsigned long long)params_after,
                    params_before ? (double)params_after / (double)params_before : 1.0);
    edgec__prune_log_macs(ctx, &macs, true);
cleanup:
    edgec__shapes_free(&c.shapes);
    free(c.lay);
    free(c.grp);
    free(c.prod);
    free(c.rw);
    free(c.keep);
    free(c.n_keep);
    return st;
}

const edgec_pass edgec__pass_prune_structured = {
    "prune-structured",
    "R",
    true,
    "remove the fraction R of output channels of Conv and neurons of Gemm/MatMul (L2 norm, or "
    "calibration activations with --calib), rewriting every consumer; the file shrinks",
    EDGEC_ORDER_PRUNE,
    NULL,
    check,
    run,
    false, /* no layer settings */
};
