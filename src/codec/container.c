/* The .edgec container writer and reader (docs/FORMAT.md; the layout is summarized in
 * decoder/edgec_decode.h, whose decoder this file uses to read tensors back, so that the
 * host and the firmware share one decoding path). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "codec/codec.h"
#include "common/outfile.h"
#include "data/data_internal.h"
#include "edgec/container.h"
#include "ir/ir.h"
#include "../../decoder/edgec_decode.h"

#define HEADER_SIZE 32
#define RECORD_SIZE 28
/* Containers are addressed with 32-bit offsets; protobuf stops at 2 GB anyway. */
#define CONTAINER_LIMIT ((uint64_t)UINT32_MAX)

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v);
    put16(p + 2, v >> 16);
}

static uint32_t crc32_of(const void *data, size_t len)
{
    /* zlib's crc32 takes a uInt length: feed large buffers in pieces. */
    uLong crc = crc32(0L, Z_NULL, 0);
    const Bytef *p = data;
    while (len) {
        uInt n = len > (1u << 30) ? 1u << 30 : (uInt)len;
        crc = crc32(crc, p, n);
        p += n;
        len -= n;
    }
    return (uint32_t)crc;
}

/* Writes the directory records (section 3) for payloads that start at `payload_off`. */
static void write_directory(uint8_t *r, const edgec_wire_tensor *wt, const edgec_payload *pl,
                            size_t n, uint32_t payload_off)
{
    size_t cut = 0; /* tensor bytes cut out before the current one */
    for (size_t i = 0; i < n; i++) {
        /* splice: where the tensor's bytes go back into the model section */
        uint32_t splice = (uint32_t)(wt[i].off - cut);
        cut += wt[i].len;
        memset(r, 0, RECORD_SIZE);
        put16(r, (uint32_t)wt[i].name_len);
        r[2] = (uint8_t)wt[i].dtype;
        r[3] = (uint8_t)wt[i].rank;
        r[4] = pl[i].encoding;
        r[5] = pl[i].unit_bits;
        put32(r + 8, (uint32_t)wt[i].len);
        put32(r + 12, splice);
        put32(r + 16, payload_off);
        put32(r + 20, (uint32_t)pl[i].size);
        put32(r + 24, crc32_of(pl[i].data, pl[i].size));
        for (int k = 0; k < wt[i].rank; k++)
            put32(r + RECORD_SIZE + 4 * k, wt[i].dims[k]);
        memcpy(r + RECORD_SIZE + 4 * wt[i].rank, wt[i].name, wt[i].name_len);
        r += RECORD_SIZE + 4 * wt[i].rank + wt[i].name_len;
        payload_off += (uint32_t)pl[i].size;
    }
}

/* zlib stream of the model section with `dict` as the preset dictionary. */
static edgec_status deflate_model(const uint8_t *src, size_t len, const uint8_t *dict,
                                  size_t dict_len, uint8_t **out, uLongf *out_len)
{
    z_stream z = {0};
    uLong bound = compressBound((uLong)len) + 64;
    *out = NULL;
    if (deflateInit(&z, Z_BEST_COMPRESSION) != Z_OK)
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory compressing the model");
    /* Only the last 32 kB of a dictionary can be referenced. */
    size_t skip = dict_len > 32768 ? dict_len - 32768 : 0;
    edgec_status st = EDGEC_STATUS_OK;
    if (!(*out = malloc(bound)) ||
        (dict_len && deflateSetDictionary(&z, dict + skip, (uInt)(dict_len - skip)) != Z_OK)) {
        st = edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory compressing the model");
        goto cleanup;
    }
    z.next_in = (Bytef *)src;
    z.avail_in = (uInt)len;
    z.next_out = *out;
    z.avail_out = (uInt)bound;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
        st = edgec__fail(EDGEC_STATUS_INTERNAL, "deflate did not finish the model section");
        goto cleanup;
    }
    *out_len = z.total_out;
cleanup:
    deflateEnd(&z);
    if (st) {
        free(*out);
        *out = NULL;
    }
    return st;
}

