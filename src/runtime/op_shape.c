/* Shape and layout ops: Shape Size Reshape Flatten Squeeze Unsqueeze Transpose Expand
 * Tile Concat Split Slice DepthToSpace SpaceToDepth Identity Dropout; plus the layout
 * helpers the other op families share (kernels_b.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/kernels_b.h"

/* ---------------------------------------------------------------- helpers */

size_t edgec__kb_esize(int32_t dtype)
{
    if (dtype == EDGEC_DTYPE_STRING || dtype == EDGEC_DTYPE_UNDEFINED)
        return 0;
    unsigned bits = edgec__dtype(dtype)->bits;
    return bits >= 8 && bits % 8 == 0 ? bits / 8 : 0;
}

bool edgec__kb_is_float(int32_t dtype)
{
    return dtype == EDGEC_DTYPE_FLOAT || dtype == EDGEC_DTYPE_DOUBLE ||
           dtype == EDGEC_DTYPE_FLOAT16 || dtype == EDGEC_DTYPE_BFLOAT16;
}

bool edgec__kb_is_int(int32_t dtype)
{
    switch (dtype) {
    case EDGEC_DTYPE_INT8:
    case EDGEC_DTYPE_UINT8:
    case EDGEC_DTYPE_INT16:
    case EDGEC_DTYPE_UINT16:
    case EDGEC_DTYPE_INT32:
    case EDGEC_DTYPE_UINT32:
    case EDGEC_DTYPE_INT64:
    case EDGEC_DTYPE_UINT64:
        return true;
    default:
        return false;
    }
}

bool edgec__kb_is_signed_int(int32_t dtype)
{
    return dtype == EDGEC_DTYPE_INT8 || dtype == EDGEC_DTYPE_INT16 || dtype == EDGEC_DTYPE_INT32 ||
           dtype == EDGEC_DTYPE_INT64;
}

bool edgec__kb_is_numeric(int32_t dtype)
{
    return edgec__kb_is_float(dtype) || edgec__kb_is_int(dtype) || dtype == EDGEC_DTYPE_BOOL;
}

const edgec_rt_tensor *edgec__kb_in(const edgec_op_ctx *ctx, size_t i)
{
    return i < ctx->n_inputs ? ctx->inputs[i] : NULL;
}

bool edgec__kb_want_output(const edgec_op_ctx *ctx, size_t i)
{
    if (i >= ctx->n_outputs)
        return false;
    if (ctx->node && i < ctx->node->n_outputs && ctx->node->outputs[i] && !ctx->node->outputs[i][0])
        return false;
    return true;
}

edgec_status edgec__kb_need_inputs(const edgec_op_ctx *ctx, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (i >= ctx->n_inputs || !ctx->inputs[i])
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "needs input %zu, which is missing",
                                  i);
    for (size_t i = 0; i < ctx->n_inputs; i++) {
        const edgec_rt_tensor *t = ctx->inputs[i];
        if (t && t->numel && !t->data)
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "input %zu has no data", i);
    }
    return EDGEC_STATUS_OK;
}

edgec_status edgec__kb_axis(const edgec_op_ctx *ctx, int64_t axis, int32_t rank, bool extra,
                            int32_t *out)
{
    int64_t hi = rank + (extra ? 1 : 0);
    if (axis < -(int64_t)rank || axis >= hi)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "axis %lld is out of range for rank %d", (long long)axis, (int)rank);
    *out = (int32_t)(axis < 0 ? axis + rank : axis);
    return EDGEC_STATUS_OK;
}

edgec_status edgec__kb_read_ints(const edgec_op_ctx *ctx, const edgec_rt_tensor *t,
                                 const char *what, int64_t *out, size_t cap, size_t *n)
{
    if (t->dtype != EDGEC_DTYPE_INT64 && t->dtype != EDGEC_DTYPE_INT32)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "%s must be int64 or int32, not %s",
                              what, edgec__dtype(t->dtype)->name);
    if (t->rank > 1)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "%s must be 1-D, not rank %d", what,
                              (int)t->rank);
    if (t->numel < 0 || (uint64_t)t->numel > cap)
        return edgec__op_fail(ctx, EDGEC_STATUS_LIMIT, "%s has %lld values, over the limit of %zu",
                              what, (long long)t->numel, cap);
    for (int64_t i = 0; i < t->numel; i++)
        out[i] = edgec__rt_get_i64(t, i);
    *n = (size_t)t->numel;
    return EDGEC_STATUS_OK;
}

edgec_status edgec__kb_read_scalar_f64(const edgec_op_ctx *ctx, const edgec_rt_tensor *t,
                                       const char *what, double *out)
{
    if (t->numel != 1 || !edgec__kb_is_numeric(t->dtype))
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "%s must be a numeric scalar (got %lld elements of %s)", what,
                              (long long)t->numel, edgec__dtype(t->dtype)->name);
    *out = edgec__rt_get_f64(t, 0);
    return EDGEC_STATUS_OK;
}

void edgec__kb_set_i64(edgec_rt_tensor *t, int64_t i, int64_t v)
{
    void *d = t->data;
    switch (t->dtype) {
    case EDGEC_DTYPE_INT64:
    case EDGEC_DTYPE_UINT64:
        ((int64_t *)d)[i] = v;
        break;
    case EDGEC_DTYPE_INT32:
    case EDGEC_DTYPE_UINT32:
        ((uint32_t *)d)[i] = (uint32_t)v;
        break;
    case EDGEC_DTYPE_INT16:
    case EDGEC_DTYPE_UINT16:
        ((uint16_t *)d)[i] = (uint16_t)v;
        break;
    case EDGEC_DTYPE_INT8:
    case EDGEC_DTYPE_UINT8:
        ((uint8_t *)d)[i] = (uint8_t)v;
        break;
    case EDGEC_DTYPE_BOOL:
        ((uint8_t *)d)[i] = v != 0;
        break;
    default:
        edgec__rt_set_f64(t, i, (double)v);
        break;
    }
}

