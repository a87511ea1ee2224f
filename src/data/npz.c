/* NumPy .npz archives: ZIP files of .npy members, stored or deflated.
 *
 * The reader trusts nothing: the central directory is found from the end record, every
 * offset and size is checked against the archive's length, local headers must agree
 * with the directory, deflated members must inflate to exactly the size the directory
 * states (which is itself capped by the deflate format's maximum ratio), and CRCs are
 * verified. numpy.savez marks every local header as ZIP64 (force_zip64), so per-member
 * ZIP64 sizes are understood; archives that need a ZIP64 end record are refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "data/data_internal.h"
#include "data/npy_internal.h"

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_END 0x06054b50u
#define SIG_END64 0x06064b50u
#define LOCAL_SIZE 30
#define CENTRAL_SIZE 46
#define END_SIZE 22
/* Deflate cannot expand data by more than this factor (RFC 1951 worst case ~1032:1). */
#define MAX_DEFLATE_RATIO 1032

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
    return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static edgec_status inflate_member(const uint8_t *src, size_t csize, uint8_t *dst, size_t usize,
                                   const char *file, const char *member)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, -MAX_WBITS) != Z_OK)
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "%s: cannot start zlib", file);
    edgec_status st = EDGEC_STATUS_OK;
    size_t in_done = 0, out_done = 0;
    int r = Z_OK;
    /* zlib counts in uInt; feed at most 1 GB at a time. */
    while (r == Z_OK) {
        size_t in_chunk = csize - in_done > (1u << 30) ? (1u << 30) : csize - in_done;
        size_t out_chunk = usize - out_done > (1u << 30) ? (1u << 30) : usize - out_done;
        z.next_in = (Bytef *)(src + in_done);
        z.avail_in = (uInt)in_chunk;
        z.next_out = dst + out_done;
        z.avail_out = (uInt)out_chunk;
        r = inflate(&z, Z_NO_FLUSH);
        in_done += in_chunk - z.avail_in;
        out_done += out_chunk - z.avail_out;
        if (r == Z_BUF_ERROR && (in_done < csize && out_done < usize))
            r = Z_OK;
        if (r == Z_OK && in_chunk == z.avail_in && out_chunk == z.avail_out)
            break; /* no progress: truncated input or a full output buffer */
    }
    if (r != Z_STREAM_END || out_done != usize)
        st = edgec__fail(EDGEC_STATUS_INVALID_DATA,
                         "%s: member '%s' is corrupt: it does not inflate to the %zu bytes the "
                         "archive states",
                         file, member, usize);
    inflateEnd(&z);
    return st;
}

/* Reads the ZIP64 extra field of a central directory entry. */
static bool zip64_extra(const uint8_t *extra, size_t len, uint64_t *usize, uint64_t *csize,
                        uint64_t *offset, bool need_u, bool need_c, bool need_o)
{
    size_t p = 0;
    while (p + 4 <= len) {
        uint16_t id = rd16(extra + p), sz = rd16(extra + p + 2);
        if (sz > len - p - 4)
            return false;
        if (id == 1) {
            size_t q = p + 4, end = p + 4 + sz;
            if (need_u) {
                if (q + 8 > end)
                    return false;
                *usize = rd64(extra + q);
                q += 8;
            }
            if (need_c) {
                if (q + 8 > end)
                    return false;
                *csize = rd64(extra + q);
                q += 8;
            }
            if (need_o) {
                if (q + 8 > end)
                    return false;
                *offset = rd64(extra + q);
            }
            return true;
        }
        p += 4 + (size_t)sz;
    }
    return !need_u && !need_c && !need_o;
}

