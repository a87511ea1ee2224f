/* From unpacked protobuf-c messages to the IR, validating as it goes.
 *
 * Every count and size that comes from the file is checked here before it is used to
 * allocate or index: ranks, dims, element counts (overflow-checked, and never more than
 * the bytes present), data lengths, subgraph depth, external data paths. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "onnx/onnx_internal.h"

static void *pb_alloc(void *data, size_t size)
{
    return edgec__arena_alloc(data, size);
}

static void pb_free(void *data, void *ptr)
{
    (void)data;
    (void)ptr; /* released with the arena */
}

void edgec__pb_allocator(edgec_arena *a, ProtobufCAllocator *out)
{
    out->alloc = pb_alloc;
    out->free = pb_free;
    out->allocator_data = a;
}

typedef struct reader {
    edgec_model *m;
    edgec_arena *a;
    const char *file;
} reader;

#define NOMEM(r) edgec__fail(EDGEC_STATUS_NO_MEMORY, "%s: out of memory while reading", (r)->file)

static const char *str_or_empty(const char *s)
{
    return s ? s : "";
}

/* Checks dims and computes the element count. `what` names the tensor in messages. */
static edgec_status check_dims(reader *r, const char *what, size_t n_dims, const int64_t *dims,
                               int64_t *numel)
{
    if (n_dims > EDGEC_MAX_RANK)
        return edgec__fail(EDGEC_STATUS_LIMIT, "%s: %s has rank %zu; the limit is %d", r->file,
                           what, n_dims, EDGEC_MAX_RANK);
    int64_t n = 1;
    for (size_t i = 0; i < n_dims; i++) {
        if (dims[i] < 0)
            return edgec__fail(EDGEC_STATUS_INVALID_MODEL, "%s: %s has negative dim %lld at axis %zu",
                               r->file, what, (long long)dims[i], i);
        if (!edgec__mul_i64(n, dims[i], &n))
            return edgec__fail(EDGEC_STATUS_INVALID_MODEL,
                               "%s: %s: the product of its dims overflows 64 bits", r->file, what);
    }
    *numel = n;
    return EDGEC_STATUS_OK;
}

/* Parses a non-negative decimal integer that fills the whole string. */
static bool parse_u63(const char *s, int64_t *out)
{
    if (!s || !*s)
        return false;
    int64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        if (!edgec__mul_i64(v, 10, &v) || __builtin_add_overflow(v, *p - '0', &v))
            return false;
    }
    *out = v;
    return true;
}

static edgec_status remember_file(reader *r, const struct stat *st, const char *path)
{
    edgec_model *m = r->m;
    for (size_t i = 0; i < m->n_files; i++)
        if (m->files[i].dev == (uint64_t)st->st_dev && m->files[i].ino == (uint64_t)st->st_ino)
            return EDGEC_STATUS_OK;
    edgec_file_id *f = edgec__arena_calloc(r->a, m->n_files + 1, sizeof *f);
    if (!f)
        return NOMEM(r);
    if (m->n_files)
        memcpy(f, m->files, m->n_files * sizeof *f);
    f[m->n_files] = (edgec_file_id){st->st_dev, st->st_ino, edgec__arena_strdup(r->a, path)};
    m->files = f;
    m->n_files++;
    return EDGEC_STATUS_OK;
}

/* Reads a tensor's external data after checking that its location stays inside the
 * model's folder: relative, no "..", no symlink leading out, a regular file, and the
 * offset and length inside the file. */
