/* Public arrays: creation, copies, slices, element access. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "edgec/array.h"

#define ARRAY_ALIGN 64

size_t edgec_elem_size(edgec_elem_type type)
{
    switch (type) {
    case EDGEC_ELEM_UINT8:
    case EDGEC_ELEM_INT8:
    case EDGEC_ELEM_BOOL:
        return 1;
    case EDGEC_ELEM_UINT16:
    case EDGEC_ELEM_INT16:
    case EDGEC_ELEM_FLOAT16:
    case EDGEC_ELEM_BFLOAT16:
        return 2;
    case EDGEC_ELEM_FLOAT:
    case EDGEC_ELEM_INT32:
    case EDGEC_ELEM_UINT32:
        return 4;
    case EDGEC_ELEM_INT64:
    case EDGEC_ELEM_DOUBLE:
    case EDGEC_ELEM_UINT64:
        return 8;
    default:
        return 0;
    }
}

const char *edgec_elem_name(edgec_elem_type type)
{
    switch (type) {
    case EDGEC_ELEM_FLOAT:
        return "float32";
    case EDGEC_ELEM_UINT8:
        return "uint8";
    case EDGEC_ELEM_INT8:
        return "int8";
    case EDGEC_ELEM_UINT16:
        return "uint16";
    case EDGEC_ELEM_INT16:
        return "int16";
    case EDGEC_ELEM_INT32:
        return "int32";
    case EDGEC_ELEM_INT64:
        return "int64";
    case EDGEC_ELEM_BOOL:
        return "bool";
    case EDGEC_ELEM_FLOAT16:
        return "float16";
    case EDGEC_ELEM_DOUBLE:
        return "float64";
    case EDGEC_ELEM_UINT32:
        return "uint32";
    case EDGEC_ELEM_UINT64:
        return "uint64";
    case EDGEC_ELEM_BFLOAT16:
        return "bfloat16";
    default:
        return "undefined";
    }
}

static char *dup_name(const char *name)
{
    size_t n = strlen(name) + 1;
    char *s = malloc(n);
    if (s)
        memcpy(s, name, n);
    return s;
}

edgec_status edgec_array_create(const char *name, edgec_elem_type type, int rank,
                                const int64_t *dims, edgec_array **out)
{
    *out = NULL;
    size_t esize = edgec_elem_size(type);
    if (!esize)
        return edgec__fail(EDGEC_STATUS_UNSUPPORTED, "array%s%s: element type %d is not supported",
                           name ? " " : "", name ? name : "", (int)type);
    if (rank < 0 || rank > EDGEC_ARRAY_MAX_RANK)
        return edgec__fail(EDGEC_STATUS_LIMIT, "array%s%s: rank %d is over the limit of %d",
                           name ? " " : "", name ? name : "", rank, EDGEC_ARRAY_MAX_RANK);
    int64_t numel = 1;
    for (int i = 0; i < rank; i++) {
        if (dims[i] < 0)
            return edgec__fail(EDGEC_STATUS_INVALID_DATA, "array%s%s: negative dimension %lld",
                               name ? " " : "", name ? name : "", (long long)dims[i]);
        if (!edgec__mul_i64(numel, dims[i], &numel))
            return edgec__fail(EDGEC_STATUS_LIMIT, "array%s%s: element count overflows",
                               name ? " " : "", name ? name : "");
    }
    size_t nbytes, alloc;
    if (!edgec__mul_size((size_t)numel, esize, &nbytes) ||
        !edgec__add_size(nbytes, ARRAY_ALIGN - 1, &alloc) || (uint64_t)numel > SIZE_MAX)
        return edgec__fail(EDGEC_STATUS_LIMIT, "array%s%s: size overflows", name ? " " : "",
                           name ? name : "");
    alloc = alloc / ARRAY_ALIGN * ARRAY_ALIGN;
    edgec_array *a = calloc(1, sizeof *a);
    void *data = aligned_alloc(ARRAY_ALIGN, alloc ? alloc : ARRAY_ALIGN);
    char *nm = name ? dup_name(name) : NULL;
    if (!a || !data || (name && !nm)) {
        free(a);
        free(data);
        free(nm);
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "array%s%s: out of memory allocating %zu bytes",
                           name ? " " : "", name ? name : "", nbytes);
    }
    memset(data, 0, alloc ? alloc : ARRAY_ALIGN);
    a->name = nm;
    a->type = type;
    a->rank = rank;
    if (rank)
        memcpy(a->dims, dims, (size_t)rank * sizeof *dims);
    a->numel = numel;
    a->data = data;
    a->nbytes = nbytes;
    *out = a;
    return EDGEC_STATUS_OK;
}

edgec_status edgec_array_clone(const edgec_array *a, const char *name, edgec_array **out)
{
    edgec_status st = edgec_array_create(name ? name : a->name, a->type, a->rank, a->dims, out);
    if (!st && a->nbytes)
        memcpy((*out)->data, a->data, a->nbytes);
    return st;
}

edgec_status edgec_array_set_name(edgec_array *a, const char *name)
{
    char *nm = NULL;
    if (name && !(nm = dup_name(name)))
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory naming array '%s'", name);
    free(a->name);
    a->name = nm;
    return EDGEC_STATUS_OK;
}

edgec_status edgec_array_slice(const edgec_array *a, int64_t start, int64_t count,
                               edgec_array **out)
{
    *out = NULL;
    const char *nm = a->name ? a->name : "(unnamed)";
    if (a->rank < 1)
        return edgec__fail(EDGEC_STATUS_INVALID_DATA,
                           "array '%s' is a scalar and has no samples to slice", nm);
    if (start < 0 || count < 0 || start > a->dims[0] || count > a->dims[0] - start)
        return edgec__fail(EDGEC_STATUS_INVALID_DATA,
                           "array '%s': samples %lld..%lld are out of range (it has %lld)", nm,
                           (long long)start, (long long)(start + count), (long long)a->dims[0]);
    int64_t dims[EDGEC_ARRAY_MAX_RANK];
    memcpy(dims, a->dims, (size_t)a->rank * sizeof *dims);
    dims[0] = count;
    edgec_status st = edgec_array_create(a->name, a->type, a->rank, dims, out);
    if (st)
        return st;
    /* The source holds dims[0] rows of equal size, so the row size cannot overflow. */
    size_t row = a->dims[0] ? a->nbytes / (size_t)a->dims[0] : 0;
    if ((*out)->nbytes)
        memcpy((*out)->data, (const uint8_t *)a->data + row * (size_t)start, (*out)->nbytes);
    return EDGEC_STATUS_OK;
}