edgec_status edgec_npz_read_buffer(const void *data, size_t size, const char *name,
                                   edgec_dataset **out)
{
    *out = NULL;
    edgec__error_clear();
    const char *file = name ? name : "<memory>";
    const uint8_t *b = data;
    edgec_dataset *ds = NULL;
    edgec_array *arr = NULL;
    uint8_t *tmp = NULL;
    char member[512];
    edgec_status st = edgec_dataset_create(&ds);
    if (st)
        return st;
    if ((st = edgec__dataset_set_source(ds, file)))
        goto cleanup;

    /* The end record is in the last 22 + 65535 bytes (it may be followed by a comment). */
    if (size < END_SIZE) {
        st = edgec__fail(EDGEC_STATUS_INVALID_DATA, "%s: not an .npz archive (too short)", file);
        goto cleanup;
    }
    size_t end_at = SIZE_MAX;
    size_t lo = size - END_SIZE > 65535 ? size - END_SIZE - 65535 : 0;
    for (size_t p = size - END_SIZE + 1; p-- > lo;) {
        if (rd32(b + p) == SIG_END && p + END_SIZE + rd16(b + p + 20) == size) {
            end_at = p;
            break;
        }
    }
    if (end_at == SIZE_MAX) {
        st = edgec__fail(EDGEC_STATUS_INVALID_DATA,
                         "%s: not an .npz archive (no ZIP end-of-directory record)", file);
        goto cleanup;
    }
    const uint8_t *e = b + end_at;
    uint16_t n_entries = rd16(e + 10);
    uint32_t cd_size = rd32(e + 12), cd_off = rd32(e + 16);
    if (rd16(e + 4) || rd16(e + 6) || rd16(e + 8) != n_entries) {
        st = edgec__fail(EDGEC_STATUS_UNSUPPORTED, "%s: multi-part ZIP archives are not supported",
                         file);
        goto cleanup;
    }
    if (n_entries == 0xffff || cd_size == 0xffffffffu || cd_off == 0xffffffffu ||
        (end_at >= 20 && rd32(b + end_at - 20) == 0x07064b50u)) {
        st = edgec__fail(EDGEC_STATUS_UNSUPPORTED,
                         "%s: ZIP64 archives (over 65535 members or 4 GB) are not supported",
                         file);
        goto cleanup;
    }
    if (cd_off > end_at || cd_size > end_at - cd_off) {
        st = edgec__fail(EDGEC_STATUS_INVALID_DATA,
                         "%s: the ZIP central directory lies outside the file", file);
        goto cleanup;
    }
    size_t p = cd_off, cd_end = (size_t)cd_off + cd_size;
    for (uint16_t i = 0; i < n_entries; i++) {
        if (cd_end - p < CENTRAL_SIZE || rd32(b + p) != SIG_CENTRAL) {
            st = edgec__fail(EDGEC_STATUS_INVALID_DATA,
                             "%s: ZIP central directory entry %u is truncated or malformed", file,
                             (unsigned)i);
            goto cleanup;
        }
        const uint8_t *c = b + p;
        uint16_t flags = rd16(c + 8), method = rd16(c + 10);
        uint32_t crc = rd32(c + 16);
        uint64_t csize = rd32(c + 20), usize = rd32(c + 24);
        size_t nlen = rd16(c + 28), xlen = rd16(c + 30), clen = rd16(c + 32);
        uint64_t off = rd32(c + 42);
        if (cd_end - p - CENTRAL_SIZE < nlen + xlen + clen) {
            st = edgec__fail(EDGEC_STATUS_INVALID_DATA,
                             "%s: ZIP central directory entry %u runs past the directory", file,
                             (unsigned)i);
            goto cleanup;
        }
        size_t shown = nlen < sizeof member - 1 ? nlen : sizeof member - 1;
        memcpy(member, c + CENTRAL_SIZE, shown);
        member[shown] = '\0';
        if (memchr(c + CENTRAL_SIZE, '\0', nlen) || nlen >= sizeof member) {
            st = edgec__fail(EDGEC_STATUS_INVALID_DATA, "%s: member %u has an invalid name", file,
                             (unsigned)i);
            goto cleanup;
        }
        if (!zip64_extra(c + CENTRAL_SIZE + nlen, xlen, &usize, &csize, &off,
                         usize == 0xffffffffu, csize == 0xffffffffu, off == 0xffffffffu)) {
            st = edgec__fail(EDGEC_STATUS_INVALID_DATA, "%s: member '%s' has a malformed ZIP64 "
                             "extra field", file, member);
            goto cleanup;
        }
        p += CENTRAL_SIZE + nlen + xlen + clen;
        /* Directories and members that are not arrays are not data. */
        if (nlen < 4 || strcmp(member + nlen - 4, ".npy"))
            continue;
        member[nlen - 4] = '\0';
        if (flags & 1) {
            st = edgec__fail(EDGEC_STATUS_UNSUPPORTED, "%s: array '%s' is encrypted", file,
                             member);
            goto cleanup;
        }
        if (method != 0 && method != 8) {
            st = edgec__fail(EDGEC_STATUS_UNSUPPORTED,
                             "%s: array '%s' uses ZIP compression method %u; only stored and "
                             "deflated members are supported",
                             file, member, (unsigned)method);
            goto cleanup;
        }
        if (off > cd_off || cd_off - off < LOCAL_SIZE || rd32(b + off) != SIG_LOCAL) {
            st = edgec__fail(EDGEC_STATUS_INVALID_DATA,
                             "%s: array '%s': the local header offset is invalid", file, member);
            goto cleanup;
        }
        const uint8_t *l = b + off;
        size_t lnlen = rd16(l + 26), lxlen = rd16(l + 28);
        uint64_t data_at = off + LOCAL_SIZE + lnlen + lxlen;
        if (data_at > cd_off || csize > cd_off - data_at || lnlen != nlen ||
            memcmp(l + LOCAL_SIZE, c + CENTRAL_SIZE, nlen) || rd16(l + 8) != method) {
            st = edgec__fail(EDGEC_STATUS_INVALID_DATA,
                             "%s: array '%s': the local header disagrees with the directory or "
                             "the data runs past the end",
                             file, member);
            goto cleanup;
        }
        const uint8_t *src = b + data_at;
        const uint8_t *img;
        if (method == 0) {
            if (usize != csize) {
                st = edgec__fail(EDGEC_STATUS_INVALID_DATA,
                                 "%s: array '%s' is stored but its sizes differ", file, member);
                goto cleanup;
            }
            img = src;
        } else {
            if (usize > csize * MAX_DEFLATE_RATIO + 1024 || usize > EDGEC_DATA_FILE_LIMIT ||
                usize > SIZE_MAX) {
                st = edgec__fail(EDGEC_STATUS_INVALID_DATA,
                                 "%s: array '%s' claims %llu bytes uncompressed from %llu "
                                 "compressed, which deflate cannot produce",
                                 file, member, (unsigned long long)usize,
                                 (unsigned long long)csize);
                goto cleanup;
            }
            free(tmp);
            if (!(tmp = malloc(usize ? (size_t)usize : 1))) {
                st = edgec__fail(EDGEC_STATUS_NO_MEMORY, "%s: array '%s': out of memory", file,
                                 member);
                goto cleanup;
            }
            if ((st = inflate_member(src, (size_t)csize, tmp, (size_t)usize, file, member)))
                goto cleanup;
            img = tmp;
        }
        uLong sum = crc32(0L, Z_NULL, 0);
        for (uint64_t q = 0; q < usize;) {
            uInt chunk = usize - q > (1u << 30) ? (1u << 30) : (uInt)(usize - q);
            sum = crc32(sum, img + q, chunk);
            q += chunk;
        }
        if ((uint32_t)sum != crc) {
            st = edgec__fail(EDGEC_STATUS_INVALID_DATA, "%s: array '%s' fails its CRC check", file,
                             member);
            goto cleanup;
        }
        if ((st = edgec__npy_parse(img, (size_t)usize, file, member, &arr)))
            goto cleanup;
        if ((st = edgec_dataset_add(ds, arr)))
            goto cleanup;
        arr = NULL;
    }
    *out = ds;
    ds = NULL;
cleanup:
    free(tmp);
    edgec_array_free(arr);
    edgec_dataset_free(ds);
    return st;
}

