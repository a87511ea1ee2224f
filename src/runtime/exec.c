/* The executor: plans every graph of a model once, then runs plans on runtime tensors.
 *
 * A plan gives each value name of a graph a slot, resolves each node's kernel, orders
 * the nodes and records after which step each intermediate dies. Weights (initializers,
 * Constant nodes) become constant slots that borrow the model's memory; sparse weights
 * are densified once. A subgraph (If branch, Loop or Scan body) reads names of enclosing
 * graphs through "outer" slots that are bound when the subgraph runs; the node that owns
 * the subgraph counts those captured names as implicit inputs, both for ordering and for
 * keeping them alive. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgec/runtime.h"
#include "onnx/tensor_io.h"
#include "runtime/rt.h"

enum slot_kind { SLOT_INPUT, SLOT_CONST, SLOT_NODE, SLOT_OUTER };

#define NEVER_DIES INT32_MAX

typedef struct slot {
    const char *name;
    uint8_t kind;
    edgec_rt_tensor *konst; /* CONST: the weight; INPUT: the initializer default, if any */
    int32_t producer;       /* NODE: index of the producing node in g->nodes */
    int32_t last_use;       /* step after which the value is dead; -1 when unused */
} slot;

struct plan;

typedef struct step {
    const edgec_node *node;
    const edgec_op *op;
    int64_t opset;
    int32_t *in;  /* [node->n_inputs] slot or -1 */
    int32_t *out; /* [node->n_outputs] slot or -1 */
    int32_t *implicit; /* slots captured by the node's subgraphs */
    size_t n_implicit;
    int32_t *release; /* NODE slots whose last use is this step */
    size_t n_release;
    struct plan **subs; /* plans of the node's subgraphs */
    size_t n_subs;
} step;

typedef struct plan {
    const edgec_graph *g;
    struct plan *parent;
    slot *slots;
    size_t n_slots, cap_slots;
    /* Open-addressing map from names to slot indices (+1; 0 is empty). */
    int32_t *map;
    size_t map_cap;
    step *steps;
    size_t n_steps;
    int32_t *in_slots;  /* [g->n_inputs] */
    int32_t *out_slots; /* [g->n_outputs] */
    size_t max_in, max_out;
} plan;

typedef struct frame {
    const plan *p;
    struct frame *parent;
    edgec_rt_tensor **vals;
    uint8_t *mine; /* the frame owns vals[i] and frees it */
    size_t cur_step;
} frame;

typedef struct input_desc {
    const char *name;
    size_t graph_index; /* index in g->inputs */
    edgec_elem_type type;
    int rank;
    int64_t *dims;
    const char **dim_names;
} input_desc;

struct edgec_session {
    const edgec_model *model;
    edgec_arena *arena;
    int threads;
    plan *main;
    frame *cur;
    uint64_t live, peak;
    input_desc *inputs;
    size_t n_inputs;
    edgec_value_desc *outputs;
    int64_t **output_dims;
    size_t n_outputs;
    edgec__rt_observer observe; /* see edgec__session_observe; NULL when none */
    void *observe_ctx;
};

#define NOMEM() edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory while preparing the model")

static const char *node_label(const edgec_node *n)
{
    return *n->name ? n->name : (n->n_outputs && *n->outputs[0] ? n->outputs[0] : "(unnamed)");
}

/* ---- name map ---------------------------------------------------------------------- */

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int32_t map_get(const plan *p, const char *name)
{
    size_t i = (size_t)hash_str(name) & (p->map_cap - 1);
    for (;;) {
        int32_t v = p->map[i];
        if (!v)
            return -1;
        if (!strcmp(p->slots[v - 1].name, name))
            return v - 1;
        i = (i + 1) & (p->map_cap - 1);
    }
}

/* Adds a slot for `name`, growing the slot array and the map as needed. */
static int32_t add_slot(edgec_arena *a, plan *p, const char *name, uint8_t kind)
{
    if (p->n_slots == p->cap_slots) {
        size_t cap = p->cap_slots ? p->cap_slots * 2 : 16;
        slot *ns = edgec__arena_calloc(a, cap, sizeof *ns);
        if (!ns)
            return -1;
        if (p->n_slots)
            memcpy(ns, p->slots, p->n_slots * sizeof *ns);
        p->slots = ns;
        p->cap_slots = cap;
    }
    /* Keep the map at most half full so that probing stays short and always ends. */
    if ((p->n_slots + 1) * 2 > p->map_cap) {
        size_t cap = p->map_cap ? p->map_cap * 2 : 16;
        int32_t *nm = edgec__arena_calloc(a, cap, sizeof *nm);
        if (!nm)
            return -1;
        for (size_t j = 0; j < p->n_slots; j++) {
            size_t i = (size_t)hash_str(p->slots[j].name) & (cap - 1);
            while (nm[i])
                i = (i + 1) & (cap - 1);
            nm[i] = (int32_t)j + 1;
        }
        p->map = nm;
        p->map_cap = cap;
    }
    int32_t idx = (int32_t)p->n_slots++;
    p->slots[idx] = (slot){.name = name, .kind = kind, .producer = -1, .last_use = -1};
    size_t i = (size_t)hash_str(name) & (p->map_cap - 1);
    while (p->map[i])
        i = (i + 1) & (p->map_cap - 1);
    p->map[i] = idx + 1;
    return idx;
}

/* ---- weights ----------------------------------------------------------------------- */

static edgec_rt_tensor *wrap_tensor(edgec_arena *a, const edgec_tensor *t)
{
    edgec_rt_tensor *r = edgec__arena_calloc(a, 1, sizeof *r);
    if (!r)
        return NULL;
    r->dtype = t->dtype;
    r->rank = t->rank;
    if (t->rank)
        memcpy(r->dims, t->dims, (size_t)t->rank * sizeof *t->dims);
    r->numel = t->numel;
    r->data = t->data;
    r->nbytes = t->nbytes;
    r->owned = false;
    return r;
}

/* A tensor whose data lives in the session arena, for weights edgec must build once. */
static edgec_status arena_tensor(edgec_arena *a, int32_t dtype, int32_t rank, const int64_t *dims,
                                 const char *what, edgec_rt_tensor **out)
{
    edgec_rt_tensor *r = edgec__arena_calloc(a, 1, sizeof *r);
    if (!r)
        return NOMEM();
    int64_t numel = 1;
    for (int32_t i = 0; i < rank; i++)
        if (!edgec__mul_i64(numel, dims[i], &numel))
            return edgec__fail(EDGEC_STATUS_LIMIT, "%s: element count overflows", what);
    size_t nbytes;
    if (!edgec__dtype_nbytes(dtype, numel, &nbytes))
        return edgec__fail(EDGEC_STATUS_UNSUPPORTED, "%s: data type %s is not supported", what,
                           edgec__dtype(dtype)->name);
    r->data = edgec__arena_calloc(a, 1, nbytes ? nbytes : 1);
    if (!r->data)
        return NOMEM();
    r->dtype = dtype;
    r->rank = rank;
    if (rank)
        memcpy(r->dims, dims, (size_t)rank * sizeof *dims);
    r->numel = numel;
    r->nbytes = nbytes;
    *out = r;
    return EDGEC_STATUS_OK;
}

