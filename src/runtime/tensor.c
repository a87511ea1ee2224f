/* Runtime tensors, element access across dtypes, and the helpers every kernel uses. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/rt.h"

#define RT_ALIGN 64

static edgec_status shape_bytes(int32_t dtype, int32_t rank, const int64_t *dims, int64_t *numel,
                                size_t *nbytes)
{
    if (rank < 0 || rank > EDGEC_MAX_RANK)
        return edgec__fail(EDGEC_STATUS_LIMIT, "tensor rank %d is over the limit of %d", (int)rank,
                           EDGEC_MAX_RANK);
    int64_t n = 1;
    for (int32_t i = 0; i < rank; i++) {
        if (dims[i] < 0)
            return edgec__fail(EDGEC_STATUS_INVALID_MODEL, "negative dimension %lld",
                               (long long)dims[i]);
        if (!edgec__mul_i64(n, dims[i], &n))
            return edgec__fail(EDGEC_STATUS_LIMIT, "tensor element count overflows");
    }
    if (!edgec__dtype_nbytes(dtype, n, nbytes))
        return edgec__fail(EDGEC_STATUS_UNSUPPORTED, "data type %s cannot be held by the runtime",
                           edgec__dtype(dtype)->name);
    if (*nbytes > EDGEC_MAX_TENSOR_BYTES)
        return edgec__fail(EDGEC_STATUS_LIMIT,
                           "a tensor of %lld elements (%zu bytes) exceeds the runtime's "
                           "per-tensor limit of %zu bytes",
                           (long long)n, *nbytes, EDGEC_MAX_TENSOR_BYTES);
    *numel = n;
    return EDGEC_STATUS_OK;
}

edgec_status edgec__rt_tensor_new(int32_t dtype, int32_t rank, const int64_t *dims,
                                  edgec_rt_tensor **out)
{
    *out = NULL;
    int64_t numel = 0;
    size_t nbytes = 0;
    edgec_status st = shape_bytes(dtype, rank, dims, &numel, &nbytes);
    if (st)
        return st;
    edgec_rt_tensor *t = calloc(1, sizeof *t);
    size_t alloc = (nbytes + RT_ALIGN - 1) / RT_ALIGN * RT_ALIGN;
    void *data = aligned_alloc(RT_ALIGN, alloc ? alloc : RT_ALIGN);
    if (!t || !data) {
        free(t);
        free(data);
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory allocating %zu bytes", nbytes);
    }
    memset(data, 0, alloc ? alloc : RT_ALIGN);
    t->dtype = dtype;
    t->rank = rank;
    if (rank)
        memcpy(t->dims, dims, (size_t)rank * sizeof *dims);
    t->numel = numel;
    t->data = data;
    t->nbytes = nbytes;
    t->owned = true;
    *out = t;
    return EDGEC_STATUS_OK;
}

void edgec__rt_tensor_free(edgec_rt_tensor *t)
{
    if (!t)
        return;
    if (t->owned)
        free(t->data);
    free(t);
}

edgec_status edgec__op_fail(const edgec_op_ctx *ctx, edgec_status st, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const edgec_node *n = ctx->node;
    return edgec__fail(st, "node '%s' (%s): %s", *n->name ? n->name : (n->n_outputs ? n->outputs[0] : ""),
                       n->op_type, msg);
}

edgec_rt_tensor *edgec__rt_output(edgec_op_ctx *ctx, size_t index, int32_t dtype, int32_t rank,
                                  const int64_t *dims)
{
    if (index >= ctx->n_outputs) {
        edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "has no output %zu", index);
        return NULL;
    }
    edgec_rt_tensor *t;
    edgec_status st = edgec__rt_tensor_new(dtype, rank, dims, &t);
    if (st) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", edgec_error_message());
        ctx->alloc_status = edgec__op_fail(ctx, st, "output %zu: %s", index, msg);
        return NULL;
    }
    edgec__rt_tensor_free(ctx->outputs[index]);
    ctx->outputs[index] = t;
    return t;
}

int64_t edgec__attr_int(const edgec_node *n, const char *name, int64_t def)
{
    const edgec_attr *a = edgec__node_attr(n, name);
    return a && a->type == EDGEC_ATTR_INT ? a->i : def;
}

float edgec__attr_float(const edgec_node *n, const char *name, float def)
{
    const edgec_attr *a = edgec__node_attr(n, name);
    if (a && a->type == EDGEC_ATTR_FLOAT)
        return a->f;
    if (a && a->type == EDGEC_ATTR_INT)
        return (float)a->i;
    return def;
}

size_t edgec__attr_ints(const edgec_node *n, const char *name, int64_t *out, size_t cap)
{
    const edgec_attr *a = edgec__node_attr(n, name);
    if (!a || a->type != EDGEC_ATTR_INTS)
        return 0;
    for (size_t i = 0; i < a->n && i < cap; i++)
        out[i] = a->ints[i];
    return a->n;
}

const char *edgec__attr_string(const edgec_node *n, const char *name, char *buf, size_t cap,
                               const char *def)
{
    const edgec_attr *a = edgec__node_attr(n, name);
    if (!a || a->type != EDGEC_ATTR_STRING || !cap)
        return def;
    size_t len = a->s.len < cap - 1 ? a->s.len : cap - 1;
    memcpy(buf, a->s.data, len);
    buf[len] = '\0';
    return buf;
}

float edgec__f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else { /* subnormal: normalise */
            int e = -1;
            do {
                e++;
                man <<= 1;
            } while (!(man & 0x400));
            bits = sign | (uint32_t)(112 - e) << 23 | (man & 0x3ff) << 13;
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | man << 13;
    } else {
        bits = sign | (exp + 112) << 23 | man << 13;
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

uint16_t edgec__f32_to_f16(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000;
    uint32_t exp = (x >> 23) & 0xff;
    uint32_t man = x & 0x7fffff;
    if (exp == 0xff)
        return (uint16_t)(sign | 0x7c00 | (man ? 0x200 | (man >> 13) : 0));
    int32_t e = (int32_t)exp - 127 + 15;
    if (e >= 31)
        return (uint16_t)(sign | 0x7c00);
    if (e <= 0) {
        if (e < -10)
            return (uint16_t)sign;
        man |= 0x800000;
        uint32_t shift = (uint32_t)(14 - e);
        uint32_t half = man >> shift;
        uint32_t rem = man & ((1u << shift) - 1), mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1)))
            half++;
        return (uint16_t)(sign | half);
    }
    uint32_t h = sign | (uint32_t)e << 10 | man >> 13;
    uint32_t rem = man & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1)))
        h++; /* may carry into the exponent, which is the right result */
    return (uint16_t)h;
}

