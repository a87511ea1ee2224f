/* Hand-built ONNX bytes for the container tests (test_codec.c, test_decoder*.c): any
 * tensor bytes can be wrapped in a ModelProto without going through the writer; and
 * the CRCs of an edited container can be made valid again, so that the edit reaches the
 * parser. */
#ifndef EDGEC_TEST_CODEC_FIXTURE_H
#define EDGEC_TEST_CODEC_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "edgec/pipeline.h"

typedef struct codec_fixture_tensor {
    const char *name;
    int dtype;
    const uint8_t *raw;
    size_t n;        /* bytes; also the tensor's one dim when rank is 0 */
    int rank;        /* 0: one dim of n */
    size_t dims[4];
    int packed_dims; /* dims as one packed field: valid protobuf, not what protobuf-c writes */
} codec_fixture_tensor;

static size_t codec_fixture_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    do {
        p[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    return n;
}

/* ModelProto { ir_version 8, graph { initializer { dims, data_type, name, raw_data } x n } }
 * in a malloc'ed buffer. */
static uint8_t *codec_fixture_model(const codec_fixture_tensor *t, size_t count, size_t *len)
{
    size_t cap = 64;
    for (size_t i = 0; i < count; i++)
        cap += 2 * (t[i].n + strlen(t[i].name)) + 128;
    uint8_t *g = malloc(cap), *m = malloc(cap + 16), *one = malloc(cap);
    size_t gl = 0, ml = 0;
    if (!g || !m || !one)
        abort();
    for (size_t i = 0; i < count; i++) {
        size_t tl = 0, nl = strlen(t[i].name), dl = 0;
        uint8_t packed[64];
        for (int k = 0; k < (t[i].rank ? t[i].rank : 1); k++) {
            size_t d = t[i].rank ? t[i].dims[k] : t[i].n;
            if (t[i].packed_dims) {
                dl += codec_fixture_varint(packed + dl, d);
            } else {
                one[tl++] = 0x08; /* dims */
                tl += codec_fixture_varint(one + tl, d);
            }
        }
        if (t[i].packed_dims) {
            one[tl++] = 0x0a; /* dims, packed */
            tl += codec_fixture_varint(one + tl, dl);
            memcpy(one + tl, packed, dl);
            tl += dl;
        }
        one[tl++] = 0x10; /* data_type */
        tl += codec_fixture_varint(one + tl, (uint64_t)t[i].dtype);
        one[tl++] = 0x42; /* name */
        tl += codec_fixture_varint(one + tl, nl);
        memcpy(one + tl, t[i].name, nl);
        tl += nl;
        one[tl++] = 0x4a; /* raw_data */
        tl += codec_fixture_varint(one + tl, t[i].n);
        memcpy(one + tl, t[i].raw, t[i].n);
        tl += t[i].n;
        g[gl++] = 0x2a; /* GraphProto.initializer */
        gl += codec_fixture_varint(g + gl, tl);
        memcpy(g + gl, one, tl);
        gl += tl;
    }
    m[ml++] = 0x08; /* ir_version 8 */
    m[ml++] = 8;
    m[ml++] = 0x3a; /* ModelProto.graph */
    ml += codec_fixture_varint(m + ml, gl);
    memcpy(m + ml, g, gl);
    ml += gl;
    free(g);
    free(one);
    *len = ml;
    return m;
}

/* The serialized model models/<name> after the pipeline `opts` (pairs of option and
 * value, the value NULL for a flag; a NULL option ends them; NULL: none), malloc'ed;
 * NULL when any step fails. */
static inline void *codec_fixture_pipeline(const char *name, const char *const *opts,
                                           size_t *len)
{
    char path[1024];
    const char *f = __FILE__, *cut = strstr(f, "tests/unit/");
    edgec_model *m = NULL;
    edgec_pipeline *p = NULL;
    void *buf = NULL;
    snprintf(path, sizeof path, "%.*smodels/%s", cut ? (int)(cut - f) : 0, f, name);
    bool ok = !edgec_model_load(path, &m) && !edgec_pipeline_create(&p);
    for (; ok && opts && opts[0]; opts += 2)
        ok = !edgec_pipeline_set(p, opts[0], opts[1]);
    if (!ok || edgec_pipeline_run(p, m, NULL) || edgec_model_save_buffer(m, &buf, len))
        buf = NULL;
    edgec_pipeline_free(p);
    edgec_model_free(m);
    return buf;
}

static inline uint32_t codec_fixture_rand(uint64_t *rng)
{
    *rng ^= *rng << 13;
    *rng ^= *rng >> 7;
    *rng ^= *rng << 17;
    return (uint32_t)(*rng >> 32);
}

/* A small model with a tensor of each form: masked cluster indices, dense int8, int4,
 * masked float, stored random bytes. */
static inline uint8_t *codec_fixture_small_model(uint64_t *rng, size_t *len)
{
    static uint8_t idx[300], q[200], nib[41], fl[4 * 64], rnd[24];
    for (size_t i = 0; i < sizeof idx; i++)
        idx[i] = codec_fixture_rand(rng) % 4 ? 0 : (uint8_t)(1 + codec_fixture_rand(rng) % 15);
    for (size_t i = 0; i < sizeof q; i++)
        q[i] = (uint8_t)(int8_t)((int)(codec_fixture_rand(rng) % 7) - 3);
    for (size_t i = 0; i < sizeof nib; i++)
        nib[i] = (uint8_t)(codec_fixture_rand(rng) % 3 | (codec_fixture_rand(rng) % 3) << 4);
    for (size_t i = 0; i < 64; i++) {
        float v = codec_fixture_rand(rng) % 3 ? 0.0f : (float)(codec_fixture_rand(rng) % 100) / 64.0f;
        memcpy(fl + 4 * i, &v, 4);
    }
    for (size_t i = 0; i < sizeof rnd; i++)
        rnd[i] = (uint8_t)codec_fixture_rand(rng);
    codec_fixture_tensor t[] = {{.name = "w_indices", .dtype = 2, .raw = idx, .n = sizeof idx},
                                {.name = "q", .dtype = 3, .raw = q, .n = sizeof q},
                                {.name = "n4", .dtype = 22, .raw = nib, .n = sizeof nib},
                                {.name = "f", .dtype = 1, .raw = fl, .n = sizeof fl},
                                {.name = "r", .dtype = 2, .raw = rnd, .n = sizeof rnd}};
    return codec_fixture_model(t, 5, len);
}

static inline uint32_t codec_fixture_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void codec_fixture_put_u32(uint8_t *p, uint32_t v)
{
    for (int k = 0; k < 4; k++)
        p[k] = (uint8_t)(v >> (8 * k));
}

/* A varint of the directory at b[*pos, end); what was there past the end. */
static inline uint64_t codec_fixture_dir_varint(const uint8_t *b, size_t *pos, size_t end)
{
    uint64_t v = 0;
    for (int s = 0; s < 35 && *pos < end; s += 7) {
        uint8_t c = b[(*pos)++];
        v |= (uint64_t)(c & 0x7f) << s;
        if (!(c & 0x80))
            break;
    }
    return v;
}

/* Recomputes every payload's CRC and the header and directory's after an edit (format
 * version 2: payloads follow the directory's CRC in record order). Fields that point
 * outside the buffer are left as they are. */
static inline void codec_fixture_fix_crcs(uint8_t *b, size_t len)
{
    if (len < 24)
        return;
    uint32_t n = codec_fixture_u32(b + 8), dir_size = codec_fixture_u32(b + 12);
    if (24 + (uint64_t)dir_size + 4 > len)
        return;
    size_t pos = 24, end = 24 + (size_t)dir_size;
    uint64_t payload = end + 4;
    for (uint32_t i = 0; i < n && end - pos >= 3; i++) {
        uint32_t rank = b[pos + 2];
        pos += 3;
        for (uint32_t k = 0; k < rank; k++)
            codec_fixture_dir_varint(b, &pos, end);
        codec_fixture_dir_varint(b, &pos, end); /* raw_size */
        uint64_t size = codec_fixture_dir_varint(b, &pos, end);
        if (end - pos < 4)
            break;
        if (payload <= len && size <= len - payload)
            codec_fixture_put_u32(b + pos, (uint32_t)crc32(0, b + payload, (uInt)size));
        pos += 4;
        uint64_t name_len = codec_fixture_dir_varint(b, &pos, end);
        if (name_len > end - pos)
            break;
        pos += (size_t)name_len;
        payload += size;
    }
    codec_fixture_put_u32(b + end, (uint32_t)crc32(0, b, (uInt)end));
}

#endif
