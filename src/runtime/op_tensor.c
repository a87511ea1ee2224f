/* Tensor ops: Gather GatherElements GatherND ScatterND ScatterElements Constant
 * ConstantOfShape Range Trilu Pad Resize Upsample. Indices are bounds-checked before any
 * access; an index out of range is INVALID_MODEL naming the node. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/kernels_b.h"

static edgec_status need_esize(const edgec_op_ctx *ctx, const edgec_rt_tensor *t, size_t *es)
{
    *es = edgec__kb_esize(t->dtype);
    if (!*es)
        return edgec__op_fail(ctx, EDGEC_STATUS_UNSUPPORTED, "data type %s is not supported here",
                              edgec__dtype(t->dtype)->name);
    return EDGEC_STATUS_OK;
}

static bool is_index_type(int32_t dt)
{
    return dt == EDGEC_DTYPE_INT64 || dt == EDGEC_DTYPE_INT32;
}

static edgec_status bad_index(const edgec_op_ctx *ctx, int64_t v, int64_t n)
{
    return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                          "index %lld is out of range for an axis of size %lld", (long long)v,
                          (long long)n);
}

/* ---------------------------------------------------------------- Gather */

static edgec_status op_gather(edgec_op_ctx *ctx)
{
    edgec_status st = edgec__kb_need_inputs(ctx, 2);
    if (st)
        return st;
    const edgec_rt_tensor *x = ctx->inputs[0], *ind = ctx->inputs[1];
    size_t es;
    if ((st = need_esize(ctx, x, &es)))
        return st;
    if (!is_index_type(ind->dtype))
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "indices must be int32 or int64");
    if (x->rank < 1)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "data must have rank >= 1");
    int32_t axis = 0;
    if ((st = edgec__kb_axis(ctx, edgec__attr_int(ctx->node, "axis", 0), x->rank, false, &axis)))
        return st;
    int32_t orank = x->rank - 1 + ind->rank;
    if (orank > EDGEC_MAX_RANK)
        return edgec__op_fail(ctx, EDGEC_STATUS_LIMIT, "result rank %d is over the limit", (int)orank);
    int64_t od[EDGEC_MAX_RANK], outer = 1, inner = 1, n = x->dims[axis];
    int32_t r = 0;
    for (int32_t i = 0; i < axis; i++) {
        od[r++] = x->dims[i];
        outer *= x->dims[i];
    }
    for (int32_t i = 0; i < ind->rank; i++)
        od[r++] = ind->dims[i];
    for (int32_t i = axis + 1; i < x->rank; i++) {
        od[r++] = x->dims[i];
        inner *= x->dims[i];
    }
    int64_t ni = ind->numel;
    int64_t *idx = malloc((size_t)(ni ? ni : 1) * sizeof *idx);
    if (!idx)
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
    for (int64_t j = 0; j < ni; j++) {
        int64_t v = edgec__rt_get_i64(ind, j);
        if (v < -n || v >= n) {
            free(idx);
            return bad_index(ctx, v, n);
        }
        idx[j] = v < 0 ? v + n : v;
    }
    edgec_rt_tensor *o = edgec__rt_output(ctx, 0, x->dtype, orank, od);
    if (!o) {
        free(idx);
        return EDGEC_STATUS_NO_MEMORY;
    }
    size_t row = (size_t)inner * es;
    char *po = o->data;
    const char *px = x->data;
    if (row)
        for (int64_t a = 0; a < outer; a++)
            for (int64_t j = 0; j < ni; j++) {
                memcpy(po, px + ((size_t)(a * n + idx[j])) * row, row);
                po += row;
            }
    free(idx);
    return EDGEC_STATUS_OK;
}

static edgec_status op_gather_elements(edgec_op_ctx *ctx)
{
    edgec_status st = edgec__kb_need_inputs(ctx, 2);
    if (st)
        return st;
    const edgec_rt_tensor *x = ctx->inputs[0], *ind = ctx->inputs[1];
    size_t es;
    if ((st = need_esize(ctx, x, &es)))
        return st;
    if (!is_index_type(ind->dtype))
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "indices must be int32 or int64");
    if (x->rank < 1 || ind->rank != x->rank)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "data and indices must have the same rank >= 1");
    int32_t axis = 0;
    if ((st = edgec__kb_axis(ctx, edgec__attr_int(ctx->node, "axis", 0), x->rank, false, &axis)))
        return st;
    for (int32_t i = 0; i < x->rank; i++)
        if (i != axis && ind->dims[i] > x->dims[i])
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                                  "indices dim %d (%lld) exceeds the data dim (%lld)", (int)i,
                                  (long long)ind->dims[i], (long long)x->dims[i]);
    edgec_rt_tensor *o = edgec__rt_output(ctx, 0, x->dtype, ind->rank, ind->dims);
    if (!o)
        return EDGEC_STATUS_NO_MEMORY;
    int64_t xs[EDGEC_MAX_RANK], cnt[EDGEC_MAX_RANK] = {0}, off = 0, n = x->dims[axis];
    edgec__kb_strides(x->rank, x->dims, xs);
    for (int64_t e = 0; e < ind->numel; e++) {
        int64_t v = edgec__rt_get_i64(ind, e);
        if (v < -n || v >= n)
            return bad_index(ctx, v, n);
        if (v < 0)
            v += n;
        memcpy((char *)o->data + (size_t)e * es,
               (const char *)x->data + (size_t)(off + v * xs[axis]) * es, es);
        for (int32_t k = x->rank - 1; k >= 0; k--) {
            if (k != axis)
                off += xs[k];
            if (++cnt[k] < ind->dims[k])
                break;
            if (k != axis)
                off -= xs[k] * ind->dims[k];
            cnt[k] = 0;
        }
    }
    return EDGEC_STATUS_OK;
}

static edgec_status op_gather_nd(edgec_op_ctx *ctx)
{
    edgec_status st = edgec__kb_need_inputs(ctx, 2);
    if (st)
        return st;
    const edgec_rt_tensor *x = ctx->inputs[0], *ind = ctx->inputs[1];
    size_t es;
    if ((st = need_esize(ctx, x, &es)))
        return st;
    if (ind->dtype != EDGEC_DTYPE_INT64 || ind->rank < 1 || x->rank < 1)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "needs int64 indices of rank >= 1");
    int64_t b = edgec__attr_int(ctx->node, "batch_dims", 0);
    int64_t k = ind->dims[ind->rank - 1];
    if (b < 0 || b >= ind->rank || b >= x->rank || k < 1 || b + k > x->rank)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "indices shape does not fit data");
    int64_t od[EDGEC_MAX_RANK], batch = 1, slice = 1, nidx = 1;
    int32_t r = 0;
    for (int32_t i = 0; i < b; i++) {
        if (ind->dims[i] != x->dims[i])
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "batch dims differ");
        batch *= x->dims[i];
    }
    for (int32_t i = 0; i < ind->rank - 1; i++) {
        od[r++] = ind->dims[i];
        if (i >= b)
            nidx *= ind->dims[i];
    }
    for (int32_t i = (int32_t)(b + k); i < x->rank; i++) {
        if (r >= EDGEC_MAX_RANK)
            return edgec__op_fail(ctx, EDGEC_STATUS_LIMIT, "result rank is over the limit");
        od[r++] = x->dims[i];
        slice *= x->dims[i];
    }
    edgec_rt_tensor *o = edgec__rt_output(ctx, 0, x->dtype, r, od);
    if (!o)
        return EDGEC_STATUS_NO_MEMORY;
    int64_t xs[EDGEC_MAX_RANK];
    edgec__kb_strides(x->rank, x->dims, xs);
    int64_t bstride = b ? xs[b - 1] : 0;
    const int64_t *pi = ind->data;
    char *po = o->data;
    for (int64_t bi = 0; bi < batch; bi++)
        for (int64_t j = 0; j < nidx; j++) {
            int64_t off = bi * bstride;
            for (int64_t q = 0; q < k; q++) {
                int64_t d = x->dims[b + q], v = *pi++;
                if (v < -d || v >= d)
                    return bad_index(ctx, v, d);
                off += (v < 0 ? v + d : v) * xs[b + q];
            }
            memcpy(po, (const char *)x->data + (size_t)off * es, (size_t)slice * es);
            po += (size_t)slice * es;
        }
    return EDGEC_STATUS_OK;
}