edgec_status edgec__kb_to_f32(const edgec_op_ctx *ctx, const edgec_rt_tensor *t,
                              edgec_rt_tensor **out)
{
    edgec_rt_tensor *f;
    edgec_status st = edgec__rt_tensor_new(EDGEC_DTYPE_FLOAT, t->rank, t->dims, &f);
    if (st)
        return st;
    float *o = f->data;
    switch (t->dtype) {
    case EDGEC_DTYPE_FLOAT:
        memcpy(o, t->data, (size_t)t->numel * 4);
        break;
    case EDGEC_DTYPE_FLOAT16: {
        const uint16_t *h = t->data;
        for (int64_t i = 0; i < t->numel; i++)
            o[i] = edgec__f16_to_f32(h[i]);
        break;
    }
    case EDGEC_DTYPE_BFLOAT16: {
        const uint16_t *h = t->data;
        for (int64_t i = 0; i < t->numel; i++)
            o[i] = edgec__bf16_to_f32(h[i]);
        break;
    }
    default:
        for (int64_t i = 0; i < t->numel; i++)
            o[i] = (float)edgec__rt_get_f64(t, i);
        break;
    }
    (void)ctx;
    *out = f;
    return EDGEC_STATUS_OK;
}

void edgec__kb_store_f32(edgec_rt_tensor *dst, const float *src)
{
    switch (dst->dtype) {
    case EDGEC_DTYPE_FLOAT:
        if (dst->data != src)
            memcpy(dst->data, src, (size_t)dst->numel * 4);
        break;
    case EDGEC_DTYPE_FLOAT16: {
        uint16_t *h = dst->data;
        for (int64_t i = 0; i < dst->numel; i++)
            h[i] = edgec__f32_to_f16(src[i]);
        break;
    }
    case EDGEC_DTYPE_BFLOAT16: {
        uint16_t *h = dst->data;
        for (int64_t i = 0; i < dst->numel; i++)
            h[i] = edgec__f32_to_bf16(src[i]);
        break;
    }
    default:
        for (int64_t i = 0; i < dst->numel; i++)
            edgec__rt_set_f64(dst, i, src[i]);
        break;
    }
}

void edgec__kb_strides(int32_t rank, const int64_t *dims, int64_t *strides)
{
    int64_t s = 1;
    for (int32_t i = rank - 1; i >= 0; i--) {
        strides[i] = s;
        s *= dims[i];
    }
}

static inline void copy_elems(char *dst, const char *src, size_t esize, int64_t n, int64_t stride)
{
    if (stride == 1) {
        memcpy(dst, src, (size_t)n * esize);
        return;
    }
    int64_t bs = stride * (int64_t)esize;
    switch (esize) {
    case 1:
        for (int64_t i = 0; i < n; i++)
            dst[i] = src[i * bs];
        break;
    case 2:
        for (int64_t i = 0; i < n; i++)
            memcpy(dst + 2 * i, src + i * bs, 2);
        break;
    case 4:
        for (int64_t i = 0; i < n; i++)
            memcpy(dst + 4 * i, src + i * bs, 4);
        break;
    case 8:
        for (int64_t i = 0; i < n; i++)
            memcpy(dst + 8 * i, src + i * bs, 8);
        break;
    default:
        for (int64_t i = 0; i < n; i++)
            memcpy(dst + (size_t)i * esize, src + i * bs, esize);
        break;
    }
}

/* 2-D block: dst[i][j] (rows n0, cols n1, contiguous) = src[i*s0 + j*s1], tiled so that a
 * transpose touches both sides in cache-sized blocks. */
static void copy_tile2d(char *dst, const char *src, size_t esize, int64_t n0, int64_t n1,
                        int64_t s0, int64_t s1)
{
    enum { TB = 32 };
    int64_t b0 = s0 * (int64_t)esize, b1 = s1 * (int64_t)esize;
    for (int64_t i0 = 0; i0 < n0; i0 += TB) {
        int64_t e0 = i0 + TB < n0 ? i0 + TB : n0;
        for (int64_t j0 = 0; j0 < n1; j0 += TB) {
            int64_t e1 = j0 + TB < n1 ? j0 + TB : n1;
            for (int64_t i = i0; i < e0; i++) {
                char *d = dst + ((size_t)i * (size_t)n1) * esize;
                const char *s = src + i * b0;
                switch (esize) {
                case 4:
                    for (int64_t j = j0; j < e1; j++)
                        memcpy(d + 4 * j, s + j * b1, 4);
                    break;
                case 1:
                    for (int64_t j = j0; j < e1; j++)
                        d[j] = s[j * b1];
                    break;
                case 2:
                    for (int64_t j = j0; j < e1; j++)
                        memcpy(d + 2 * j, s + j * b1, 2);
                    break;
                case 8:
                    for (int64_t j = j0; j < e1; j++)
                        memcpy(d + 8 * j, s + j * b1, 8);
                    break;
                default:
                    for (int64_t j = j0; j < e1; j++)
                        memcpy(d + (size_t)j * esize, s + j * b1, esize);
                    break;
                }
            }
        }
    }
}

