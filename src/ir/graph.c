/* Walking the graph: every subgraph, every weight wherever it lives, and an index of
 * producers, consumers and a topological order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/ir.h"

int64_t edgec__model_opset(const edgec_model *m, const char *domain)
{
    bool want_default = !*domain || !strcmp(domain, "ai.onnx");
    for (size_t i = 0; i < m->n_opsets; i++) {
        const char *d = m->opsets[i].domain;
        bool is_default = !*d || !strcmp(d, "ai.onnx");
        if (want_default ? is_default : !strcmp(d, domain))
            return m->opsets[i].version;
    }
    return 0;
}

const edgec_attr *edgec__node_attr(const edgec_node *node, const char *name)
{
    for (size_t i = 0; i < node->n_attrs; i++)
        if (!strcmp(node->attrs[i].name, name))
            return &node->attrs[i];
    return NULL;
}

static edgec_status walk_graphs(edgec_graph *g, edgec_graph_fn fn, void *ctx)
{
    edgec_status st = fn(g, ctx);
    for (size_t i = 0; !st && i < g->n_nodes; i++) {
        edgec_node *n = g->nodes[i];
        for (size_t k = 0; !st && k < n->n_attrs; k++) {
            edgec_attr *a = &n->attrs[k];
            if (a->g)
                st = walk_graphs(a->g, fn, ctx);
            for (size_t j = 0; !st && a->type == EDGEC_ATTR_GRAPHS && j < a->n; j++)
                st = walk_graphs(a->graphs[j], fn, ctx);
        }
    }
    return st;
}

edgec_status edgec__model_graphs(edgec_model *m, edgec_graph_fn fn, void *ctx)
{
    return walk_graphs(m->graph, fn, ctx);
}

static void set_dense(edgec_weight *w, edgec_tensor *t)
{
    w->tensor = t;
    w->dtype = t->dtype;
    w->rank = t->rank;
    w->dims = t->dims;
    w->numel = t->numel;
}

static void set_sparse(edgec_weight *w, edgec_sparse *s)
{
    int64_t n = 1;
    for (int32_t i = 0; i < s->rank; i++)
        n *= s->dims[i]; /* checked when read */
    w->sparse = s;
    w->dtype = s->values->dtype;
    w->rank = s->rank;
    w->dims = s->dims;
    w->numel = n;
}

typedef struct weights_ctx {
    edgec_weight_fn fn;
    void *ctx;
} weights_ctx;

static edgec_status graph_weights(edgec_graph *g, void *vctx)
{
    weights_ctx *c = vctx;
    edgec_status st = EDGEC_STATUS_OK;
    for (size_t i = 0; !st && i < g->n_inits; i++) {
        edgec_weight w = {.kind = EDGEC_WEIGHT_INITIALIZER, .name = g->inits[i]->name, .graph = g};
        set_dense(&w, g->inits[i]);
        st = c->fn(&w, c->ctx);
    }
    for (size_t i = 0; !st && i < g->n_sparse_inits; i++) {
        edgec_weight w = {.kind = EDGEC_WEIGHT_SPARSE_INITIALIZER,
                          .name = g->sparse_inits[i]->values->name,
                          .graph = g};
        set_sparse(&w, g->sparse_inits[i]);
        st = c->fn(&w, c->ctx);
    }
    for (size_t i = 0; !st && i < g->n_nodes; i++) {
        edgec_node *n = g->nodes[i];
        if (strcmp(n->op_type, "Constant") || *n->domain || n->n_outputs < 1 || n->n_attrs < 1)
            continue;
        edgec_attr *a = &n->attrs[0];
        edgec_weight w = {.name = n->outputs[0], .attr = a, .node = n, .graph = g};
        if (a->t) {
            w.kind = EDGEC_WEIGHT_CONSTANT;
            set_dense(&w, a->t);
        } else if (a->sparse) {
            w.kind = EDGEC_WEIGHT_CONSTANT_SPARSE;
            set_sparse(&w, a->sparse);
        } else if (a->type == EDGEC_ATTR_FLOATS || a->type == EDGEC_ATTR_INTS) {
            w.kind = EDGEC_WEIGHT_CONSTANT_LIST;
            w.dtype = a->type == EDGEC_ATTR_FLOATS ? EDGEC_DTYPE_FLOAT : EDGEC_DTYPE_INT64;
            w.rank = 1;
            w.dims = NULL;
            w.numel = (int64_t)a->n;
        } else {
            continue; /* scalar value_float / value_int / strings: not weights */
        }
        st = c->fn(&w, c->ctx);
    }
    return st;
}