static edgec_status read_external(reader *r, const Onnx__TensorProto *pb, const char *what,
                                  size_t expect, void **data)
{
    const char *loc = NULL, *off_s = NULL, *len_s = NULL;
    for (size_t i = 0; i < pb->n_external_data; i++) {
        const char *k = str_or_empty(pb->external_data[i]->key);
        const char *v = pb->external_data[i]->value;
        const char **slot = !strcmp(k, "location") ? &loc
                            : !strcmp(k, "offset") ? &off_s
                            : !strcmp(k, "length") ? &len_s
                                                   : NULL;
        if (!slot)
            continue; /* "checksum" and keys of later IR versions carry no location */
        if (*slot)
            return edgec__fail(EDGEC_STATUS_INVALID_MODEL,
                               "%s: %s: external_data has key '%s' twice", r->file, what, k);
        *slot = v ? v : "";
    }
    if (!loc || !*loc)
        return edgec__fail(EDGEC_STATUS_INVALID_MODEL,
                           "%s: %s: external data without a 'location'", r->file, what);
    if (!r->m->dir)
        return edgec__fail(EDGEC_STATUS_UNSAFE_PATH,
                           "%s: %s: external data '%s' cannot be resolved for a model read from "
                           "standard input or memory; pass the model file's path instead",
                           r->file, what, loc);
    if (loc[0] == '/')
        return edgec__fail(EDGEC_STATUS_UNSAFE_PATH,
                           "%s: %s: external data location '%s' is absolute; it must be relative "
                           "to the model's folder",
                           r->file, what, loc);
    for (const char *p = loc; *p;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return edgec__fail(EDGEC_STATUS_UNSAFE_PATH,
                               "%s: %s: external data location '%s' contains '..'; it must stay "
                               "inside the model's folder",
                               r->file, what, loc);
        p += n + (slash ? 1 : 0);
    }
    int64_t offset = 0, length = -1;
    if (off_s && !parse_u63(off_s, &offset))
        return edgec__fail(EDGEC_STATUS_INVALID_MODEL,
                           "%s: %s: external data offset '%s' is not a non-negative integer",
                           r->file, what, off_s);
    if (len_s && !parse_u63(len_s, &length))
        return edgec__fail(EDGEC_STATUS_INVALID_MODEL,
                           "%s: %s: external data length '%s' is not a non-negative integer",
                           r->file, what, len_s);

    edgec_status st = EDGEC_STATUS_OK;
    char joined[PATH_MAX], real[PATH_MAX], realdir[PATH_MAX];
    int fd = -1;
    if ((size_t)snprintf(joined, sizeof joined, "%s/%s", r->m->dir, loc) >= sizeof joined)
        return edgec__fail(EDGEC_STATUS_UNSAFE_PATH, "%s: %s: external data path too long",
                           r->file, what);
    if (!realpath(r->m->dir, realdir))
        return edgec__fail(EDGEC_STATUS_IO, "%s: cannot resolve the model's folder '%s': %s",
                           r->file, r->m->dir, strerror(errno));
    if (!realpath(joined, real))
        return edgec__fail(EDGEC_STATUS_INVALID_MODEL,
                           "%s: %s: external data file '%s' cannot be opened: %s", r->file, what,
                           loc, strerror(errno));
    size_t dl = strlen(realdir);
    bool inside = !strncmp(real, realdir, dl) && (real[dl] == '/' || (dl == 1 && realdir[0] == '/'));
    if (!inside)
        return edgec__fail(EDGEC_STATUS_UNSAFE_PATH,
                           "%s: %s: external data location '%s' resolves to '%s', outside the "
                           "model's folder",
                           r->file, what, loc, real);
    /* O_NONBLOCK so that a FIFO is refused below instead of blocking the open. */
    fd = open(real, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        st = edgec__fail(EDGEC_STATUS_INVALID_MODEL,
                         "%s: %s: external data file '%s' cannot be opened: %s", r->file, what,
                         loc, strerror(errno));
        goto cleanup;
    }
    if (!S_ISREG(sb.st_mode)) {
        st = edgec__fail(EDGEC_STATUS_UNSAFE_PATH,
                         "%s: %s: external data location '%s' is not a regular file", r->file,
                         what, loc);
        goto cleanup;
    }
    if (length < 0)
        length = offset <= sb.st_size ? sb.st_size - offset : 0;
    if (offset > sb.st_size || length > sb.st_size - offset) {
        st = edgec__fail(EDGEC_STATUS_INVALID_MODEL,
                         "%s: %s: external data range [%lld, +%lld) runs past the end of '%s' "
                         "(%lld bytes)",
                         r->file, what, (long long)offset, (long long)length, loc,
                         (long long)sb.st_size);
        goto cleanup;
    }
    if ((uint64_t)length != expect) {
        st = edgec__fail(EDGEC_STATUS_INVALID_MODEL,
                         "%s: %s: external data holds %lld bytes but its dims and type need %zu",
                         r->file, what, (long long)length, expect);
        goto cleanup;
    }
    uint8_t *buf = edgec__arena_alloc(r->a, expect);
    if (!buf) {
        st = NOMEM(r);
        goto cleanup;
    }
    for (size_t done = 0; done < expect;) {
        ssize_t n = pread(fd, buf + done, expect - done, (off_t)(offset + (int64_t)done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            st = edgec__fail(EDGEC_STATUS_IO, "%s: %s: reading external data '%s' failed: %s",
                             r->file, what, loc, n < 0 ? strerror(errno) : "unexpected end");
            goto cleanup;
        }
        done += (size_t)n;
    }
    *data = buf;
    r->m->had_external = true;
    st = remember_file(r, &sb, real);
cleanup:
    if (fd >= 0)
        close(fd);
    return st;
}

/* Decodes one of the typed *_data fields into raw little-endian bytes. The element count
 * was checked against numel by the caller. */
static void decode_typed(const Onnx__TensorProto *pb, int32_t dtype, uint8_t *out, size_t nbytes)
{
    const edgec_dtype_traits *tr = edgec__dtype(dtype);
    if (pb->n_float_data) {
        memcpy(out, pb->float_data, nbytes);
    } else if (pb->n_double_data) {
        memcpy(out, pb->double_data, nbytes);
    } else if (pb->n_int64_data) {
        memcpy(out, pb->int64_data, nbytes);
    } else if (pb->n_uint64_data) {
        if (tr->bits == 64) {
            memcpy(out, pb->uint64_data, nbytes);
        } else {
            for (size_t i = 0; i < pb->n_uint64_data; i++) {
                uint32_t v = (uint32_t)pb->uint64_data[i];
                memcpy(out + 4 * i, &v, 4);
            }
        }
    } else if (pb->n_int32_data) {
        /* Types narrower than 32 bits keep one element (for 4-bit types, one packed
         * byte of two elements) in each int32. */
        size_t w = tr->bits >= 8 ? tr->bits / 8u : 1;
        for (size_t i = 0; i < pb->n_int32_data && (i + 1) * w <= nbytes; i++) {
            int32_t v = pb->int32_data[i];
            memcpy(out + i * w, &v, w); /* little-endian host: low bytes first */
        }
    }
}

/* Whether TensorProto field `field` may carry elements of `dtype` (onnx.proto). */
static bool typed_field_fits(const char *field, int32_t dtype)
{
    switch (dtype) {
    case EDGEC_DTYPE_FLOAT:
    case EDGEC_DTYPE_COMPLEX64:
        return !strcmp(field, "float_data");
    case EDGEC_DTYPE_DOUBLE:
    case EDGEC_DTYPE_COMPLEX128:
        return !strcmp(field, "double_data");
    case EDGEC_DTYPE_INT64:
        return !strcmp(field, "int64_data");
    case EDGEC_DTYPE_UINT32:
    case EDGEC_DTYPE_UINT64:
        return !strcmp(field, "uint64_data");
    default:
        return !strcmp(field, "int32_data");
    }
}

static edgec_status read_tensor(reader *r, const Onnx__TensorProto *pb, const char *ctx,
                                edgec_tensor **out)
{
    char what[256];
    const char *name = str_or_empty(pb->name);
    snprintf(what, sizeof what, "tensor '%s'%s%s", *name ? name : ctx, *name && *ctx ? " in " : "",
             *name ? ctx : "");
    edgec_tensor *t = edgec__arena_calloc(r->a, 1, sizeof *t);
    if (!t)
        return NOMEM(r);
    t->name = name;
    t->origin = pb;
    t->dtype = pb->has_data_type ? pb->data_type : 0;
    const edgec_dtype_traits *tr = edgec__dtype(t->dtype);
    if (t->dtype <= 0 || t->dtype >= EDGEC_DTYPE_COUNT)
        return edgec__fail(EDGEC_STATUS_INVALID_MODEL, "%s: %s has unknown data_type %d", r->file,
                           what, (int)t->dtype);
    if (pb->segment)
        return edgec__fail(EDGEC_STATUS_UNSUPPORTED,
                           "%s: %s is stored in segments, which edgec does not support", r->file,
                           what);
    edgec_status st = check_dims(r, what, pb->n_dims, pb->dims, &t->numel);
    if (st)
        return st;
    t->rank = (int32_t)pb->n_dims;
    t->dims = pb->dims;

    bool external = pb->has_data_location &&
                    pb->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    if (t->dtype == EDGEC_DTYPE_STRING) {
        if (external || pb->has_raw_data)
            return edgec__fail(EDGEC_STATUS_INVALID_MODEL,
                               "%s: STRING %s must keep its values in string_data", r->file, what);
        if ((uint64_t)pb->n_string_data != (uint64_t)t->numel)
            return edgec__fail(EDGEC_STATUS_INVALID_MODEL,
                               "%s: %s has %zu strings but its dims need %lld", r->file, what,
                               pb->n_string_data, (long long)t->numel);
        *out = t;
        return EDGEC_STATUS_OK;
    }
    size_t expect;
    if (!edgec__dtype_nbytes(t->dtype, t->numel, &expect))
        return edgec__fail(EDGEC_STATUS_INVALID_MODEL, "%s: %s is too large (%lld elements)",
                           r->file, what, (long long)t->numel);
    t->nbytes = expect;
    if (external) {
        st = read_external(r, pb, what, expect, &t->data);
        if (st)
            return st;
        t->external = true;
    } else if (pb->has_raw_data) {
        if (pb->raw_data.len != expect)
            return edgec__fail(EDGEC_STATUS_INVALID_MODEL,
                               "%s: %s: raw_data holds %zu bytes but dims and %s need %zu",
                               r->file, what, pb->raw_data.len, tr->name, expect);
        /* The arena allocator gives 16-byte alignment, so kernels may read it in place. */
        t->data = pb->raw_data.data;
    } else {
        size_t have = 0, per = 1;
        const char *field = NULL;
        int fields = 0;
#define TYPED(f, mult)                                                                      \
    if (pb->n_##f) {                                                                        \
        have = pb->n_##f;                                                                   \
        field = #f;                                                                         \
        per = mult;                                                                         \
        fields++;                                                                           \
    }
        TYPED(float_data, t->dtype == EDGEC_DTYPE_COMPLEX64 ? 2 : 1)
        TYPED(double_data, t->dtype == EDGEC_DTYPE_COMPLEX128 ? 2 : 1)
        TYPED(int32_data, 1)
        TYPED(int64_data, 1)
        TYPED(uint64_data, 1)
#undef TYPED
        /* 4-bit types pack two elements in each int32_data entry. */
        uint64_t need = tr->bits == 4 ? ((uint64_t)t->numel + 1) / 2 : (uint64_t)t->numel * per;
        if (fields > 1)
            return edgec__fail(EDGEC_STATUS_INVALID_MODEL, "%s: %s holds data in %d fields",
                               r->file, what, fields);
        if (fields == 0 && t->numel > 0)
            return edgec__fail(EDGEC_STATUS_INVALID_MODEL,
                               "%s: %s has dims of %lld elements but no data", r->file, what,
                               (long long)t->numel);
        /* Each typed field serves fixed data types; decode_typed copies by the type's
         * width, so a field of narrower elements than the type would be over-read. */
        if (fields && !typed_field_fits(field, t->dtype))
            return edgec__fail(EDGEC_STATUS_INVALID_MODEL,
                               "%s: %s: %s cannot hold %s values", r->file, what, field,
                               tr->name);
        if (fields && have != need)
            return edgec__fail(EDGEC_STATUS_INVALID_MODEL,
                               "%s: %s: %s holds %zu values but dims and %s need %llu", r->file,
                               what, field, have, tr->name, (unsigned long long)need);
        t->data = edgec__arena_calloc(r->a, 1, expect);
        if (!t->data)
            return NOMEM(r);
        if (fields)
            decode_typed(pb, t->dtype, t->data, expect);
    }
    *out = t;
    return EDGEC_STATUS_OK;
}

static edgec_status read_sparse(reader *r, const Onnx__SparseTensorProto *pb, const char *ctx,
                                edgec_sparse **out)
{
    edgec_sparse *s = edgec__arena_calloc(r->a, 1, sizeof *s);
    if (!s)
        return NOMEM(r);
    s->origin = pb;
    if (!pb->values || !pb->indices)
        return edgec__fail(EDGEC_STATUS_INVALID_MODEL,
                           "%s: sparse tensor %s lacks its values or indices", r->file, ctx);
    edgec_status st = read_tensor(r, pb->values, ctx, &s->values);
    if (!st)
        st = read_tensor(r, pb->indices, ctx, &s->indices);
    if (st)
        return st;
    const char *name = *s->values->name ? s->values->name : ctx;
    int64_t numel = 0;
    char what[256];
    snprintf(what, sizeof what, "sparse tensor '%s'", name);
    if ((st = check_dims(r, what, pb->n_dims, pb->dims, &numel)))
        return st;
    s->rank = (int32_t)pb->n_dims;
    s->dims = pb->dims;
    const edgec_tensor *ix = s->indices;
    int64_t nnz = s->values->rank == 1 ? s->values->dims[0] : -1;
    bool ok = nnz >= 0 && ix->dtype == EDGEC_DTYPE_INT64 &&
              ((ix->rank == 1 && ix->dims[0] == nnz) ||
               (ix->rank == 2 && ix->dims[0] == nnz && ix->dims[1] == s->rank));
    if (!ok)
        return edgec__fail(EDGEC_STATUS_INVALID_MODEL,
                           "%s: %s: values must be [NNZ] and indices INT64 [NNZ] or [NNZ, rank]",
                           r->file, what);
    /* Indices out of range would make every later densification write out of bounds. */
    const int64_t *iv = ix->data;
    for (int64_t i = 0; i < nnz; i++) {
        if (ix->rank == 1) {
            if (iv[i] < 0 || iv[i] >= numel)
                return edgec__fail(EDGEC_STATUS_INVALID_MODEL,
                                   "%s: %s: index %lld out of range", r->file, what,
                                   (long long)iv[i]);
        } else {
            for (int32_t k = 0; k < s->rank; k++) {
                int64_t v = iv[i * s->rank + k];
                if (v < 0 || v >= s->dims[k])
                    return edgec__fail(EDGEC_STATUS_INVALID_MODEL,
                                       "%s: %s: index %lld out of range at axis %d", r->file, what,
                                       (long long)v, k);
            }
        }
    }
    *out = s;
    return EDGEC_STATUS_OK;
}

static edgec_status read_value_info(reader *r, const Onnx__ValueInfoProto *pb, const char *ctx,
                                    edgec_value_info *vi)
{
    vi->name = str_or_empty(pb->name);
    vi->origin = pb;
    vi->rank = -1;
    const Onnx__TypeProto *tp = pb->type;
    if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
        return EDGEC_STATUS_OK;
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    vi->elem_type = tt->has_elem_type ? tt->elem_type : 0;
    if (!tt->shape)
        return EDGEC_STATUS_OK;
    size_t n = tt->shape->n_dim;
    if (n > EDGEC_MAX_RANK)
        return edgec__fail(EDGEC_STATUS_LIMIT, "%s: value '%s' in %s has rank %zu; the limit is %d",
                           r->file, vi->name, ctx, n, EDGEC_MAX_RANK);
    vi->rank = (int32_t)n;
    vi->dims = edgec__arena_calloc(r->a, n ? n : 1, sizeof *vi->dims);
    vi->dim_params = edgec__arena_calloc(r->a, n ? n : 1, sizeof *vi->dim_params);
    if (!vi->dims || !vi->dim_params)
        return NOMEM(r);
    for (size_t i = 0; i < n; i++) {
        const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
        vi->dims[i] = -1;
        if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
            if (d->dim_value < 0)
                return edgec__fail(EDGEC_STATUS_INVALID_MODEL,
                                   "%s: value '%s' in %s has negative dim %lld", r->file,
                                   vi->name, ctx, (long long)d->dim_value);
            vi->dims[i] = d->dim_value;
        } else if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM) {
            vi->dim_params[i] = d->dim_param;
        }
    }
    return EDGEC_STATUS_OK;
}