void edgec__kb_strided_copy(void *dst, const void *src, size_t esize, int32_t rank,
                            const int64_t *dims_in, const int64_t *strides_in)
{
    int64_t d[KB_MAX_DIMS], s[KB_MAX_DIMS];
    int32_t n = 0;
    for (int32_t i = 0; i < rank; i++) {
        if (dims_in[i] == 0)
            return;
        if (dims_in[i] == 1)
            continue;
        if (n > 0 && s[n - 1] == strides_in[i] * dims_in[i]) {
            d[n - 1] *= dims_in[i];
            s[n - 1] = strides_in[i];
        } else {
            d[n] = dims_in[i];
            s[n] = strides_in[i];
            n++;
        }
    }
    char *o = dst;
    const char *in = src;
    if (n == 0) {
        memcpy(o, in, esize);
        return;
    }
    /* A transpose-like innermost pair: tile the last two dims. */
    bool tile = n >= 2 && s[n - 1] != 1 && s[n - 1] != 0 && d[n - 1] >= 8 && d[n - 2] >= 8;
    int32_t nloop = tile ? n - 2 : n - 1; /* dims iterated by the counter */
    int64_t block = tile ? d[n - 2] * d[n - 1] : d[n - 1];
    int64_t cnt[KB_MAX_DIMS] = {0};
    int64_t off = 0;
    for (;;) {
        if (tile)
            copy_tile2d(o, in + off * (int64_t)esize, esize, d[n - 2], d[n - 1], s[n - 2], s[n - 1]);
        else if (s[n - 1] == 0) {
            const char *p = in + off * (int64_t)esize;
            for (int64_t i = 0; i < block; i++)
                memcpy(o + (size_t)i * esize, p, esize);
        } else
            copy_elems(o, in + off * (int64_t)esize, esize, block, s[n - 1]);
        o += (size_t)block * esize;
        int32_t k = nloop - 1;
        for (; k >= 0; k--) {
            off += s[k];
            if (++cnt[k] < d[k])
                break;
            off -= s[k] * d[k];
            cnt[k] = 0;
        }
        if (k < 0)
            break;
    }
}

edgec_status edgec__kb_output_copy(edgec_op_ctx *ctx, size_t idx, const edgec_rt_tensor *in,
                                   int32_t rank, const int64_t *dims)
{
    edgec_rt_tensor *o = edgec__rt_output(ctx, idx, in->dtype, rank, dims);
    if (!o)
        return EDGEC_STATUS_NO_MEMORY;
    if (o->numel != in->numel || o->nbytes != in->nbytes)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "cannot view %lld elements as %lld", (long long)in->numel,
                              (long long)o->numel);
    if (o->nbytes)
        memcpy(o->data, in->data, o->nbytes);
    return EDGEC_STATUS_OK;
}

static edgec_status need_esize(const edgec_op_ctx *ctx, const edgec_rt_tensor *t, size_t *es)
{
    *es = edgec__kb_esize(t->dtype);
    if (!*es)
        return edgec__op_fail(ctx, EDGEC_STATUS_UNSUPPORTED, "data type %s is not supported here",
                              edgec__dtype(t->dtype)->name);
    return EDGEC_STATUS_OK;
}

/* Reads an axes list from input `in_idx` (when opset >= from_opset) or attribute "axes".
 * *present tells whether any was given. */
static edgec_status read_axes(const edgec_op_ctx *ctx, int64_t from_opset, size_t in_idx,
                              int64_t *axes, size_t *n, bool *present)
{
    *n = 0;
    *present = false;
    if (ctx->opset >= from_opset) {
        const edgec_rt_tensor *t = edgec__kb_in(ctx, in_idx);
        if (!t)
            return EDGEC_STATUS_OK;
        *present = true;
        return edgec__kb_read_ints(ctx, t, "axes", axes, EDGEC_MAX_RANK * 2, n);
    }
    const edgec_attr *a = edgec__node_attr(ctx->node, "axes");
    if (!a || a->type != EDGEC_ATTR_INTS)
        return EDGEC_STATUS_OK;
    if (a->n > EDGEC_MAX_RANK * 2)
        return edgec__op_fail(ctx, EDGEC_STATUS_LIMIT, "too many axes (%zu)", a->n);
    *present = true;
    *n = edgec__attr_ints(ctx->node, "axes", axes, EDGEC_MAX_RANK * 2);
    return EDGEC_STATUS_OK;
}

/* ---------------------------------------------------------------- ops */

static edgec_status op_shape(edgec_op_ctx *ctx)
{
    edgec_status st = edgec__kb_need_inputs(ctx, 1);
    if (st)
        return st;
    const edgec_rt_tensor *x = ctx->inputs[0];
    int64_t r = x->rank;
    int64_t start = edgec__attr_int(ctx->node, "start", 0);
    int64_t end = edgec__attr_int(ctx->node, "end", r);
    if (start < 0)
        start += r;
    if (end < 0)
        end += r;
    start = start < 0 ? 0 : start > r ? r : start;
    end = end < 0 ? 0 : end > r ? r : end;
    int64_t n = end > start ? end - start : 0;
    edgec_rt_tensor *o = edgec__rt_output(ctx, 0, EDGEC_DTYPE_INT64, 1, &n);
    if (!o)
        return EDGEC_STATUS_NO_MEMORY;
    for (int64_t i = 0; i < n; i++)
        ((int64_t *)o->data)[i] = x->dims[start + i];
    return EDGEC_STATUS_OK;
}

static edgec_status op_size(edgec_op_ctx *ctx)
{
    edgec_status st = edgec__kb_need_inputs(ctx, 1);
    if (st)
        return st;
    edgec_rt_tensor *o = edgec__rt_output(ctx, 0, EDGEC_DTYPE_INT64, 0, NULL);
    if (!o)
        return EDGEC_STATUS_NO_MEMORY;
    *(int64_t *)o->data = ctx->inputs[0]->numel;
    return EDGEC_STATUS_OK;
}