edgec_status edgec_npz_read(const char *path, edgec_dataset **out)
{
    *out = NULL;
    edgec__error_clear();
    uint8_t *buf = NULL;
    size_t len = 0;
    edgec_status st = edgec__read_file(path, EDGEC_DATA_FILE_LIMIT, &buf, &len);
    if (!st)
        st = edgec_npz_read_buffer(buf, len, path, out);
    free(buf);
    return st;
}

/* A growing output buffer. */
typedef struct obuf {
    uint8_t *d;
    size_t n, cap;
    bool failed;
} obuf;

static void put(obuf *o, const void *src, size_t n)
{
    if (o->failed)
        return;
    if (o->cap - o->n < n) {
        size_t cap = o->cap ? o->cap : 4096;
        while (cap - o->n < n) {
            if (cap > SIZE_MAX / 2) {
                o->failed = true;
                return;
            }
            cap *= 2;
        }
        uint8_t *nd = realloc(o->d, cap);
        if (!nd) {
            o->failed = true;
            return;
        }
        o->d = nd;
        o->cap = cap;
    }
    memcpy(o->d + o->n, src, n);
    o->n += n;
}

static void put16(obuf *o, uint32_t v)
{
    uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    put(o, b, 2);
}

static void put32(obuf *o, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(o, b, 4);
}

typedef struct entry {
    uint32_t crc, csize, usize, offset;
    uint16_t method;
    const char *name;
    size_t nlen;
} entry;

/* Deflates `src` into a new buffer (raw deflate, zlib's default level). */
static edgec_status deflate_all(const uint8_t *src, size_t n, uint8_t **out, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) !=
        Z_OK)
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "cannot start zlib");
    uLong bound = deflateBound(&z, (uLong)n);
    uint8_t *d = malloc(bound ? bound : 1);
    if (!d) {
        deflateEnd(&z);
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory compressing");
    }
    z.next_in = (Bytef *)src;
    z.avail_in = (uInt)n;
    z.next_out = d;
    z.avail_out = (uInt)bound;
    int r = deflate(&z, Z_FINISH);
    size_t len = z.total_out;
    deflateEnd(&z);
    if (r != Z_STREAM_END) {
        free(d);
        return edgec__fail(EDGEC_STATUS_INTERNAL, "zlib deflate failed");
    }
    *out = d;
    *out_len = len;
    return EDGEC_STATUS_OK;
}

