/* Model snapshots for the report: every weight with its size and non-zero count, and the
 * layers that use them.
 *
 * A value is "constant" when it is a weight or when a node computes it from constants
 * only (DequantizeLinear of an int8 weight, a Transpose of a weight, a Gather from a
 * codebook). A layer is a node that combines at least one non-constant input with
 * constants; it owns the weights behind its constant inputs. This finds the weights of a
 * layer whatever a pass did to store them, without the passes telling the report. */
#include <stdlib.h>
#include <string.h>

#include "ir/edit.h"
#include "report/macs.h"
#include "report/report.h"

/* A weight set is bounded so that pathological graphs (long chains of constant nodes)
 * stay linear; a layer rarely has more than a handful of weights. */
#define MAX_SET 1024
/* Weights must have at least this many elements to make their consumer a layer: a
 * scalar in `x * 0.5` is not a layer's parameter. */
#define MIN_LAYER_PARAMS 2

typedef struct wset {
    size_t *v; /* sorted weight indices */
    size_t n;
} wset;

typedef struct name_ref {
    const char *name;
    size_t weight;
} name_ref;

typedef struct node_ref {
    const edgec_node *node;
    wset set;        /* for constant nodes: the weights behind the outputs */
    ptrdiff_t layer; /* for layers: the layer index; else -1 */
} node_ref;

typedef struct scope {
    const edgec_graph *g;
    edgec_graph_index *ix; /* NULL when the graph could not be indexed */
    name_ref *names;       /* this graph's weights, sorted by name */
    size_t n_names;
    node_ref *nodes; /* constant nodes and layers, sorted by node address */
    size_t n_nodes;
} scope;

typedef struct scan {
    edgec_model *m;
    edgec_snapshot *s;
    edgec_weight *src; /* [s->n_weights] where each weight lives in the model */
    size_t cap_weights, cap_layers;
    ptrdiff_t *owner; /* [n_weights] owning layer, -1 for none */
    scope *scopes;
    size_t n_scopes, cap_scopes;
    size_t one[1]; /* the set of a single weight, as lookups return it */
} scan;

static int cmp_name_ref(const void *a, const void *b)
{
    const name_ref *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->weight > y->weight) - (x->weight < y->weight);
}

static int cmp_name_only(const void *a, const void *b)
{
    return strcmp(((const name_ref *)a)->name, ((const name_ref *)b)->name);
}

static int cmp_node_ref(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)((const node_ref *)a)->node, y = (uintptr_t)((const node_ref *)b)->node;
    return (x > y) - (x < y);
}

static node_ref *find_node(const scope *sc, const edgec_node *n)
{
    node_ref key = {.node = n};
    return sc->n_nodes ? bsearch(&key, sc->nodes, sc->n_nodes, sizeof key, cmp_node_ref) : NULL;
}

/* The union of `a` and `b`, bounded by MAX_SET. */
static edgec_status set_union(const wset *a, const wset *b, wset *out)
{
    size_t n = a->n + b->n;
    if (n > MAX_SET)
        n = MAX_SET;
    size_t *v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
    size_t i = 0, k = 0, o = 0;
    while (o < n && (i < a->n || k < b->n)) {
        size_t x;
        if (k >= b->n || (i < a->n && a->v[i] < b->v[k]))
            x = a->v[i++];
        else if (i >= a->n || b->v[k] < a->v[i])
            x = b->v[k++];
        else
            x = a->v[i++], k++;
        v[o++] = x;
    }
    free(out->v);
    out->v = v;
    out->n = o;
    return EDGEC_STATUS_OK;
}

static scope *scope_of(scan *c, const edgec_graph *g)
{
    for (size_t i = 0; i < c->n_scopes; i++)
        if (c->scopes[i].g == g)
            return &c->scopes[i];
    return NULL;
}

/* The weights behind value `name` as seen from graph `g`: a weight of `g` or of an
 * enclosing graph, or the output of a constant node. False when `name` is computed from
 * non-constant values or is a graph input. */