static edgec_status op_reshape(edgec_op_ctx *ctx)
{
    edgec_status st = edgec__kb_need_inputs(ctx, ctx->opset >= 5 ? 2 : 1);
    if (st)
        return st;
    const edgec_rt_tensor *x = ctx->inputs[0];
    int64_t shape[EDGEC_MAX_RANK];
    size_t n = 0;
    if (ctx->opset >= 5) {
        st = edgec__kb_read_ints(ctx, ctx->inputs[1], "shape", shape, EDGEC_MAX_RANK, &n);
        if (st)
            return st;
    } else {
        n = edgec__attr_ints(ctx->node, "shape", shape, EDGEC_MAX_RANK);
        if (n > EDGEC_MAX_RANK)
            return edgec__op_fail(ctx, EDGEC_STATUS_LIMIT, "shape has too many dims");
    }
    bool allowzero = edgec__attr_int(ctx->node, "allowzero", 0) != 0;
    int infer = -1;
    int64_t known = 1;
    for (size_t i = 0; i < n; i++) {
        if (shape[i] == 0 && !allowzero) {
            if ((int64_t)i >= x->rank)
                return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                                      "shape[%zu] is 0 (copy) but the input has rank %d", i,
                                      (int)x->rank);
            shape[i] = x->dims[i];
        }
        if (shape[i] == -1) {
            if (infer >= 0)
                return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "shape has more than one -1");
            infer = (int)i;
            continue;
        }
        if (shape[i] < 0)
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "shape[%zu] is %lld", i,
                                  (long long)shape[i]);
        if (!edgec__mul_i64(known, shape[i], &known))
            return edgec__op_fail(ctx, EDGEC_STATUS_LIMIT, "shape overflows");
    }
    if (infer >= 0) {
        if (known == 0 || x->numel % known)
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                                  "cannot infer -1: %lld elements do not divide by %lld",
                                  (long long)x->numel, (long long)known);
        shape[infer] = x->numel / known;
    } else if (known != x->numel) {
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "cannot reshape %lld elements to a shape of %lld elements",
                              (long long)x->numel, (long long)known);
    }
    return edgec__kb_output_copy(ctx, 0, x, (int32_t)n, shape);
}

static edgec_status op_flatten(edgec_op_ctx *ctx)
{
    edgec_status st = edgec__kb_need_inputs(ctx, 1);
    if (st)
        return st;
    const edgec_rt_tensor *x = ctx->inputs[0];
    int32_t axis = 0;
    st = edgec__kb_axis(ctx, edgec__attr_int(ctx->node, "axis", 1), x->rank, true, &axis);
    if (st)
        return st;
    int64_t dims[2] = {1, 1};
    for (int32_t i = 0; i < x->rank; i++)
        dims[i < axis ? 0 : 1] *= x->dims[i];
    return edgec__kb_output_copy(ctx, 0, x, 2, dims);
}

static edgec_status op_squeeze(edgec_op_ctx *ctx)
{
    edgec_status st = edgec__kb_need_inputs(ctx, 1);
    if (st)
        return st;
    const edgec_rt_tensor *x = ctx->inputs[0];
    int64_t axes[EDGEC_MAX_RANK * 2];
    size_t na = 0;
    bool present;
    st = read_axes(ctx, 13, 1, axes, &na, &present);
    if (st)
        return st;
    bool drop[EDGEC_MAX_RANK] = {false};
    if (na == 0) {
        for (int32_t i = 0; i < x->rank; i++)
            drop[i] = x->dims[i] == 1;
    }
    for (size_t i = 0; i < na; i++) {
        int32_t a = 0;
        st = edgec__kb_axis(ctx, axes[i], x->rank, false, &a);
        if (st)
            return st;
        if (x->dims[a] != 1)
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                                  "cannot squeeze axis %d of size %lld", (int)a,
                                  (long long)x->dims[a]);
        drop[a] = true;
    }
    int64_t dims[EDGEC_MAX_RANK];
    int32_t r = 0;
    for (int32_t i = 0; i < x->rank; i++)
        if (!drop[i])
            dims[r++] = x->dims[i];
    return edgec__kb_output_copy(ctx, 0, x, r, dims);
}

static edgec_status op_unsqueeze(edgec_op_ctx *ctx)
{
    edgec_status st = edgec__kb_need_inputs(ctx, ctx->opset >= 13 ? 2 : 1);
    if (st)
        return st;
    const edgec_rt_tensor *x = ctx->inputs[0];
    int64_t axes[EDGEC_MAX_RANK * 2];
    size_t na = 0;
    bool present;
    st = read_axes(ctx, 13, 1, axes, &na, &present);
    if (st)
        return st;
    int64_t r = x->rank + (int64_t)na;
    if (r > EDGEC_MAX_RANK)
        return edgec__op_fail(ctx, EDGEC_STATUS_LIMIT, "result rank %lld is over the limit",
                              (long long)r);
    bool ins[EDGEC_MAX_RANK] = {false};
    for (size_t i = 0; i < na; i++) {
        int32_t a = 0;
        st = edgec__kb_axis(ctx, axes[i], (int32_t)r, false, &a);
        if (st)
            return st;
        if (ins[a])
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "axis %d is repeated", (int)a);
        ins[a] = true;
    }
    int64_t dims[EDGEC_MAX_RANK];
    int32_t j = 0;
    for (int32_t i = 0; i < r; i++)
        dims[i] = ins[i] ? 1 : x->dims[j++];
    return edgec__kb_output_copy(ctx, 0, x, (int32_t)r, dims);
}