static edgec_status read_graph(reader *r, const Onnx__GraphProto *pb, edgec_graph *parent,
                               edgec_node *owner, const char *owner_attr, edgec_graph **out);

static edgec_status read_attr(reader *r, edgec_node *node, const Onnx__AttributeProto *pb,
                              edgec_attr *at)
{
    char ctx[300];
    at->name = str_or_empty(pb->name);
    at->origin = pb;
    at->ref_attr_name = pb->ref_attr_name;
    snprintf(ctx, sizeof ctx, "attribute '%s' of node '%s' (%s)", at->name, node->name,
             node->op_type);
    /* IR < 2 files omit the type; infer it from the one field present. */
    int32_t type = pb->has_type ? (int32_t)pb->type : 0;
    if (!type) {
        type = pb->has_f ? EDGEC_ATTR_FLOAT
               : pb->has_i ? EDGEC_ATTR_INT
               : pb->has_s ? EDGEC_ATTR_STRING
               : pb->t ? EDGEC_ATTR_TENSOR
               : pb->g ? EDGEC_ATTR_GRAPH
               : pb->sparse_tensor ? EDGEC_ATTR_SPARSE_TENSOR
               : pb->tp ? EDGEC_ATTR_TYPE_PROTO
               : pb->n_floats ? EDGEC_ATTR_FLOATS
               : pb->n_ints ? EDGEC_ATTR_INTS
               : pb->n_strings ? EDGEC_ATTR_STRINGS
               : pb->n_tensors ? EDGEC_ATTR_TENSORS
               : pb->n_graphs ? EDGEC_ATTR_GRAPHS
               : pb->n_sparse_tensors ? EDGEC_ATTR_SPARSE_TENSORS
               : pb->n_type_protos ? EDGEC_ATTR_TYPE_PROTOS
                                   : 0;
    }
    at->type = type;
    at->f = pb->f;
    at->i = pb->i;
    at->s = (edgec_bytes){pb->s.len, pb->s.data};
    edgec_status st = EDGEC_STATUS_OK;
    if (pb->t && (st = read_tensor(r, pb->t, ctx, &at->t)))
        return st;
    if (pb->sparse_tensor && (st = read_sparse(r, pb->sparse_tensor, ctx, &at->sparse)))
        return st;
    if (pb->g && (st = read_graph(r, pb->g, node->graph, node, at->name, &at->g)))
        return st;
    switch (type) {
    case EDGEC_ATTR_FLOATS:
        at->n = pb->n_floats;
        break;
    case EDGEC_ATTR_INTS:
        at->n = pb->n_ints;
        break;
    case EDGEC_ATTR_STRINGS:
        at->n = pb->n_strings;
        break;
    case EDGEC_ATTR_TENSORS:
        at->n = pb->n_tensors;
        break;
    case EDGEC_ATTR_GRAPHS:
        at->n = pb->n_graphs;
        break;
    case EDGEC_ATTR_SPARSE_TENSORS:
        at->n = pb->n_sparse_tensors;
        break;
    default:
        break;
    }
    at->floats = pb->floats;
    at->ints = pb->ints;
    at->strings = (edgec_bytes *)pb->strings;
    if (pb->n_tensors) {
        if (!(at->tensors = edgec__arena_calloc(r->a, pb->n_tensors, sizeof *at->tensors)))
            return NOMEM(r);
        for (size_t i = 0; i < pb->n_tensors; i++)
            if ((st = read_tensor(r, pb->tensors[i], ctx, &at->tensors[i])))
                return st;
    }
    if (pb->n_graphs) {
        if (!(at->graphs = edgec__arena_calloc(r->a, pb->n_graphs, sizeof *at->graphs)))
            return NOMEM(r);
        for (size_t i = 0; i < pb->n_graphs; i++)
            if ((st = read_graph(r, pb->graphs[i], node->graph, node, at->name, &at->graphs[i])))
                return st;
    }
    if (pb->n_sparse_tensors) {
        if (!(at->sparse_tensors =
                  edgec__arena_calloc(r->a, pb->n_sparse_tensors, sizeof *at->sparse_tensors)))
            return NOMEM(r);
        for (size_t i = 0; i < pb->n_sparse_tensors; i++)
            if ((st = read_sparse(r, pb->sparse_tensors[i], ctx, &at->sparse_tensors[i])))
                return st;
    }
    return EDGEC_STATUS_OK;
}