static float half_to_float(uint16_t h)
{
    int exp = (h >> 10) & 0x1f, man = h & 0x3ff;
    double v;
    if (exp == 0)
        v = ldexp(man, -24);
    else if (exp == 31)
        v = man ? NAN : INFINITY;
    else
        v = ldexp(man | 0x400, exp - 25);
    return (float)((h & 0x8000) ? -v : v);
}

double edgec_array_get_f64(const edgec_array *a, int64_t i)
{
    const void *d = a->data;
    switch (a->type) {
    case EDGEC_ELEM_FLOAT:
        return ((const float *)d)[i];
    case EDGEC_ELEM_DOUBLE:
        return ((const double *)d)[i];
    case EDGEC_ELEM_UINT8:
        return ((const uint8_t *)d)[i];
    case EDGEC_ELEM_BOOL:
        return ((const uint8_t *)d)[i] != 0;
    case EDGEC_ELEM_INT8:
        return ((const int8_t *)d)[i];
    case EDGEC_ELEM_UINT16:
        return ((const uint16_t *)d)[i];
    case EDGEC_ELEM_INT16:
        return ((const int16_t *)d)[i];
    case EDGEC_ELEM_INT32:
        return ((const int32_t *)d)[i];
    case EDGEC_ELEM_UINT32:
        return ((const uint32_t *)d)[i];
    case EDGEC_ELEM_INT64:
        return (double)((const int64_t *)d)[i];
    case EDGEC_ELEM_UINT64:
        return (double)((const uint64_t *)d)[i];
    case EDGEC_ELEM_FLOAT16:
        return half_to_float(((const uint16_t *)d)[i]);
    case EDGEC_ELEM_BFLOAT16: {
        uint32_t bits = (uint32_t)((const uint16_t *)d)[i] << 16;
        float f;
        memcpy(&f, &bits, 4);
        return f;
    }
    default:
        return NAN;
    }
}

void edgec_array_free(edgec_array *a)
{
    if (!a)
        return;
    free(a->name);
    free(a->data);
    free(a);
}
