#include <stdio.h>
#include <string.h>

#include "ir/edit.h"

edgec_tensor *edgec__tensor_new(edgec_model *m, const char *name, int32_t dtype, int32_t rank,
                                const int64_t *dims)
{
    int64_t numel = 1;
    for (int32_t i = 0; i < rank; i++)
        if (dims[i] < 0 || !edgec__mul_i64(numel, dims[i], &numel))
            return NULL;
    size_t nbytes;
    if (!edgec__dtype_nbytes(dtype, numel, &nbytes))
        return NULL;
    edgec_tensor *t = edgec__arena_calloc(m->arena, 1, sizeof *t);
    int64_t *d = edgec__arena_calloc(m->arena, rank ? (size_t)rank : 1, sizeof *d);
    void *data = edgec__arena_calloc(m->arena, 1, nbytes ? nbytes : 1);
    const char *nm = edgec__arena_strdup(m->arena, name);
    if (!t || !d || !data || !nm)
        return NULL;
    if (rank)
        memcpy(d, dims, (size_t)rank * sizeof *d);
    *t = (edgec_tensor){.name = nm, .dtype = dtype, .rank = rank, .dims = d, .numel = numel,
                        .data = data, .nbytes = nbytes, .dirty = true};
    return t;
}

void edgec__tensor_replace(edgec_tensor *t, int32_t dtype, int32_t rank, const int64_t *dims,
                           void *data, size_t nbytes)
{
    int64_t numel = 1;
    for (int32_t i = 0; i < rank; i++)
        numel *= dims[i];
    t->dtype = dtype;
    t->rank = rank;
    t->dims = (int64_t *)dims;
    t->numel = numel;
    t->data = data;
    t->nbytes = nbytes;
    t->dirty = true;
    t->external = false;
}

/* Every name the model uses, so that new names never collide. Built on first use and
 * kept up to date by edgec__unique_name. */
typedef struct name_table {
    const char **slots;
    size_t cap, n;
} name_table;