/* Densifies a sparse tensor once; indices were range-checked by the reader. */
static edgec_status densify(edgec_arena *a, const edgec_sparse *s, const char *what,
                            edgec_rt_tensor **out)
{
    int32_t dtype = s->values->dtype;
    unsigned bits = edgec__dtype(dtype)->bits;
    if (bits < 8 || bits % 8)
        return edgec__fail(EDGEC_STATUS_UNSUPPORTED,
                           "%s: sparse tensors of type %s are not supported by the interpreter",
                           what, edgec__dtype(dtype)->name);
    edgec_status st = arena_tensor(a, dtype, s->rank, s->dims, what, out);
    if (st)
        return st;
    size_t w = bits / 8;
    const edgec_tensor *ix = s->indices;
    const int64_t *iv = ix->data;
    int64_t nnz = s->values->numel;
    for (int64_t i = 0; i < nnz; i++) {
        int64_t lin = 0;
        if (ix->rank == 1) {
            lin = iv[i];
        } else {
            for (int32_t k = 0; k < s->rank; k++)
                lin = lin * s->dims[k] + iv[i * s->rank + k];
        }
        memcpy((uint8_t *)(*out)->data + (size_t)lin * w, (const uint8_t *)s->values->data + i * w,
               w);
    }
    return EDGEC_STATUS_OK;
}

/* The value of a Constant node, computed once. Returns UNSUPPORTED for strings. */
static edgec_status constant_value(edgec_arena *a, const edgec_node *n, edgec_rt_tensor **out)
{
    char what[320];
    snprintf(what, sizeof what, "node '%s' (Constant)", node_label(n));
    if (n->n_attrs != 1)
        return edgec__fail(EDGEC_STATUS_INVALID_MODEL, "%s: needs exactly one value attribute",
                           what);
    const edgec_attr *at = &n->attrs[0];
    const char *nm = at->name;
    edgec_status st;
    if (!strcmp(nm, "value") && at->t) {
        if (at->t->dtype == EDGEC_DTYPE_STRING)
            return edgec__fail(EDGEC_STATUS_UNSUPPORTED,
                               "%s: STRING tensors are not supported by the interpreter", what);
        *out = wrap_tensor(a, at->t);
        return *out ? EDGEC_STATUS_OK : NOMEM();
    }
    if (!strcmp(nm, "sparse_value") && at->sparse)
        return densify(a, at->sparse, what, out);
    if (!strcmp(nm, "value_float") && at->type == EDGEC_ATTR_FLOAT) {
        if ((st = arena_tensor(a, EDGEC_DTYPE_FLOAT, 0, NULL, what, out)))
            return st;
        memcpy((*out)->data, &at->f, sizeof at->f);
        return EDGEC_STATUS_OK;
    }
    if (!strcmp(nm, "value_int") && at->type == EDGEC_ATTR_INT) {
        if ((st = arena_tensor(a, EDGEC_DTYPE_INT64, 0, NULL, what, out)))
            return st;
        memcpy((*out)->data, &at->i, sizeof at->i);
        return EDGEC_STATUS_OK;
    }
    if ((!strcmp(nm, "value_floats") && at->type == EDGEC_ATTR_FLOATS) ||
        (!strcmp(nm, "value_ints") && at->type == EDGEC_ATTR_INTS)) {
        bool f = at->type == EDGEC_ATTR_FLOATS;
        int64_t dims[1] = {(int64_t)at->n};
        if ((st = arena_tensor(a, f ? EDGEC_DTYPE_FLOAT : EDGEC_DTYPE_INT64, 1, dims, what, out)))
            return st;
        if (at->n)
            memcpy((*out)->data, f ? (const void *)at->floats : (const void *)at->ints,
                   at->n * (f ? sizeof(float) : sizeof(int64_t)));
        return EDGEC_STATUS_OK;
    }
    if (!strcmp(nm, "value_string") || !strcmp(nm, "value_strings"))
        return edgec__fail(EDGEC_STATUS_UNSUPPORTED,
                           "%s: string constants are not supported by the interpreter", what);
    return edgec__fail(EDGEC_STATUS_INVALID_MODEL, "%s: unknown or malformed attribute '%s'", what,
                       nm);
}

static bool is_constant_node(const edgec_node *n)
{
    return !strcmp(n->op_type, "Constant") && (!*n->domain || !strcmp(n->domain, "ai.onnx"));
}

/* ---- planning ---------------------------------------------------------------------- */

static edgec_status build_plan(edgec_session *s, const edgec_graph *g, plan *parent, plan **out);

/* Binary heap of node indices keyed by their position in the index's topological order,
 * so that the final order equals edgec__graph_index's whenever implicit inputs allow. */
typedef struct heap {
    size_t *v;
    size_t n;
    const size_t *key;
} heap;

static void heap_push(heap *h, size_t x)
{
    size_t i = h->n++;
    h->v[i] = x;
    while (i && h->key[h->v[(i - 1) / 2]] > h->key[h->v[i]]) {
        size_t p = (i - 1) / 2, t = h->v[p];
        h->v[p] = h->v[i];
        h->v[i] = t;
        i = p;
    }
}

static size_t heap_pop(heap *h)
{
    size_t top = h->v[0];
    h->v[0] = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && h->key[h->v[l]] < h->key[h->v[m]])
            m = l;
        if (r < h->n && h->key[h->v[r]] < h->key[h->v[m]])
            m = r;
        if (m == i)
            break;
        size_t t = h->v[m];
        h->v[m] = h->v[i];
        h->v[i] = t;
        i = m;
    }
    return top;
}

/* The slot for a name a node or output reads: a local definition, or an outer slot
 * when an enclosing graph defines it. */
static edgec_status resolve_name(edgec_session *s, plan *p, const char *name, const char *who,
                                 int32_t *out)
{
    int32_t idx = map_get(p, name);
    if (idx < 0) {
        bool found = false;
        for (const plan *q = p->parent; q && !found; q = q->parent)
            found = map_get(q, name) >= 0;
        if (!found) {
            char path[512];
            edgec__graph_path(p->g, path, sizeof path);
            return edgec__fail(EDGEC_STATUS_INVALID_MODEL,
                               "%s reads value '%s', which no node, graph input or initializer "
                               "defines (in the %s)",
                               who, name, path);
        }
        idx = add_slot(s->arena, p, name, SLOT_OUTER);
        if (idx < 0)
            return NOMEM();
    }
    *out = idx;
    return EDGEC_STATUS_OK;
}

typedef struct node_pos {
    const edgec_node *node;
    size_t index;
} node_pos;

static int cmp_node_pos(const void *x, const void *y)
{
    uintptr_t a = (uintptr_t)((const node_pos *)x)->node, b = (uintptr_t)((const node_pos *)y)->node;
    return (a > b) - (a < b);
}