static edgec_status op_transpose(edgec_op_ctx *ctx)
{
    edgec_status st = edgec__kb_need_inputs(ctx, 1);
    if (st)
        return st;
    const edgec_rt_tensor *x = ctx->inputs[0];
    size_t es;
    if ((st = need_esize(ctx, x, &es)))
        return st;
    int64_t perm[EDGEC_MAX_RANK];
    size_t np = edgec__attr_ints(ctx->node, "perm", perm, EDGEC_MAX_RANK);
    if (np == 0) {
        for (int32_t i = 0; i < x->rank; i++)
            perm[i] = x->rank - 1 - i;
    } else if (np != (size_t)x->rank) {
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "perm has %zu entries for rank %d",
                              np, (int)x->rank);
    }
    bool seen[EDGEC_MAX_RANK] = {false};
    int64_t xs[EDGEC_MAX_RANK], dims[EDGEC_MAX_RANK], strides[EDGEC_MAX_RANK];
    edgec__kb_strides(x->rank, x->dims, xs);
    for (int32_t i = 0; i < x->rank; i++) {
        int64_t p = perm[i] < 0 ? perm[i] + x->rank : perm[i];
        if (p < 0 || p >= x->rank || seen[p])
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "perm is not a permutation");
        seen[p] = true;
        dims[i] = x->dims[p];
        strides[i] = xs[p];
    }
    edgec_rt_tensor *o = edgec__rt_output(ctx, 0, x->dtype, x->rank, dims);
    if (!o)
        return EDGEC_STATUS_NO_MEMORY;
    edgec__kb_strided_copy(o->data, x->data, es, x->rank, dims, strides);
    return EDGEC_STATUS_OK;
}

/* Copies `x` broadcast to `rank`/`dims` into `o` (which has that shape). */
static void broadcast_copy(edgec_rt_tensor *o, const edgec_rt_tensor *x, size_t es)
{
    int64_t xs[EDGEC_MAX_RANK], s[EDGEC_MAX_RANK];
    edgec__kb_strides(x->rank, x->dims, xs);
    for (int32_t i = 0; i < o->rank; i++) {
        int32_t j = i - (o->rank - x->rank);
        s[i] = j < 0 || x->dims[j] == 1 ? 0 : xs[j];
    }
    edgec__kb_strided_copy(o->data, x->data, es, o->rank, o->dims, s);
}

static edgec_status op_expand(edgec_op_ctx *ctx)
{
    edgec_status st = edgec__kb_need_inputs(ctx, 2);
    if (st)
        return st;
    const edgec_rt_tensor *x = ctx->inputs[0];
    size_t es;
    if ((st = need_esize(ctx, x, &es)))
        return st;
    int64_t shape[EDGEC_MAX_RANK], dims[EDGEC_MAX_RANK];
    size_t n = 0;
    if ((st = edgec__kb_read_ints(ctx, ctx->inputs[1], "shape", shape, EDGEC_MAX_RANK, &n)))
        return st;
    for (size_t i = 0; i < n; i++)
        if (shape[i] < 0)
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "shape[%zu] is negative", i);
    int32_t r = 0;
    if (!edgec__broadcast_shape(x->rank, x->dims, (int32_t)n, shape, &r, dims))
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "input shape does not broadcast to the requested shape");
    edgec_rt_tensor *o = edgec__rt_output(ctx, 0, x->dtype, r, dims);
    if (!o)
        return EDGEC_STATUS_NO_MEMORY;
    if (o->numel)
        broadcast_copy(o, x, es);
    return EDGEC_STATUS_OK;
}

static edgec_status op_tile(edgec_op_ctx *ctx)
{
    edgec_status st = edgec__kb_need_inputs(ctx, 2);
    if (st)
        return st;
    const edgec_rt_tensor *x = ctx->inputs[0];
    size_t es;
    if ((st = need_esize(ctx, x, &es)))
        return st;
    int64_t rep[EDGEC_MAX_RANK];
    size_t n = 0;
    if ((st = edgec__kb_read_ints(ctx, ctx->inputs[1], "repeats", rep, EDGEC_MAX_RANK, &n)))
        return st;
    if (n != (size_t)x->rank)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "repeats has %zu values for rank %d",
                              n, (int)x->rank);
    int64_t dims[EDGEC_MAX_RANK], vd[KB_MAX_DIMS], vs[KB_MAX_DIMS], xs[EDGEC_MAX_RANK];
    edgec__kb_strides(x->rank, x->dims, xs);
    for (int32_t i = 0; i < x->rank; i++) {
        if (rep[i] < 0)
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "repeats[%d] is negative", (int)i);
        if (!edgec__mul_i64(x->dims[i], rep[i], &dims[i]))
            return edgec__op_fail(ctx, EDGEC_STATUS_LIMIT, "output dims overflow");
        vd[2 * i] = rep[i];
        vs[2 * i] = 0;
        vd[2 * i + 1] = x->dims[i];
        vs[2 * i + 1] = xs[i];
    }
    edgec_rt_tensor *o = edgec__rt_output(ctx, 0, x->dtype, x->rank, dims);
    if (!o)
        return EDGEC_STATUS_NO_MEMORY;
    if (o->numel)
        edgec__kb_strided_copy(o->data, x->data, es, 2 * x->rank, vd, vs);
    return EDGEC_STATUS_OK;
}

