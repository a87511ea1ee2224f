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

edgec_status edgec__graph_index(edgec_arena *a, edgec_graph *g, edgec_graph_index **out)
{
    edgec_graph_index *ix = edgec__arena_calloc(a, 1, sizeof *ix);
    if (!ix)
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
    size_t names = g->n_inits + g->n_inputs + 1;
    for (size_t i = 0; i < g->n_nodes; i++)
        names += g->nodes[i]->n_inputs + g->nodes[i]->n_outputs;
    ix->cap = 16;
    while (ix->cap < names * 2)
        ix->cap *= 2;
    ix->slots = edgec__arena_calloc(a, ix->cap, sizeof *ix->slots);
    ix->topo = edgec__arena_calloc(a, g->n_nodes + 1, sizeof *ix->topo);
    size_t *pending = calloc(g->n_nodes + 1, sizeof *pending);
    size_t *queue = calloc(g->n_nodes + 1, sizeof *queue);
    edgec_status st = EDGEC_STATUS_OK;
    if (!ix->slots || !ix->topo || !pending || !queue) {
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
    /* Consumers, and for each node how many of its inputs wait on a producer here. */
    for (size_t i = 0; i < g->n_nodes; i++) {
        edgec_node *n = g->nodes[i];
        for (size_t k = 0; k < n->n_inputs; k++) {
            if (!*n->inputs[k])
                continue;
            ix_entry *e = ix_insert(ix, n->inputs[k]);
            if (e->n_consumers == e->cap_consumers) {
                size_t cap = e->cap_consumers ? e->cap_consumers * 2 : 2;
                edgec_node **c = edgec__arena_calloc(a, cap, sizeof *c);
                size_t *pos = edgec__arena_calloc(a, cap, sizeof *pos);
                if (!c || !pos) {
                    st = edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
                    goto cleanup;
                }
                if (e->n_consumers) {
                    memcpy(c, e->consumers, e->n_consumers * sizeof *c);
                    memcpy(pos, e->consumer_pos, e->n_consumers * sizeof *pos);
                }
                e->consumers = c;
                e->consumer_pos = pos;
                e->cap_consumers = cap;
            }
            e->consumer_pos[e->n_consumers] = i;
            e->consumers[e->n_consumers++] = n;
            if (e->producer)
                pending[i]++;
        }
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