static edgec_status build_plan(edgec_session *s, const edgec_graph *g, plan *parent, plan **out)
{
    edgec_arena *a = s->arena;
    const edgec_model *m = s->model;
    edgec_status st = EDGEC_STATUS_OK;
    size_t *order_key = NULL, *pending = NULL, *topo = NULL;
    size_t **dependents = NULL, *n_dependents = NULL;
    heap h = {0};
    char who[400];

    plan *p = edgec__arena_calloc(a, 1, sizeof *p);
    if (!p)
        return NOMEM();
    p->g = g;
    p->parent = parent;

    edgec_graph_index *ix = NULL;
    if ((st = edgec__graph_index(a, (edgec_graph *)g, &ix)))
        return st;

    /* Sized for the names the graph itself mentions; add_slot grows it for names that
     * subgraphs capture. */
    size_t names = g->n_inputs + g->n_inits + g->n_sparse_inits + g->n_outputs + 1;
    for (size_t i = 0; i < g->n_nodes; i++)
        names += g->nodes[i]->n_inputs + g->nodes[i]->n_outputs;
    p->map_cap = 16;
    while (p->map_cap < names * 2)
        p->map_cap *= 2;
    p->map = edgec__arena_calloc(a, p->map_cap, sizeof *p->map);
    p->in_slots = edgec__arena_calloc(a, g->n_inputs + 1, sizeof *p->in_slots);
    p->out_slots = edgec__arena_calloc(a, g->n_outputs + 1, sizeof *p->out_slots);
    if (!p->map || !p->in_slots || !p->out_slots)
        return NOMEM();

    /* Sequences, maps and optionals never reach a kernel: refuse them up front. */
    for (size_t i = 0; i < g->n_inputs + g->n_outputs; i++) {
        const edgec_value_info *vi =
            i < g->n_inputs ? &g->inputs[i] : &g->outputs[i - g->n_inputs];
        edgec_value_kind kind = edgec__value_info_kind(vi);
        if (kind != EDGEC_VALUE_TENSOR && kind != EDGEC_VALUE_UNKNOWN) {
            char path[512];
            edgec__graph_path(g, path, sizeof path);
            return edgec__fail(EDGEC_STATUS_UNSUPPORTED,
                               "graph %s '%s' has %s type, not tensor; the interpreter "
                               "supports tensors only (in the %s)",
                               i < g->n_inputs ? "input" : "output", vi->name,
                               edgec__value_kind_name(kind), path);
        }
    }

    /* Definitions: graph inputs, initializers (a default when also an input), sparse
     * initializers, node outputs. */
    for (size_t i = 0; i < g->n_inputs; i++) {
        const char *nm = g->inputs[i].name;
        if (map_get(p, nm) >= 0)
            return edgec__fail(EDGEC_STATUS_INVALID_MODEL, "graph input '%s' is listed twice", nm);
        if ((p->in_slots[i] = add_slot(a, p, nm, SLOT_INPUT)) < 0)
            return NOMEM();
    }
    for (size_t i = 0; i < g->n_inits; i++) {
        const edgec_tensor *t = g->inits[i];
        int32_t idx = map_get(p, t->name);
        if (idx >= 0 && (p->slots[idx].kind != SLOT_INPUT || p->slots[idx].konst))
            return edgec__fail(EDGEC_STATUS_INVALID_MODEL, "initializer '%s' is defined twice",
                               t->name);
        if (idx < 0 && (idx = add_slot(a, p, t->name, SLOT_CONST)) < 0)
            return NOMEM();
        if (!(p->slots[idx].konst = wrap_tensor(a, t)))
            return NOMEM();
    }
    for (size_t i = 0; i < g->n_sparse_inits; i++) {
        const edgec_sparse *sp = g->sparse_inits[i];
        const char *nm = sp->values->name;
        int32_t idx = map_get(p, nm);
        if (idx >= 0 && (p->slots[idx].kind != SLOT_INPUT || p->slots[idx].konst))
            return edgec__fail(EDGEC_STATUS_INVALID_MODEL,
                               "sparse initializer '%s' is defined twice", nm);
        if (idx < 0 && (idx = add_slot(a, p, nm, SLOT_CONST)) < 0)
            return NOMEM();
        snprintf(who, sizeof who, "sparse initializer '%s'", nm);
        if ((st = densify(a, sp, who, &p->slots[idx].konst)))
            return st;
    }
    for (size_t i = 0; i < g->n_nodes; i++) {
        const edgec_node *n = g->nodes[i];
        for (size_t k = 0; k < n->n_outputs; k++) {
            const char *nm = n->outputs[k];
            if (!*nm)
                continue;
            if (map_get(p, nm) >= 0)
                return edgec__fail(EDGEC_STATUS_INVALID_MODEL,
                                   "node '%s' (%s) writes value '%s', which is already defined",
                                   node_label(n), n->op_type, nm);
            int32_t idx = add_slot(a, p, nm, SLOT_NODE);
            if (idx < 0)
                return NOMEM();
            p->slots[idx].producer = (int32_t)i;
        }
        /* Constant nodes become weights: their value is computed once, here. */
        if (is_constant_node(n) && n->n_outputs == 1 && *n->outputs[0]) {
            int32_t idx = map_get(p, n->outputs[0]);
            if ((st = constant_value(a, n, &p->slots[idx].konst)))
                return st;
            p->slots[idx].kind = SLOT_CONST;
            p->slots[idx].producer = -1;
        }
    }

    /* Steps, in file order for now: kernels, inputs, outputs, subgraphs. */
    step *steps = edgec__arena_calloc(a, g->n_nodes + 1, sizeof *steps);
    int32_t *node_step = edgec__arena_calloc(a, g->n_nodes + 1, sizeof *node_step);
    if (!steps || !node_step)
        return NOMEM();
    size_t n_steps = 0;
    for (size_t i = 0; i < g->n_nodes; i++) {
        const edgec_node *n = g->nodes[i];
        node_step[i] = -1;
        if (is_constant_node(n) && n->n_outputs == 1 && *n->outputs[0])
            continue;
        snprintf(who, sizeof who, "node '%s' (%s)", node_label(n), n->op_type);
        step *sp = &steps[n_steps];
        node_step[i] = (int32_t)n_steps++;
        sp->node = n;
        sp->opset = edgec__model_opset(m, n->domain);
        sp->op = edgec__op_find(n->op_type, n->domain, sp->opset);
        if (!sp->op) {
            char path[512];
            edgec__graph_path(g, path, sizeof path);
            if (!sp->opset)
                return edgec__fail(EDGEC_STATUS_UNSUPPORTED,
                                   "%s: the model does not import domain '%s' that the op "
                                   "belongs to (in the %s)",
                                   who, *n->domain ? n->domain : "ai.onnx", path);
            return edgec__fail(EDGEC_STATUS_UNSUPPORTED,
                               "%s: op '%s'%s%s at opset %" PRId64
                               " is not supported by the interpreter (in the %s)",
                               who, n->op_type, *n->domain ? " of domain " : "", n->domain,
                               sp->opset, path);
        }
        sp->in = edgec__arena_calloc(a, n->n_inputs + 1, sizeof *sp->in);
        sp->out = edgec__arena_calloc(a, n->n_outputs + 1, sizeof *sp->out);
        if (!sp->in || !sp->out)
            return NOMEM();
        for (size_t k = 0; k < n->n_inputs; k++) {
            sp->in[k] = -1;
            if (*n->inputs[k] && (st = resolve_name(s, p, n->inputs[k], who, &sp->in[k])))
                return st;
        }
        for (size_t k = 0; k < n->n_outputs; k++)
            sp->out[k] = *n->outputs[k] ? map_get(p, n->outputs[k]) : -1;
        if (n->n_inputs > p->max_in)
            p->max_in = n->n_inputs;
        if (n->n_outputs > p->max_out)
            p->max_out = n->n_outputs;
        /* Subgraphs: planned now, so that unsupported ops inside them are found at
         * session creation; their captured names become implicit inputs. */
        size_t n_subs = 0;
        for (size_t k = 0; k < n->n_attrs; k++)
            n_subs += n->attrs[k].g ? 1 : n->attrs[k].type == EDGEC_ATTR_GRAPHS ? n->attrs[k].n : 0;
        if (!n_subs)
            continue;
        if (!(sp->subs = edgec__arena_calloc(a, n_subs, sizeof *sp->subs)))
            return NOMEM();
        for (size_t k = 0; k < n->n_attrs; k++) {
            const edgec_attr *at = &n->attrs[k];
            if (at->g && (st = build_plan(s, at->g, p, &sp->subs[sp->n_subs++])))
                return st;
            for (size_t j = 0; at->type == EDGEC_ATTR_GRAPHS && j < at->n; j++)
                if ((st = build_plan(s, at->graphs[j], p, &sp->subs[sp->n_subs++])))
                    return st;
        }
        size_t n_cap = 0;
        for (size_t k = 0; k < sp->n_subs; k++)
            for (size_t j = 0; j < sp->subs[k]->n_slots; j++)
                n_cap += sp->subs[k]->slots[j].kind == SLOT_OUTER;
        if (!n_cap)
            continue;
        if (!(sp->implicit = edgec__arena_calloc(a, n_cap, sizeof *sp->implicit)))
            return NOMEM();
        for (size_t k = 0; k < sp->n_subs; k++) {
            const plan *c = sp->subs[k];
            for (size_t j = 0; j < c->n_slots; j++) {
                if (c->slots[j].kind != SLOT_OUTER)
                    continue;
                int32_t idx;
                if ((st = resolve_name(s, p, c->slots[j].name, who, &idx)))
                    return st;
                bool dup = false;
                for (size_t q = 0; q < sp->n_implicit; q++)
                    dup |= sp->implicit[q] == idx;
                if (!dup)
                    sp->implicit[sp->n_implicit++] = idx;
            }
        }
    }
    for (size_t i = 0; i < g->n_outputs; i++) {
        snprintf(who, sizeof who, "graph output '%s'", g->outputs[i].name);
        if ((st = resolve_name(s, p, g->outputs[i].name, who, &p->out_slots[i])))
            return st;
    }

    /* Order: Kahn's algorithm over explicit and implicit inputs, always taking the ready
     * node that comes first in the index's topological order. */
    order_key = calloc(g->n_nodes + 1, sizeof *order_key);
    pending = calloc(n_steps + 1, sizeof *pending);
    topo = calloc(n_steps + 1, sizeof *topo);
    n_dependents = calloc(n_steps + 1, sizeof *n_dependents);
    dependents = calloc(n_steps + 1, sizeof *dependents);
    h.v = calloc(n_steps + 1, sizeof *h.v);
    if (!order_key || !pending || !topo || !n_dependents || !dependents || !h.v) {
        st = NOMEM();
        goto cleanup;
    }
    size_t n_topo_ix;
    edgec_node *const *ix_topo = edgec__index_topo(ix, &n_topo_ix);
    /* Position of each node in the index's order, found by binary search over the nodes
     * sorted by address (a nested scan would be quadratic in the node count). */
    node_pos *by_addr = calloc(g->n_nodes + 1, sizeof *by_addr);
    if (!by_addr) {
        st = NOMEM();
        goto cleanup;
    }
    for (size_t j = 0; j < g->n_nodes; j++)
        by_addr[j] = (node_pos){g->nodes[j], j};
    qsort(by_addr, g->n_nodes, sizeof *by_addr, cmp_node_pos);
    for (size_t i = 0; i < n_topo_ix; i++) {
        node_pos key = {ix_topo[i], 0};
        const node_pos *hit = bsearch(&key, by_addr, g->n_nodes, sizeof *by_addr, cmp_node_pos);
        if (hit)
            order_key[hit->index] = i;
    }
    free(by_addr);
    size_t *step_key = calloc(n_steps + 1, sizeof *step_key);
    if (!step_key) {
        st = NOMEM();
        goto cleanup;
    }
    for (size_t i = 0; i < g->n_nodes; i++)
        if (node_step[i] >= 0)
            step_key[node_step[i]] = order_key[i];
    free(order_key);
    order_key = step_key;
    h.key = order_key;
    /* Dependencies: counted per (consumer, producer) pair occurrence. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n_steps; i++) {
            const step *sp = &steps[i];
            size_t total = sp->node->n_inputs + sp->n_implicit;
            for (size_t k = 0; k < total; k++) {
                int32_t sl = k < sp->node->n_inputs ? sp->in[k] : sp->implicit[k - sp->node->n_inputs];
                if (sl < 0 || p->slots[sl].kind != SLOT_NODE)
                    continue;
                int32_t ps = node_step[p->slots[sl].producer];
                if (ps < 0)
                    continue;
                if (pass == 0) {
                    n_dependents[ps]++;
                } else {
                    dependents[ps][n_dependents[ps]++] = i;
                    pending[i]++;
                }
            }
        }
        if (pass == 0) {
            for (size_t i = 0; i < n_steps; i++) {
                if (n_dependents[i] &&
                    !(dependents[i] = calloc(n_dependents[i], sizeof *dependents[i]))) {
                    st = NOMEM();
                    goto cleanup;
                }
                n_dependents[i] = 0;
            }
        }
    }
    for (size_t i = 0; i < n_steps; i++)
        if (!pending[i])
            heap_push(&h, i);
    size_t n_topo = 0;
    while (h.n) {
        size_t i = heap_pop(&h);
        topo[n_topo++] = i;
        for (size_t k = 0; k < n_dependents[i]; k++)
            if (--pending[dependents[i][k]] == 0)
                heap_push(&h, dependents[i][k]);
    }
    if (n_topo != n_steps) {
        for (size_t i = 0; i < n_steps; i++) {
            if (pending[i]) {
                st = edgec__fail(EDGEC_STATUS_INVALID_MODEL,
                                 "node '%s' (%s) depends, through a value its subgraph reads, on "
                                 "its own output: the graph cannot be ordered",
                                 node_label(steps[i].node), steps[i].node->op_type);
                break;
            }
        }
        goto cleanup;
    }
    p->steps = edgec__arena_calloc(a, n_steps + 1, sizeof *p->steps);
    if (!p->steps) {
        st = NOMEM();
        goto cleanup;
    }
    for (size_t i = 0; i < n_steps; i++)
        p->steps[i] = steps[topo[i]];
    p->n_steps = n_steps;

    /* Lifetimes: a value dies after the last step that reads it, directly or through a
     * subgraph; graph outputs never die inside the run. */
    for (size_t i = 0; i < n_steps; i++) {
        const step *sp = &p->steps[i];
        size_t total = sp->node->n_inputs + sp->n_implicit;
        for (size_t k = 0; k < total; k++) {
            int32_t sl = k < sp->node->n_inputs ? sp->in[k] : sp->implicit[k - sp->node->n_inputs];
            if (sl < 0)
                continue;
            slot *v = &p->slots[sl];
            if (v->kind == SLOT_CONST && v->konst && !v->konst->data && v->konst->numel) {
                snprintf(who, sizeof who, "node '%s' (%s)", node_label(sp->node),
                         sp->node->op_type);
                st = edgec__fail(EDGEC_STATUS_UNSUPPORTED,
                                 "%s reads '%s', a %s tensor, which the interpreter does not "
                                 "support",
                                 who, v->name, edgec__dtype(v->konst->dtype)->name);
                goto cleanup;
            }
            v->last_use = (int32_t)i;
        }
        for (size_t k = 0; k < sp->node->n_outputs; k++)
            if (sp->out[k] >= 0 && p->slots[sp->out[k]].last_use < (int32_t)i)
                p->slots[sp->out[k]].last_use = (int32_t)i;
    }
    for (size_t i = 0; i < g->n_outputs; i++)
        p->slots[p->out_slots[i]].last_use = NEVER_DIES;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t j = 0; j < p->n_slots; j++) {
            const slot *v = &p->slots[j];
            if (v->kind != SLOT_NODE || v->last_use < 0 || v->last_use == NEVER_DIES)
                continue;
            step *sp = &p->steps[v->last_use];
            if (pass == 0)
                sp->n_release++;
            else
                sp->release[sp->n_release++] = (int32_t)j;
        }
        for (size_t i = 0; pass == 0 && i < n_steps; i++) {
            step *sp = &p->steps[i];
            if (sp->n_release &&
                !(sp->release = edgec__arena_calloc(a, sp->n_release, sizeof *sp->release))) {
                st = NOMEM();
                goto cleanup;
            }
            sp->n_release = 0;
        }
    }
    *out = p;