static bool lookup_const(scan *c, const edgec_graph *g, const char *name, wset *out)
{
    for (; g; g = g->parent) {
        scope *sc = scope_of(c, g);
        if (!sc)
            return false;
        if (sc->ix) {
            edgec_node *p = edgec__index_producer(sc->ix, name);
            if (p && (strcmp(p->op_type, "Constant") || *p->domain)) {
                node_ref *r = find_node(sc, p);
                if (!r || r->layer >= 0)
                    return false;
                *out = r->set;
                return true;
            }
        }
        name_ref key = {name, 0};
        name_ref *hit = sc->n_names ? bsearch(&key, sc->names, sc->n_names, sizeof key, cmp_name_only)
                                    : NULL;
        /* Names are unique per graph in valid models; take the first of equal names. */
        while (hit && hit > sc->names && !strcmp(hit[-1].name, name))
            hit--;
        if (hit) {
            c->one[0] = hit->weight;
            *out = (wset){c->one, 1};
            return true;
        }
        for (size_t i = 0; i < g->n_inputs; i++)
            if (!strcmp(g->inputs[i].name, name))
                return false;
    }
    return false;
}

static char *xstrdup(const char *s)
{
    return strdup(s ? s : "");
}

static edgec_status on_weight(edgec_weight *w, void *vctx)
{
    scan *c = vctx;
    edgec_snapshot *s = c->s;
    if (s->n_weights == c->cap_weights) {
        size_t cap = c->cap_weights ? c->cap_weights * 2 : 64;
        edgec_rweight *nw = realloc(s->weights, cap * sizeof *nw);
        if (!nw)
            return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
        s->weights = nw;
        edgec_weight *ns = realloc(c->src, cap * sizeof *ns);
        if (!ns)
            return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
        c->src = ns;
        c->cap_weights = cap;
    }
    edgec_rweight *r = &s->weights[s->n_weights];
    memset(r, 0, sizeof *r);
    c->src[s->n_weights] = *w;
    s->n_weights++;
    if (!(r->name = xstrdup(w->name)))
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
    r->dtype = w->dtype;
    r->rank = w->rank;
    r->numel = w->numel;
    r->nonzero = w->numel;
    if (w->rank > 0) {
        if (!(r->dims = malloc((size_t)w->rank * sizeof *r->dims)))
            return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
        for (int32_t i = 0; i < w->rank; i++)
            r->dims[i] = w->dims ? w->dims[i] : w->numel; /* list constants have no dims */
    }
    if (w->tensor) {
        r->bytes = w->tensor->nbytes;
        r->external = w->tensor->external;
    } else if (w->sparse) {
        r->bytes = (uint64_t)w->sparse->values->nbytes + w->sparse->indices->nbytes;
        r->sparse = true;
        r->external = w->sparse->values->external || w->sparse->indices->external;
    } else {
        size_t n = 0;
        edgec__dtype_nbytes(w->dtype, w->numel, &n);
        r->bytes = n;
    }
    return EDGEC_STATUS_OK;
}

static edgec_status add_scope(edgec_graph *g, void *vctx)
{
    scan *c = vctx;
    if (c->n_scopes == c->cap_scopes) {
        size_t cap = c->cap_scopes ? c->cap_scopes * 2 : 8;
        scope *ns = realloc(c->scopes, cap * sizeof *ns);
        if (!ns)
            return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
        c->scopes = ns;
        c->cap_scopes = cap;
    }
    scope *sc = &c->scopes[c->n_scopes++];
    memset(sc, 0, sizeof *sc);
    sc->g = g;
    /* A graph the index refuses (two producers of a value, a cycle) still has weights
     * to count; it just has no layers in the report. */
    if (edgec__graph_index(c->m->arena, g, &sc->ix) != EDGEC_STATUS_OK) {
        sc->ix = NULL;
        edgec__error_clear();
    }
    size_t n = 0;
    for (size_t i = 0; i < c->s->n_weights; i++)
        n += c->src[i].graph == g;
    if (!n)
        return EDGEC_STATUS_OK;
    if (!(sc->names = malloc(n * sizeof *sc->names)))
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
    for (size_t i = 0; i < c->s->n_weights; i++)
        if (c->src[i].graph == g)
            sc->names[sc->n_names++] = (name_ref){c->src[i].name, i};
    qsort(sc->names, sc->n_names, sizeof *sc->names, cmp_name_ref);
    return EDGEC_STATUS_OK;
}