/* Inverse of deflate_model; the output must be exactly `len` bytes. */
static bool inflate_model(const uint8_t *src, size_t src_len, const uint8_t *dict,
                          size_t dict_len, uint8_t *out, size_t len)
{
    z_stream z = {0};
    size_t skip = dict_len > 32768 ? dict_len - 32768 : 0;
    if (inflateInit(&z) != Z_OK)
        return false;
    z.next_in = (Bytef *)src;
    z.avail_in = (uInt)src_len;
    z.next_out = out;
    z.avail_out = (uInt)len;
    int rc = inflate(&z, Z_FINISH);
    if (rc == Z_NEED_DICT && inflateSetDictionary(&z, dict + skip, (uInt)(dict_len - skip)) == Z_OK)
        rc = inflate(&z, Z_FINISH);
    bool ok = rc == Z_STREAM_END && z.total_out == len && z.avail_in == 0;
    inflateEnd(&z);
    return ok;
}

edgec_status edgec_container_encode(const void *onnx, size_t onnx_size, void **data,
                                    size_t *size)
{
    const uint8_t *src = onnx;
    edgec_wire_tensor *wt = NULL;
    edgec_payload *pl = NULL;
    uint8_t *skel = NULL, *zmodel = NULL, *out = NULL;
    size_t n = 0, skel_len = 0;
    uLongf zlen = 0;
    edgec_status st;
    *data = NULL;
    *size = 0;
    if ((uint64_t)onnx_size > EDGEC_PROTO_LIMIT)
        return edgec__fail(EDGEC_STATUS_LIMIT, "the model is over the 2 GB protobuf limit");
    if ((st = edgec__wire_tensors(src, onnx_size, &wt, &n)))
        goto cleanup;
    if (!(pl = calloc(n ? n : 1, sizeof *pl)) || !(skel = malloc(onnx_size ? onnx_size : 1))) {
        st = edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
        goto cleanup;
    }
    /* The model section: everything but the tensors' bytes, in file order. */
    size_t pos = 0, dir_size = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(skel + skel_len, src + pos, wt[i].off - pos);
        skel_len += wt[i].off - pos;
        pos = wt[i].off + wt[i].len;
        dir_size += RECORD_SIZE + 4 * (size_t)wt[i].rank + wt[i].name_len;
        if ((st = edgec__encode_tensor(src + wt[i].off, wt[i].len, wt[i].dtype, &pl[i])))
            goto cleanup;
    }
    memcpy(skel + skel_len, src + pos, onnx_size - pos);
    skel_len += onnx_size - pos;
    /* The directory goes first so that the model section can use it as its deflate
     * dictionary: the tensor names the model repeats then cost a back-reference. */
    uint8_t *dir = malloc(dir_size ? dir_size : 1);
    if (!dir) {
        st = edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
        goto cleanup;
    }
    uint32_t payload_start = (uint32_t)(HEADER_SIZE + dir_size + 4);
    write_directory(dir, wt, pl, n, payload_start);
    st = deflate_model(skel, skel_len, dir, dir_size, &zmodel, &zlen);
    free(dir);
    if (st)
        goto cleanup;
    uint64_t total = HEADER_SIZE + (uint64_t)dir_size + 4 + zlen + 4;
    for (size_t i = 0; i < n; i++)
        total += pl[i].size;
    if (total > CONTAINER_LIMIT) {
        st = edgec__fail(EDGEC_STATUS_LIMIT, "the container would need %llu bytes, over 4 GB",
                         (unsigned long long)total);
        goto cleanup;
    }
    if (!(out = calloc(1, (size_t)total))) {
        st = edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
        goto cleanup;
    }
    /* Payloads follow the directory; the model section, which firmware never needs,
     * comes last. */
    uint32_t payload_off = payload_start;
    write_directory(out + HEADER_SIZE, wt, pl, n, payload_start);
    for (size_t i = 0; i < n; i++) {
        if (pl[i].size)
            memcpy(out + payload_off, pl[i].data, pl[i].size);
        payload_off += (uint32_t)pl[i].size;
    }
    uint32_t model_off = payload_off;
    memcpy(out, "EDGC", 4);
    put16(out + 4, 1);
    put16(out + 6, 0);
    put32(out + 8, (uint32_t)n);
    put32(out + 12, (uint32_t)dir_size);
    put32(out + 16, model_off);
    put32(out + 20, (uint32_t)zlen);
    put32(out + 24, (uint32_t)skel_len);
    put32(out + 28, crc32_of(out, 28));
    put32(out + HEADER_SIZE + dir_size, crc32_of(out + HEADER_SIZE, dir_size));
    memcpy(out + model_off, zmodel, zlen);
    put32(out + model_off + zlen, crc32_of(zmodel, zlen));
    *data = out;
    *size = (size_t)total;
    out = NULL;
