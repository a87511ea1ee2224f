/* ONNX TensorProto .pb files, as found in test_data_set_N folders: read into arrays and
 * written from them. Only src/onnx may see protobuf-c types, so the reader lives here. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/data_internal.h"
#include "onnx/onnx_internal.h"
#include "onnx/tensor_io.h"

/* Packed repeated fields may take up to 8 bytes of memory per byte on the wire. Files
 * over this size are refused before protobuf-c allocates anything for them. */
#define PB_FILE_LIMIT EDGEC_PROTO_LIMIT

/* Fills `a->data` from the typed field that holds the values. The element count was
 * checked against the array by the caller. */
static void decode_typed(const Onnx__TensorProto *pb, edgec_array *a)
{
    size_t w = edgec_elem_size(a->type);
    uint8_t *out = a->data;
    if (pb->n_float_data) {
        memcpy(out, pb->float_data, a->nbytes);
    } else if (pb->n_double_data) {
        memcpy(out, pb->double_data, a->nbytes);
    } else if (pb->n_int64_data) {
        memcpy(out, pb->int64_data, a->nbytes);
    } else if (pb->n_uint64_data) {
        for (size_t i = 0; i < pb->n_uint64_data; i++) {
            uint64_t v = pb->uint64_data[i];
            memcpy(out + i * w, &v, w); /* little-endian host: the low bytes come first */
        }
    } else if (pb->n_int32_data) {
        /* Types narrower than 32 bits keep one element in each int32 (float16 and
         * bfloat16 as their bit patterns). */
        for (size_t i = 0; i < pb->n_int32_data; i++) {
            int32_t v = pb->int32_data[i];
            memcpy(out + i * w, &v, w);
        }
    }
}

/* Which typed field may hold `type`, per onnx.proto. */
static bool field_fits(edgec_elem_type type, const char *field)
{
    switch (type) {
    case EDGEC_ELEM_FLOAT:
        return !strcmp(field, "float_data");
    case EDGEC_ELEM_DOUBLE:
        return !strcmp(field, "double_data");
    case EDGEC_ELEM_INT64:
        return !strcmp(field, "int64_data");
    case EDGEC_ELEM_UINT32:
    case EDGEC_ELEM_UINT64:
        return !strcmp(field, "uint64_data");
    default:
        return !strcmp(field, "int32_data");
    }
}

edgec_status edgec_tensor_pb_read_buffer(const void *data, size_t size, const char *name,
                                         edgec_array **out)
{
    *out = NULL;
    edgec__error_clear();
    if (!name)
        name = "<memory>";
    if ((uint64_t)size > PB_FILE_LIMIT)
        return edgec__fail(EDGEC_STATUS_LIMIT, "%s: %zu bytes is over the 2 GB protobuf limit",
                           name, size);
    Onnx__TensorProto *pb = onnx__tensor_proto__unpack(NULL, size, data);
    if (!pb)
        return edgec__fail(EDGEC_STATUS_INVALID_DATA,
                           "%s: not an ONNX TensorProto (protobuf decoding failed)", name);
    edgec_status st = EDGEC_STATUS_OK;
    edgec_array *a = NULL;
    const char *tname = pb->name && *pb->name ? pb->name : NULL;
    char what[512];
    snprintf(what, sizeof what, "%s: tensor '%s'", name, tname ? tname : "(unnamed)");
    edgec_elem_type type = pb->has_data_type ? (edgec_elem_type)pb->data_type : EDGEC_ELEM_UNDEFINED;
    if (!edgec_elem_size(type)) {
        st = edgec__fail(pb->has_data_type && pb->data_type > 0 && pb->data_type < 24
                             ? EDGEC_STATUS_UNSUPPORTED
                             : EDGEC_STATUS_INVALID_DATA,
                         "%s has data type %d, which edgec cannot read into an array", what,
                         pb->has_data_type ? (int)pb->data_type : 0);
        goto cleanup;
    }
    if (pb->segment || (pb->has_data_location &&
                        pb->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)) {
        st = edgec__fail(EDGEC_STATUS_UNSUPPORTED,
                         "%s is segmented or stored in external data, which test data files "
                         "cannot use",
                         what);
        goto cleanup;
    }
    if (pb->n_dims > EDGEC_ARRAY_MAX_RANK) {
        st = edgec__fail(EDGEC_STATUS_LIMIT, "%s has rank %zu; the limit is %d", what, pb->n_dims,
                         EDGEC_ARRAY_MAX_RANK);
        goto cleanup;
    }
    int64_t numel = 1;
    for (size_t i = 0; i < pb->n_dims; i++) {
        if (pb->dims[i] < 0 || !edgec__mul_i64(numel, pb->dims[i], &numel)) {
            st = edgec__fail(EDGEC_STATUS_INVALID_DATA, "%s has an invalid shape (dim %zu = %lld)",
                             what, i, (long long)pb->dims[i]);
            goto cleanup;
        }
    }
    /* Check the element count against the bytes present before allocating. */
    size_t esize = edgec_elem_size(type), have = 0, fields = 0;
    const char *field = NULL;
#define TYPED(f)                                                                            \
    if (pb->n_##f) {                                                                        \
        have = pb->n_##f;                                                                   \
        field = #f;                                                                         \
        fields++;                                                                           \
    }
    TYPED(float_data)
    TYPED(double_data)
    TYPED(int32_data)
    TYPED(int64_data)
    TYPED(uint64_data)
#undef TYPED
    if (pb->has_raw_data) {
        if ((uint64_t)numel > pb->raw_data.len / esize || pb->raw_data.len != (size_t)numel * esize) {
            st = edgec__fail(EDGEC_STATUS_INVALID_DATA,
                             "%s: raw_data holds %zu bytes but its shape and type need %llu", what,
                             pb->raw_data.len, (unsigned long long)numel * esize);
            goto cleanup;
        }
    } else if (fields > 1 || (fields == 1 && !field_fits(type, field))) {
        st = edgec__fail(EDGEC_STATUS_INVALID_DATA, "%s stores %s values in the wrong field%s",
                         what, edgec_elem_name(type), fields > 1 ? "s" : "");
        goto cleanup;
    } else if ((uint64_t)have != (uint64_t)numel) {
        st = edgec__fail(EDGEC_STATUS_INVALID_DATA,
                         "%s holds %zu values but its shape needs %lld", what, have,
                         (long long)numel);
        goto cleanup;
    }
    int64_t dims[EDGEC_ARRAY_MAX_RANK];
    for (size_t i = 0; i < pb->n_dims; i++)
        dims[i] = pb->dims[i];
    if ((st = edgec_array_create(tname, type, (int)pb->n_dims, dims, &a)))
        goto cleanup;
    if (pb->has_raw_data) {
        if (a->nbytes)
            memcpy(a->data, pb->raw_data.data, a->nbytes);
    } else {
        decode_typed(pb, a);
    }
    *out = a;
    a = NULL;
cleanup:
    edgec_array_free(a);
    onnx__tensor_proto__free_unpacked(pb, NULL);
    return st;
}

