/* Hand-built ONNX bytes for the container tests (test_codec.c, test_decoder.c): any
 * tensor bytes can be wrapped in a ModelProto without going through the writer. */
#ifndef EDGEC_TEST_CODEC_FIXTURE_H
#define EDGEC_TEST_CODEC_FIXTURE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct codec_fixture_tensor {
    const char *name;
    int dtype;
    const uint8_t *raw;
    size_t n; /* bytes; also the tensor's one dim */
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
        cap += 2 * (t[i].n + strlen(t[i].name)) + 64;
    uint8_t *g = malloc(cap), *m = malloc(cap + 16), *one = malloc(cap);
    size_t gl = 0, ml = 0;
    if (!g || !m || !one)
        abort();
    for (size_t i = 0; i < count; i++) {
        size_t tl = 0, nl = strlen(t[i].name);
        one[tl++] = 0x08; /* dims */
        tl += codec_fixture_varint(one + tl, t[i].n);
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

#endif