static edgec_status op_concat(edgec_op_ctx *ctx)
{
    if (ctx->n_inputs < 1)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "needs at least one input");
    edgec_status st = edgec__kb_need_inputs(ctx, ctx->n_inputs);
    if (st)
        return st;
    const edgec_rt_tensor *x0 = ctx->inputs[0];
    size_t es;
    if ((st = need_esize(ctx, x0, &es)))
        return st;
    if (x0->rank == 0)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "cannot concatenate scalars");
    int32_t axis = 0;
    if ((st = edgec__kb_axis(ctx, edgec__attr_int(ctx->node, "axis", 1), x0->rank, false, &axis)))
        return st;
    int64_t dims[EDGEC_MAX_RANK];
    memcpy(dims, x0->dims, sizeof(int64_t) * (size_t)x0->rank);
    dims[axis] = 0;
    for (size_t k = 0; k < ctx->n_inputs; k++) {
        const edgec_rt_tensor *t = ctx->inputs[k];
        if (t->dtype != x0->dtype || t->rank != x0->rank)
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                                  "input %zu differs in type or rank from input 0", k);
        for (int32_t i = 0; i < t->rank; i++)
            if (i != axis && t->dims[i] != x0->dims[i])
                return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                                      "input %zu has dim %d of %lld, input 0 has %lld", k, (int)i,
                                      (long long)t->dims[i], (long long)x0->dims[i]);
        dims[axis] += t->dims[axis];
    }
    edgec_rt_tensor *o = edgec__rt_output(ctx, 0, x0->dtype, x0->rank, dims);
    if (!o)
        return EDGEC_STATUS_NO_MEMORY;
    int64_t outer = 1, inner = 1;
    for (int32_t i = 0; i < axis; i++)
        outer *= dims[i];
    for (int32_t i = axis + 1; i < x0->rank; i++)
        inner *= dims[i];
    size_t orow = (size_t)(dims[axis] * inner) * es;
    size_t off = 0;
    for (size_t k = 0; k < ctx->n_inputs; k++) {
        const edgec_rt_tensor *t = ctx->inputs[k];
        size_t row = (size_t)(t->dims[axis] * inner) * es;
        if (row) {
            for (int64_t j = 0; j < outer; j++)
                memcpy((char *)o->data + (size_t)j * orow + off,
                       (const char *)t->data + (size_t)j * row, row);
        }
        off += row;
    }
    return EDGEC_STATUS_OK;
}

static edgec_status op_split(edgec_op_ctx *ctx)
{
    edgec_status st = edgec__kb_need_inputs(ctx, 1);
    if (st)
        return st;
    const edgec_rt_tensor *x = ctx->inputs[0];
    size_t es;
    if ((st = need_esize(ctx, x, &es)))
        return st;
    if (x->rank == 0)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "cannot split a scalar");
    int32_t axis = 0;
    if ((st = edgec__kb_axis(ctx, edgec__attr_int(ctx->node, "axis", 0), x->rank, false, &axis)))
        return st;
    size_t nout = ctx->n_outputs;
    if (nout == 0 || nout > 65536)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "has %zu outputs", nout);
    int64_t *sizes = calloc(nout, sizeof *sizes);
    if (!sizes)
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
    size_t ns = 0;
    bool given = false;
    const edgec_rt_tensor *sp = ctx->opset >= 13 ? edgec__kb_in(ctx, 1) : NULL;
    if (sp) {
        given = true;
        st = edgec__kb_read_ints(ctx, sp, "split", sizes, nout, &ns);
    } else if (ctx->opset < 13) {
        const edgec_attr *a = edgec__node_attr(ctx->node, "split");
        if (a && a->type == EDGEC_ATTR_INTS) {
            given = true;
            if (a->n > nout)
                st = edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                                    "split has %zu values for %zu outputs", a->n, nout);
            else
                ns = edgec__attr_ints(ctx->node, "split", sizes, nout);
        }
    }
    int64_t d = x->dims[axis];
    if (!st && given) {
        int64_t sum = 0;
        for (size_t i = 0; i < ns; i++) {
            if (sizes[i] < 0)
                st = edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "split[%zu] is negative", i);
            sum += sizes[i];
        }
        if (!st && (ns != nout || sum != d))
            st = edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                                "split sizes (%zu values, sum %lld) do not match %zu outputs of "
                                "axis size %lld",
                                ns, (long long)sum, nout, (long long)d);
    } else if (!st) {
        int64_t num = edgec__attr_int(ctx->node, "num_outputs", (int64_t)nout);
        if (num != (int64_t)nout)
            st = edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                                "num_outputs is %lld but the node has %zu outputs", (long long)num,
                                nout);
        else if (ctx->opset >= 18 && edgec__node_attr(ctx->node, "num_outputs")) {
            int64_t chunk = (d + (int64_t)nout - 1) / (int64_t)nout, left = d;
            for (size_t i = 0; i < nout; i++) {
                sizes[i] = left < chunk ? left : chunk;
                left -= sizes[i];
            }
        } else if (d % (int64_t)nout) {
            st = edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                                "axis size %lld does not split evenly into %zu outputs",
                                (long long)d, nout);
        } else {
            for (size_t i = 0; i < nout; i++)
                sizes[i] = d / (int64_t)nout;
        }
    }
    if (st) {
        free(sizes);
        return st;
    }
    int64_t outer = 1, inner = 1;
    for (int32_t i = 0; i < axis; i++)
        outer *= x->dims[i];
    for (int32_t i = axis + 1; i < x->rank; i++)
        inner *= x->dims[i];
    size_t irow = (size_t)(d * inner) * es, off = 0;
    for (size_t k = 0; k < nout; k++) {
        size_t row = (size_t)(sizes[k] * inner) * es;
        if (edgec__kb_want_output(ctx, k)) {
            int64_t dims[EDGEC_MAX_RANK];
            memcpy(dims, x->dims, sizeof(int64_t) * (size_t)x->rank);
            dims[axis] = sizes[k];
            edgec_rt_tensor *o = edgec__rt_output(ctx, k, x->dtype, x->rank, dims);
            if (!o) {
                free(sizes);
                return EDGEC_STATUS_NO_MEMORY;
            }
            if (row)
                for (int64_t j = 0; j < outer; j++)
                    memcpy((char *)o->data + (size_t)j * row,
                           (const char *)x->data + (size_t)j * irow + off, row);
        }
        off += row;
    }
    free(sizes);
    return EDGEC_STATUS_OK;
}