/* ---------------------------------------------------------------- Scatter */

/* A string attribute's value mapped through a table of names (ending with a NULL
 * name): the house's table-for-if-chain form of "one of these words". */
typedef struct name_value {
    const char *name;
    int value;
} name_value;

static edgec_status attr_choice(const edgec_op_ctx *ctx, const char *attr, const char *def,
                                const name_value *tab, int *out)
{
    char buf[64];
    const char *v = edgec__attr_string(ctx->node, attr, buf, sizeof buf, def);
    for (; tab->name; tab++) {
        if (!strcmp(tab->name, v)) {
            *out = tab->value;
            return EDGEC_STATUS_OK;
        }
    }
    return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "unknown %s '%s'", attr, v);
}

enum scat { S_NONE, S_ADD, S_MUL, S_MAX, S_MIN };

static edgec_status scatter_reduction(const edgec_op_ctx *ctx, enum scat *out)
{
    static const name_value reductions[] = {
        {"none", S_NONE}, {"add", S_ADD}, {"mul", S_MUL}, {"max", S_MAX}, {"min", S_MIN}, {0}};
    int v = S_NONE;
    edgec_status st = attr_choice(ctx, "reduction", "none", reductions, &v);
    *out = (enum scat)v;
    return st;
}

/* o[oi .. oi+n) (op)= u[ui .. ui+n) */
static void scatter_apply(edgec_rt_tensor *o, int64_t oi, const edgec_rt_tensor *u, int64_t ui,
                          int64_t n, enum scat red, size_t es)
{
    if (red == S_NONE) {
        memcpy((char *)o->data + (size_t)oi * es, (const char *)u->data + (size_t)ui * es,
               (size_t)n * es);
        return;
    }
    bool fl = edgec__kb_is_float(o->dtype);
    for (int64_t i = 0; i < n; i++) {
        if (fl) {
            double a = edgec__rt_get_f64(o, oi + i), b = edgec__rt_get_f64(u, ui + i);
            double v = red == S_ADD ? a + b : red == S_MUL ? a * b : red == S_MAX ? fmax(a, b)
                                                                                 : fmin(a, b);
            edgec__rt_set_f64(o, oi + i, v);
        } else {
            int64_t a = edgec__rt_get_i64(o, oi + i), b = edgec__rt_get_i64(u, ui + i);
            int64_t v = red == S_ADD   ? (int64_t)((uint64_t)a + (uint64_t)b)
                        : red == S_MUL ? (int64_t)((uint64_t)a * (uint64_t)b)
                        : red == S_MAX ? (a > b ? a : b)
                                       : (a < b ? a : b);
            edgec__kb_set_i64(o, oi + i, v);
        }
    }
}

static edgec_status op_scatter_nd(edgec_op_ctx *ctx)
{
    edgec_status st = edgec__kb_need_inputs(ctx, 3);
    if (st)
        return st;
    const edgec_rt_tensor *x = ctx->inputs[0], *ind = ctx->inputs[1], *up = ctx->inputs[2];
    size_t es;
    if ((st = need_esize(ctx, x, &es)))
        return st;
    enum scat red;
    if ((st = scatter_reduction(ctx, &red)))
        return st;
    if (ind->dtype != EDGEC_DTYPE_INT64 || ind->rank < 1 || up->dtype != x->dtype)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "needs int64 indices of rank >= 1 and updates of the data type");
    int64_t k = ind->dims[ind->rank - 1];
    if (k < 0 || k > x->rank)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "indices last dim %lld exceeds rank %d",
                              (long long)k, (int)x->rank);
    /* updates shape = indices.shape[:-1] + data.shape[k:] */
    int32_t ur = ind->rank - 1 + x->rank - (int32_t)k;
    bool ok = up->rank == ur;
    for (int32_t i = 0; ok && i < ind->rank - 1; i++)
        ok = up->dims[i] == ind->dims[i];
    for (int32_t i = 0; ok && i < x->rank - k; i++)
        ok = up->dims[ind->rank - 1 + i] == x->dims[k + i];
    if (!ok)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "updates shape does not match indices and data");
    edgec_rt_tensor *o = edgec__rt_output(ctx, 0, x->dtype, x->rank, x->dims);
    if (!o)
        return EDGEC_STATUS_NO_MEMORY;
    if (o->nbytes)
        memcpy(o->data, x->data, o->nbytes);
    int64_t xs[EDGEC_MAX_RANK], slice = 1, n = 1;
    edgec__kb_strides(x->rank, x->dims, xs);
    for (int32_t i = (int32_t)k; i < x->rank; i++)
        slice *= x->dims[i];
    for (int32_t i = 0; i < ind->rank - 1; i++)
        n *= ind->dims[i];
    const int64_t *pi = ind->data;
    for (int64_t j = 0; j < n; j++) {
        int64_t off = 0;
        for (int64_t q = 0; q < k; q++) {
            int64_t d = x->dims[q], v = pi[j * k + q];
            if (v < -d || v >= d)
                return bad_index(ctx, v, d);
            off += (v < 0 ? v + d : v) * xs[q];
        }
        scatter_apply(o, off, up, j * slice, slice, red, es);
    }
    return EDGEC_STATUS_OK;
}

static edgec_status op_scatter_elements(edgec_op_ctx *ctx)
{
    edgec_status st = edgec__kb_need_inputs(ctx, 3);
    if (st)
        return st;
    const edgec_rt_tensor *x = ctx->inputs[0], *ind = ctx->inputs[1], *up = ctx->inputs[2];
    size_t es;
    if ((st = need_esize(ctx, x, &es)))
        return st;
    enum scat red;
    if ((st = scatter_reduction(ctx, &red)))
        return st;
    if (!is_index_type(ind->dtype) || up->dtype != x->dtype || ind->rank != x->rank ||
        up->rank != ind->rank || x->rank < 1)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "data, indices and updates must have the same rank");
    for (int32_t i = 0; i < x->rank; i++)
        if (up->dims[i] != ind->dims[i] || ind->dims[i] > x->dims[i])
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                                  "indices and updates shapes do not fit the data");
    int32_t axis = 0;
    if ((st = edgec__kb_axis(ctx, edgec__attr_int(ctx->node, "axis", 0), x->rank, false, &axis)))
        return st;
    edgec_rt_tensor *o = edgec__rt_output(ctx, 0, x->dtype, x->rank, x->dims);
    if (!o)
        return EDGEC_STATUS_NO_MEMORY;
    if (o->nbytes)
        memcpy(o->data, x->data, o->nbytes);
    int64_t xs[EDGEC_MAX_RANK], cnt[EDGEC_MAX_RANK] = {0}, off = 0, n = x->dims[axis];
    edgec__kb_strides(x->rank, x->dims, xs);
    for (int64_t e = 0; e < ind->numel; e++) {
        int64_t v = edgec__rt_get_i64(ind, e);
        if (v < -n || v >= n)
            return bad_index(ctx, v, n);
        if (v < 0)
            v += n;
        scatter_apply(o, off + v * xs[axis], up, e, 1, red, es);
        for (int32_t k = x->rank - 1; k >= 0; k--) {
            if (k != axis)
                off += xs[k];
            if (++cnt[k] < ind->dims[k])
                break;
            if (k != axis)
                off -= xs[k] * ind->dims[k];
            cnt[k] = 0;
        }
    }
    return EDGEC_STATUS_OK;
}