cleanup:
    for (size_t i = 0; pl && i < n; i++)
        free(pl[i].data);
    free(pl);
    free(wt);
    free(skel);
    free(zmodel);
    free(out);
    return st;
}

bool edgec_container_detect(const void *data, size_t size)
{
    return size >= 4 && !memcmp(data, "EDGC", 4);
}

static const char *dec_error(int rc)
{
    switch (rc) {
    case EDGEC_DEC_EREAD:
        return "read error";
    case EDGEC_DEC_EFORMAT:
        return "not an .edgec container, or a version this edgec does not know";
    case EDGEC_DEC_ECRC:
        return "CRC-32 mismatch: the file is damaged";
    case EDGEC_DEC_ERANGE:
        return "tensor out of range";
    default:
        return "corrupt: a length, offset or code is out of range";
    }
}

edgec_status edgec_container_unpack(const void *data, size_t size, const char *name,
                                    void **onnx, size_t *onnx_size)
{
    edgec_dec *d = NULL;
    uint8_t *skel = NULL, *out = NULL;
    edgec_dec_mem mem = {data, (uint32_t)size};
    edgec_dec_tensor t;
    edgec_status st = EDGEC_STATUS_OK;
    int rc = 0;
    *onnx = NULL;
    *onnx_size = 0;
    if ((uint64_t)size > CONTAINER_LIMIT)
        return edgec__fail(EDGEC_STATUS_INVALID_DATA, "%s: over 4 GB, not an .edgec container",
                           name);
    if (!(d = malloc(sizeof *d)))
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
    if ((rc = edgec_dec_open(d, edgec_dec_mem_read, &mem, (uint32_t)size)))
        goto cleanup;
    /* Sizes come from the file: add them up in 64 bits and bound the sum first. */
    uint64_t total = d->model_raw_size;
    for (uint32_t i = 0; i < d->n_tensors; i++) {
        if ((rc = edgec_dec_info(d, i, &t)))
            goto cleanup;
        total += t.raw_size;
    }
    if (total > EDGEC_PROTO_LIMIT) {
        st = edgec__fail(EDGEC_STATUS_LIMIT, "%s: the model would be over the 2 GB limit", name);
        goto cleanup;
    }
    const uint8_t *z = (const uint8_t *)data + d->model_offset;
    const uint8_t *zc = z + d->model_size;
    uint32_t zcrc = (uint32_t)zc[0] | (uint32_t)zc[1] << 8 | (uint32_t)zc[2] << 16 |
                    (uint32_t)zc[3] << 24;
    if (crc32_of(z, d->model_size) != zcrc) {
        rc = EDGEC_DEC_ECRC;
        goto cleanup;
    }
    uLongf skel_len = d->model_raw_size;
    if (!(skel = malloc(skel_len ? skel_len : 1)) || !(out = malloc(total ? (size_t)total : 1))) {
        st = edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
        goto cleanup;
    }
    if (!inflate_model(z, d->model_size, (const uint8_t *)data + HEADER_SIZE, d->dir_size, skel,
                       skel_len)) {
        rc = EDGEC_DEC_ECORRUPT;
        goto cleanup;
    }
    size_t pos = 0, o = 0;
    for (uint32_t i = 0; i < d->n_tensors; i++) {
        if ((rc = edgec_dec_info(d, i, &t)))
            goto cleanup;
        if (t.splice < pos || t.splice > skel_len) {
            rc = EDGEC_DEC_ECORRUPT;
            goto cleanup;
        }
        memcpy(out + o, skel + pos, t.splice - pos);
        o += t.splice - pos;
        pos = t.splice;
        if ((rc = edgec_dec_tensor_read(d, i, out + o, t.raw_size))) {
            st = edgec__fail(EDGEC_STATUS_INVALID_DATA, "%s: tensor %u: %s", name, (unsigned)i,
                             dec_error(rc));
            goto cleanup;
        }
        o += t.raw_size;
    }
    memcpy(out + o, skel + pos, skel_len - pos);
    *onnx = out;
    *onnx_size = (size_t)total;
    out = NULL;
cleanup:
    if (rc && !st)
        st = edgec__fail(EDGEC_STATUS_INVALID_DATA, "%s: %s", name, dec_error(rc));
    free(d);
    free(skel);
    free(out);
    return st;
}