edgec_status edgec_npz_write_buffer(const edgec_dataset *ds, bool compress, void **data,
                                    size_t *size)
{
    *data = NULL;
    *size = 0;
    edgec_status st = EDGEC_STATUS_OK;
    size_t n = edgec_dataset_count(ds);
    obuf o = {0};
    entry *ents = calloc(n + 1, sizeof *ents);
    void *npy = NULL;
    uint8_t *z = NULL;
    char names[4096];
    if (!ents)
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
    if (n > 65534) {
        st = edgec__fail(EDGEC_STATUS_LIMIT, "too many arrays for an .npz archive");
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++) {
        const edgec_array *a = edgec_dataset_at(ds, i);
        if (!a->name || !*a->name) {
            st = edgec__fail(EDGEC_STATUS_USAGE, "array %zu has no name; .npz members need one", i);
            goto cleanup;
        }
        size_t npy_len;
        if ((st = edgec_npy_write_buffer(a, &npy, &npy_len)))
            goto cleanup;
        if ((uint64_t)npy_len >= 0xffffffffu || o.n >= 0xffffffffu) {
            st = edgec__fail(EDGEC_STATUS_LIMIT,
                             "array '%s' is too large for an .npz archive without ZIP64",
                             a->name);
            goto cleanup;
        }
        int nl = snprintf(names, sizeof names, "%s.npy", a->name);
        if (nl < 0 || (size_t)nl >= sizeof names) {
            st = edgec__fail(EDGEC_STATUS_LIMIT, "array name '%s' is too long", a->name);
            goto cleanup;
        }
        entry *e = &ents[i];
        e->name = a->name;
        e->nlen = (size_t)nl;
        e->usize = (uint32_t)npy_len;
        e->crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), npy, (uInt)npy_len);
        e->offset = (uint32_t)o.n;
        const uint8_t *body = npy;
        size_t body_len = npy_len;
        e->method = 0;
        if (compress) {
            if ((st = deflate_all(npy, npy_len, &z, &body_len)))
                goto cleanup;
            body = z;
            e->method = 8;
        }
        e->csize = (uint32_t)body_len;
        /* Fixed timestamp (1980-01-01 00:00) so that output is byte-reproducible. */
        put32(&o, SIG_LOCAL);
        put16(&o, 20);
        put16(&o, 0);
        put16(&o, e->method);
        put16(&o, 0);
        put16(&o, 0x21);
        put32(&o, e->crc);
        put32(&o, e->csize);
        put32(&o, e->usize);
        put16(&o, (uint32_t)e->nlen);
        put16(&o, 0);
        put(&o, names, e->nlen);
        put(&o, body, body_len);
        free(npy);
        npy = NULL;
        free(z);
        z = NULL;
    }
    size_t cd_off = o.n;
    for (size_t i = 0; i < n; i++) {
        const entry *e = &ents[i];
        snprintf(names, sizeof names, "%s.npy", e->name);
        put32(&o, SIG_CENTRAL);
        put16(&o, 20);
        put16(&o, 20);
        put16(&o, 0);
        put16(&o, e->method);
        put16(&o, 0);
        put16(&o, 0x21);
        put32(&o, e->crc);
        put32(&o, e->csize);
        put32(&o, e->usize);
        put16(&o, (uint32_t)e->nlen);
        put16(&o, 0);
        put16(&o, 0);
        put16(&o, 0);
        put16(&o, 0);
        put32(&o, 0x81a40000u); /* -rw-r--r-- */
        put32(&o, e->offset);
        put(&o, names, e->nlen);
    }
    size_t cd_size = o.n - cd_off;
    if (o.n >= 0xffffffffu) {
        st = edgec__fail(EDGEC_STATUS_LIMIT, "the archive is too large without ZIP64");
        goto cleanup;
    }
    put32(&o, SIG_END);
    put16(&o, 0);
    put16(&o, 0);
    put16(&o, (uint32_t)n);
    put16(&o, (uint32_t)n);
    put32(&o, (uint32_t)cd_size);
    put32(&o, (uint32_t)cd_off);
    put16(&o, 0);
    if (o.failed) {
        st = edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory writing an .npz archive");
        goto cleanup;
    }
    *data = o.d;
    *size = o.n;
    o.d = NULL;
cleanup:
    free(o.d);
    free(ents);
    free(npy);
    free(z);
    return st;
}

edgec_status edgec_npz_write(const char *path, const edgec_dataset *ds, bool compress)
{
    edgec__error_clear();
    void *buf = NULL;
    size_t len = 0;
    edgec_status st = edgec_npz_write_buffer(ds, compress, &buf, &len);
    if (st) {
        char pre[600];
        snprintf(pre, sizeof pre, "%s: ", path);
        edgec__fail_prefix(pre);
        return st;
    }
    st = edgec__write_file(path, buf, len);
    free(buf);
    return st;
}