edgec_status edgec__model_weights(edgec_model *m, edgec_weight_fn fn, void *ctx)
{
    weights_ctx c = {fn, ctx};
    return walk_graphs(m->graph, graph_weights, &c);
}

void edgec__graph_path(const edgec_graph *g, char *buf, size_t size)
{
    if (!size)
        return;
    if (!g->parent) {
        snprintf(buf, size, "main graph");
        return;
    }
    edgec__graph_path(g->parent, buf, size);
    size_t used = strlen(buf);
    const edgec_node *o = g->owner;
    if (used + 1 < size)
        snprintf(buf + used, size - used, " > %s '%s'.%s", o ? o->op_type : "?",
                 o && *o->name ? o->name : (o && o->n_outputs ? o->outputs[0] : ""),
                 g->owner_attr ? g->owner_attr : "?");
}

/* Open-addressing hash map from value names to a small record. */
typedef struct ix_entry {
    const char *name;
    edgec_node *producer;
    edgec_tensor *init;
    edgec_node **consumers;
    size_t *consumer_pos; /* each consumer's position in the graph's node list */
    size_t n_consumers, cap_consumers;
} ix_entry;

struct edgec_graph_index {
    ix_entry *slots;
    size_t cap;
    edgec_node **topo;
    size_t n_topo;
};

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static ix_entry *ix_lookup(const edgec_graph_index *ix, const char *name)
{
    size_t i = (size_t)hash_str(name) & (ix->cap - 1);
    for (;;) {
        ix_entry *e = &ix->slots[i];
        if (!e->name || !strcmp(e->name, name))
            return e;
        i = (i + 1) & (ix->cap - 1);
    }
}

static ix_entry *ix_insert(edgec_graph_index *ix, const char *name)
{
    ix_entry *e = ix_lookup(ix, name);
    if (!e->name)
        e->name = name;
    return e;
}

/* A set of names, open addressing; used to find the values a subgraph captures. */
typedef struct name_set {
    const char **slots;
    size_t cap, n;
} name_set;

static bool set_has(const name_set *s, const char *name)
{
    if (!s->cap)
        return false;
    for (size_t i = (size_t)hash_str(name) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
        if (!s->slots[i])
            return false;
        if (!strcmp(s->slots[i], name))
            return true;
    }
}

static bool set_add(edgec_arena *a, name_set *s, const char *name)
{
    if (!*name || set_has(s, name))
        return true;
    if ((s->n + 1) * 2 > s->cap) {
        name_set g = {NULL, s->cap ? s->cap * 2 : 16, 0};
        if (!(g.slots = edgec__arena_calloc(a, g.cap, sizeof *g.slots)))
            return false;
        for (size_t i = 0; i < s->cap; i++)
            if (s->slots[i])
                set_add(a, &g, s->slots[i]);
        *s = g;
    }
    size_t i = (size_t)hash_str(name) & (s->cap - 1);
    while (s->slots[i])
        i = (i + 1) & (s->cap - 1);
    s->slots[i] = name;
    s->n++;
    return true;
}

/* Adds to `out` the names that `g` (and the subgraphs inside it) read but do not
 * define: the values it captures from enclosing scopes. */