static bool has_subgraph(const edgec_node *n)
{
    for (size_t i = 0; i < n->n_attrs; i++)
        if (n->attrs[i].type == EDGEC_ATTR_GRAPH || n->attrs[i].type == EDGEC_ATTR_GRAPHS)
            return true;
    return false;
}

static bool is_parameter(const edgec_rweight *w)
{
    const edgec_dtype_traits *t = edgec__dtype(w->dtype);
    /* Floats and narrow integers are parameters; INT64 and INT32 tensors are mostly
     * shapes and indices (an INT32 bias still counts, with its layer's other weights). */
    return w->numel >= MIN_LAYER_PARAMS && t->bits && (t->is_float || t->bits <= 16);
}

static edgec_status add_layer(scan *c, const edgec_node *n, const wset *set, ptrdiff_t *out)
{
    edgec_snapshot *s = c->s;
    if (s->n_layers == c->cap_layers) {
        size_t cap = c->cap_layers ? c->cap_layers * 2 : 32;
        edgec_rlayer *nl = realloc(s->layers, cap * sizeof *nl);
        if (!nl)
            return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
        s->layers = nl;
        c->cap_layers = cap;
    }
    edgec_rlayer *l = &s->layers[s->n_layers];
    memset(l, 0, sizeof *l);
    l->next = -1;
    *out = (ptrdiff_t)s->n_layers++;
    char path[1024], op[256];
    edgec__graph_path(n->graph, path, sizeof path);
    if (*n->domain && strcmp(n->domain, "ai.onnx"))
        snprintf(op, sizeof op, "%s::%s", n->domain, n->op_type);
    else
        snprintf(op, sizeof op, "%s", n->op_type);
    const char *first = n->n_outputs ? n->outputs[0] : "";
    l->node = xstrdup(n->name);
    l->name = xstrdup(*n->name ? n->name : first);
    l->graph = xstrdup(path);
    l->op = xstrdup(op);
    l->output = xstrdup(first);
    l->weights = malloc((set->n ? set->n : 1) * sizeof *l->weights);
    if (!l->node || !l->name || !l->graph || !l->op || !l->output || !l->weights)
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
    /* A weight shared by several layers belongs to the first; the others show none of
     * it, so that the per-layer bytes add up to the total. */
    for (size_t i = 0; i < set->n; i++) {
        if (c->owner[set->v[i]] >= 0)
            continue;
        c->owner[set->v[i]] = *out;
        l->weights[l->n_weights++] = set->v[i];
    }
    return EDGEC_STATUS_OK;
}

