/* Structural checks every model must pass before anything runs on it: each value is
 * defined once, every node input and graph output is defined (in its graph or an
 * enclosing one), and the nodes of each graph can be ordered (no cycle). */
#include <stdio.h>
#include <string.h>

#include "ir/ir.h"

typedef struct scope {
    const char **slots;
    size_t cap;
    const struct scope *parent;
} scope;

static uint64_t hash_name(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static bool scope_has_local(const scope *sc, const char *name)
{
    for (size_t i = (size_t)hash_name(name) & (sc->cap - 1); sc->slots[i]; i = (i + 1) & (sc->cap - 1))
        if (!strcmp(sc->slots[i], name))
            return true;
    return false;
}

static bool scope_has(const scope *sc, const char *name)
{
    for (; sc; sc = sc->parent)
        if (scope_has_local(sc, name))
            return true;
    return false;
}

/* Adds `name`; false when it was already defined in this scope. */
static bool scope_define(scope *sc, const char *name)
{
    size_t i = (size_t)hash_name(name) & (sc->cap - 1);
    for (; sc->slots[i]; i = (i + 1) & (sc->cap - 1))
        if (!strcmp(sc->slots[i], name))
            return false;
    sc->slots[i] = name;
    return true;
}

static edgec_status check_graph(edgec_model *m, edgec_graph *g, const scope *parent)
{
    char where[1024];
    edgec__graph_path(g, where, sizeof where);
    size_t names = g->n_inputs + g->n_inits + g->n_sparse_inits + 1;
    for (size_t i = 0; i < g->n_nodes; i++)
        names += g->nodes[i]->n_outputs;
    scope sc = {NULL, 16, parent};
    while (sc.cap < names * 2)
        sc.cap *= 2;
    if (!(sc.slots = edgec__arena_calloc(m->arena, sc.cap, sizeof *sc.slots)))
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "%s: out of memory", m->path);
    /* An initializer may also be listed as a graph input (IR < 4 requires it). */
    for (size_t i = 0; i < g->n_inputs; i++)
        if (*g->inputs[i].name && !scope_define(&sc, g->inputs[i].name))
            return edgec__fail(EDGEC_STATUS_INVALID_MODEL, "%s: graph input '%s' is listed twice (%s)",
                               m->path, g->inputs[i].name, where);
    /* Initializers may repeat a graph input's name but not each other's: with two
     * tensors under one name, which one a node reads would depend on the reader. */
    scope inits = {NULL, 16, NULL};
    while (inits.cap < (g->n_inits + g->n_sparse_inits + 1) * 2)
        inits.cap *= 2;
    if (!(inits.slots = edgec__arena_calloc(m->arena, inits.cap, sizeof *inits.slots)))
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "%s: out of memory", m->path);
    for (size_t i = 0; i < g->n_inits + g->n_sparse_inits; i++) {
        const char *name = i < g->n_inits ? g->inits[i]->name
                                          : g->sparse_inits[i - g->n_inits]->values->name;
        if (!scope_define(&inits, name))
            return edgec__fail(EDGEC_STATUS_INVALID_MODEL,
                               "%s: initializer '%s' is defined twice (%s)", m->path, name, where);
        scope_define(&sc, name);
    }
    for (size_t i = 0; i < g->n_nodes; i++) {
        const edgec_node *n = g->nodes[i];
        for (size_t k = 0; k < n->n_outputs; k++)
            if (*n->outputs[k] && !scope_define(&sc, n->outputs[k]))
                return edgec__fail(EDGEC_STATUS_INVALID_MODEL,
                                   "%s: node '%s' (%s) defines '%s', which is already defined "
                                   "in %s",
                                   m->path, n->name, n->op_type, n->outputs[k], where);
    }
    for (size_t i = 0; i < g->n_nodes; i++) {
        edgec_node *n = g->nodes[i];
        for (size_t k = 0; k < n->n_inputs; k++)
            if (*n->inputs[k] && !scope_has(&sc, n->inputs[k]))
                return edgec__fail(EDGEC_STATUS_INVALID_MODEL,
                                   "%s: node '%s' (%s) reads '%s', which no node, initializer or "
                                   "graph input defines (in %s)",
                                   m->path, n->name, n->op_type, n->inputs[k], where);
        for (size_t k = 0; k < n->n_attrs; k++) {
            const edgec_attr *a = &n->attrs[k];
            edgec_status st = EDGEC_STATUS_OK;
            if (a->g)
                st = check_graph(m, a->g, &sc);
            for (size_t j = 0; !st && a->type == EDGEC_ATTR_GRAPHS && j < a->n; j++)
                st = check_graph(m, a->graphs[j], &sc);
            if (st)
                return st;
        }
    }
    for (size_t i = 0; i < g->n_outputs; i++)
        if (!scope_has(&sc, g->outputs[i].name))
            return edgec__fail(EDGEC_STATUS_INVALID_MODEL,
                               "%s: graph output '%s' is not defined by any node, initializer or "
                               "input (in %s)",
                               m->path, g->outputs[i].name, where);
    edgec_graph_index *ix;
    edgec_status st = edgec__graph_index(m->arena, g, &ix);
    if (st) {
        char pre[1200];
        snprintf(pre, sizeof pre, "%s: %s: ", m->path, where);
        edgec__fail_prefix(pre);
    }
    return st;
}

edgec_status edgec__model_validate(edgec_model *m)
{
    return check_graph(m, m->graph, NULL);
}