static edgec_status op_slice(edgec_op_ctx *ctx)
{
    edgec_status st = edgec__kb_need_inputs(ctx, ctx->opset >= 10 ? 3 : 1);
    if (st)
        return st;
    const edgec_rt_tensor *x = ctx->inputs[0];
    size_t es;
    if ((st = need_esize(ctx, x, &es)))
        return st;
    enum { CAP = EDGEC_MAX_RANK };
    int64_t starts[CAP], ends[CAP], axes[CAP], steps[CAP];
    size_t ns = 0, ne = 0, na = 0, nst = 0;
    bool has_axes = false, has_steps = false;
    if (ctx->opset >= 10) {
        if ((st = edgec__kb_read_ints(ctx, ctx->inputs[1], "starts", starts, CAP, &ns)) ||
            (st = edgec__kb_read_ints(ctx, ctx->inputs[2], "ends", ends, CAP, &ne)))
            return st;
        const edgec_rt_tensor *ta = edgec__kb_in(ctx, 3), *ts = edgec__kb_in(ctx, 4);
        if (ta) {
            has_axes = true;
            if ((st = edgec__kb_read_ints(ctx, ta, "axes", axes, CAP, &na)))
                return st;
        }
        if (ts) {
            has_steps = true;
            if ((st = edgec__kb_read_ints(ctx, ts, "steps", steps, CAP, &nst)))
                return st;
        }
    } else {
        ns = edgec__attr_ints(ctx->node, "starts", starts, CAP);
        ne = edgec__attr_ints(ctx->node, "ends", ends, CAP);
        const edgec_attr *a = edgec__node_attr(ctx->node, "axes");
        if (a && a->type == EDGEC_ATTR_INTS) {
            has_axes = true;
            na = edgec__attr_ints(ctx->node, "axes", axes, CAP);
        }
        if (ns > CAP || ne > CAP || na > CAP)
            return edgec__op_fail(ctx, EDGEC_STATUS_LIMIT, "too many slice entries");
    }
    if (ns != ne || (has_axes && na != ns) || (has_steps && nst != ns))
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "starts, ends, axes and steps differ in length");
    int64_t xs[EDGEC_MAX_RANK], dims[EDGEC_MAX_RANK], strides[EDGEC_MAX_RANK];
    edgec__kb_strides(x->rank, x->dims, xs);
    int64_t begin[EDGEC_MAX_RANK], step[EDGEC_MAX_RANK];
    bool seen[EDGEC_MAX_RANK] = {false};
    for (int32_t i = 0; i < x->rank; i++) {
        begin[i] = 0;
        step[i] = 1;
        dims[i] = x->dims[i];
    }
    for (size_t k = 0; k < ns; k++) {
        int32_t a = 0;
        if ((st = edgec__kb_axis(ctx, has_axes ? axes[k] : (int64_t)k, x->rank, false, &a)))
            return st;
        if (seen[a])
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "axis %d is repeated", (int)a);
        seen[a] = true;
        int64_t d = x->dims[a], s = starts[k], e = ends[k], t = has_steps ? steps[k] : 1;
        if (t == 0)
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "step is 0");
        if (s < 0)
            s += d;
        if (e < 0)
            e += d;
        int64_t cnt;
        if (t > 0) {
            s = s < 0 ? 0 : s > d ? d : s;
            e = e < 0 ? 0 : e > d ? d : e;
            cnt = e > s ? (e - s - 1) / t + 1 : 0;
        } else {
            s = s < 0 ? 0 : s > d - 1 ? d - 1 : s;
            e = e < -1 ? -1 : e > d - 1 ? d - 1 : e;
            cnt = s > e ? (s - e - 1) / (-t) + 1 : 0;
        }
        if (d == 0)
            cnt = 0;
        begin[a] = cnt ? s : 0;
        step[a] = t;
        dims[a] = cnt;
    }
    int64_t off = 0;
    for (int32_t i = 0; i < x->rank; i++) {
        off += begin[i] * xs[i];
        strides[i] = step[i] * xs[i];
    }
    edgec_rt_tensor *o = edgec__rt_output(ctx, 0, x->dtype, x->rank, dims);
    if (!o)
        return EDGEC_STATUS_NO_MEMORY;
    if (o->numel)
        edgec__kb_strided_copy(o->data, (const char *)x->data + off * (int64_t)es, es, x->rank, dims,
                               strides);
    return EDGEC_STATUS_OK;
}