/* Classifies the nodes of one graph in topological order. */
static edgec_status scan_graph(scan *c, scope *sc)
{
    size_t n_topo = 0;
    edgec_node *const *topo = edgec__index_topo(sc->ix, &n_topo);
    edgec_status st = EDGEC_STATUS_OK;
    wset acc = {0};
    if (!(sc->nodes = calloc(n_topo ? n_topo : 1, sizeof *sc->nodes)))
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
    for (size_t t = 0; t < n_topo; t++) {
        const edgec_node *n = topo[t];
        if (!strcmp(n->op_type, "Constant") && !*n->domain)
            continue; /* its value is a weight already */
        bool all_const = n->n_inputs > 0 && !has_subgraph(n), any_param = false;
        size_t n_const = 0;
        acc.n = 0;
        for (size_t i = 0; i < n->n_inputs && !st; i++) {
            wset in;
            if (!*n->inputs[i])
                continue;
            if (!lookup_const(c, n->graph, n->inputs[i], &in)) {
                all_const = false;
                continue;
            }
            n_const++;
            st = set_union(&acc, &in, &acc);
        }
        if (st)
            break;
        for (size_t i = 0; i < acc.n; i++)
            any_param |= is_parameter(&c->s->weights[acc.v[i]]);
        node_ref *r = &sc->nodes[sc->n_nodes];
        *r = (node_ref){.node = n, .layer = -1};
        if (all_const) {
            r->set = acc; /* the node computes a constant: its outputs carry the set */
            acc = (wset){0};
        } else if (n_const && any_param) {
            if ((st = add_layer(c, n, &acc, &r->layer)))
                break;
        } else {
            continue;
        }
        sc->n_nodes++;
        /* Later lookups search the table; keep it sorted as it grows. */
        for (size_t k = sc->n_nodes - 1; k > 0 && cmp_node_ref(&sc->nodes[k - 1], &sc->nodes[k]) > 0;
             k--) {
            node_ref tmp = sc->nodes[k];
            sc->nodes[k] = sc->nodes[k - 1];
            sc->nodes[k - 1] = tmp;
        }
    }
    free(acc.v);
    if (st)
        return st;
    /* Each layer's successor: the first layer that reads its output directly. */
    for (size_t i = 0; i < sc->n_nodes; i++) {
        const node_ref *r = &sc->nodes[i];
        if (r->layer < 0 || !r->node->n_outputs)
            continue;
        size_t nc = 0;
        edgec_node *const *cons = edgec__index_consumers(sc->ix, r->node->outputs[0], &nc);
        for (size_t k = 0; k < nc; k++) {
            const node_ref *q = find_node(sc, cons[k]);
            if (q && q->layer >= 0) {
                c->s->layers[r->layer].next = q->layer;
                break;
            }
        }
    }
    return EDGEC_STATUS_OK;
}

/* Integer value of element `i` of a dense tensor of an integer dtype. */
static bool elem_int(int32_t dtype, const uint8_t *d, int64_t i, int64_t *v)
{
    switch (dtype) {
    case EDGEC_DTYPE_INT8: *v = (int8_t)d[i]; return true;
    case EDGEC_DTYPE_UINT8: *v = d[i]; return true;
    case EDGEC_DTYPE_INT16: *v = (int16_t)(d[2 * i] | d[2 * i + 1] << 8); return true;
    case EDGEC_DTYPE_UINT16: *v = d[2 * i] | d[2 * i + 1] << 8; return true;
    case EDGEC_DTYPE_INT32: {
        uint32_t u = (uint32_t)d[4 * i] | (uint32_t)d[4 * i + 1] << 8 |
                     (uint32_t)d[4 * i + 2] << 16 | (uint32_t)d[4 * i + 3] << 24;
        *v = (int32_t)u;
        return true;
    }
    case EDGEC_DTYPE_UINT4:
    case EDGEC_DTYPE_INT4: {
        int nib = (d[i / 2] >> (4 * (i & 1))) & 0xf; /* low nibble first */
        *v = dtype == EDGEC_DTYPE_INT4 && nib >= 8 ? nib - 16 : nib;
        return true;
    }
    default: return false;
    }
}

/* Whether element `i` is zero: every bit but the sign for floats, every bit otherwise. */
static bool elem_zero(int32_t dtype, const uint8_t *d, int64_t i)
{
    const edgec_dtype_traits *t = edgec__dtype(dtype);
    if (t->bits == 4) {
        int nib = (d[i / 2] >> (4 * (i & 1))) & 0xf;
        return t->is_float ? !(nib & 7) : !nib;
    }
    size_t w = t->bits / 8;
    const uint8_t *p = d + (size_t)i * w;
    for (size_t k = 0; k < w; k++) {
        uint8_t mask = t->is_float && k == w - 1 ? 0x7f : 0xff; /* little-endian: sign last */
        if (dtype == EDGEC_DTYPE_COMPLEX64 || dtype == EDGEC_DTYPE_COMPLEX128)
            mask = (k + 1) % (w / 2) == 0 ? 0x7f : 0xff;
        if (p[k] & mask)
            return false;
    }
    return true;
}

/* The zero point of a DequantizeLinear that reads weight `w` as its input 0, when there
 * is one: quantized zeros are elements equal to it. */