static uint64_t hash_name(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static bool table_has(const name_table *t, const char *s)
{
    for (size_t i = (size_t)hash_name(s) & (t->cap - 1); t->slots[i]; i = (i + 1) & (t->cap - 1))
        if (!strcmp(t->slots[i], s))
            return true;
    return false;
}

static bool table_add(edgec_arena *a, name_table *t, const char *s)
{
    if (!*s || (t->cap && table_has(t, s)))
        return true;
    if ((t->n + 1) * 2 > t->cap) {
        name_table g = {NULL, t->cap ? t->cap * 2 : 1024, 0};
        if (!(g.slots = edgec__arena_calloc(a, g.cap, sizeof *g.slots)))
            return false;
        for (size_t i = 0; i < t->cap; i++)
            if (t->slots[i])
                table_add(a, &g, t->slots[i]);
        *t = g;
    }
    size_t i = (size_t)hash_name(s) & (t->cap - 1);
    while (t->slots[i])
        i = (i + 1) & (t->cap - 1);
    t->slots[i] = s;
    t->n++;
    return true;
}

static edgec_status add_graph_names(edgec_graph *g, void *vctx)
{
    void **c = vctx;
    edgec_arena *a = c[0];
    name_table *t = c[1];
    bool ok = true;
    for (size_t i = 0; ok && i < g->n_inputs; i++)
        ok = table_add(a, t, g->inputs[i].name);
    for (size_t i = 0; ok && i < g->n_outputs; i++)
        ok = table_add(a, t, g->outputs[i].name);
    for (size_t i = 0; ok && i < g->n_value_info; i++)
        ok = table_add(a, t, g->value_info[i].name);
    for (size_t i = 0; ok && i < g->n_inits; i++)
        ok = table_add(a, t, g->inits[i]->name);
    for (size_t i = 0; ok && i < g->n_sparse_inits; i++)
        ok = table_add(a, t, g->sparse_inits[i]->values->name);
    for (size_t i = 0; ok && i < g->n_nodes; i++) {
        const edgec_node *n = g->nodes[i];
        ok = table_add(a, t, n->name);
        for (size_t k = 0; ok && k < n->n_outputs; k++)
            ok = table_add(a, t, n->outputs[k]);
        for (size_t k = 0; ok && k < n->n_inputs; k++)
            ok = table_add(a, t, n->inputs[k]);
    }
    return ok ? EDGEC_STATUS_OK : EDGEC_STATUS_NO_MEMORY;
}

const char *edgec__unique_name(edgec_model *m, const char *base)
{
    name_table *t = m->names;
    if (!t) {
        if (!(t = edgec__arena_calloc(m->arena, 1, sizeof *t)))
            return NULL;
        void *c[2] = {m->arena, t};
        if (edgec__model_graphs(m, add_graph_names, c))
            return NULL;
        m->names = t;
    }
    size_t len = strlen(base) + 24;
    char *s = edgec__arena_alloc(m->arena, len);
    if (!s)
        return NULL;
    snprintf(s, len, "%s", base);
    for (unsigned long k = 1; t->cap && table_has(t, s); k++)
        snprintf(s, len, "%s_%lu", base, k);
    return table_add(m->arena, t, s) ? s : NULL;
}

edgec_node *edgec__node_new(edgec_model *m, const char *op_type, const char *name, size_t n_inputs,
                            size_t n_outputs)
{
    edgec_node *n = edgec__arena_calloc(m->arena, 1, sizeof *n);
    char **in = edgec__arena_calloc(m->arena, n_inputs ? n_inputs : 1, sizeof *in);
    char **out = edgec__arena_calloc(m->arena, n_outputs ? n_outputs : 1, sizeof *out);
    const char *nm = name ? edgec__unique_name(m, name) : "";
    if (!n || !in || !out || !nm)
        return NULL;
    for (size_t i = 0; i < n_inputs; i++)
        in[i] = "";
    for (size_t i = 0; i < n_outputs; i++)
        out[i] = "";
    *n = (edgec_node){.name = nm, .op_type = op_type, .domain = "", .n_inputs = n_inputs,
                      .n_outputs = n_outputs, .inputs = in, .outputs = out};
    return n;
}

/* Grows a pointer array to hold at least `need` entries. */
static bool grow(edgec_arena *a, void ***arr, size_t *cap, size_t n, size_t need)
{
    if (need <= *cap)
        return true;
    size_t c = *cap ? *cap : 8;
    while (c < need)
        c *= 2;
    void **g = edgec__arena_calloc(a, c, sizeof *g);
    if (!g)
        return false;
    if (n)
        memcpy(g, *arr, n * sizeof *g);
    *arr = g;
    *cap = c;
    return true;
}

edgec_status edgec__graph_insert(edgec_model *m, edgec_graph *g, size_t pos, edgec_node *n)
{
    if (!grow(m->arena, (void ***)&g->nodes, &g->cap_nodes, g->n_nodes, g->n_nodes + 1))
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
    if (pos > g->n_nodes)
        pos = g->n_nodes;
    memmove(g->nodes + pos + 1, g->nodes + pos, (g->n_nodes - pos) * sizeof *g->nodes);
    g->nodes[pos] = n;
    g->n_nodes++;
    n->graph = g;
    return EDGEC_STATUS_OK;
}

void edgec__graph_remove_nodes(edgec_graph *g, bool (*drop)(const edgec_node *n, void *ctx),
                               void *ctx)
{
    size_t k = 0;
    for (size_t i = 0; i < g->n_nodes; i++)
        if (!drop(g->nodes[i], ctx))
            g->nodes[k++] = g->nodes[i];
    g->n_nodes = k;
}

edgec_status edgec__graph_add_init(edgec_model *m, edgec_graph *g, edgec_tensor *t)
{
    if (!grow(m->arena, (void ***)&g->inits, &g->cap_inits, g->n_inits, g->n_inits + 1))
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
    g->inits[g->n_inits++] = t;
    return EDGEC_STATUS_OK;
}

void edgec__graph_remove_inits(edgec_graph *g, bool (*drop)(const edgec_tensor *t, void *ctx),
                               void *ctx)
{
    size_t k = 0;
    for (size_t i = 0; i < g->n_inits; i++)
        if (!drop(g->inits[i], ctx))
            g->inits[k++] = g->inits[i];
    g->n_inits = k;
}

/* The attribute slot for `name`, appended when missing and reset to a clean state. */
static edgec_attr *attr_slot(edgec_model *m, edgec_node *n, const char *name, int32_t type)
{
    for (size_t i = 0; i < n->n_attrs; i++) {
        if (!strcmp(n->attrs[i].name, name)) {
            edgec_attr *a = &n->attrs[i];
            const void *origin = a->origin;
            *a = (edgec_attr){.name = a->name, .type = type};
            /* The origin only matters for fields edgec does not model (doc_string). */
            a->origin = origin;
            return a;
        }
    }
    edgec_attr *arr = edgec__arena_calloc(m->arena, n->n_attrs + 1, sizeof *arr);
    const char *nm = edgec__arena_strdup(m->arena, name);
    if (!arr || !nm)
        return NULL;
    if (n->n_attrs)
        memcpy(arr, n->attrs, n->n_attrs * sizeof *arr);
    arr[n->n_attrs] = (edgec_attr){.name = nm, .type = type};
    n->attrs = arr;
    return &n->attrs[n->n_attrs++];
}

#define NOMEM edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory")

edgec_status edgec__attr_set_int(edgec_model *m, edgec_node *n, const char *name, int64_t v)
{
    edgec_attr *a = attr_slot(m, n, name, EDGEC_ATTR_INT);
    if (!a)
        return NOMEM;
    a->i = v;
    return EDGEC_STATUS_OK;
}

edgec_status edgec__attr_set_float(edgec_model *m, edgec_node *n, const char *name, float v)
{
    edgec_attr *a = attr_slot(m, n, name, EDGEC_ATTR_FLOAT);
    if (!a)
        return NOMEM;
    a->f = v;
    return EDGEC_STATUS_OK;
}

edgec_status edgec__attr_set_ints(edgec_model *m, edgec_node *n, const char *name,
                                  const int64_t *v, size_t count)
{
    int64_t *copy = edgec__arena_calloc(m->arena, count ? count : 1, sizeof *copy);
    edgec_attr *a = copy ? attr_slot(m, n, name, EDGEC_ATTR_INTS) : NULL;
    if (!a)
        return NOMEM;
    if (count)
        memcpy(copy, v, count * sizeof *copy);
    a->ints = copy;
    a->n = count;
    return EDGEC_STATUS_OK;
}

edgec_status edgec__attr_set_string(edgec_model *m, edgec_node *n, const char *name,
                                    const char *v)
{
    char *copy = edgec__arena_strdup(m->arena, v);
    edgec_attr *a = copy ? attr_slot(m, n, name, EDGEC_ATTR_STRING) : NULL;
    if (!a)
        return NOMEM;
    a->s = (edgec_bytes){strlen(copy), (uint8_t *)copy};
    return EDGEC_STATUS_OK;
}

edgec_status edgec__attr_set_tensor(edgec_model *m, edgec_node *n, const char *name,
                                    edgec_tensor *t)
{
    edgec_attr *a = attr_slot(m, n, name, EDGEC_ATTR_TENSOR);
    if (!a)
        return NOMEM;
    a->t = t;
    return EDGEC_STATUS_OK;
}

void edgec__attr_remove(edgec_node *n, const char *name)
{
    size_t k = 0;
    for (size_t i = 0; i < n->n_attrs; i++)
        if (strcmp(n->attrs[i].name, name))
            n->attrs[k++] = n->attrs[i];
    n->n_attrs = k;
}

edgec_status edgec__node_set_input(edgec_model *m, edgec_node *n, size_t i, const char *name)
{
    if (i >= n->n_inputs) {
        char **in = edgec__arena_calloc(m->arena, i + 1, sizeof *in);
        if (!in)
            return NOMEM;
        for (size_t k = 0; k <= i; k++)
            in[k] = k < n->n_inputs ? n->inputs[k] : "";
        n->inputs = in;
        n->n_inputs = i + 1;
    }
    n->inputs[i] = (char *)name;
    return EDGEC_STATUS_OK;
}

size_t edgec__value_uses(const edgec_graph *g, const char *name)
{
    size_t n = edgec__graph_is_output(g, name);
    for (size_t i = 0; i < g->n_nodes; i++) {
        const edgec_node *nd = g->nodes[i];
        for (size_t k = 0; k < nd->n_inputs; k++)
            n += !strcmp(nd->inputs[k], name);
        for (size_t k = 0; k < nd->n_attrs; k++) {
            const edgec_attr *a = &nd->attrs[k];
            if (a->g)
                n += edgec__value_uses(a->g, name);
            for (size_t j = 0; a->type == EDGEC_ATTR_GRAPHS && j < a->n; j++)
                n += edgec__value_uses(a->graphs[j], name);
        }
    }
    return n;
}

edgec_value_info *edgec__graph_value_info(edgec_graph *g, const char *name)
{
    for (size_t i = 0; i < g->n_inputs; i++)
        if (!strcmp(g->inputs[i].name, name))
            return &g->inputs[i];
    for (size_t i = 0; i < g->n_outputs; i++)
        if (!strcmp(g->outputs[i].name, name))
            return &g->outputs[i];
    for (size_t i = 0; i < g->n_value_info; i++)
        if (!strcmp(g->value_info[i].name, name))
            return &g->value_info[i];
    return NULL;
}

bool edgec__graph_is_input(const edgec_graph *g, const char *name)
{
    for (size_t i = 0; i < g->n_inputs; i++)
        if (!strcmp(g->inputs[i].name, name))
            return true;
    return false;
}

bool edgec__graph_is_output(const edgec_graph *g, const char *name)
{
    for (size_t i = 0; i < g->n_outputs; i++)
        if (!strcmp(g->outputs[i].name, name))
            return true;
    return false;
}

bool edgec__find_const(edgec_model *m, edgec_graph *g, const char *name, bool allow_overridable,
                       edgec_weight *out)
{
    (void)m;
    if (!*name)
        return false;
    for (edgec_graph *s = g; s; s = s->parent) {
        for (size_t i = 0; i < s->n_inits; i++) {
            edgec_tensor *t = s->inits[i];
            if (strcmp(t->name, name))
                continue;
            if (edgec__graph_is_input(s, name) && !allow_overridable)
                return false;
            *out = (edgec_weight){.kind = EDGEC_WEIGHT_INITIALIZER, .name = t->name, .tensor = t,
                                  .graph = s, .dtype = t->dtype, .rank = t->rank,
                                  .dims = t->dims, .numel = t->numel};
            return true;
        }
        for (size_t i = 0; i < s->n_nodes; i++) {
            edgec_node *n = s->nodes[i];
            bool produces = false;
            for (size_t k = 0; k < n->n_outputs && !produces; k++)
                produces = !strcmp(n->outputs[k], name);
            if (!produces)
                continue;
            if (strcmp(n->op_type, "Constant") || *n->domain || n->n_attrs < 1 || !n->attrs[0].t)
                return false;
            edgec_tensor *t = n->attrs[0].t;
            *out = (edgec_weight){.kind = EDGEC_WEIGHT_CONSTANT, .name = name, .tensor = t,
                                  .attr = &n->attrs[0], .node = n, .graph = s,
                                  .dtype = t->dtype, .rank = t->rank, .dims = t->dims,
                                  .numel = t->numel};
            return true;
        }
        /* A name this graph takes as input shadows the enclosing scopes. */
        if (edgec__graph_is_input(s, name))
            return false;
    }
    return false;
}

edgec_status edgec__model_set_opset(edgec_model *m, int64_t version)
{
    for (size_t i = 0; i < m->n_opsets; i++) {
        const char *d = m->opsets[i].domain;
        if (!*d || !strcmp(d, "ai.onnx")) {
            m->opsets[i].version = version;
            return EDGEC_STATUS_OK;
        }
    }
    edgec_opset *o = edgec__arena_calloc(m->arena, m->n_opsets + 1, sizeof *o);
    if (!o)
        return NOMEM;
    if (m->n_opsets)
        memcpy(o, m->opsets, m->n_opsets * sizeof *o);
    o[m->n_opsets] = (edgec_opset){.domain = "", .version = version};
    m->opsets = o;
    m->n_opsets++;
    return EDGEC_STATUS_OK;
}

edgec_status edgec__model_set_meta(edgec_model *m, const char *key, const char *value)
{
    const char *v = edgec__arena_strdup(m->arena, value);
    if (!v)
        return NOMEM;
    for (size_t i = 0; i < m->n_meta; i++) {
        if (!strcmp(m->meta[i].key, key)) {
            m->meta[i].value = v;
            return EDGEC_STATUS_OK;
        }
    }
    edgec_meta *e = edgec__arena_calloc(m->arena, m->n_meta + 1, sizeof *e);
    const char *k = edgec__arena_strdup(m->arena, key);
    if (!e || !k)
        return NOMEM;
    if (m->n_meta)
        memcpy(e, m->meta, m->n_meta * sizeof *e);
    e[m->n_meta] = (edgec_meta){.key = k, .value = v};
    m->meta = e;
    m->n_meta++;
    return EDGEC_STATUS_OK;
}
