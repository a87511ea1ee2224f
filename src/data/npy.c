/* NumPy .npy files: the header (a Python dict literal) is parsed by a small strict
 * scanner, and every size is checked against the bytes present before allocating. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/data_internal.h"
#include "data/npy_internal.h"

static const uint8_t magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

/* numpy pads the header so that the data starts on a 64-byte boundary, and leaves room
 * for the first dim to grow to 21 digits (numpy >= 1.22). */
#define NPY_ALIGN 64
#define NPY_GROWTH_DIGITS 21

typedef struct scanner {
    const char *p, *end;
} scanner;

static void skip_space(scanner *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static bool accept(scanner *s, char c)
{
    skip_space(s);
    if (s->p < s->end && *s->p == c) {
        s->p++;
        return true;
    }
    return false;
}

/* A quoted string into `buf`; false when malformed or longer than `cap - 1`. */
static bool scan_string(scanner *s, char *buf, size_t cap)
{
    skip_space(s);
    if (s->p >= s->end || (*s->p != '\'' && *s->p != '"'))
        return false;
    char q = *s->p++;
    size_t n = 0;
    while (s->p < s->end && *s->p != q) {
        if (n + 1 >= cap)
            return false;
        buf[n++] = *s->p++;
    }
    if (s->p >= s->end)
        return false;
    s->p++;
    buf[n] = '\0';
    return true;
}

static bool scan_word(scanner *s, const char *w)
{
    skip_space(s);
    size_t n = strlen(w);
    if ((size_t)(s->end - s->p) >= n && !memcmp(s->p, w, n)) {
        s->p += n;
        return true;
    }
    return false;
}

typedef struct npy_type {
    const char *code; /* type character and size, e.g. "f4" */
    edgec_elem_type type;
} npy_type;

static const npy_type npy_types[] = {
    {"f4", EDGEC_ELEM_FLOAT},   {"f8", EDGEC_ELEM_DOUBLE}, {"f2", EDGEC_ELEM_FLOAT16},
    {"i8", EDGEC_ELEM_INT64},   {"i4", EDGEC_ELEM_INT32},  {"i2", EDGEC_ELEM_INT16},
    {"i1", EDGEC_ELEM_INT8},    {"u8", EDGEC_ELEM_UINT64}, {"u4", EDGEC_ELEM_UINT32},
    {"u2", EDGEC_ELEM_UINT16},  {"u1", EDGEC_ELEM_UINT8},  {"b1", EDGEC_ELEM_BOOL},
};

static void swap_bytes(uint8_t *d, size_t n, size_t w)
{
    for (size_t i = 0; i < n; i++, d += w)
        for (size_t a = 0, b = w - 1; a < b; a++, b--) {
            uint8_t t = d[a];
            d[a] = d[b];
            d[b] = t;
        }
}

edgec_status edgec__npy_parse(const uint8_t *buf, size_t len, const char *file,
                              const char *array, edgec_array **out)
{
    *out = NULL;
    char what[600];
    snprintf(what, sizeof what, "%s%s%s%s", file, array ? ": array '" : "", array ? array : "",
             array ? "'" : "");
    if (len < 10 || memcmp(buf, magic, sizeof magic))
        return edgec__fail(EDGEC_STATUS_INVALID_DATA, "%s: not a .npy file (bad magic bytes)",
                           what);
    uint8_t major = buf[6];
    size_t hlen, hstart;
    if (major == 1) {
        hlen = (size_t)buf[8] | (size_t)buf[9] << 8;
        hstart = 10;
    } else if (major == 2 || major == 3) {
        if (len < 12)
            return edgec__fail(EDGEC_STATUS_INVALID_DATA, "%s: truncated .npy header", what);
        hlen = (size_t)buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 |
               (size_t)buf[11] << 24;
        hstart = 12;
    } else {
        return edgec__fail(EDGEC_STATUS_UNSUPPORTED, "%s: .npy format version %u is not supported",
                           what, major);
    }
    if (hlen > len - hstart)
        return edgec__fail(EDGEC_STATUS_INVALID_DATA,
                           "%s: the .npy header claims %zu bytes but the file ends after %zu",
                           what, hlen, len - hstart);
    scanner s = {(const char *)buf + hstart, (const char *)buf + hstart + hlen};
    char descr[32] = "";
    int fortran = -1;
    int rank = -1;
    int64_t dims[EDGEC_ARRAY_MAX_RANK];
    if (!accept(&s, '{'))
        goto bad_header;
    while (!accept(&s, '}')) {
        char key[32];
        if (!scan_string(&s, key, sizeof key) || !accept(&s, ':'))
            goto bad_header;
        if (!strcmp(key, "descr")) {
            skip_space(&s);
            if (s.p < s.end && *s.p == '[')
                return edgec__fail(EDGEC_STATUS_UNSUPPORTED,
                                   "%s: structured .npy arrays (record dtypes) are not supported",
                                   what);
            if (!scan_string(&s, descr, sizeof descr))
                goto bad_header;
        } else if (!strcmp(key, "fortran_order")) {
            if (scan_word(&s, "False"))
                fortran = 0;
            else if (scan_word(&s, "True"))
                fortran = 1;
            else
                goto bad_header;
        } else if (!strcmp(key, "shape")) {
            if (!accept(&s, '('))
                goto bad_header;
            rank = 0;
            while (!accept(&s, ')')) {
                skip_space(&s);
                if (s.p >= s.end || *s.p < '0' || *s.p > '9')
                    goto bad_header;
                if (rank == EDGEC_ARRAY_MAX_RANK)
                    return edgec__fail(EDGEC_STATUS_LIMIT, "%s: rank over the limit of %d",
                                       what, EDGEC_ARRAY_MAX_RANK);
                int64_t v = 0;
                while (s.p < s.end && *s.p >= '0' && *s.p <= '9') {
                    if (v > (INT64_MAX - 9) / 10)
                        return edgec__fail(EDGEC_STATUS_LIMIT, "%s: a dimension is too large",
                                           what);
                    v = v * 10 + (*s.p++ - '0');
                }
                if (s.p < s.end && *s.p == 'L')
                    s.p++; /* Python 2 long literals */
                dims[rank++] = v;
                if (!accept(&s, ',')) {
                    if (!accept(&s, ')'))
                        goto bad_header;
                    break;
                }
            }
        } else {
            goto bad_header;
        }
        if (!accept(&s, ',')) {
            if (!accept(&s, '}'))
                goto bad_header;
            break;
        }
    }
    if (!*descr || fortran < 0 || rank < 0)
        return edgec__fail(EDGEC_STATUS_INVALID_DATA,
                           "%s: the .npy header lacks 'descr', 'fortran_order' or 'shape'", what);
    char order = descr[0];
    const char *code = descr + 1;
    if (order != '<' && order != '>' && order != '|' && order != '=')
        code = descr, order = '=';
    edgec_elem_type type = EDGEC_ELEM_UNDEFINED;
    for (size_t i = 0; i < sizeof npy_types / sizeof npy_types[0]; i++)
        if (!strcmp(code, npy_types[i].code) || (!strcmp(code, "?") && npy_types[i].type == EDGEC_ELEM_BOOL))
            type = npy_types[i].type;
    if (!type)
        return edgec__fail(EDGEC_STATUS_UNSUPPORTED,
                           "%s: .npy type '%s' is not supported (use float16/32/64, int8-64, "
                           "uint8-64 or bool)",
                           what, descr);
    if (rank > 1 && fortran == 1) {
        int big = 0;
        for (int i = 0; i < rank; i++)
            big += dims[i] > 1;
        if (big > 1)
            return edgec__fail(EDGEC_STATUS_UNSUPPORTED,
                               "%s: the array is stored in Fortran order; save it in C order "
                               "(numpy.ascontiguousarray) first",
                               what);
    }
    size_t esize = edgec_elem_size(type);
    int64_t numel = 1;
    for (int i = 0; i < rank; i++)
        if (!edgec__mul_i64(numel, dims[i], &numel))
            return edgec__fail(EDGEC_STATUS_LIMIT, "%s: the shape's element count overflows", what);
    size_t data_at = hstart + hlen, have = len - data_at;
    /* Compare in elements first so that numel * esize cannot overflow. */
    if ((uint64_t)numel > have / esize)
        return edgec__fail(EDGEC_STATUS_INVALID_DATA,
                           "%s: the shape needs %lld elements of %zu bytes but the file has only "
                           "%zu bytes of data (truncated?)",
                           what, (long long)numel, esize, have);
    if (have != (size_t)numel * esize)
        return edgec__fail(EDGEC_STATUS_INVALID_DATA,
                           "%s: %zu bytes follow the data the shape describes", what,
                           have - (size_t)numel * esize);
    edgec_status st = edgec_array_create(array, type, rank, dims, out);
    if (st)
        return st;
    if ((*out)->nbytes)
        memcpy((*out)->data, buf + data_at, (*out)->nbytes);
    if (order == '>' && esize > 1)
        swap_bytes((*out)->data, (size_t)numel, esize);
    return EDGEC_STATUS_OK;
bad_header:
    return edgec__fail(EDGEC_STATUS_INVALID_DATA,
                       "%s: malformed .npy header near byte %zu", what,
                       (size_t)(s.p - (const char *)buf));
}

edgec_status edgec_npy_read_buffer(const void *data, size_t size, const char *name,
                                   edgec_array **out)
{
    edgec__error_clear();
    return edgec__npy_parse(data, size, name ? name : "<memory>", NULL, out);
}

edgec_status edgec_npy_read(const char *path, edgec_array **out)
{
    *out = NULL;
    edgec__error_clear();
    uint8_t *buf = NULL;
    size_t len = 0;
    edgec_status st = edgec__read_file(path, EDGEC_DATA_FILE_LIMIT, &buf, &len);
    if (!st)
        st = edgec__npy_parse(buf, len, path, NULL, out);
    free(buf);
    return st;
}

edgec_status edgec_npy_write_buffer(const edgec_array *a, void **data, size_t *size)
{
    *data = NULL;
    *size = 0;
    const char *code = NULL;
    for (size_t i = 0; i < sizeof npy_types / sizeof npy_types[0]; i++)
        if (npy_types[i].type == a->type)
            code = npy_types[i].code;
    if (!code)
        return edgec__fail(EDGEC_STATUS_UNSUPPORTED, "array '%s': type %s has no .npy equivalent",
                           a->name ? a->name : "(unnamed)", edgec_elem_name(a->type));
    /* The same text numpy.save writes: keys sorted, the shape as a Python tuple. */
    char hdr[2048];
    size_t n = (size_t)snprintf(hdr, sizeof hdr, "{'descr': '%c%s', 'fortran_order': False, 'shape': (",
                                edgec_elem_size(a->type) == 1 ? '|' : '<', code);
    for (int i = 0; i < a->rank; i++)
        n += (size_t)snprintf(hdr + n, sizeof hdr - n, "%s%lld", i ? ", " : "",
                              (long long)a->dims[i]);
    n += (size_t)snprintf(hdr + n, sizeof hdr - n, "%s), }", a->rank == 1 ? "," : "");
    if (a->rank > 0) {
        int digits = snprintf(NULL, 0, "%lld", (long long)a->dims[0]);
        for (int i = digits; i < NPY_GROWTH_DIGITS; i++)
            hdr[n++] = ' ';
    }
    size_t hlen = n + 1;
    size_t pad = NPY_ALIGN - (10 + hlen) % NPY_ALIGN;
    size_t total_hdr = 10 + hlen + pad, total;
    if (!edgec__add_size(total_hdr, a->nbytes, &total))
        return edgec__fail(EDGEC_STATUS_LIMIT, "array too large");
    uint8_t *b = malloc(total);
    if (!b)
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory writing a .npy array");
    memcpy(b, magic, sizeof magic);
    b[6] = 1;
    b[7] = 0;
    b[8] = (uint8_t)((hlen + pad) & 0xff);
    b[9] = (uint8_t)((hlen + pad) >> 8);
    memcpy(b + 10, hdr, n);
    memset(b + 10 + n, ' ', pad);
    b[10 + n + pad] = '\n';
    if (a->nbytes)
        memcpy(b + total_hdr, a->data, a->nbytes);
    *data = b;
    *size = total;
    return EDGEC_STATUS_OK;
}

edgec_status edgec_npy_write(const char *path, const edgec_array *a)
{
    edgec__error_clear();
    void *buf = NULL;
    size_t len = 0;
    edgec_status st = edgec_npy_write_buffer(a, &buf, &len);
    if (!st)
        st = edgec__write_file(path, buf, len);
    free(buf);
    return st;
}