/* ---------------------------------------------------------------- Constant */

static edgec_status constant_from_tensor(edgec_op_ctx *ctx, const edgec_tensor *t)
{
    if (!t || t->dtype == EDGEC_DTYPE_STRING || (!t->data && t->numel))
        return edgec__op_fail(ctx, EDGEC_STATUS_UNSUPPORTED, "string or empty tensors are not supported");
    if (t->rank < 0 || t->rank > EDGEC_MAX_RANK)
        return edgec__op_fail(ctx, EDGEC_STATUS_LIMIT, "tensor rank %d is over the limit",
                              (int)t->rank);
    edgec_rt_tensor *o = edgec__rt_output(ctx, 0, t->dtype, t->rank, t->dims);
    if (!o)
        return EDGEC_STATUS_NO_MEMORY;
    if (o->nbytes != t->nbytes && o->nbytes)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "tensor holds %zu bytes, its shape needs %zu", t->nbytes, o->nbytes);
    if (o->nbytes)
        memcpy(o->data, t->data, o->nbytes);
    return EDGEC_STATUS_OK;
}

static edgec_status constant_sparse(edgec_op_ctx *ctx, const edgec_sparse *sp)
{
    const edgec_tensor *v = sp->values, *ix = sp->indices;
    if (!v || !ix || !v->data || (ix->numel && !ix->data) || sp->rank < 0 ||
        sp->rank > EDGEC_MAX_RANK)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "sparse_value is incomplete");
    size_t es = edgec__kb_esize(v->dtype);
    if (!es)
        return edgec__op_fail(ctx, EDGEC_STATUS_UNSUPPORTED, "sparse values of type %s",
                              edgec__dtype(v->dtype)->name);
    edgec_rt_tensor *o = edgec__rt_output(ctx, 0, v->dtype, sp->rank, sp->dims);
    if (!o)
        return EDGEC_STATUS_NO_MEMORY;
    int64_t nnz = v->numel;
    bool linear = ix->rank == 1;
    if (ix->dtype != EDGEC_DTYPE_INT64 ||
        !(linear ? ix->numel == nnz
                 : ix->rank == 2 && ix->dims[0] == nnz && ix->dims[1] == sp->rank))
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "sparse indices must be int64 [NNZ] or [NNZ, rank]");
    int64_t xs[EDGEC_MAX_RANK];
    edgec__kb_strides(sp->rank, sp->dims, xs);
    const int64_t *pi = ix->data;
    for (int64_t j = 0; j < nnz; j++) {
        int64_t off = 0;
        if (linear) {
            off = pi[j];
            if (off < 0 || off >= o->numel)
                return bad_index(ctx, off, o->numel);
        } else {
            for (int32_t q = 0; q < sp->rank; q++) {
                int64_t c = pi[j * sp->rank + q];
                if (c < 0 || c >= sp->dims[q])
                    return bad_index(ctx, c, sp->dims[q]);
                off += c * xs[q];
            }
        }
        memcpy((char *)o->data + (size_t)off * es, (const char *)v->data + (size_t)j * es, es);
    }
    return EDGEC_STATUS_OK;
}

static edgec_status op_constant(edgec_op_ctx *ctx)
{
    const edgec_node *n = ctx->node;
    const edgec_attr *a;
    if ((a = edgec__node_attr(n, "value")) && a->type == EDGEC_ATTR_TENSOR)
        return constant_from_tensor(ctx, a->t);
    if ((a = edgec__node_attr(n, "sparse_value")) && a->type == EDGEC_ATTR_SPARSE_TENSOR && a->sparse)
        return constant_sparse(ctx, a->sparse);
    if ((a = edgec__node_attr(n, "value_float"))) {
        edgec_rt_tensor *o = edgec__rt_output(ctx, 0, EDGEC_DTYPE_FLOAT, 0, NULL);
        if (!o)
            return EDGEC_STATUS_NO_MEMORY;
        *(float *)o->data = a->type == EDGEC_ATTR_INT ? (float)a->i : a->f;
        return EDGEC_STATUS_OK;
    }
    if ((a = edgec__node_attr(n, "value_int"))) {
        edgec_rt_tensor *o = edgec__rt_output(ctx, 0, EDGEC_DTYPE_INT64, 0, NULL);
        if (!o)
            return EDGEC_STATUS_NO_MEMORY;
        *(int64_t *)o->data = a->i;
        return EDGEC_STATUS_OK;
    }
    if ((a = edgec__node_attr(n, "value_floats")) && a->type == EDGEC_ATTR_FLOATS) {
        int64_t d = (int64_t)a->n;
        edgec_rt_tensor *o = edgec__rt_output(ctx, 0, EDGEC_DTYPE_FLOAT, 1, &d);
        if (!o)
            return EDGEC_STATUS_NO_MEMORY;
        if (a->n)
            memcpy(o->data, a->floats, a->n * sizeof(float));
        return EDGEC_STATUS_OK;
    }
    if ((a = edgec__node_attr(n, "value_ints")) && a->type == EDGEC_ATTR_INTS) {
        int64_t d = (int64_t)a->n;
        edgec_rt_tensor *o = edgec__rt_output(ctx, 0, EDGEC_DTYPE_INT64, 1, &d);
        if (!o)
            return EDGEC_STATUS_NO_MEMORY;
        if (a->n)
            memcpy(o->data, a->ints, a->n * sizeof(int64_t));
        return EDGEC_STATUS_OK;
    }
    if (edgec__node_attr(n, "value_string") || edgec__node_attr(n, "value_strings"))
        return edgec__op_fail(ctx, EDGEC_STATUS_UNSUPPORTED, "string constants are not supported");
    return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "has no value attribute");
}

static edgec_status op_constant_of_shape(edgec_op_ctx *ctx)
{
    edgec_status st = edgec__kb_need_inputs(ctx, 1);
    if (st)
        return st;
    int64_t dims[EDGEC_MAX_RANK];
    size_t n = 0;
    if (ctx->inputs[0]->dtype != EDGEC_DTYPE_INT64)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "shape must be int64");
    if ((st = edgec__kb_read_ints(ctx, ctx->inputs[0], "shape", dims, EDGEC_MAX_RANK, &n)))
        return st;
    for (size_t i = 0; i < n; i++)
        if (dims[i] < 0)
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "shape[%zu] is negative", i);
    const edgec_attr *a = edgec__node_attr(ctx->node, "value");
    const edgec_tensor *t = a && a->type == EDGEC_ATTR_TENSOR ? a->t : NULL;
    int32_t dt = t ? t->dtype : EDGEC_DTYPE_FLOAT;
    size_t es = edgec__kb_esize(dt);
    if (t && (t->numel != 1 || !t->data || !es || t->nbytes < es))
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "value must hold one number");
    edgec_rt_tensor *o = edgec__rt_output(ctx, 0, dt, (int32_t)n, dims);
    if (!o)
        return EDGEC_STATUS_NO_MEMORY;
    if (t) {
        char *p = o->data;
        bool zero = true;
        for (size_t i = 0; i < es; i++)
            zero &= ((const uint8_t *)t->data)[i] == 0;
        if (!zero)
            for (int64_t i = 0; i < o->numel; i++)
                memcpy(p + (size_t)i * es, t->data, es);
    }
    return EDGEC_STATUS_OK;
}

