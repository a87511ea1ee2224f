/* The non-finite weight check.
 *
 * A NaN or an infinity in a weight poisons everything a lossy pass computes from it:
 * a quantization scale becomes NaN, a pruning threshold sorts wrongly, a k-means
 * centroid absorbs the whole cluster. Such weights are nearly always the mark of a
 * broken export, so edgec refuses them unless told to pass them through untouched. */
#include <stdio.h>
#include <string.h>

#include "ir/ir.h"

/* Index (in elements of `per` bytes) of the first `width`-byte unit of p[0..n) whose bits
 * under `mask` are all set, or -1. The host is little-endian, like the tensor data. */
static int64_t first_all_ones(const uint8_t *p, size_t n, size_t width, size_t per, uint64_t mask)
{
    for (size_t i = 0; i + width <= n; i += width) {
        uint64_t v = 0;
        memcpy(&v, p + i, width);
        if ((v & mask) == mask)
            return (int64_t)(i / per);
    }
    return -1;
}

/* The IEEE-style formats: NaN and infinity have every bit of the exponent set (for
 * FLOAT8E4M3FN, which has no infinity, NaN has exponent and mantissa set). */
static const struct {
    int32_t dtype;
    uint8_t width, per; /* bytes per stored unit and per element (complex: two units) */
    uint64_t mask;
} ieee_formats[] = {
    {EDGEC_DTYPE_FLOAT, 4, 4, 0x7f800000u},
    {EDGEC_DTYPE_COMPLEX64, 4, 8, 0x7f800000u},
    {EDGEC_DTYPE_DOUBLE, 8, 8, 0x7ff0000000000000ull},
    {EDGEC_DTYPE_COMPLEX128, 8, 16, 0x7ff0000000000000ull},
    {EDGEC_DTYPE_FLOAT16, 2, 2, 0x7c00u},
    {EDGEC_DTYPE_BFLOAT16, 2, 2, 0x7f80u},
    {EDGEC_DTYPE_FLOAT8E4M3FN, 1, 1, 0x7fu},
    {EDGEC_DTYPE_FLOAT8E5M2, 1, 1, 0x7cu},
};

/* Index of the first non-finite element of `t`, or -1 when all are finite or the type
 * has no non-finite values. `t->data` holds `t->nbytes` bytes, checked when read. */
static int64_t first_nonfinite(const edgec_tensor *t)
{
    const uint8_t *p = t->data;
    if (!p)
        return -1;
    for (size_t k = 0; k < sizeof ieee_formats / sizeof ieee_formats[0]; k++)
        if (ieee_formats[k].dtype == t->dtype)
            return first_all_ones(p, t->nbytes, ieee_formats[k].width, ieee_formats[k].per,
                                  ieee_formats[k].mask);
    if (t->dtype == EDGEC_DTYPE_FLOAT8E4M3FNUZ || t->dtype == EDGEC_DTYPE_FLOAT8E5M2FNUZ) {
        /* The "negative zero" pattern is the only NaN of these formats. */
        const uint8_t *q = memchr(p, 0x80, t->nbytes);
        return q ? (int64_t)(q - p) : -1;
    }
    return -1; /* integers, strings and FLOAT4E2M1 have no NaN or infinity */
}

typedef struct finite_ctx {
    const edgec_model *m;
} finite_ctx;

static edgec_status refuse(const finite_ctx *c, const edgec_graph *g, const char *what,
                           int64_t index, int64_t numel)
{
    char where[512];
    edgec__graph_path(g, where, sizeof where);
    return edgec__fail(EDGEC_STATUS_INVALID_MODEL,
                       "%s: %s in graph %s holds a NaN or infinity at element %lld of %lld; "
                       "fix the export, or pass --allow-nonfinite to keep such weights as they "
                       "are",
                       c->m->path, what, where, (long long)index, (long long)numel);
}

static edgec_status check_tensor(const finite_ctx *c, const edgec_graph *g,
                                 const edgec_tensor *t, const char *what)
{
    int64_t i = first_nonfinite(t);
    return i < 0 ? EDGEC_STATUS_OK : refuse(c, g, what, i, t->numel);
}

static edgec_status check_sparse(const finite_ctx *c, const edgec_graph *g,
                                 const edgec_sparse *s, const char *what)
{
    return check_tensor(c, g, s->values, what);
}

/* Every tensor an attribute holds (Constant values, ConstantOfShape fills, tensor lists),
 * plus the float lists of Constant nodes (value_float, value_floats). */
static edgec_status check_attr(const finite_ctx *c, const edgec_graph *g, const edgec_node *n,
                               const edgec_attr *a)
{
    char what[384];
    snprintf(what, sizeof what, "tensor '%s' (attribute '%s' of node '%s', %s)",
             a->t && *a->t->name ? a->t->name : (n->n_outputs ? n->outputs[0] : ""), a->name,
             n->name, n->op_type);
    edgec_status st = EDGEC_STATUS_OK;
    if (a->t && (st = check_tensor(c, g, a->t, what)))
        return st;
    if (a->sparse && (st = check_sparse(c, g, a->sparse, what)))
        return st;
    for (size_t i = 0; a->type == EDGEC_ATTR_TENSORS && i < a->n; i++)
        if ((st = check_tensor(c, g, a->tensors[i], what)))
            return st;
    for (size_t i = 0; a->type == EDGEC_ATTR_SPARSE_TENSORS && i < a->n; i++)
        if ((st = check_sparse(c, g, a->sparse_tensors[i], what)))
            return st;
    if (!strcmp(n->op_type, "Constant") && !*n->domain) {
        if (a->type == EDGEC_ATTR_FLOAT && !__builtin_isfinite(a->f))
            return refuse(c, g, what, 0, 1);
        for (size_t i = 0; a->type == EDGEC_ATTR_FLOATS && i < a->n; i++)
            if (!__builtin_isfinite(a->floats[i]))
                return refuse(c, g, what, (int64_t)i, (int64_t)a->n);
    }
    return EDGEC_STATUS_OK;
}

static edgec_status check_graph(edgec_graph *g, void *vctx)
{
    const finite_ctx *c = vctx;
    edgec_status st = EDGEC_STATUS_OK;
    char what[320];
    for (size_t i = 0; !st && i < g->n_inits; i++) {
        snprintf(what, sizeof what, "initializer '%s'", g->inits[i]->name);
        st = check_tensor(c, g, g->inits[i], what);
    }
    for (size_t i = 0; !st && i < g->n_sparse_inits; i++) {
        snprintf(what, sizeof what, "sparse initializer '%s'", g->sparse_inits[i]->values->name);
        st = check_sparse(c, g, g->sparse_inits[i], what);
    }
    for (size_t i = 0; !st && i < g->n_nodes; i++)
        for (size_t k = 0; !st && k < g->nodes[i]->n_attrs; k++)
            st = check_attr(c, g, g->nodes[i], &g->nodes[i]->attrs[k]);
    return st;
}

edgec_status edgec_model_check_finite(const edgec_model *model)
{
    edgec__error_clear();
    finite_ctx c = {model};
    /* The walk only reads: the cast drops const for the shared graph iterator. */
    return edgec__model_graphs((edgec_model *)model, check_graph, &c);
}
