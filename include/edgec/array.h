/* Dense n-dimensional arrays: the values that go into and come out of the interpreter,
 * and what the data readers (.npy, .npz, ONNX TensorProto .pb) produce. */
#ifndef EDGEC_ARRAY_H
#define EDGEC_ARRAY_H

#include <stddef.h>
#include <stdint.h>

#include "edgec/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Element types. The values are ONNX's TensorProto.DataType numbers, so they can be
 * compared with what a model declares. */
typedef enum edgec_elem_type {
    EDGEC_ELEM_UNDEFINED = 0,
    EDGEC_ELEM_FLOAT = 1,
    EDGEC_ELEM_UINT8 = 2,
    EDGEC_ELEM_INT8 = 3,
    EDGEC_ELEM_UINT16 = 4,
    EDGEC_ELEM_INT16 = 5,
    EDGEC_ELEM_INT32 = 6,
    EDGEC_ELEM_INT64 = 7,
    EDGEC_ELEM_BOOL = 9,
    EDGEC_ELEM_FLOAT16 = 10,
    EDGEC_ELEM_DOUBLE = 11,
    EDGEC_ELEM_UINT32 = 12,
    EDGEC_ELEM_UINT64 = 13,
    EDGEC_ELEM_BFLOAT16 = 16
} edgec_elem_type;

/** The highest rank an array may have. */
#define EDGEC_ARRAY_MAX_RANK 32

/** A dense, row-major, little-endian array that owns its data. Booleans take one byte,
 * float16 and bfloat16 are stored as their 16-bit patterns. Create arrays with
 * `edgec_array_create` (or a reader) and release them with `edgec_array_free`; the
 * fields may be read freely, and `data` written, but the shape must not be changed. */
typedef struct edgec_array {
    char *name;               /* NULL when unnamed */
    edgec_elem_type type;
    int rank;
    int64_t dims[EDGEC_ARRAY_MAX_RANK];
    int64_t numel;            /* product of dims; 1 for a scalar */
    void *data;               /* numel * element size bytes, 64-byte aligned */
    size_t nbytes;
} edgec_array;

/** Bytes of one element of `type`, or 0 for types arrays cannot hold. */
size_t edgec_elem_size(edgec_elem_type type);

/** A short lower-case name such as "float32" or "int64" ("undefined" when unknown). */
const char *edgec_elem_name(edgec_elem_type type);

/** Allocates a zero-filled array. `name` may be NULL. Fails with LIMIT when the rank is
 * over EDGEC_ARRAY_MAX_RANK or the size overflows, INVALID_DATA for negative dims,
 * UNSUPPORTED for types without a fixed element size. */
edgec_status edgec_array_create(const char *name, edgec_elem_type type, int rank,
                                const int64_t *dims, edgec_array **out);

/** Deep copy of `a`, with the name replaced by `name` when it is not NULL. */
edgec_status edgec_array_clone(const edgec_array *a, const char *name, edgec_array **out);

/** Replaces the array's name (NULL removes it). */
edgec_status edgec_array_set_name(edgec_array *a, const char *name);

/** Copies `count` consecutive entries along the first axis, starting at `start`, into a
 * new array of shape [count, dims[1:]...] with the same name. Fails with INVALID_DATA
 * for a scalar or an out-of-range slice. */
edgec_status edgec_array_slice(const edgec_array *a, int64_t start, int64_t count,
                               edgec_array **out);

/** Element `i` of a numeric array converted to double (booleans give 0 or 1). */
double edgec_array_get_f64(const edgec_array *a, int64_t i);

/** Releases the array and its data. Accepts NULL. */
void edgec_array_free(edgec_array *a);

#ifdef __cplusplus
}
#endif
#endif