/* ---------------------------------------------------------------- Range */

static edgec_status op_range(edgec_op_ctx *ctx)
{
    edgec_status st = edgec__kb_need_inputs(ctx, 3);
    if (st)
        return st;
    const edgec_rt_tensor *ts = ctx->inputs[0], *tl = ctx->inputs[1], *td = ctx->inputs[2];
    int32_t dt = ts->dtype;
    if (tl->dtype != dt || td->dtype != dt || ts->numel != 1 || tl->numel != 1 || td->numel != 1)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "start, limit and delta must be scalars of one type");
    if (!edgec__kb_is_float(dt) && !edgec__kb_is_int(dt))
        return edgec__op_fail(ctx, EDGEC_STATUS_UNSUPPORTED, "type %s", edgec__dtype(dt)->name);
    int64_t n;
    if (edgec__kb_is_float(dt)) {
        double s = edgec__rt_get_f64(ts, 0), l = edgec__rt_get_f64(tl, 0),
               d = edgec__rt_get_f64(td, 0);
        if (d == 0 || !isfinite(s) || !isfinite(l) || !isfinite(d))
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "delta is 0 or a value is not finite");
        double c = ceil((l - s) / d);
        if (c > 1e12)
            return edgec__op_fail(ctx, EDGEC_STATUS_LIMIT, "range of %g elements", c);
        n = c > 0 ? (int64_t)c : 0;
        edgec_rt_tensor *o = edgec__rt_output(ctx, 0, dt, 1, &n);
        if (!o)
            return EDGEC_STATUS_NO_MEMORY;
        if (dt == EDGEC_DTYPE_FLOAT) {
            /* accumulate in the element type, as the reference implementations do */
            float v = (float)s, fd = (float)d;
            for (int64_t i = 0; i < n; i++, v += fd)
                ((float *)o->data)[i] = v;
        } else {
            for (int64_t i = 0; i < n; i++)
                edgec__rt_set_f64(o, i, s + (double)i * d);
        }
        return EDGEC_STATUS_OK;
    }
    int64_t s = edgec__rt_get_i64(ts, 0), l = edgec__rt_get_i64(tl, 0), d = edgec__rt_get_i64(td, 0);
    if (d == 0)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "delta is 0");
    double span = ((double)l - (double)s) / (double)d;
    if (span > 1e12)
        return edgec__op_fail(ctx, EDGEC_STATUS_LIMIT, "range of %g elements", span);
    if (span <= 0) {
        n = 0;
    } else {
        /* exact ceil((l - s) / d) in 128 bits to avoid overflow */
        __int128 diff = (__int128)l - s, q = diff / d, r = diff % d;
        if (r != 0 && ((r > 0) == (d > 0)))
            q++;
        n = (int64_t)q;
    }
    edgec_rt_tensor *o = edgec__rt_output(ctx, 0, dt, 1, &n);
    if (!o)
        return EDGEC_STATUS_NO_MEMORY;
    for (int64_t i = 0; i < n; i++)
        edgec__kb_set_i64(o, i, (int64_t)((uint64_t)s + (uint64_t)i * (uint64_t)d));
    return EDGEC_STATUS_OK;
}

/* ---------------------------------------------------------------- Trilu */

static edgec_status op_trilu(edgec_op_ctx *ctx)
{
    edgec_status st = edgec__kb_need_inputs(ctx, 1);
    if (st)
        return st;
    const edgec_rt_tensor *x = ctx->inputs[0];
    size_t es;
    if ((st = need_esize(ctx, x, &es)))
        return st;
    if (x->rank < 2)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "input must have rank >= 2");
    int64_t k = 0;
    const edgec_rt_tensor *tk = edgec__kb_in(ctx, 1);
    if (tk) {
        if (tk->numel != 1 || !is_index_type(tk->dtype))
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "k must be one int64 value");
        k = edgec__rt_get_i64(tk, 0);
    }
    bool upper = edgec__attr_int(ctx->node, "upper", 1) != 0;
    edgec_rt_tensor *o = edgec__rt_output(ctx, 0, x->dtype, x->rank, x->dims);
    if (!o)
        return EDGEC_STATUS_NO_MEMORY;
    int64_t R = x->dims[x->rank - 2], C = x->dims[x->rank - 1];
    int64_t mats = R > 0 && C > 0 ? x->numel / (R * C) : 0;
    for (int64_t m = 0; m < mats; m++)
        for (int64_t i = 0; i < R; i++) {
            /* kept columns: upper j >= i + k; lower j <= i + k */
            int64_t lo = upper ? i + k : 0, hi = upper ? C : i + k + 1;
            lo = lo < 0 ? 0 : lo > C ? C : lo;
            hi = hi < 0 ? 0 : hi > C ? C : hi;
            if (hi > lo) {
                size_t off = (size_t)((m * R + i) * C + lo) * es;
                memcpy((char *)o->data + off, (const char *)x->data + off, (size_t)(hi - lo) * es);
            }
        }
    return EDGEC_STATUS_OK;
}

/* dst[j] = src[idx[j]] for n elements of `es` bytes (idx < 0 takes `fill`). */
static void gather_row(char *dst, const char *src, const int64_t *idx, int64_t n, size_t es,
                       const void *fill)
{
#define GR(T)                                                                                      \
    {                                                                                              \
        T *d = (T *)(void *)dst, f;                                                                \
        const T *sp = (const T *)(const void *)src;                                                \
        memcpy(&f, fill, sizeof f);                                                                \
        for (int64_t j = 0; j < n; j++)                                                            \
            d[j] = idx[j] < 0 ? f : sp[idx[j]];                                                    \
        return;                                                                                    \
    }
    switch (es) {
    case 1:
        GR(uint8_t)
    case 2:
        GR(uint16_t)
    case 4:
        GR(uint32_t)
    case 8:
        GR(uint64_t)
    default:
        for (int64_t j = 0; j < n; j++)
            memcpy(dst + (size_t)j * es, idx[j] < 0 ? fill : src + (size_t)idx[j] * es, es);
    }
#undef GR
}

/* ---------------------------------------------------------------- Pad */

enum pad_mode { P_CONSTANT, P_REFLECT, P_EDGE, P_WRAP };