edgec_status edgec_container_read(const char *path, void **data, size_t *size)
{
    uint8_t *buf = NULL;
    void *onnx = NULL;
    size_t len = 0, onnx_len = 0;
    *data = NULL;
    *size = 0;
    edgec__error_clear();
    edgec_status st = edgec__read_file(path, CONTAINER_LIMIT, &buf, &len);
    if (!st && !edgec_container_detect(buf, len))
        st = edgec__fail(EDGEC_STATUS_INVALID_DATA, "%s: not an .edgec container (no EDGC magic)",
                         path);
    /* Unpacking checks every CRC and every tensor; the result itself is not needed. */
    if (!st)
        st = edgec_container_unpack(buf, len, path, &onnx, &onnx_len);
    free(onnx);
    if (st) {
        free(buf);
        return st;
    }
    *data = buf;
    *size = len;
    return EDGEC_STATUS_OK;
}

/* Writes `n` buffers to `path` as one file that appears whole or not at all. */
static edgec_status write_whole(const char *path, const edgec_inode *forbid, size_t n_forbid,
                                const void *data, size_t len)
{
    edgec_outfile *f = NULL;
    edgec_status st = edgec__outfile_open(path, forbid, n_forbid, &f);
    if (!st && (st = edgec__outfile_write(f, data, len))) {
        edgec__outfile_abort(f);
        return st;
    }
    return st ? st : edgec__outfile_commit(f);
}

edgec_status edgec_container_unpack_file(const char *in_path, const char *out_path)
{
    void *blob = NULL, *onnx = NULL;
    size_t len = 0, onnx_len = 0;
    struct stat sb;
    edgec_inode self = {0};
    edgec__error_clear();
    edgec_status st = edgec__read_file(in_path, CONTAINER_LIMIT, (uint8_t **)&blob, &len);
    if (!st && !edgec_container_detect(blob, len))
        st = edgec__fail(EDGEC_STATUS_INVALID_DATA, "%s: not an .edgec container (no EDGC magic)",
                         in_path);
    if (!st && stat(in_path, &sb) == 0)
        self = (edgec_inode){(uint64_t)sb.st_dev, (uint64_t)sb.st_ino};
    if (!st)
        st = edgec_container_unpack(blob, len, in_path, &onnx, &onnx_len);
    if (!st)
        st = write_whole(out_path, &self, 1, onnx, onnx_len);
    free(blob);
    free(onnx);
    return st;
}

edgec_status edgec_container_load(const char *path, edgec_model **out)
{
    void *blob = NULL, *onnx = NULL;
    size_t len = 0, onnx_len = 0;
    *out = NULL;
    edgec__error_clear();
    edgec_status st = edgec__read_file(path, CONTAINER_LIMIT, (uint8_t **)&blob, &len);
    if (!st)
        st = edgec_container_unpack(blob, len, path, &onnx, &onnx_len);
    if (!st)
        st = edgec_model_load_buffer(onnx, onnx_len, path, NULL, out);
    free(blob);
    free(onnx);
    return st;
}

edgec_status edgec_container_save(edgec_model *m, const char *path)
{
    void *onnx = NULL, *blob = NULL;
    size_t onnx_len = 0, len = 0;
    edgec_inode *forbid = NULL;
    edgec__error_clear();
    edgec_status st = edgec_model_save_buffer(m, &onnx, &onnx_len);
    if (!st)
        st = edgec_container_encode(onnx, onnx_len, &blob, &len);
    if (!st && !(forbid = calloc(m->n_files ? m->n_files : 1, sizeof *forbid)))
        st = edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
    for (size_t i = 0; !st && i < m->n_files; i++)
        forbid[i] = (edgec_inode){m->files[i].dev, m->files[i].ino};
    if (!st)
        st = write_whole(path, forbid, m->n_files, blob, len);
    free(forbid);
    free(onnx);
    free(blob);
    return st;
}

static const char *dtype_name(int dtype)
{
    return edgec__dtype(dtype)->name;
}

/* Copies `s` into a C comment safely: no "*" followed by "/", printable ASCII only. */
static void comment_text(FILE *f, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool ok = c >= 0x20 && c < 0x7f && !(c == '*' && i + 1 < n && s[i + 1] == '/');
        fputc(ok ? c : '?', f);
    }
}

static bool is_identifier(const char *s)
{
    if (!*s || !(isalpha((unsigned char)*s) || *s == '_'))
        return false;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '_'))
            return false;
    return true;
}