static bool captured_names(edgec_arena *a, const edgec_graph *g, name_set *out)
{
    name_set defined = {0}, used = {0};
    bool ok = true;
    for (size_t i = 0; ok && i < g->n_inputs; i++)
        ok = set_add(a, &defined, g->inputs[i].name);
    for (size_t i = 0; ok && i < g->n_inits; i++)
        ok = set_add(a, &defined, g->inits[i]->name);
    for (size_t i = 0; ok && i < g->n_sparse_inits; i++)
        ok = set_add(a, &defined, g->sparse_inits[i]->values->name);
    for (size_t i = 0; ok && i < g->n_nodes; i++) {
        const edgec_node *n = g->nodes[i];
        for (size_t k = 0; ok && k < n->n_outputs; k++)
            ok = set_add(a, &defined, n->outputs[k]);
        for (size_t k = 0; ok && k < n->n_inputs; k++)
            ok = set_add(a, &used, n->inputs[k]);
        for (size_t k = 0; ok && k < n->n_attrs; k++) {
            const edgec_attr *at = &n->attrs[k];
            if (at->g)
                ok = captured_names(a, at->g, &used);
            for (size_t j = 0; ok && at->type == EDGEC_ATTR_GRAPHS && j < at->n; j++)
                ok = captured_names(a, at->graphs[j], &used);
        }
    }
    for (size_t i = 0; ok && i < g->n_outputs; i++)
        ok = set_add(a, &used, g->outputs[i].name);
    for (size_t i = 0; ok && i < used.cap; i++)
        if (used.slots[i] && !set_has(&defined, used.slots[i]))
            ok = set_add(a, out, used.slots[i]);
    return ok;
}

/* Records that node `n` (position `pos`) reads `name`. */
static edgec_status add_use(edgec_arena *a, edgec_graph_index *ix, const char *name, edgec_node *n,
                            size_t pos, size_t *pending)
{
    if (!*name)
        return EDGEC_STATUS_OK;
    /* A node reading a value twice is listed twice; the topological sort counts both. */
    ix_entry *e = ix_insert(ix, name);
    if (e->n_consumers == e->cap_consumers) {
        size_t cap = e->cap_consumers ? e->cap_consumers * 2 : 2;
        edgec_node **c = edgec__arena_calloc(a, cap, sizeof *c);
        size_t *p = edgec__arena_calloc(a, cap, sizeof *p);
        if (!c || !p)
            return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
        if (e->n_consumers) {
            memcpy(c, e->consumers, e->n_consumers * sizeof *c);
            memcpy(p, e->consumer_pos, e->n_consumers * sizeof *p);
        }
        e->consumers = c;
        e->consumer_pos = p;
        e->cap_consumers = cap;
    }
    e->consumer_pos[e->n_consumers] = pos;
    e->consumers[e->n_consumers++] = n;
    if (e->producer)
        pending[pos]++;
    return EDGEC_STATUS_OK;
}