static edgec_status op_pad(edgec_op_ctx *ctx)
{
    edgec_status st = edgec__kb_need_inputs(ctx, ctx->opset >= 11 ? 2 : 1);
    if (st)
        return st;
    const edgec_rt_tensor *x = ctx->inputs[0];
    size_t es;
    if ((st = need_esize(ctx, x, &es)))
        return st;
    char mb[16];
    const char *ms = edgec__attr_string(ctx->node, "mode", mb, sizeof mb, "constant");
    enum pad_mode mode;
    if (!strcmp(ms, "constant"))
        mode = P_CONSTANT;
    else if (!strcmp(ms, "reflect"))
        mode = P_REFLECT;
    else if (!strcmp(ms, "edge"))
        mode = P_EDGE;
    else if (!strcmp(ms, "wrap"))
        mode = P_WRAP;
    else
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "unknown mode '%s'", ms);
    int32_t r = x->rank;
    int64_t pads[2 * EDGEC_MAX_RANK], axes[EDGEC_MAX_RANK];
    size_t np = 0, na = 0;
    edgec_rt_tensor *cval = NULL; /* one element of the data type */
    int64_t one = 1;
    if ((st = edgec__rt_tensor_new(x->dtype, 0, &one, &cval)))
        return st;
    if (ctx->opset >= 11) {
        if ((st = edgec__kb_read_ints(ctx, ctx->inputs[1], "pads", pads, 2 * EDGEC_MAX_RANK, &np)))
            goto out;
        const edgec_rt_tensor *tc = edgec__kb_in(ctx, 2), *ta = edgec__kb_in(ctx, 3);
        if (tc && tc->numel) {
            if (tc->dtype != x->dtype || tc->numel != 1) {
                st = edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                                    "constant_value must be one value of the data type");
                goto out;
            }
            memcpy(cval->data, tc->data, es);
        }
        if (ta && ctx->opset >= 18) {
            if ((st = edgec__kb_read_ints(ctx, ta, "axes", axes, EDGEC_MAX_RANK, &na)))
                goto out;
        }
    } else {
        np = edgec__attr_ints(ctx->node, "pads", pads, 2 * EDGEC_MAX_RANK);
        if (!np)
            np = edgec__attr_ints(ctx->node, "paddings", pads, 2 * EDGEC_MAX_RANK);
        edgec__rt_set_f64(cval, 0, edgec__attr_float(ctx->node, "value", 0.0f));
    }
    int64_t pb[EDGEC_MAX_RANK] = {0}, pe[EDGEC_MAX_RANK] = {0};
    if (na) {
        if (np != 2 * na) {
            st = edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "pads has %zu values for %zu axes",
                                np, na);
            goto out;
        }
        for (size_t i = 0; i < na; i++) {
            int32_t a = 0;
            if ((st = edgec__kb_axis(ctx, axes[i], r, false, &a)))
                goto out;
            pb[a] = pads[i];
            pe[a] = pads[i + na];
        }
    } else {
        if (np != 2 * (size_t)r) {
            st = edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "pads has %zu values for rank %d",
                                np, (int)r);
            goto out;
        }
        for (int32_t i = 0; i < r; i++) {
            pb[i] = pads[i];
            pe[i] = pads[i + r];
        }
    }
    int64_t od[EDGEC_MAX_RANK], total = 0;
    for (int32_t i = 0; i < r; i++) {
        if (pb[i] > (int64_t)1 << 40 || pe[i] > (int64_t)1 << 40 || pb[i] < -((int64_t)1 << 40) ||
            pe[i] < -((int64_t)1 << 40)) {
            st = edgec__op_fail(ctx, EDGEC_STATUS_LIMIT, "pads are too large");
            goto out;
        }
        od[i] = x->dims[i] + pb[i] + pe[i];
        if (od[i] < 0) {
            st = edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "pads make dim %d negative", (int)i);
            goto out;
        }
        if (mode != P_CONSTANT && x->dims[i] == 0 && od[i] > 0) {
            st = edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                                "cannot pad an empty axis in %s mode", ms);
            goto out;
        }
        total += od[i];
    }
    edgec_rt_tensor *o = edgec__rt_output(ctx, 0, x->dtype, r, od);
    if (!o) {
        st = EDGEC_STATUS_NO_MEMORY;
        goto out;
    }
    if (!o->numel)
        goto out;
    if (r == 0) {
        memcpy(o->data, x->data, es);
        goto out;
    }
    /* per-dim maps from output coordinate to input coordinate (-1: constant) */
    int64_t *map = malloc((size_t)total * sizeof *map), *mp[EDGEC_MAX_RANK];
    if (!map) {
        st = edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
        goto out;
    }
    int64_t xs[EDGEC_MAX_RANK];
    edgec__kb_strides(r, x->dims, xs);
    int64_t *q = map;
    for (int32_t i = 0; i < r; i++) {
        mp[i] = q;
        int64_t d = x->dims[i];
        for (int64_t j = 0; j < od[i]; j++) {
            int64_t s = j - pb[i];
            if (s < 0 || s >= d) {
                switch (mode) {
                case P_CONSTANT:
                    s = -1;
                    break;
                case P_EDGE:
                    s = s < 0 ? 0 : d - 1;
                    break;
                case P_WRAP:
                    s = ((s % d) + d) % d;
                    break;
                case P_REFLECT:
                    if (d == 1) {
                        s = 0;
                    } else {
                        int64_t per = 2 * (d - 1);
                        s = ((s % per) + per) % per;
                        if (s >= d)
                            s = per - s;
                    }
                    break;
                }
            }
            q[j] = s;
        }
        q += od[i];
    }
    int64_t inner = od[r - 1], rows = o->numel / inner, cnt[EDGEC_MAX_RANK] = {0};
    char *po = o->data;
    const char *px = x->data;
    const int64_t *ml = mp[r - 1];
    for (int64_t row = 0; row < rows; row++) {
        int64_t off = 0;
        bool fill = false;
        for (int32_t i = 0; i < r - 1; i++) {
            int64_t s = mp[i][cnt[i]];
            if (s < 0)
                fill = true;
            off += s * xs[i];
        }
        if (fill) {
            for (int64_t j = 0; j < inner; j++)
                memcpy(po + (size_t)j * es, cval->data, es);
        } else {
            gather_row(po, px + (size_t)off * es, ml, inner, es, cval->data);
        }
        po += (size_t)inner * es;
        for (int32_t k = r - 2; k >= 0; k--) {
            if (++cnt[k] < od[k])
                break;
            cnt[k] = 0;
        }
    }
    free(map);
out:
    edgec__rt_tensor_free(cval);
    return st;
}

/* ---------------------------------------------------------------- Resize / Upsample */

enum rs_mode { RS_NEAREST, RS_LINEAR, RS_CUBIC };
enum rs_coord { C_HALF_PIXEL, C_HALF_PIXEL_SYM, C_PYTORCH_HALF_PIXEL, C_ALIGN_CORNERS, C_ASYMMETRIC,
                C_TF_HALF_PIXEL_NN, C_TF_CROP_RESIZE };
enum rs_near { N_ROUND_PREFER_FLOOR, N_ROUND_PREFER_CEIL, N_FLOOR, N_CEIL, N_SIMPLE };

typedef struct rs_par {
    enum rs_mode mode;
    enum rs_coord coord;
    enum rs_near near;
    double cubic_a;
    bool exclude_outside, antialias;
    double extrapolation;
} rs_par;

/* Taps of one output axis: for each output coordinate, `ntap` (index, weight) pairs and
 * whether it lies outside the crop box (tf_crop_and_resize). */
typedef struct rs_axis {
    int64_t in, out;
    int ntap;
    int64_t *idx;
    float *w;
    bool *outside;
    bool identity;
} rs_axis;

static double cubic_kernel(double x, double A)
{
    x = fabs(x);
    if (x <= 1)
        return ((A + 2) * x - (A + 3)) * x * x + 1;
    if (x < 2)
        return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
    return 0;
}

static int64_t nearest_index(double x, enum rs_near m, bool down)
{
    double f = floor(x);
    switch (m) {
    case N_ROUND_PREFER_FLOOR:
        return (int64_t)(x - f == 0.5 ? f : round(x));
    case N_ROUND_PREFER_CEIL:
        return (int64_t)(x - f == 0.5 ? f + 1 : round(x));
    case N_FLOOR:
        return (int64_t)f;
    case N_CEIL:
        return (int64_t)ceil(x);
    case N_SIMPLE:
        return (int64_t)(down ? ceil(x) : f);
    }
    return (int64_t)f;
}