edgec_status edgec_container_emit_c(const void *data, size_t size, const char *symbol,
                                    const char *c_path, const char *h_path)
{
    char *h = NULL, *c = NULL, *upper = NULL;
    size_t h_len = 0, c_len = 0;
    FILE *hf = NULL, *cf = NULL;
    edgec_dec *d = NULL;
    edgec_dec_mem mem = {data, (uint32_t)size};
    edgec_dec_tensor t;
    edgec_status st = EDGEC_STATUS_OK;
    edgec__error_clear();
    if (!is_identifier(symbol))
        return edgec__fail(EDGEC_STATUS_USAGE, "--symbol '%s' is not a C identifier", symbol);
    if ((uint64_t)size > CONTAINER_LIMIT)
        return edgec__fail(EDGEC_STATUS_INVALID_DATA, "the container is over 4 GB");
    if (!(d = malloc(sizeof *d)) || !(upper = strdup(symbol)) ||
        !(hf = open_memstream(&h, &h_len)) || !(cf = open_memstream(&c, &c_len))) {
        st = edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
        goto cleanup;
    }
    int rc = edgec_dec_open(d, edgec_dec_mem_read, &mem, (uint32_t)size);
    if (rc) {
        st = edgec__fail(EDGEC_STATUS_INVALID_DATA, "container: %s", dec_error(rc));
        goto cleanup;
    }
    for (char *p = upper; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    const char *h_base = strrchr(h_path, '/') ? strrchr(h_path, '/') + 1 : h_path;
    fprintf(hf,
            "/* Generated by edgec %s emit-c: an .edgec container (docs/FORMAT.md) as C data.\n"
            " * Decode it with decoder/edgec_decode.h:\n"
            " *   edgec_dec dec; edgec_dec_mem mem = {%s, %s_len};\n"
            " *   edgec_dec_open(&dec, edgec_dec_mem_read, &mem, mem.size);\n"
            " *   edgec_dec_tensor_read(&dec, index, buffer, sizeof buffer);\n"
            " * Tensors (index: name, type, dims, bytes once decoded):\n",
            edgec_version(), symbol, symbol);
    for (uint32_t i = 0; i < d->n_tensors; i++) {
        if ((rc = edgec_dec_info(d, i, &t))) {
            st = edgec__fail(EDGEC_STATUS_INVALID_DATA, "container: %s", dec_error(rc));
            goto cleanup;
        }
        fprintf(hf, " *   %u: ", (unsigned)i);
        comment_text(hf, (const char *)data + t.name_offset, t.name_len);
        fprintf(hf, "  %s [", dtype_name(t.dtype));
        for (int k = 0; k < t.rank; k++)
            fprintf(hf, "%s%u", k ? ", " : "", (unsigned)t.dims[k]);
        fprintf(hf, "]  %u\n", (unsigned)t.raw_size);
    }
    fprintf(hf,
            " */\n#ifndef %s_H_\n#define %s_H_\n\n#define %s_SIZE %zuu\n"
            "extern const unsigned char %s[%s_SIZE];\nextern const unsigned int %s_len;\n\n"
            "#endif\n",
            upper, upper, upper, size, symbol, upper, symbol);
    fprintf(cf,
            "/* Generated by edgec %s emit-c; see %s. */\n#include \"%s\"\n\n"
            "#ifndef EDGEC_BLOB_ALIGN\n"
            "#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L\n"
            "#define EDGEC_BLOB_ALIGN _Alignas(16)\n"
            "#elif defined(__GNUC__)\n"
            "#define EDGEC_BLOB_ALIGN __attribute__((aligned(16)))\n"
            "#else\n#define EDGEC_BLOB_ALIGN\n#endif\n#endif\n\n"
            "EDGEC_BLOB_ALIGN const unsigned char %s[%s_SIZE] = {",
            edgec_version(), h_base, h_base, symbol, upper);
    for (size_t i = 0; i < size; i++)
        fprintf(cf, "%s0x%02x,", i % 16 ? " " : "\n    ", ((const uint8_t *)data)[i]);
    fprintf(cf, "\n};\nconst unsigned int %s_len = %s_SIZE;\n", symbol, upper);
    if (fclose(hf) | fclose(cf)) {
        hf = cf = NULL;
        st = edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
        goto cleanup;
    }
    hf = cf = NULL;
    if (!(st = write_whole(h_path, NULL, 0, h, h_len)))
        st = write_whole(c_path, NULL, 0, c, c_len);
cleanup:
    if (hf)
        fclose(hf);
    if (cf)
        fclose(cf);
    free(h);
    free(c);
    free(upper);
    free(d);
    return st;
}