typedef struct zero_point {
    const edgec_tensor *zp;
    int64_t axis, block;
} zero_point;

static bool find_zero_point(scan *c, const edgec_weight *w, zero_point *out)
{
    scope *sc = scope_of(c, w->graph);
    if (!sc || !sc->ix || !w->tensor)
        return false;
    size_t nc = 0;
    edgec_node *const *cons = edgec__index_consumers(sc->ix, w->name, &nc);
    for (size_t k = 0; k < nc; k++) {
        const edgec_node *n = cons[k];
        edgec_weight zw;
        if (strcmp(n->op_type, "DequantizeLinear") || *n->domain || n->n_inputs < 3 ||
            strcmp(n->inputs[0], w->name) ||
            !edgec__find_const(c->m, n->graph, n->inputs[2], true, &zw) || !zw.tensor ||
            !zw.tensor->data || zw.dtype != w->dtype)
            continue;
        const edgec_attr *ax = edgec__node_attr(n, "axis"), *bs = edgec__node_attr(n, "block_size");
        out->zp = zw.tensor;
        out->axis = ax ? ax->i : 1;
        if (out->axis < 0)
            out->axis += w->rank;
        out->block = bs ? bs->i : 0;
        return true;
    }
    return false;
}

/* The table that weight `w` indexes, when it holds indices: `w` -> [Cast ->] Gather(table,
 * indices), as weight clustering stores a codebook. Its zeros are the indices of zero
 * entries. */
static const edgec_tensor *find_codebook(scan *c, const edgec_weight *w)
{
    scope *sc = scope_of(c, w->graph);
    const char *name = w->name;
    if (!sc || !sc->ix || !w->tensor || edgec__dtype(w->dtype)->is_float)
        return NULL;
    for (int hop = 0; hop < 2 && name; hop++) {
        size_t nc = 0;
        const char *next = NULL;
        edgec_node *const *cons = edgec__index_consumers(sc->ix, name, &nc);
        for (size_t k = 0; k < nc; k++) {
            const edgec_node *n = cons[k];
            edgec_weight tw;
            if (*n->domain)
                continue;
            if (!strcmp(n->op_type, "Cast") && n->n_outputs == 1 && !hop)
                next = n->outputs[0];
            if (!strcmp(n->op_type, "Gather") && n->n_inputs >= 2 && !strcmp(n->inputs[1], name) &&
                edgec__find_const(c->m, n->graph, n->inputs[0], true, &tw) && tw.tensor &&
                tw.tensor->data && edgec__dtype(tw.dtype)->bits)
                return tw.tensor;
        }
        name = next;
    }
    return NULL;
}

/* Index into the zero point for element `i` of `w`, or -1 when the layout is not one
 * DequantizeLinear accepts (the element then counts by the plain zero test). */
static int64_t zp_index(const edgec_weight *w, const zero_point *z, int64_t i)
{
    const edgec_tensor *zp = z->zp;
    if (zp->numel == 1)
        return 0;
    if (z->axis < 0 || z->axis >= w->rank)
        return -1;
    int64_t inner = 1;
    for (int32_t k = w->rank - 1; k > z->axis; k--)
        inner *= w->dims[k];
    int64_t ch = (i / inner) % w->dims[z->axis];
    if (!z->block)
        return zp->rank == 1 && zp->numel == w->dims[z->axis] ? ch : -1;
    if (zp->rank != w->rank)
        return -1;
    /* Blocked: the zero point has the weight's shape with dim `axis` divided into blocks. */
    int64_t idx = 0, rest = i;
    int64_t coord[EDGEC_MAX_RANK];
    for (int32_t k = w->rank - 1; k >= 0; k--) {
        coord[k] = rest % w->dims[k];
        rest /= w->dims[k];
    }
    for (int32_t k = 0; k < w->rank; k++) {
        int64_t ck = k == z->axis ? coord[k] / z->block : coord[k];
        if (ck >= zp->dims[k])
            return -1;
        idx = idx * zp->dims[k] + ck;
    }
    return idx;
}