static edgec_status read_node(reader *r, edgec_graph *g, const Onnx__NodeProto *pb,
                              edgec_node **out)
{
    edgec_node *n = edgec__arena_calloc(r->a, 1, sizeof *n);
    if (!n)
        return NOMEM(r);
    n->origin = pb;
    n->graph = g;
    n->name = str_or_empty(pb->name);
    n->op_type = str_or_empty(pb->op_type);
    n->domain = str_or_empty(pb->domain);
    if (!*n->op_type)
        return edgec__fail(EDGEC_STATUS_INVALID_MODEL, "%s: node '%s' has no op_type", r->file,
                           n->name);
    n->n_inputs = pb->n_input;
    n->inputs = pb->input;
    n->n_outputs = pb->n_output;
    n->outputs = pb->output;
    n->n_attrs = pb->n_attribute;
    if (pb->n_attribute) {
        if (!(n->attrs = edgec__arena_calloc(r->a, pb->n_attribute, sizeof *n->attrs)))
            return NOMEM(r);
        for (size_t i = 0; i < pb->n_attribute; i++) {
            edgec_status st = read_attr(r, n, pb->attribute[i], &n->attrs[i]);
            if (st)
                return st;
        }
    }
    *out = n;
    return EDGEC_STATUS_OK;
}