cleanup:
    for (size_t i = 0; dependents && i < n_steps; i++)
        free(dependents[i]);
    free(dependents);
    free(n_dependents);
    free(order_key);
    free(pending);
    free(topo);
    free(h.v);
    return st;
}

/* ---- running ----------------------------------------------------------------------- */

static void track_alloc(edgec_session *s, const edgec_rt_tensor *t)
{
    s->live += t->nbytes;
    if (s->live > s->peak)
        s->peak = s->live;
}

static void track_free(edgec_session *s, const edgec_rt_tensor *t)
{
    s->live -= t->nbytes < s->live ? t->nbytes : s->live;
}

static edgec_status copy_tensor(const edgec_rt_tensor *t, edgec_rt_tensor **out)
{
    edgec_status st = edgec__rt_tensor_new(t->dtype, t->rank, t->dims, out);
    if (!st && t->nbytes)
        memcpy((*out)->data, t->data, t->nbytes);
    return st;
}

/* Looks `name` up in the frames enclosing `f`. */
static edgec_rt_tensor *find_outer(const frame *f, const char *name)
{
    for (; f; f = f->parent) {
        int32_t idx = map_get(f->p, name);
        if (idx >= 0 && (f->vals[idx] || f->p->slots[idx].kind != SLOT_OUTER))
            return f->vals[idx];
    }
    return NULL;
}