float edgec__bf16_to_f32(uint16_t h)
{
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

uint16_t edgec__f32_to_bf16(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    if ((x & 0x7fffffff) > 0x7f800000)
        return (uint16_t)((x >> 16) | 0x40);
    x += 0x7fff + ((x >> 16) & 1);
    return (uint16_t)(x >> 16);
}

double edgec__rt_get_f64(const edgec_rt_tensor *t, int64_t i)
{
    const void *d = t->data;
    switch (t->dtype) {
    case EDGEC_DTYPE_FLOAT:
        return ((const float *)d)[i];
    case EDGEC_DTYPE_DOUBLE:
        return ((const double *)d)[i];
    case EDGEC_DTYPE_FLOAT16:
        return edgec__f16_to_f32(((const uint16_t *)d)[i]);
    case EDGEC_DTYPE_BFLOAT16:
        return edgec__bf16_to_f32(((const uint16_t *)d)[i]);
    case EDGEC_DTYPE_INT8:
        return ((const int8_t *)d)[i];
    case EDGEC_DTYPE_UINT8:
    case EDGEC_DTYPE_BOOL:
        return ((const uint8_t *)d)[i];
    case EDGEC_DTYPE_INT16:
        return ((const int16_t *)d)[i];
    case EDGEC_DTYPE_UINT16:
        return ((const uint16_t *)d)[i];
    case EDGEC_DTYPE_INT32:
        return ((const int32_t *)d)[i];
    case EDGEC_DTYPE_UINT32:
        return ((const uint32_t *)d)[i];
    case EDGEC_DTYPE_INT64:
        return (double)((const int64_t *)d)[i];
    case EDGEC_DTYPE_UINT64:
        return (double)((const uint64_t *)d)[i];
    case EDGEC_DTYPE_INT4: {
        uint8_t b = ((const uint8_t *)d)[i / 2];
        int v = (i & 1) ? b >> 4 : b & 0xf;
        return v >= 8 ? v - 16 : v;
    }
    case EDGEC_DTYPE_UINT4: {
        uint8_t b = ((const uint8_t *)d)[i / 2];
        return (i & 1) ? b >> 4 : b & 0xf;
    }
    default:
        return NAN;
    }
}

int64_t edgec__rt_get_i64(const edgec_rt_tensor *t, int64_t i)
{
    switch (t->dtype) {
    case EDGEC_DTYPE_INT64:
        return ((const int64_t *)t->data)[i];
    case EDGEC_DTYPE_UINT64:
        return (int64_t)((const uint64_t *)t->data)[i];
    case EDGEC_DTYPE_INT32:
        return ((const int32_t *)t->data)[i];
    default: {
        double v = edgec__rt_get_f64(t, i);
        if (!(v == v))
            return 0;
        if (v >= 9.2233720368547758e18)
            return INT64_MAX;
        if (v <= -9.2233720368547758e18)
            return INT64_MIN;
        return (int64_t)v;
    }
    }
}

void edgec__rt_set_f64(edgec_rt_tensor *t, int64_t i, double v)
{
    void *d = t->data;
    switch (t->dtype) {
    case EDGEC_DTYPE_FLOAT:
        ((float *)d)[i] = (float)v;
        break;
    case EDGEC_DTYPE_DOUBLE:
        ((double *)d)[i] = v;
        break;
    case EDGEC_DTYPE_FLOAT16:
        ((uint16_t *)d)[i] = edgec__f32_to_f16((float)v);
        break;
    case EDGEC_DTYPE_BFLOAT16:
        ((uint16_t *)d)[i] = edgec__f32_to_bf16((float)v);
        break;
    case EDGEC_DTYPE_BOOL:
        ((uint8_t *)d)[i] = v != 0;
        break;
    case EDGEC_DTYPE_INT8:
        ((int8_t *)d)[i] = (int8_t)(int64_t)v;
        break;
    case EDGEC_DTYPE_UINT8:
        ((uint8_t *)d)[i] = (uint8_t)(int64_t)v;
        break;
    case EDGEC_DTYPE_INT16:
        ((int16_t *)d)[i] = (int16_t)(int64_t)v;
        break;
    case EDGEC_DTYPE_UINT16:
        ((uint16_t *)d)[i] = (uint16_t)(int64_t)v;
        break;
    case EDGEC_DTYPE_INT32:
        ((int32_t *)d)[i] = (int32_t)(int64_t)v;
        break;
    case EDGEC_DTYPE_UINT32:
        ((uint32_t *)d)[i] = (uint32_t)(int64_t)v;
        break;
    case EDGEC_DTYPE_INT64:
        ((int64_t *)d)[i] = (int64_t)v;
        break;
    case EDGEC_DTYPE_UINT64:
        ((uint64_t *)d)[i] = (uint64_t)v;
        break;
    case EDGEC_DTYPE_INT4:
    case EDGEC_DTYPE_UINT4: {
        uint8_t *b = &((uint8_t *)d)[i / 2];
        uint8_t nib = (uint8_t)((int64_t)v & 0xf);
        *b = (i & 1) ? (uint8_t)((*b & 0x0f) | nib << 4) : (uint8_t)((*b & 0xf0) | nib);
        break;
    }
    default:
        break;
    }
}

bool edgec__broadcast_shape(int32_t ra, const int64_t *da, int32_t rb, const int64_t *db,
                            int32_t *out_rank, int64_t *out_dims)
{
    int32_t r = ra > rb ? ra : rb;
    for (int32_t i = 0; i < r; i++) {
        int64_t a = i < r - ra ? 1 : da[i - (r - ra)];
        int64_t b = i < r - rb ? 1 : db[i - (r - rb)];
        if (a != b && a != 1 && b != 1)
            return false;
        out_dims[i] = a == 1 ? b : a;
    }
    *out_rank = r;
    return true;
}