static bool rs_axis_build(rs_axis *ax, const rs_par *p, int64_t in, int64_t out, double scale,
                          double roi_start, double roi_end)
{
    ax->in = in;
    ax->out = out;
    double sc = p->antialias && scale < 1 && p->mode != RS_NEAREST ? scale : 1.0;
    int start, ntap;
    /* A zero (or NaN) scale gives an empty axis, where the filter width does not matter;
     * a tiny one would need more taps than allowed below, and -1 / sc would overflow. */
    if (!(sc > 0))
        sc = 1.0;
    if (sc < 1.0 / 4096)
        return false;
    if (p->mode == RS_NEAREST) {
        start = 0, ntap = 1;
    } else if (p->mode == RS_LINEAR) {
        start = (int)floor(-1.0 / sc) + 1;
        ntap = 2 - 2 * start;
    } else {
        start = (int)floor(-2.0 / sc) + 1;
        ntap = 2 - 2 * start;
    }
    if (ntap > 4096)
        return false;
    ax->ntap = ntap;
    size_t n = (size_t)(out ? out : 1) * (size_t)ntap;
    ax->idx = malloc(n * sizeof *ax->idx);
    ax->w = malloc(n * sizeof *ax->w);
    ax->outside = calloc((size_t)(out ? out : 1), 1);
    if (!ax->idx || !ax->w || !ax->outside)
        return false;
    double *cw = malloc((size_t)ntap * sizeof *cw);
    if (!cw)
        return false;
    bool ident = in == out;
    for (int64_t j = 0; j < out; j++) {
        /* As in the ONNX reference, the resized length is in * scale (not rounded). */
        double x, ow = scale * (double)in;
        switch (p->coord) {
        case C_HALF_PIXEL:
            x = (j + 0.5) / scale - 0.5;
            break;
        case C_HALF_PIXEL_SYM: {
            double adj = (double)out / ow;
            double center = (double)in / 2;
            x = center * (1 - adj) + (j + 0.5) / scale - 0.5;
            break;
        }
        case C_PYTORCH_HALF_PIXEL:
            x = ow == 1 ? -0.5 : (j + 0.5) / scale - 0.5;
            break;
        case C_ALIGN_CORNERS:
            x = ow == 1 ? 0 : (double)j * (double)(in - 1) / (ow - 1);
            break;
        case C_ASYMMETRIC:
            x = j / scale;
            break;
        case C_TF_HALF_PIXEL_NN:
            x = (j + 0.5) / scale;
            break;
        case C_TF_CROP_RESIZE:
        default:
            x = ow == 1 ? 0.5 * (roi_start + roi_end) * (double)(in - 1)
                        : roi_start * (double)(in - 1) +
                              (double)j * (roi_end - roi_start) * (double)(in - 1) / (ow - 1);
            break;
        }
        if (p->coord == C_TF_CROP_RESIZE && (x < 0 || x > (double)(in - 1))) {
            ax->outside[j] = true;
            ident = false;
        }
        int64_t *ti = ax->idx + j * ntap;
        float *tw = ax->w + j * ntap;
        if (p->mode == RS_NEAREST) {
            int64_t k = nearest_index(x, p->near, scale < 1);
            ti[0] = k < 0 ? 0 : k >= in ? in - 1 : k;
            tw[0] = 1;
            if (ti[0] != j)
                ident = false;
            continue;
        }
        /* the left neighbour is strictly left of x when x is integral (ratio 1), as in the
         * ONNX reference; taps run base+start .. base+start+ntap-1 */
        double base = floor(x), ratio = x - base;
        if (ratio == 0) {
            base -= 1;
            ratio = 1;
        }
        double sum = 0;
        for (int t = 0; t < ntap; t++) {
            double arg = (double)(start + t) - ratio;
            double c = p->mode == RS_LINEAR ? fmax(0.0, 1.0 - fabs(arg * sc))
                                            : cubic_kernel(arg * sc, p->cubic_a);
            int64_t k = (int64_t)base + start + t;
            if (p->exclude_outside && (k < 0 || k >= in))
                c = 0;
            cw[t] = c;
            sum += c;
            ti[t] = k < 0 ? 0 : k >= in ? in - 1 : k;
        }
        bool norm = p->exclude_outside || sc != 1.0;
        for (int t = 0; t < ntap; t++) {
            tw[t] = (float)(norm && sum != 0 ? cw[t] / sum : cw[t]);
            if (tw[t] != 0 && !(ti[t] == j && tw[t] == 1))
                ident = false;
        }
    }
    free(cw);
    ax->identity = ident;
    return true;
}

static void rs_axis_free(rs_axis *ax)
{
    free(ax->idx);
    free(ax->w);
    free(ax->outside);
}

/* One separable pass along axis `d`: src has dims `cur`, dst the same with cur[d] = out. */
static void rs_pass(float *dst, const float *src, int32_t rank, const int64_t *cur, int32_t d,
                    const rs_axis *ax)
{
    int64_t outer = 1, inner = 1;
    for (int32_t i = 0; i < d; i++)
        outer *= cur[i];
    for (int32_t i = d + 1; i < rank; i++)
        inner *= cur[i];
    int64_t in = ax->in, out = ax->out;
    for (int64_t a = 0; a < outer; a++) {
        const float *s = src + a * in * inner;
        float *o = dst + a * out * inner;
        for (int64_t j = 0; j < out; j++) {
            float *row = o + j * inner;
            const int64_t *ti = ax->idx + j * ax->ntap;
            const float *tw = ax->w + j * ax->ntap;
            if (inner == 1) {
                float acc = 0;
                for (int t = 0; t < ax->ntap; t++)
                    acc += tw[t] * s[ti[t]];
                row[0] = acc;
                continue;
            }
            for (int64_t i = 0; i < inner; i++)
                row[i] = 0;
            for (int t = 0; t < ax->ntap; t++) {
                float w = tw[t];
                if (w == 0)
                    continue;
                const float *sr = s + ti[t] * inner;
                for (int64_t i = 0; i < inner; i++)
                    row[i] += w * sr[i];
            }
        }
    }
}

