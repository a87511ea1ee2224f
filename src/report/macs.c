/* MAC counting from the shapes one interpreter run gives. */
#include <stdlib.h>
#include <string.h>

#include "edgec/runtime.h"
#include "ir/edit.h"
#include "report/macs.h"
#include "runtime/rt.h"

static int cmp_shape(const void *a, const void *b)
{
    return strcmp(((const edgec_value_shape *)a)->name, ((const edgec_value_shape *)b)->name);
}

void edgec__shapes_free(edgec_shapes *s)
{
    if (!s)
        return;
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

const edgec_value_shape *edgec__shapes_find(const edgec_shapes *s, const char *name)
{
    if (!s->n)
        return NULL;
    edgec_value_shape key = {.name = name};
    return bsearch(&key, s->v, s->n, sizeof *s->v, cmp_shape);
}

static void record(edgec_shapes *s, const char *name, int rank, const int64_t *dims)
{
    edgec_value_shape *v = &s->v[s->n++];
    v->name = name;
    v->rank = rank;
    for (int i = 0; i < rank && i < EDGEC_MAX_RANK; i++)
        v->dims[i] = dims[i];
}

/* Records the shape of each value a node produces, as the node runs. */
typedef struct shape_sink {
    edgec_shapes *out;
    size_t cap;
} shape_sink;

static void observe_shape(void *ctx, const char *name, const edgec_rt_tensor *v)
{
    shape_sink *k = ctx;
    if (k->out->n < k->cap)
        record(k->out, name, v->rank, v->dims);
}

edgec_status edgec__shapes_run(const edgec_model *m, edgec_shapes *out)
{
    /* The shapes are taken as each node runs, and every value is freed after its last
     * use as in any run. Making the values graph outputs instead would keep all of them
     * alive until the run ends: every activation of the model at once. */
    const edgec_graph *g = m->graph;
    size_t n_in = 0, n_out = 0;
    edgec_session *s = NULL;
    edgec_array **ins = NULL, **outs = NULL;
    edgec_status st = EDGEC_STATUS_OK;
    *out = (edgec_shapes){0};
    size_t cap = g->n_outputs + g->n_inputs;
    for (size_t i = 0; i < g->n_nodes; i++)
        cap += g->nodes[i]->n_outputs;
    shape_sink sink = {out, cap};
    out->v = calloc(cap + 1, sizeof *out->v);
    if (!out->v) {
        st = edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
        goto cleanup;
    }
    if ((st = edgec_session_create(m, NULL, &s)))
        goto cleanup;
    edgec__session_observe(s, observe_shape, &sink);
    n_in = edgec_session_input_count(s);
    n_out = edgec_session_output_count(s);
    ins = calloc(n_in + 1, sizeof *ins);
    outs = calloc(n_out + 1, sizeof *outs);
    if (!ins || !outs) {
        st = edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i < n_in; i++) {
        edgec_value_desc d;
        int64_t dims[EDGEC_ARRAY_MAX_RANK];
        if ((st = edgec_session_input(s, i, &d)))
            goto cleanup;
        if (d.rank < 0 || d.type == EDGEC_ELEM_UNDEFINED) {
            st = edgec__fail(EDGEC_STATUS_UNSUPPORTED,
                             "input '%s' has no declared type and shape", d.name);
            goto cleanup;
        }
        for (int k = 0; k < d.rank; k++)
            dims[k] = d.dims[k] < 0 ? 1 : d.dims[k];
        if ((st = edgec_array_create(d.name, d.type, d.rank, dims, &ins[i])))
            goto cleanup;
        if (out->n < cap)
            record(out, d.name, d.rank, dims);
    }
    if ((st = edgec_session_run(s, (const edgec_array *const *)ins, n_in, outs, n_out)))
        goto cleanup;
    /* Graph outputs that no node produces (an initializer, a graph input) too. */
    for (size_t i = 0; i < n_out && out->n < cap; i++)
        record(out, g->outputs[i].name, outs[i]->rank, outs[i]->dims);
    /* Sorted for lookups; a value seen twice (a graph output that a node produces, an
     * input that is also an output) is listed once. */
    qsort(out->v, out->n, sizeof *out->v, cmp_shape);
    size_t k = 0;
    for (size_t i = 0; i < out->n; i++)
        if (!k || strcmp(out->v[k - 1].name, out->v[i].name))
            out->v[k++] = out->v[i];
    out->n = k;
cleanup:
    for (size_t i = 0; ins && i < n_in; i++)
        edgec_array_free(ins[i]);
    for (size_t i = 0; outs && i < n_out; i++)
        edgec_array_free(outs[i]);
    free(ins);
    free(outs);
    edgec_session_free(s);
    if (st)
        edgec__shapes_free(out);
    return st;
}

/* Fraction of nonzero elements of a constant float weight; 1 when not known. */
static double density(const edgec_tensor *t)
{
    if (!t || t->dtype != EDGEC_DTYPE_FLOAT || !t->data || t->numel <= 0)
        return 1.0;
    const float *v = t->data;
    int64_t nz = 0;
    for (int64_t i = 0; i < t->numel; i++)
        nz += v[i] != 0.0f;
    return (double)nz / (double)t->numel;
}

/* The sparse initializer `name` as seen from `g`, or NULL. */
static const edgec_sparse *find_sparse(const edgec_graph *g, const char *name)
{
    for (; g; g = g->parent)
        for (size_t i = 0; i < g->n_sparse_inits; i++)
            if (!strcmp(g->sparse_inits[i]->values->name, name))
                return g->sparse_inits[i];
    return NULL;
}

/* Shape of input `i` of `n` (a constant's dims, or the recorded shape) and, for a
 * constant float weight, the fraction of its elements that are not zero. */
static bool input_shape(const edgec_model *m, const edgec_shapes *sh, const edgec_node *n,
                        size_t i, int32_t *rank, const int64_t **dims, double *dens)
{
    *dens = 1.0;
    if (i >= n->n_inputs || !*n->inputs[i])
        return false;
    edgec_weight w;
    const edgec_sparse *sp;
    if (edgec__find_const((edgec_model *)m, n->graph, n->inputs[i], false, &w) && w.tensor) {
        *rank = w.rank;
        *dims = w.dims;
        *dens = density(w.tensor);
        return true;
    }
    if ((sp = find_sparse(n->graph, n->inputs[i]))) {
        int64_t numel = 1;
        for (int32_t k = 0; k < sp->rank; k++)
            numel *= sp->dims[k];
        *rank = sp->rank;
        *dims = sp->dims;
        *dens = numel > 0 ? (double)sp->values->numel / (double)numel : 1.0;
        return true;
    }
    const edgec_value_shape *v = edgec__shapes_find(sh, n->inputs[i]);
    if (!v)
        return false;
    *rank = v->rank;
    *dims = v->dims;
    return true;
}

static int64_t numel_of(int32_t rank, const int64_t *dims)
{
    int64_t n = 1;
    for (int32_t i = 0; i < rank; i++)
        n *= dims[i];
    return n;
}

/* MACs of one node: dense, and with zero weights skipped. */
static void node_macs(const edgec_model *m, const edgec_shapes *sh, const edgec_node *n,
                      double *total, double *nonzero)
{
    int32_t ra, rw;
    const int64_t *da, *dw;
    double za, zw;
    const edgec_value_shape *y = n->n_outputs ? edgec__shapes_find(sh, n->outputs[0]) : NULL;
    const char *op = n->op_type;
    *total = *nonzero = 0;
    if (*n->domain || !input_shape(m, sh, n, 0, &ra, &da, &za) ||
        !input_shape(m, sh, n, 1, &rw, &dw, &zw))
        return;
    if (!strcmp(op, "Conv") && y && rw >= 2) {
        *total = (double)numel_of(y->rank, y->dims) * (double)numel_of(rw - 1, dw + 1);
        *nonzero = *total * zw;
    } else if (!strcmp(op, "ConvTranspose") && rw >= 2) {
        *total = (double)numel_of(ra, da) * (double)numel_of(rw - 1, dw + 1);
        *nonzero = *total * zw;
    } else if ((!strcmp(op, "Gemm") || !strcmp(op, "MatMul")) && y && ra >= 1) {
        int64_t k = da[ra - 1];
        if (!strcmp(op, "Gemm") && edgec__attr_int(n, "transA", 0) && ra == 2)
            k = da[0];
        *total = (double)numel_of(y->rank, y->dims) * (double)k;
        /* Either operand may be the constant weight (x W and W x forms). */
        *nonzero = *total * (zw < 1.0 ? zw : za);
    } else if ((!strcmp(op, "LSTM") || !strcmp(op, "GRU") || !strcmp(op, "RNN")) && ra == 3 &&
               rw == 3) {
        int32_t rr;
        const int64_t *dr;
        double zr;
        if (!input_shape(m, sh, n, 2, &rr, &dr, &zr) || rr != 3)
            return;
        double steps = (double)da[0] * (double)da[1]; /* seq * batch, either layout */
        double wx = steps * (double)numel_of(3, dw), wh = steps * (double)numel_of(3, dr);
        *total = wx + wh;
        *nonzero = wx * zw + wh * zr;
    }
}

edgec_status edgec__model_macs(const edgec_model *m, edgec_macs *out)
{
    edgec_shapes sh;
    *out = (edgec_macs){0};
    edgec_status st = edgec__shapes_run(m, &sh);
    if (st)
        return st;
    double total = 0, nonzero = 0;
    for (size_t i = 0; i < m->graph->n_nodes; i++) {
        double t, z;
        node_macs(m, &sh, m->graph->nodes[i], &t, &z);
        total += t;
        nonzero += z;
    }
    out->total = (uint64_t)(total + 0.5);
    out->nonzero = (uint64_t)(nonzero + 0.5);
    edgec__shapes_free(&sh);
    return EDGEC_STATUS_OK;
}