edgec_status edgec_tensor_pb_read(const char *path, edgec_array **out)
{
    *out = NULL;
    edgec__error_clear();
    uint8_t *buf = NULL;
    size_t len = 0;
    edgec_status st = edgec__read_file(path, PB_FILE_LIMIT, &buf, &len);
    if (!st)
        st = edgec_tensor_pb_read_buffer(buf, len, path, out);
    free(buf);
    return st;
}

edgec_status edgec_tensor_pb_write(const char *path, const edgec_array *a)
{
    edgec__error_clear();
    Onnx__TensorProto pb = ONNX__TENSOR_PROTO__INIT;
    int64_t dims[EDGEC_ARRAY_MAX_RANK];
    for (int i = 0; i < a->rank; i++)
        dims[i] = a->dims[i];
    pb.n_dims = (size_t)a->rank;
    pb.dims = dims;
    pb.has_data_type = 1;
    pb.data_type = (int32_t)a->type;
    pb.name = a->name;
    pb.has_raw_data = 1;
    pb.raw_data.len = a->nbytes;
    pb.raw_data.data = a->data;
    size_t n = onnx__tensor_proto__get_packed_size(&pb);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "%s: out of memory", path);
    onnx__tensor_proto__pack(&pb, buf);
    edgec_status st = edgec__write_file(path, buf, n);
    free(buf);
    return st;
}

edgec_status edgec_test_data_read(const char *dir, const char *prefix, edgec_dataset **out)
{
    *out = NULL;
    edgec__error_clear();
    edgec_dataset *ds = NULL;
    edgec_array *a = NULL;
    edgec_status st = edgec_dataset_create(&ds);
    if (st)
        return st;
    if ((st = edgec__dataset_set_source(ds, dir)))
        goto cleanup;
    for (size_t i = 0;; i++) {
        char path[4096];
        struct stat sb;
        if ((size_t)snprintf(path, sizeof path, "%s/%s_%zu.pb", dir, prefix, i) >= sizeof path) {
            st = edgec__fail(EDGEC_STATUS_IO, "%s: path too long", dir);
            goto cleanup;
        }
        if (stat(path, &sb) != 0)
            break;
        if ((st = edgec_tensor_pb_read(path, &a)))
            goto cleanup;
        /* Two tensors with one name (or none) still count: position matters here. */
        if (a->name && edgec_dataset_find(ds, a->name) && (st = edgec_array_set_name(a, NULL)))
            goto cleanup;
        if ((st = edgec_dataset_add(ds, a)))
            goto cleanup;
        a = NULL;
    }
    *out = ds;
    ds = NULL;
cleanup:
    edgec_array_free(a);
    edgec_dataset_free(ds);
    return st;
}

edgec_value_kind edgec__value_info_kind(const edgec_value_info *vi)
{
    const Onnx__ValueInfoProto *pb = vi->origin;
    if (!pb || !pb->type)
        return vi->elem_type ? EDGEC_VALUE_TENSOR : EDGEC_VALUE_UNKNOWN;
    switch (pb->type->value_case) {
    case ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE:
        return EDGEC_VALUE_TENSOR;
    case ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE:
        return EDGEC_VALUE_SEQUENCE;
    case ONNX__TYPE_PROTO__VALUE_MAP_TYPE:
        return EDGEC_VALUE_MAP;
    case ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE:
        return EDGEC_VALUE_OPTIONAL;
    case ONNX__TYPE_PROTO__VALUE__NOT_SET:
        return EDGEC_VALUE_UNKNOWN;
    default:
        return EDGEC_VALUE_OTHER;
    }
}

const char *edgec__value_kind_name(edgec_value_kind k)
{
    switch (k) {
    case EDGEC_VALUE_TENSOR:
        return "tensor";
    case EDGEC_VALUE_SEQUENCE:
        return "sequence";
    case EDGEC_VALUE_MAP:
        return "map";
    case EDGEC_VALUE_OPTIONAL:
        return "optional";
    case EDGEC_VALUE_UNKNOWN:
        return "untyped";
    default:
        return "non-tensor";
    }
}