static edgec_status resize_run(edgec_op_ctx *ctx, const rs_par *p, const double *scales,
                               const int64_t *od, const double *roi)
{
    const edgec_rt_tensor *x = ctx->inputs[0];
    int32_t r = x->rank;
    size_t es;
    edgec_status st = need_esize(ctx, x, &es);
    if (st)
        return st;
    if (p->mode != RS_NEAREST && !edgec__kb_is_float(x->dtype) && !edgec__kb_is_int(x->dtype))
        return edgec__op_fail(ctx, EDGEC_STATUS_UNSUPPORTED, "type %s",
                              edgec__dtype(x->dtype)->name);
    edgec_rt_tensor *o = edgec__rt_output(ctx, 0, x->dtype, r, od);
    if (!o)
        return EDGEC_STATUS_NO_MEMORY;
    if (!o->numel)
        return EDGEC_STATUS_OK;
    if (!x->numel)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "cannot resize an empty input");
    rs_axis ax[EDGEC_MAX_RANK];
    memset(ax, 0, sizeof ax);
    for (int32_t i = 0; i < r; i++) {
        if (!rs_axis_build(&ax[i], p, x->dims[i], od[i], scales[i], roi ? roi[i] : 0,
                           roi ? roi[i + r] : 1)) {
            st = edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory building resize taps");
            goto out;
        }
    }
    bool crop = p->coord == C_TF_CROP_RESIZE;
    edgec_rt_tensor *ext = NULL;
    int64_t one = 1;
    if (crop) {
        if ((st = edgec__rt_tensor_new(x->dtype, 0, &one, &ext)))
            goto out;
        edgec__rt_set_f64(ext, 0, p->extrapolation);
    }
    if (p->mode == RS_NEAREST) {
        /* a gather: exact for every type */
        int64_t xs[EDGEC_MAX_RANK], cnt[EDGEC_MAX_RANK] = {0};
        edgec__kb_strides(r, x->dims, xs);
        int64_t inner = r ? od[r - 1] : 1, rows = o->numel / inner;
        char *po = o->data;
        for (int64_t row = 0; row < rows; row++) {
            int64_t off = 0;
            bool outside = false;
            for (int32_t i = 0; i < r - 1; i++) {
                off += ax[i].idx[cnt[i]] * xs[i];
                outside |= ax[i].outside[cnt[i]];
            }
            if (r == 0) {
                memcpy(po, x->data, es);
            } else {
                const rs_axis *al = &ax[r - 1];
                if (!crop) {
                    gather_row(po, (const char *)x->data + (size_t)off * es, al->idx, inner, es, po);
                } else {
                    for (int64_t j = 0; j < inner; j++) {
                        const void *src = outside || al->outside[j]
                                              ? ext->data
                                              : (const char *)x->data + (size_t)(off + al->idx[j]) * es;
                        memcpy(po + (size_t)j * es, src, es);
                    }
                }
            }
            po += (size_t)inner * es;
            for (int32_t k = r - 2; k >= 0; k--) {
                if (++cnt[k] < od[k])
                    break;
                cnt[k] = 0;
            }
        }
        goto out_ext;
    }
    {
        /* linear / cubic: separable passes in float32 */
        edgec_rt_tensor *cur = NULL;
        if ((st = edgec__kb_to_f32(ctx, x, &cur)))
            goto out_ext;
        int64_t cd[EDGEC_MAX_RANK];
        memcpy(cd, x->dims, sizeof(int64_t) * (size_t)r);
        for (int32_t i = r - 1; i >= 0; i--) {
            if (ax[i].identity)
                continue;
            int64_t nd[EDGEC_MAX_RANK];
            memcpy(nd, cd, sizeof nd);
            nd[i] = od[i];
            edgec_rt_tensor *nx;
            if ((st = edgec__rt_tensor_new(EDGEC_DTYPE_FLOAT, r, nd, &nx))) {
                edgec__rt_tensor_free(cur);
                goto out_ext;
            }
            rs_pass(nx->data, cur->data, r, cd, i, &ax[i]);
            edgec__rt_tensor_free(cur);
            cur = nx;
            cd[i] = od[i];
        }
        float *pf = cur->data;
        if (crop) {
            int64_t cnt[EDGEC_MAX_RANK] = {0};
            float e = (float)p->extrapolation;
            for (int64_t i = 0; i < cur->numel; i++) {
                bool outside = false;
                for (int32_t k = 0; k < r; k++)
                    outside |= ax[k].outside[cnt[k]];
                if (outside)
                    pf[i] = e;
                for (int32_t k = r - 1; k >= 0; k--) {
                    if (++cnt[k] < od[k])
                        break;
                    cnt[k] = 0;
                }
            }
        }
        if (edgec__kb_is_float(x->dtype)) {
            edgec__kb_store_f32(o, pf);
        } else {
            double lo = edgec__kb_is_signed_int(x->dtype)
                            ? -ldexp(1.0, (int)edgec__kb_esize(x->dtype) * 8 - 1)
                            : 0;
            double hi = edgec__kb_is_signed_int(x->dtype)
                            ? ldexp(1.0, (int)edgec__kb_esize(x->dtype) * 8 - 1) - 1
                            : ldexp(1.0, (int)edgec__kb_esize(x->dtype) * 8) - 1;
            for (int64_t i = 0; i < o->numel; i++) {
                double v = nearbyint(pf[i]);
                v = v < lo ? lo : v > hi ? hi : v;
                edgec__kb_set_i64(o, i, (int64_t)v);
            }
        }
        edgec__rt_tensor_free(cur);
    }
out_ext:
    edgec__rt_tensor_free(ext);
out:
    for (int32_t i = 0; i < r; i++)
        rs_axis_free(&ax[i]);
    return st;
}

static edgec_status parse_mode(const edgec_op_ctx *ctx, rs_par *p)
{
    char b[32];
    const char *m = edgec__attr_string(ctx->node, "mode", b, sizeof b, "nearest");
    if (!strcmp(m, "nearest"))
        p->mode = RS_NEAREST;
    else if (!strcmp(m, "linear") || !strcmp(m, "bilinear") || !strcmp(m, "trilinear"))
        p->mode = RS_LINEAR;
    else if (!strcmp(m, "cubic") || !strcmp(m, "bicubic"))
        p->mode = RS_CUBIC;
    else
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "unknown mode '%s'", m);
    return EDGEC_STATUS_OK;
}

static edgec_status read_floats(const edgec_op_ctx *ctx, const edgec_rt_tensor *t, const char *what,
                                double *out, size_t cap, size_t *n)
{
    if (!edgec__kb_is_float(t->dtype) || t->rank > 1)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "%s must be a 1-D float tensor", what);
    if ((uint64_t)t->numel > cap)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "%s has too many values", what);
    for (int64_t i = 0; i < t->numel; i++)
        out[i] = edgec__rt_get_f64(t, i);
    *n = (size_t)t->numel;
    return EDGEC_STATUS_OK;
}

/* Output dims from scales (floor(in * scale)); validates the scales. */
static edgec_status dims_from_scales(const edgec_op_ctx *ctx, const edgec_rt_tensor *x,
                                     const double *scales, int64_t *od)
{
    for (int32_t i = 0; i < x->rank; i++) {
        if (!(scales[i] > 0) || !isfinite(scales[i]))
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "scale %g is not positive",
                                  scales[i]);
        double v = floor((double)x->dims[i] * scales[i] + 1e-9 * 0);
        if (v > 1e12)
            return edgec__op_fail(ctx, EDGEC_STATUS_LIMIT, "output dim %g is too large", v);
        od[i] = (int64_t)v;
    }
    return EDGEC_STATUS_OK;
}

static edgec_status op_upsample(edgec_op_ctx *ctx)
{
    edgec_status st = edgec__kb_need_inputs(ctx, ctx->opset >= 9 ? 2 : 1);
    if (st)
        return st;
    const edgec_rt_tensor *x = ctx->inputs[0];
    rs_par p = {.coord = C_ASYMMETRIC, .near = N_SIMPLE, .cubic_a = -0.75};
    if ((st = parse_mode(ctx, &p)))
        return st;
    if (p.mode == RS_CUBIC)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "mode must be nearest or linear");
    double scales[EDGEC_MAX_RANK];
    size_t n = 0;
    if (ctx->opset >= 9) {
        if ((st = read_floats(ctx, ctx->inputs[1], "scales", scales, EDGEC_MAX_RANK, &n)))
            return st;
    } else {
        const edgec_attr *a = edgec__node_attr(ctx->node, "scales");
        if (a && a->type == EDGEC_ATTR_FLOATS && a->n <= EDGEC_MAX_RANK) {
            n = a->n;
            for (size_t i = 0; i < n; i++)
                scales[i] = a->floats[i];
        }
    }
    if (n != (size_t)x->rank)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "scales has %zu values for rank %d",
                              n, (int)x->rank);
    int64_t od[EDGEC_MAX_RANK];
    if ((st = dims_from_scales(ctx, x, scales, od)))
        return st;
    return resize_run(ctx, &p, scales, od, NULL);
}