static void count_nonzero(scan *c, size_t wi)
{
    const edgec_weight *w = &c->src[wi];
    edgec_rweight *r = &c->s->weights[wi];
    int64_t nz = 0;
    if (w->kind == EDGEC_WEIGHT_CONSTANT_LIST) {
        for (size_t i = 0; i < w->attr->n; i++)
            nz += w->attr->type == EDGEC_ATTR_FLOATS ? w->attr->floats[i] != 0.0f
                                                     : w->attr->ints[i] != 0;
        r->nonzero = nz;
        return;
    }
    const edgec_tensor *t = w->tensor ? w->tensor : w->sparse ? w->sparse->values : NULL;
    if (!t || !t->data || !edgec__dtype(t->dtype)->bits)
        return; /* strings and unknown types: counted as all non-zero */
    zero_point z = {0};
    bool has_zp = w->tensor && w->rank <= EDGEC_MAX_RANK && find_zero_point(c, w, &z);
    const edgec_tensor *book = has_zp ? NULL : find_codebook(c, w);
    for (int64_t i = 0; i < t->numel; i++) {
        int64_t v, q, zi;
        if (book && elem_int(t->dtype, t->data, i, &v) && v >= 0 && v < book->numel)
            nz += !elem_zero(book->dtype, book->data, v);
        else if (has_zp && (zi = zp_index(w, &z, i)) >= 0 && elem_int(t->dtype, t->data, i, &v) &&
            elem_int(z.zp->dtype, z.zp->data, zi, &q))
            nz += v != q;
        else
            nz += !elem_zero(t->dtype, t->data, i);
    }
    r->nonzero = nz;
}

edgec_status edgec__snapshot_take(const edgec_model *model, bool count_macs, edgec_snapshot *out)
{
    memset(out, 0, sizeof *out);
    scan c = {.m = (edgec_model *)model, .s = out};
    edgec_status st = edgec__model_weights(c.m, on_weight, &c);
    if (st)
        goto cleanup;
    if (!(c.owner = malloc((out->n_weights ? out->n_weights : 1) * sizeof *c.owner))) {
        st = edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i < out->n_weights; i++)
        c.owner[i] = -1;
    if ((st = edgec__model_graphs(c.m, add_scope, &c)))
        goto cleanup;
    for (size_t i = 0; i < c.n_scopes && !st; i++)
        if (c.scopes[i].ix)
            st = scan_graph(&c, &c.scopes[i]);
    if (st)
        goto cleanup;
    for (size_t i = 0; i < out->n_weights; i++) {
        count_nonzero(&c, i);
        out->params += (uint64_t)out->weights[i].numel;
        out->nonzero += (uint64_t)out->weights[i].nonzero;
        out->bytes += out->weights[i].bytes;
    }
    out->ir_version = model->ir_version;
    out->opset = edgec__model_opset(model, "");
    /* MACs need one run of the interpreter; a model it cannot run has none to report. */
    edgec_macs macs;
    if (count_macs && edgec__model_macs(model, &macs) == EDGEC_STATUS_OK) {
        out->has_macs = true;
        out->macs = macs.total;
        out->macs_nonzero = macs.nonzero;
    } else if (count_macs) {
        edgec__error_clear();
    }
cleanup:
    for (size_t i = 0; i < c.n_scopes; i++) {
        for (size_t k = 0; k < c.scopes[i].n_nodes; k++)
            free(c.scopes[i].nodes[k].set.v);
        free(c.scopes[i].nodes);
        free(c.scopes[i].names);
    }
    free(c.scopes);
    free(c.owner);
    free(c.src);
    if (st)
        edgec__snapshot_free(out);
    return st;
}

void edgec__snapshot_free(edgec_snapshot *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_weights; i++) {
        free(s->weights[i].name);
        free(s->weights[i].dims);
    }
    for (size_t i = 0; i < s->n_layers; i++) {
        edgec_rlayer *l = &s->layers[i];
        free(l->name);
        free(l->node);
        free(l->graph);
        free(l->op);
        free(l->output);
        free(l->weights);
    }
    free(s->weights);
    free(s->layers);
    memset(s, 0, sizeof *s);
}