static edgec_status read_value_infos(reader *r, Onnx__ValueInfoProto **pb, size_t n,
                                     const char *ctx, edgec_value_info **out)
{
    *out = NULL;
    if (!n)
        return EDGEC_STATUS_OK;
    edgec_value_info *v = edgec__arena_calloc(r->a, n, sizeof *v);
    if (!v)
        return NOMEM(r);
    for (size_t i = 0; i < n; i++) {
        edgec_status st = read_value_info(r, pb[i], ctx, &v[i]);
        if (st)
            return st;
    }
    *out = v;
    return EDGEC_STATUS_OK;
}

static edgec_status read_graph(reader *r, const Onnx__GraphProto *pb, edgec_graph *parent,
                               edgec_node *owner, const char *owner_attr, edgec_graph **out)
{
    edgec_graph *g = edgec__arena_calloc(r->a, 1, sizeof *g);
    if (!g)
        return NOMEM(r);
    g->origin = pb;
    g->parent = parent;
    g->owner = owner;
    g->owner_attr = owner_attr;
    g->depth = parent ? parent->depth + 1 : 0;
    g->name = str_or_empty(pb->name);
    char ctx[512];
    if (g->depth > EDGEC_MAX_GRAPH_DEPTH) {
        edgec__graph_path(g, ctx, sizeof ctx);
        return edgec__fail(EDGEC_STATUS_LIMIT,
                           "%s: subgraphs nested deeper than %d levels (at %s)", r->file,
                           EDGEC_MAX_GRAPH_DEPTH, ctx);
    }
    edgec__graph_path(g, ctx, sizeof ctx);
    edgec_status st;
    g->n_nodes = g->cap_nodes = pb->n_node;
    if (pb->n_node && !(g->nodes = edgec__arena_calloc(r->a, pb->n_node, sizeof *g->nodes)))
        return NOMEM(r);
    for (size_t i = 0; i < pb->n_node; i++)
        if ((st = read_node(r, g, pb->node[i], &g->nodes[i])))
            return st;
    g->n_inits = g->cap_inits = pb->n_initializer;
    if (pb->n_initializer &&
        !(g->inits = edgec__arena_calloc(r->a, pb->n_initializer, sizeof *g->inits)))
        return NOMEM(r);
    for (size_t i = 0; i < pb->n_initializer; i++)
        if ((st = read_tensor(r, pb->initializer[i], "initializers", &g->inits[i])))
            return st;
    g->n_sparse_inits = pb->n_sparse_initializer;
    if (pb->n_sparse_initializer &&
        !(g->sparse_inits =
              edgec__arena_calloc(r->a, pb->n_sparse_initializer, sizeof *g->sparse_inits)))
        return NOMEM(r);
    for (size_t i = 0; i < pb->n_sparse_initializer; i++)
        if ((st = read_sparse(r, pb->sparse_initializer[i], "sparse initializers",
                              &g->sparse_inits[i])))
            return st;
    g->n_inputs = pb->n_input;
    g->n_outputs = pb->n_output;
    g->n_value_info = pb->n_value_info;
    if ((st = read_value_infos(r, pb->input, pb->n_input, ctx, &g->inputs)) ||
        (st = read_value_infos(r, pb->output, pb->n_output, ctx, &g->outputs)) ||
        (st = read_value_infos(r, pb->value_info, pb->n_value_info, ctx, &g->value_info)))
        return st;
    *out = g;
    return EDGEC_STATUS_OK;
}