static edgec_status space_depth(edgec_op_ctx *ctx, bool to_space)
{
    edgec_status st = edgec__kb_need_inputs(ctx, 1);
    if (st)
        return st;
    const edgec_rt_tensor *x = ctx->inputs[0];
    size_t es;
    if ((st = need_esize(ctx, x, &es)))
        return st;
    if (x->rank != 4)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "input must be 4-D, not rank %d",
                              (int)x->rank);
    int64_t b = edgec__attr_int(ctx->node, "blocksize", 0);
    if (b <= 0 || b > 65536)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "blocksize %lld is invalid",
                              (long long)b);
    int64_t N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3];
    int64_t od[4], vd[6], vs[6];
    if (to_space) {
        if (C % (b * b))
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                                  "channels %lld do not divide by blocksize^2", (long long)C);
        char mb[8];
        const char *mode = edgec__attr_string(ctx->node, "mode", mb, sizeof mb, "DCR");
        bool crd = !strcmp(mode, "CRD");
        if (!crd && strcmp(mode, "DCR"))
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "unknown mode '%s'", mode);
        int64_t Cp = C / (b * b), HW = H * W;
        od[0] = N, od[1] = Cp, od[2] = H * b, od[3] = W * b;
        /* view of the output: n, c', h, i, w, j */
        vd[0] = N, vd[1] = Cp, vd[2] = H, vd[3] = b, vd[4] = W, vd[5] = b;
        vs[0] = C * HW, vs[2] = W, vs[4] = 1;
        if (crd) {
            vs[1] = b * b * HW, vs[3] = b * HW, vs[5] = HW;
        } else {
            vs[1] = HW, vs[3] = b * Cp * HW, vs[5] = Cp * HW;
        }
    } else {
        if (H % b || W % b)
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                                  "height and width must divide by the blocksize");
        int64_t Hp = H / b, Wp = W / b;
        od[0] = N, od[1] = C * b * b, od[2] = Hp, od[3] = Wp;
        /* view of the output: n, i, j, c, h', w' */
        vd[0] = N, vd[1] = b, vd[2] = b, vd[3] = C, vd[4] = Hp, vd[5] = Wp;
        vs[0] = C * H * W, vs[1] = W, vs[2] = 1, vs[3] = H * W, vs[4] = b * W, vs[5] = b;
    }
    edgec_rt_tensor *o = edgec__rt_output(ctx, 0, x->dtype, 4, od);
    if (!o)
        return EDGEC_STATUS_NO_MEMORY;
    if (o->numel)
        edgec__kb_strided_copy(o->data, x->data, es, 6, vd, vs);
    return EDGEC_STATUS_OK;
}

static edgec_status op_depth_to_space(edgec_op_ctx *ctx)
{
    return space_depth(ctx, true);
}

static edgec_status op_space_to_depth(edgec_op_ctx *ctx)
{
    return space_depth(ctx, false);
}

static edgec_status op_identity(edgec_op_ctx *ctx)
{
    edgec_status st = edgec__kb_need_inputs(ctx, 1);
    if (st)
        return st;
    return edgec__kb_output_copy(ctx, 0, ctx->inputs[0], ctx->inputs[0]->rank,
                                 ctx->inputs[0]->dims);
}

static edgec_status op_dropout(edgec_op_ctx *ctx)
{
    edgec_status st = edgec__kb_need_inputs(ctx, 1);
    if (st)
        return st;
    const edgec_rt_tensor *x = ctx->inputs[0];
    double ratio = edgec__attr_float(ctx->node, "ratio", 0.5f);
    bool training = false;
    if (ctx->opset >= 12) {
        const edgec_rt_tensor *r = edgec__kb_in(ctx, 1), *tm = edgec__kb_in(ctx, 2);
        ratio = 0.5;
        if (r && (st = edgec__kb_read_scalar_f64(ctx, r, "ratio", &ratio)))
            return st;
        if (tm) {
            double v;
            if ((st = edgec__kb_read_scalar_f64(ctx, tm, "training_mode", &v)))
                return st;
            training = v != 0;
        }
    }
    if (training && !(ratio >= 0 && ratio < 1))
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "ratio %g is not in [0, 1)", ratio);
    if ((st = edgec__kb_output_copy(ctx, 0, x, x->rank, x->dims)))
        return st;
    edgec_rt_tensor *mask = NULL;
    if (edgec__kb_want_output(ctx, 1)) {
        mask = edgec__rt_output(ctx, 1, ctx->opset >= 10 ? EDGEC_DTYPE_BOOL : x->dtype, x->rank,
                                x->dims);
        if (!mask)
            return EDGEC_STATUS_NO_MEMORY;
    }
    if (!training || ratio == 0) {
        if (mask)
            for (int64_t i = 0; i < mask->numel; i++)
                edgec__rt_set_f64(mask, i, 1.0);
        return EDGEC_STATUS_OK;
    }
    /* Training mode: a deterministic generator seeded by `seed` (default 0). */
    if (!edgec__kb_is_float(x->dtype))
        return edgec__op_fail(ctx, EDGEC_STATUS_UNSUPPORTED, "training mode needs a float input");
    uint64_t s = (uint64_t)edgec__attr_int(ctx->node, "seed", 0) * 0x9E3779B97F4A7C15ull + 1;
    double scale = 1.0 / (1.0 - ratio);
    edgec_rt_tensor *o = ctx->outputs[0];
    for (int64_t i = 0; i < x->numel; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        double u = (double)(s >> 11) / 9007199254740992.0;
        bool keep = u >= ratio;
        edgec__rt_set_f64(o, i, keep ? edgec__rt_get_f64(x, i) * scale : 0.0);
        if (mask)
            edgec__rt_set_f64(mask, i, keep ? 1.0 : 0.0);
    }
    return EDGEC_STATUS_OK;
}

const edgec_op edgec__ops_shape[] = {
    {"Shape", "", 1, op_shape},
    {"Size", "", 1, op_size},
    {"Reshape", "", 1, op_reshape},
    {"Flatten", "", 1, op_flatten},
    {"Squeeze", "", 1, op_squeeze},
    {"Unsqueeze", "", 1, op_unsqueeze},
    {"Transpose", "", 1, op_transpose},
    {"Expand", "", 8, op_expand},
    {"Tile", "", 6, op_tile},
    {"Concat", "", 1, op_concat},
    {"Split", "", 1, op_split},
    {"Slice", "", 1, op_slice},
    {"DepthToSpace", "", 1, op_depth_to_space},
    {"SpaceToDepth", "", 1, op_space_to_depth},
    {"Identity", "", 1, op_identity},
    {"Dropout", "", 1, op_dropout},
    {0},
};