static bool mentions_node(const char *msg)
{
    return strstr(msg, "node '") != NULL;
}

/* Runs plan `p` with `ins` (one per graph input, borrowed; NULL picks the initializer
 * default) and writes each graph output to `outs`, owned by the caller. */
static edgec_status run_plan(edgec_session *s, const plan *p, frame *parent,
                             const edgec_rt_tensor *const *ins, edgec_rt_tensor **outs)
{
    edgec_status st = EDGEC_STATUS_OK;
    frame f = {.p = p, .parent = parent};
    frame *saved = s->cur;
    const edgec_rt_tensor **in_ptrs = NULL;
    edgec_rt_tensor **out_ptrs = NULL;
    size_t n_done = 0;
    const edgec_graph *g = p->g;

    f.vals = calloc(p->n_slots + 1, sizeof *f.vals);
    f.mine = calloc(p->n_slots + 1, sizeof *f.mine);
    in_ptrs = calloc(p->max_in + 1, sizeof *in_ptrs);
    out_ptrs = calloc(p->max_out + 1, sizeof *out_ptrs);
    if (!f.vals || !f.mine || !in_ptrs || !out_ptrs) {
        st = edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory running the model");
        goto cleanup;
    }
    for (size_t i = 0; i < p->n_slots; i++) {
        const slot *v = &p->slots[i];
        if (v->kind == SLOT_CONST || v->kind == SLOT_INPUT)
            f.vals[i] = v->konst;
        else if (v->kind == SLOT_OUTER && !(f.vals[i] = find_outer(parent, v->name))) {
            st = edgec__fail(EDGEC_STATUS_INTERNAL,
                             "value '%s' that a subgraph reads is not available", v->name);
            goto cleanup;
        }
    }
    for (size_t i = 0; i < g->n_inputs; i++)
        if (ins && ins[i])
            f.vals[p->in_slots[i]] = (edgec_rt_tensor *)ins[i];
    /* Constant nodes ran when the plan was made: the observer sees their values first. */
    for (size_t i = 0; s->observe && p == s->main && i < g->n_nodes; i++) {
        const edgec_node *n = g->nodes[i];
        if (is_constant_node(n) && n->n_outputs == 1 && *n->outputs[0]) {
            int32_t sl = map_get(p, n->outputs[0]);
            if (sl >= 0 && p->slots[sl].konst)
                s->observe(s->observe_ctx, n->outputs[0], p->slots[sl].konst);
        }
    }

    for (size_t i = 0; i < p->n_steps; i++) {
        const step *sp = &p->steps[i];
        const edgec_node *n = sp->node;
        for (size_t k = 0; k < n->n_inputs; k++)
            in_ptrs[k] = sp->in[k] >= 0 ? f.vals[sp->in[k]] : NULL;
        memset(out_ptrs, 0, n->n_outputs * sizeof *out_ptrs);
        edgec_op_ctx ctx = {
            .node = n,
            .opset = sp->opset,
            .n_inputs = n->n_inputs,
            .inputs = in_ptrs,
            .n_outputs = n->n_outputs,
            .outputs = out_ptrs,
            .session = s,
            .threads = s->threads,
        };
        f.cur_step = i;
        s->cur = &f;
        st = sp->op->run(&ctx);
        s->cur = saved;
        if (st == EDGEC_STATUS_NO_MEMORY && ctx.alloc_status)
            st = ctx.alloc_status; /* e.g. LIMIT for a shape over the tensor size cap */
        for (size_t k = 0; !st && k < n->n_outputs; k++) {
            if (sp->out[k] >= 0 && !out_ptrs[k])
                st = edgec__op_fail(&ctx, EDGEC_STATUS_INTERNAL,
                                    "the kernel did not produce output %zu ('%s')", k,
                                    n->outputs[k]);
            /* Outputs must own their data: a borrowed view could outlive what it views. */
            if (!st && out_ptrs[k] && !out_ptrs[k]->owned) {
                edgec_rt_tensor *c;
                if (!(st = copy_tensor(out_ptrs[k], &c))) {
                    free(out_ptrs[k]);
                    out_ptrs[k] = c;
                }
            }
        }
        if (st) {
            if (!mentions_node(edgec_error_message())) {
                char pre[400];
                snprintf(pre, sizeof pre, "node '%s' (%s): ", node_label(n), n->op_type);
                edgec__fail_prefix(pre);
            }
            for (size_t k = 0; k < n->n_outputs; k++) {
                edgec__rt_tensor_free(out_ptrs[k]);
                out_ptrs[k] = NULL;
            }
            goto cleanup;
        }
        for (size_t k = 0; k < n->n_outputs; k++) {
            if (sp->out[k] < 0) {
                edgec__rt_tensor_free(out_ptrs[k]);
                continue;
            }
            f.vals[sp->out[k]] = out_ptrs[k];
            f.mine[sp->out[k]] = 1;
            track_alloc(s, out_ptrs[k]);
            if (s->observe && p == s->main)
                s->observe(s->observe_ctx, n->outputs[k], out_ptrs[k]);
        }
        for (size_t k = 0; k < sp->n_release; k++) {
            int32_t sl = sp->release[k];
            if (f.mine[sl]) {
                track_free(s, f.vals[sl]);
                edgec__rt_tensor_free(f.vals[sl]);
                f.mine[sl] = 0;
            }
            f.vals[sl] = NULL;
        }
    }

    for (n_done = 0; n_done < g->n_outputs; n_done++) {
        int32_t sl = p->out_slots[n_done];
        edgec_rt_tensor *v = f.vals[sl];
        if (!v) {
            st = edgec__fail(EDGEC_STATUS_INVALID_MODEL, "graph output '%s' has no value",
                             g->outputs[n_done].name);
            goto cleanup;
        }
        bool later = false;
        for (size_t j = n_done + 1; j < g->n_outputs; j++)
            later |= p->out_slots[j] == sl;
        if (f.mine[sl] && !later) {
            track_free(s, v);
            outs[n_done] = v;
            f.vals[sl] = NULL;
            f.mine[sl] = 0;
        } else if ((st = copy_tensor(v, &outs[n_done]))) {
            goto cleanup;
        }
    }
cleanup:
    if (st) {
        for (size_t i = 0; i < n_done; i++) {
            edgec__rt_tensor_free(outs[i]);
            outs[i] = NULL;
        }
    }
    for (size_t i = 0; f.vals && i < p->n_slots; i++) {
        if (f.mine[i]) {
            track_free(s, f.vals[i]);
            edgec__rt_tensor_free(f.vals[i]);
        }
    }
    s->cur = saved;
    free(f.vals);
    free(f.mine);
    free(in_ptrs);
    free(out_ptrs);
    return st;
}