edgec_status edgec__ir_from_proto(edgec_model *m, Onnx__ModelProto *pb)
{
    reader r = {m, m->arena, m->path};
    m->origin = pb;
    m->ir_version = pb->has_ir_version ? pb->ir_version : 0;
    m->n_functions = pb->n_functions;
    m->producer_name = str_or_empty(pb->producer_name);
    m->producer_version = str_or_empty(pb->producer_version);
    m->domain = str_or_empty(pb->domain);
    m->model_version = pb->model_version;
    if (!pb->graph)
        return edgec__fail(EDGEC_STATUS_INVALID_MODEL, "%s: the model has no graph", m->path);
    m->n_opsets = pb->n_opset_import;
    if (m->n_opsets && !(m->opsets = edgec__arena_calloc(m->arena, m->n_opsets, sizeof *m->opsets)))
        return NOMEM(&r);
    for (size_t i = 0; i < m->n_opsets; i++) {
        m->opsets[i].domain = str_or_empty(pb->opset_import[i]->domain);
        m->opsets[i].version = pb->opset_import[i]->version;
        m->opsets[i].origin = pb->opset_import[i];
    }
    m->n_meta = pb->n_metadata_props;
    if (m->n_meta && !(m->meta = edgec__arena_calloc(m->arena, m->n_meta, sizeof *m->meta)))
        return NOMEM(&r);
    for (size_t i = 0; i < m->n_meta; i++) {
        m->meta[i].key = str_or_empty(pb->metadata_props[i]->key);
        m->meta[i].value = str_or_empty(pb->metadata_props[i]->value);
        m->meta[i].origin = pb->metadata_props[i];
    }
    edgec_status st = read_graph(&r, pb->graph, NULL, NULL, NULL, &m->graph);
    return st ? st : edgec__model_validate(m);
}