static edgec_status op_resize(edgec_op_ctx *ctx)
{
    edgec_status st = edgec__kb_need_inputs(ctx, 1);
    if (st)
        return st;
    const edgec_rt_tensor *x = ctx->inputs[0];
    int32_t r = x->rank;
    if (r < 1)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "input must have rank >= 1");
    rs_par p = {.cubic_a = edgec__attr_float(ctx->node, "cubic_coeff_a", -0.75f),
                .exclude_outside = edgec__attr_int(ctx->node, "exclude_outside", 0) != 0,
                .antialias = ctx->opset >= 18 && edgec__attr_int(ctx->node, "antialias", 0) != 0,
                .extrapolation = edgec__attr_float(ctx->node, "extrapolation_value", 0.0f)};
    if ((st = parse_mode(ctx, &p)))
        return st;
    const edgec_rt_tensor *tscales, *tsizes = NULL, *troi = NULL;
    if (ctx->opset < 11) {
        p.coord = C_ASYMMETRIC;
        p.near = N_SIMPLE;
        tscales = edgec__kb_in(ctx, 1);
        if (!tscales)
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "needs scales");
    } else {
        static const name_value coords[] = {
            {"half_pixel", C_HALF_PIXEL},
            {"half_pixel_symmetric", C_HALF_PIXEL_SYM},
            {"pytorch_half_pixel", C_PYTORCH_HALF_PIXEL},
            {"align_corners", C_ALIGN_CORNERS},
            {"asymmetric", C_ASYMMETRIC},
            {"tf_half_pixel_for_nn", C_TF_HALF_PIXEL_NN},
            {"tf_crop_and_resize", C_TF_CROP_RESIZE},
            {0}};
        static const name_value nearests[] = {{"round_prefer_floor", N_ROUND_PREFER_FLOOR},
                                              {"round_prefer_ceil", N_ROUND_PREFER_CEIL},
                                              {"floor", N_FLOOR},
                                              {"ceil", N_CEIL},
                                              {0}};
        int coord = C_HALF_PIXEL, near = N_ROUND_PREFER_FLOOR;
        edgec_status cst = attr_choice(ctx, "coordinate_transformation_mode", "half_pixel", coords,
                                       &coord);
        if (cst || (cst = attr_choice(ctx, "nearest_mode", "round_prefer_floor", nearests, &near)))
            return cst;
        p.coord = (enum rs_coord)coord;
        p.near = (enum rs_near)near;
        troi = edgec__kb_in(ctx, 1);
        tscales = edgec__kb_in(ctx, 2);
        tsizes = edgec__kb_in(ctx, 3);
    }
    if (tscales && tscales->numel == 0)
        tscales = NULL;
    if (tsizes && tsizes->numel == 0)
        tsizes = NULL;
    if (!tscales == !tsizes)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "exactly one of scales and sizes must be given");
    /* axes (opset 18): the listed axes take scales/sizes/roi, the others stay. */
    int64_t axes[EDGEC_MAX_RANK];
    size_t na = 0;
    if (ctx->opset >= 18) {
        na = edgec__attr_ints(ctx->node, "axes", axes, EDGEC_MAX_RANK);
        if (na > (size_t)r)
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "too many axes");
    }
    if (!na) {
        na = (size_t)r;
        for (int32_t i = 0; i < r; i++)
            axes[i] = i;
    } else {
        bool seen[EDGEC_MAX_RANK] = {false};
        for (size_t i = 0; i < na; i++) {
            int32_t a = 0;
            if ((st = edgec__kb_axis(ctx, axes[i], r, false, &a)))
                return st;
            if (seen[a])
                return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "axis %d is repeated", (int)a);
            seen[a] = true;
            axes[i] = a;
        }
    }
    double scales[EDGEC_MAX_RANK], roi[2 * EDGEC_MAX_RANK];
    int64_t od[EDGEC_MAX_RANK];
    for (int32_t i = 0; i < r; i++) {
        scales[i] = 1;
        od[i] = x->dims[i];
        roi[i] = 0;
        roi[i + r] = 1;
    }
    if (p.coord == C_TF_CROP_RESIZE && troi && troi->numel) {
        double rv[4 * EDGEC_MAX_RANK];
        size_t nr = 0;
        if ((st = read_floats(ctx, troi, "roi", rv, 4 * EDGEC_MAX_RANK, &nr)))
            return st;
        if (nr != 2 * na)
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "roi has %zu values for %zu axes",
                                  nr, na);
        for (size_t i = 0; i < na; i++) {
            roi[axes[i]] = rv[i];
            roi[axes[i] + r] = rv[i + na];
        }
    }
    if (tscales) {
        double sv[EDGEC_MAX_RANK];
        size_t ns = 0;
        if ((st = read_floats(ctx, tscales, "scales", sv, EDGEC_MAX_RANK, &ns)))
            return st;
        if (ns != na)
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                                  "scales has %zu values for %zu axes", ns, na);
        for (size_t i = 0; i < na; i++)
            scales[axes[i]] = sv[i];
        if ((st = dims_from_scales(ctx, x, scales, od)))
            return st;
    } else {
        int64_t sz[EDGEC_MAX_RANK];
        size_t ns = 0;
        if ((st = edgec__kb_read_ints(ctx, tsizes, "sizes", sz, EDGEC_MAX_RANK, &ns)))
            return st;
        if (ns != na)
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "sizes has %zu values for %zu axes",
                                  ns, na);
        char b[32];
        const char *pol = ctx->opset >= 18 ? edgec__attr_string(ctx->node, "keep_aspect_ratio_policy",
                                                                b, sizeof b, "stretch")
                                           : "stretch";
        bool nl = !strcmp(pol, "not_larger"), ns_ = !strcmp(pol, "not_smaller");
        if (!nl && !ns_ && strcmp(pol, "stretch"))
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                                  "unknown keep_aspect_ratio_policy '%s'", pol);
        for (size_t i = 0; i < na; i++) {
            if (sz[i] < 0 || sz[i] > ((int64_t)1 << 40))
                return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "sizes[%zu] is invalid", i);
            if (x->dims[axes[i]] == 0)
                return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "cannot resize an empty axis");
        }
        if (nl || ns_) {
            double s = nl ? INFINITY : 0;
            for (size_t i = 0; i < na; i++) {
                double v = (double)sz[i] / (double)x->dims[axes[i]];
                s = nl ? fmin(s, v) : fmax(s, v);
            }
            for (size_t i = 0; i < na; i++) {
                scales[axes[i]] = s;
                od[axes[i]] = (int64_t)floor(s * (double)x->dims[axes[i]] + 0.5);
            }
        } else {
            for (size_t i = 0; i < na; i++) {
                od[axes[i]] = sz[i];
                scales[axes[i]] = (double)sz[i] / (double)x->dims[axes[i]];
            }
        }
        for (int32_t i = 0; i < r; i++)
            if (!(scales[i] > 0) && od[i] > 0)
                return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "scale is 0");
    }
    return resize_run(ctx, &p, scales, od, p.coord == C_TF_CROP_RESIZE ? roi : NULL);
}

const edgec_op edgec__ops_tensor[] = {
    {"Gather", "", 1, op_gather},
    {"GatherElements", "", 11, op_gather_elements},
    {"GatherND", "", 11, op_gather_nd},
    {"ScatterND", "", 11, op_scatter_nd},
    {"ScatterElements", "", 11, op_scatter_elements},
    {"Constant", "", 1, op_constant},
    {"ConstantOfShape", "", 9, op_constant_of_shape},
    {"Range", "", 11, op_range},
    {"Trilu", "", 14, op_trilu},
    {"Pad", "", 1, op_pad},
    {"Resize", "", 10, op_resize},
    {"Upsample", "", 7, op_upsample},
    {0},
};