edgec_status edgec__rt_run_subgraph(edgec_op_ctx *ctx, const edgec_graph *g, size_t n_in,
                                    const edgec_rt_tensor *const *ins, edgec_rt_tensor **outs)
{
    edgec_session *s = ctx->session;
    frame *f = s ? s->cur : NULL;
    if (!f)
        return edgec__op_fail(ctx, EDGEC_STATUS_INTERNAL, "no running graph to nest a subgraph in");
    const step *sp = &f->p->steps[f->cur_step];
    const plan *p = NULL;
    for (size_t i = 0; i < sp->n_subs && !p; i++)
        if (sp->subs[i]->g == g)
            p = sp->subs[i];
    if (!p)
        return edgec__op_fail(ctx, EDGEC_STATUS_INTERNAL, "the subgraph is not one of this node's");
    if (n_in != g->n_inputs)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "subgraph '%s' declares %zu inputs but the op binds %zu", g->name,
                              g->n_inputs, n_in);
    for (size_t i = 0; i < g->n_outputs; i++)
        outs[i] = NULL;
    return run_plan(s, p, f, ins, outs);
}

/* ---- sessions ---------------------------------------------------------------------- */

edgec_status edgec_input_shape_parse(const char *spec, char *buf, size_t buf_size,
                                     edgec_input_shape *out)
{
    memset(out, 0, sizeof *out);
    size_t len = strlen(spec);
    const char *colon = strrchr(spec, ':');
    if (!colon || colon == spec)
        return edgec__fail(EDGEC_STATUS_USAGE,
                           "input shape '%s' is not NAME:DIMS, e.g. input:1x3x224x224", spec);
    if (len + 1 > buf_size)
        return edgec__fail(EDGEC_STATUS_USAGE, "input shape '%s' is too long", spec);
    memcpy(buf, spec, len + 1);
    buf[colon - spec] = '\0';
    out->name = buf;
    const char *d = colon + 1;
    while (*d) {
        if (out->rank == EDGEC_ARRAY_MAX_RANK)
            return edgec__fail(EDGEC_STATUS_USAGE, "input shape '%s' has more than %d dims", spec,
                               EDGEC_ARRAY_MAX_RANK);
        if (*d < '0' || *d > '9')
            return edgec__fail(EDGEC_STATUS_USAGE,
                               "input shape '%s': dims must be non-negative integers joined by "
                               "'x', e.g. 1x3x224x224",
                               spec);
        int64_t v = 0;
        while (*d >= '0' && *d <= '9') {
            if (v > (INT64_MAX - 9) / 10)
                return edgec__fail(EDGEC_STATUS_USAGE, "input shape '%s': dim too large", spec);
            v = v * 10 + (*d++ - '0');
        }
        out->dims[out->rank++] = v;
        if (*d == 'x' || *d == 'X' || *d == ',') {
            d++;
            if (!*d)
                return edgec__fail(EDGEC_STATUS_USAGE, "input shape '%s' ends with a separator",
                                   spec);
        } else if (*d) {
            return edgec__fail(EDGEC_STATUS_USAGE,
                               "input shape '%s': dims must be non-negative integers joined by "
                               "'x', e.g. 1x3x224x224",
                               spec);
        }
    }
    return EDGEC_STATUS_OK;
}