edgec_status edgec__graph_index(edgec_arena *a, edgec_graph *g, edgec_graph_index **out)
{
    edgec_graph_index *ix = edgec__arena_calloc(a, 1, sizeof *ix);
    if (!ix)
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
    size_t *pending = calloc(g->n_nodes + 1, sizeof *pending);
    size_t *queue = calloc(g->n_nodes + 1, sizeof *queue);
    edgec_arena *scratch = edgec__arena_new();
    name_set *captured = scratch ? edgec__arena_calloc(scratch, g->n_nodes + 1, sizeof *captured)
                                 : NULL;
    edgec_status st = EDGEC_STATUS_OK;
    if (!pending || !queue || !captured) {
        st = edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
        goto cleanup;
    }
    /* The values each node's subgraphs capture, known first so the table can hold them. */
    size_t names = g->n_inits + g->n_inputs + 1;
    for (size_t i = 0; i < g->n_nodes; i++) {
        const edgec_node *n = g->nodes[i];
        bool ok = true;
        for (size_t k = 0; ok && k < n->n_attrs; k++) {
            const edgec_attr *at = &n->attrs[k];
            if (at->g)
                ok = captured_names(scratch, at->g, &captured[i]);
            for (size_t j = 0; ok && at->type == EDGEC_ATTR_GRAPHS && j < at->n; j++)
                ok = captured_names(scratch, at->graphs[j], &captured[i]);
        }
        if (!ok) {
            st = edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
            goto cleanup;
        }
        names += n->n_inputs + n->n_outputs + captured[i].n;
    }
    ix->cap = 16;
    while (ix->cap < names * 2)
        ix->cap *= 2;
    ix->slots = edgec__arena_calloc(a, ix->cap, sizeof *ix->slots);
    ix->topo = edgec__arena_calloc(a, g->n_nodes + 1, sizeof *ix->topo);
    if (!ix->slots || !ix->topo) {
        st = edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i < g->n_inits; i++)
        ix_insert(ix, g->inits[i]->name)->init = g->inits[i];
    for (size_t i = 0; i < g->n_nodes; i++) {
        edgec_node *n = g->nodes[i];
        for (size_t k = 0; k < n->n_outputs; k++) {
            if (!*n->outputs[k])
                continue;
            ix_entry *e = ix_insert(ix, n->outputs[k]);
            if (e->producer) {
                st = edgec__fail(EDGEC_STATUS_INVALID_MODEL,
                                 "value '%s' is produced twice, by node '%s' (%s) and node '%s' "
                                 "(%s)",
                                 n->outputs[k], e->producer->name, e->producer->op_type, n->name,
                                 n->op_type);
                goto cleanup;
            }
            e->producer = n;
        }
    }
    /* Consumers, and for each node how many of its inputs wait on a producer here. A
     * node owning subgraphs also consumes every value they capture from this scope. */
    for (size_t i = 0; i < g->n_nodes; i++) {
        edgec_node *n = g->nodes[i];
        for (size_t k = 0; k < n->n_inputs; k++)
            if ((st = add_use(a, ix, n->inputs[k], n, i, pending)))
                goto cleanup;
        /* Slots are visited in hash order, which depends only on the names. */
        for (size_t k = 0; k < captured[i].cap; k++)
            if (captured[i].slots[k] &&
                (st = add_use(a, ix, captured[i].slots[k], n, i, pending)))
                goto cleanup;
    }
    /* Kahn's algorithm, seeded in file order so the result is stable. */
    size_t head = 0, tail = 0;
    for (size_t i = 0; i < g->n_nodes; i++)
        if (!pending[i])
            queue[tail++] = i;
    while (head < tail) {
        edgec_node *n = g->nodes[queue[head++]];
        ix->topo[ix->n_topo++] = n;
        for (size_t k = 0; k < n->n_outputs; k++) {
            if (!*n->outputs[k])
                continue;
            ix_entry *e = ix_lookup(ix, n->outputs[k]);
            for (size_t c = 0; c < e->n_consumers; c++) {
                size_t j = e->consumer_pos[c];
                if (--pending[j] == 0)
                    queue[tail++] = j;
            }
        }
    }
    if (ix->n_topo != g->n_nodes) {
        for (size_t i = 0; i < g->n_nodes; i++) {
            if (pending[i]) {
                st = edgec__fail(EDGEC_STATUS_INVALID_MODEL,
                                 "node '%s' (%s) is part of a cycle: the graph cannot be ordered",
                                 g->nodes[i]->name, g->nodes[i]->op_type);
                break;
            }
        }
        goto cleanup;
    }
    *out = ix;
cleanup:
    free(pending);
    free(queue);
    edgec__arena_free(scratch);
    return st;
}

edgec_node *edgec__index_producer(const edgec_graph_index *ix, const char *name)
{
    return ix_lookup(ix, name)->producer;
}

edgec_node *const *edgec__index_consumers(const edgec_graph_index *ix, const char *name,
                                          size_t *count)
{
    ix_entry *e = ix_lookup(ix, name);
    *count = e->name ? e->n_consumers : 0;
    return e->consumers;
}

edgec_node *const *edgec__index_topo(const edgec_graph_index *ix, size_t *count)
{
    *count = ix->n_topo;
    return ix->topo;
}

edgec_tensor *edgec__index_init(const edgec_graph_index *ix, const char *name)
{
    return ix_lookup(ix, name)->init;
}