static edgec_status describe_inputs(edgec_session *s, const edgec_session_options *opt)
{
    const edgec_graph *g = s->model->graph;
    const plan *p = s->main;
    edgec_arena *a = s->arena;
    s->inputs = edgec__arena_calloc(a, g->n_inputs + 1, sizeof *s->inputs);
    if (!s->inputs)
        return NOMEM();
    for (size_t i = 0; i < g->n_inputs; i++) {
        if (p->slots[p->in_slots[i]].konst)
            continue; /* an initializer gives the default: callers need not provide it */
        const edgec_value_info *vi = &g->inputs[i];
        input_desc *d = &s->inputs[s->n_inputs++];
        d->name = vi->name;
        d->graph_index = i;
        d->type = (edgec_elem_type)vi->elem_type;
        d->rank = vi->rank;
        if (vi->rank > 0) {
            d->dims = edgec__arena_calloc(a, (size_t)vi->rank, sizeof *d->dims);
            d->dim_names = edgec__arena_calloc(a, (size_t)vi->rank, sizeof *d->dim_names);
            if (!d->dims || !d->dim_names)
                return NOMEM();
            for (int32_t k = 0; k < vi->rank; k++) {
                d->dims[k] = vi->dims[k];
                d->dim_names[k] = vi->dim_params ? vi->dim_params[k] : NULL;
            }
        }
    }
    for (size_t j = 0; opt && j < opt->n_input_shapes; j++) {
        const edgec_input_shape *sh = &opt->input_shapes[j];
        input_desc *d = NULL;
        for (size_t i = 0; i < s->n_inputs && !d; i++)
            if (!strcmp(s->inputs[i].name, sh->name))
                d = &s->inputs[i];
        if (!d) {
            char list[512] = "";
            for (size_t i = 0; i < s->n_inputs; i++) {
                size_t used = strlen(list);
                snprintf(list + used, sizeof list - used, "%s'%s'", i ? ", " : "",
                         s->inputs[i].name);
            }
            return edgec__fail(EDGEC_STATUS_USAGE,
                               "--input-shape names '%s', but the model's inputs are: %s",
                               sh->name, *list ? list : "(none)");
        }
        if (sh->rank < 0 || sh->rank > EDGEC_ARRAY_MAX_RANK || (d->rank >= 0 && d->rank != sh->rank))
            return edgec__fail(EDGEC_STATUS_USAGE,
                               "--input-shape gives input '%s' rank %d, but the model declares "
                               "rank %d",
                               sh->name, sh->rank, d->rank);
        for (int k = 0; d->rank >= 0 && k < d->rank; k++)
            if (d->dims[k] >= 0 && d->dims[k] != sh->dims[k])
                return edgec__fail(EDGEC_STATUS_USAGE,
                                   "--input-shape gives input '%s' dim %d = %lld, but the model "
                                   "fixes it to %lld",
                                   sh->name, k, (long long)sh->dims[k], (long long)d->dims[k]);
        d->rank = sh->rank;
        d->dims = edgec__arena_calloc(a, (size_t)sh->rank + 1, sizeof *d->dims);
        d->dim_names = edgec__arena_calloc(a, (size_t)sh->rank + 1, sizeof *d->dim_names);
        if (!d->dims || !d->dim_names)
            return NOMEM();
        memcpy(d->dims, sh->dims, (size_t)sh->rank * sizeof *d->dims);
    }
    s->n_outputs = g->n_outputs;
    s->outputs = edgec__arena_calloc(a, g->n_outputs + 1, sizeof *s->outputs);
    if (!s->outputs)
        return NOMEM();
    for (size_t i = 0; i < g->n_outputs; i++) {
        const edgec_value_info *vi = &g->outputs[i];
        s->outputs[i] = (edgec_value_desc){vi->name, (edgec_elem_type)vi->elem_type, vi->rank,
                                           vi->dims, vi->dim_params};
    }
    return EDGEC_STATUS_OK;
}

edgec_status edgec_session_create(const edgec_model *model, const edgec_session_options *opt,
                                  edgec_session **out)
{
    *out = NULL;
    edgec__error_clear();
    edgec_status st;
    edgec_session *s = calloc(1, sizeof *s);
    if (!s || !(s->arena = edgec__arena_new())) {
        free(s);
        return NOMEM();
    }
    s->model = model;
    s->threads = opt && opt->threads > 1 ? opt->threads : 1;
    if ((st = build_plan(s, model->graph, NULL, &s->main)) || (st = describe_inputs(s, opt))) {
        if (model->path && !strstr(edgec_error_message(), model->path)) {
            char pre[600];
            snprintf(pre, sizeof pre, "%s: ", model->path);
            edgec__fail_prefix(pre);
        }
        edgec_session_free(s);
        return st;
    }
    *out = s;
    return EDGEC_STATUS_OK;
}

size_t edgec_session_input_count(const edgec_session *s)
{
    return s->n_inputs;
}

edgec_status edgec_session_input(const edgec_session *s, size_t i, edgec_value_desc *out)
{
    if (i >= s->n_inputs)
        return edgec__fail(EDGEC_STATUS_USAGE, "input %zu is out of range (the model has %zu)", i,
                           s->n_inputs);
    const input_desc *d = &s->inputs[i];
    *out = (edgec_value_desc){d->name, d->type, d->rank, d->dims, d->dim_names};
    return EDGEC_STATUS_OK;
}

size_t edgec_session_output_count(const edgec_session *s)
{
    return s->n_outputs;
}

edgec_status edgec_session_output(const edgec_session *s, size_t i, edgec_value_desc *out)
{
    if (i >= s->n_outputs)
        return edgec__fail(EDGEC_STATUS_USAGE, "output %zu is out of range (the model has %zu)",
                           i, s->n_outputs);
    *out = s->outputs[i];
    return EDGEC_STATUS_OK;
}

uint64_t edgec_session_peak_bytes(const edgec_session *s)
{
    return s->peak;
}

void edgec__session_observe(edgec_session *s, edgec__rt_observer fn, void *ctx)
{
    s->observe = fn;
    s->observe_ctx = ctx;
}

void edgec_session_free(edgec_session *s)
{
    if (!s)
        return;
    edgec__arena_free(s->arena);
    free(s);
}

/* "[N,64]" for a declared shape, "[1,64]" for an actual one. */
static void format_shape(char *buf, size_t size, int rank, const int64_t *dims,
                         const char *const *names)
{
    size_t used = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < rank && used < size; i++) {
        if (names && names[i])
            used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? "," : "", names[i]);
        else if (dims[i] < 0)
            used += (size_t)snprintf(buf + used, size - used, "%s?", i ? "," : "");
        else
            used += (size_t)snprintf(buf + used, size - used, "%s%lld", i ? "," : "",
                                     (long long)dims[i]);
    }
    if (used < size)
        snprintf(buf + used, size - used, "]");
}

typedef struct binding {
    const char *sym;
    int64_t value;
    const char *input;
} binding;

static edgec_status check_input(const input_desc *d, const edgec_array *a, binding *binds,
                                size_t *n_binds)
{
    char want[256], got[256];
    format_shape(want, sizeof want, d->rank, d->dims, d->dim_names);
    format_shape(got, sizeof got, a->rank, a->dims, NULL);
    if (d->type != EDGEC_ELEM_UNDEFINED && a->type != d->type)
        return edgec__fail(EDGEC_STATUS_INVALID_DATA,
                           "input '%s': the data is %s but the model expects %s", d->name,
                           edgec_elem_name(a->type), edgec_elem_name(d->type));
    if (d->rank >= 0 && a->rank != d->rank)
        return edgec__fail(EDGEC_STATUS_INVALID_DATA,
                           "input '%s': the data has shape %s but the model expects %s%s", d->name,
                           got, want,
                           a->rank == d->rank + 1 ? " (one sample at a time?)" : "");
    for (int k = 0; d->rank >= 0 && k < d->rank; k++) {
        if (d->dims[k] >= 0) {
            if (d->dims[k] != a->dims[k])
                return edgec__fail(EDGEC_STATUS_INVALID_DATA,
                                   "input '%s': the data has shape %s but the model expects %s "
                                   "(dim %d)",
                                   d->name, got, want, k);
            continue;
        }
        const char *sym = d->dim_names ? d->dim_names[k] : NULL;
        if (!sym)
            continue;
        size_t j = 0;
        while (j < *n_binds && strcmp(binds[j].sym, sym))
            j++;
        if (j == *n_binds) {
            binds[(*n_binds)++] = (binding){sym, a->dims[k], d->name};
        } else if (binds[j].value != a->dims[k]) {
            return edgec__fail(EDGEC_STATUS_INVALID_DATA,
                               "input '%s': symbolic dim '%s' is %lld here but %lld in input "
                               "'%s'",
                               d->name, sym, (long long)a->dims[k], (long long)binds[j].value,
                               binds[j].input);
        }
    }
    return EDGEC_STATUS_OK;
}

edgec_status edgec_session_run(edgec_session *s, const edgec_array *const *inputs,
                               size_t n_inputs, edgec_array **outputs, size_t n_outputs)
{
    edgec__error_clear();
    edgec_status st = EDGEC_STATUS_OK;
    const edgec_graph *g = s->model->graph;
    const edgec_rt_tensor **ins = calloc(g->n_inputs + 1, sizeof *ins);
    edgec_rt_tensor *views = calloc(n_inputs + 1, sizeof *views);
    edgec_rt_tensor **outs = calloc(g->n_outputs + 1, sizeof *outs);
    binding *binds = NULL;
    size_t n_binds = 0, max_binds = 0;
    for (size_t i = 0; i < n_outputs; i++)
        outputs[i] = NULL;
    if (!ins || !views || !outs) {
        st = edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory running the model");
        goto cleanup;
    }
    if (n_outputs != g->n_outputs) {
        st = edgec__fail(EDGEC_STATUS_USAGE, "the model has %zu outputs but %zu were asked for",
                         g->n_outputs, n_outputs);
        goto cleanup;
    }
    for (size_t i = 0; i < s->n_inputs; i++)
        max_binds += s->inputs[i].rank > 0 ? (size_t)s->inputs[i].rank : 0;
    if (!(binds = calloc(max_binds + 1, sizeof *binds))) {
        st = edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory running the model");
        goto cleanup;
    }
    for (size_t j = 0; j < n_inputs; j++) {
        const edgec_array *a = inputs[j];
        size_t gi = g->n_inputs;
        if (!a->name) {
            if (n_inputs == 1 && s->n_inputs == 1)
                gi = s->inputs[0].graph_index;
        } else {
            for (size_t i = 0; i < g->n_inputs && gi == g->n_inputs; i++)
                if (!strcmp(g->inputs[i].name, a->name))
                    gi = i;
        }
        if (gi == g->n_inputs) {
            char list[512] = "";
            for (size_t i = 0; i < s->n_inputs; i++) {
                size_t used = strlen(list);
                snprintf(list + used, sizeof list - used, "%s'%s'", i ? ", " : "",
                         s->inputs[i].name);
            }
            st = edgec__fail(EDGEC_STATUS_INVALID_DATA,
                             a->name ? "the data has an array '%s' that is no model input; the "
                                       "model's inputs are: %s"
                                     : "%sthe data has unnamed arrays; name them after the "
                                       "model's inputs: %s",
                             a->name ? a->name : "", *list ? list : "(none)");
            goto cleanup;
        }
        if (ins[gi]) {
            st = edgec__fail(EDGEC_STATUS_INVALID_DATA, "input '%s' is given twice",
                             g->inputs[gi].name);
            goto cleanup;
        }
        const input_desc *d = NULL;
        for (size_t i = 0; i < s->n_inputs && !d; i++)
            if (s->inputs[i].graph_index == gi)
                d = &s->inputs[i];
        if (d && (st = check_input(d, a, binds, &n_binds)))
            goto cleanup;
        if (!d && (int32_t)a->type != s->main->slots[s->main->in_slots[gi]].konst->dtype) {
            st = edgec__fail(EDGEC_STATUS_INVALID_DATA,
                             "input '%s': the data is %s but the initializer it replaces is %s",
                             g->inputs[gi].name, edgec_elem_name(a->type),
                             edgec__dtype(s->main->slots[s->main->in_slots[gi]].konst->dtype)->name);
            goto cleanup;
        }
        edgec_rt_tensor *v = &views[j];
        v->dtype = (int32_t)a->type;
        v->rank = a->rank;
        memcpy(v->dims, a->dims, (size_t)a->rank * sizeof *a->dims);
        v->numel = a->numel;
        v->data = a->data;
        v->nbytes = a->nbytes;
        v->owned = false;
        ins[gi] = v;
    }
    for (size_t i = 0; i < s->n_inputs; i++) {
        if (!ins[s->inputs[i].graph_index]) {
            st = edgec__fail(EDGEC_STATUS_INVALID_DATA, "input '%s' is missing from the data",
                             s->inputs[i].name);
            goto cleanup;
        }
    }
    if ((st = run_plan(s, s->main, NULL, ins, outs)))
        goto cleanup;
    for (size_t i = 0; i < g->n_outputs; i++) {
        edgec_rt_tensor *t = outs[i];
        edgec_array *a = calloc(1, sizeof *a);
        size_t nlen = strlen(g->outputs[i].name) + 1;
        char *nm = malloc(nlen);
        if (!a || !nm) {
            free(a);
            free(nm);
            st = edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory collecting outputs");
            goto cleanup;
        }
        memcpy(nm, g->outputs[i].name, nlen);
        a->name = nm;
        if (!edgec_elem_size((edgec_elem_type)t->dtype)) {
            free(nm);
            free(a);
            st = edgec__fail(EDGEC_STATUS_UNSUPPORTED, "output '%s' has type %s, which edgec "
                             "cannot return", g->outputs[i].name, edgec__dtype(t->dtype)->name);
            goto cleanup;
        }
        /* The runtime's buffer is 64-byte aligned and malloc-compatible: hand it over. */
        a->type = (edgec_elem_type)t->dtype;
        a->rank = t->rank;
        memcpy(a->dims, t->dims, (size_t)t->rank * sizeof *t->dims);
        a->numel = t->numel;
        a->data = t->data;
        a->nbytes = t->nbytes;
        free(t);
        outs[i] = NULL;
        outputs[i] = a;
    }
cleanup:
    if (st) {
        for (size_t i = 0; i < n_outputs; i++) {
            edgec_array_free(outputs[i]);
            outputs[i] = NULL;
        }
    }
    for (size_t i = 0; outs && i < g->n_outputs; i++)
        edgec__rt_tensor_free(outs[i]);
    free(outs);
    free(ins);
    free(views);
    free(binds);
    return st;
}
