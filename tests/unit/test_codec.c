/* The host side of the .edgec container: canonical Huffman construction (Kraft sums,
 * the 15-bit limit), payload encoding of every unit width and both masked and dense
 * forms (decoded back with the firmware decoder), the choice of the smallest form, the
 * byte-exact round trip of real models through the container, and the cluster pass on
 * a real model (exact for few values, zeros kept, deterministic). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "codec/codec.h"
#include "edgec/container.h"
#include "edgec/pipeline.h"
#include "ir/ir.h"
#include "../../decoder/edgec_decode.h"
#include "codec_fixture.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 32);
}

static uint8_t *one_tensor_model(const uint8_t *raw, size_t n, int dtype, size_t *len)
{
    codec_fixture_tensor t = {.name = "t", .dtype = dtype, .raw = raw, .n = n};
    return codec_fixture_model(&t, 1, len);
}

/* Encodes raw as one tensor, checks the container unpacks to the same model and that
 * the decoder gives back the bytes; returns the encoding chosen and the payload size. */
static int roundtrip(const uint8_t *raw, size_t n, int dtype, uint32_t *payload)
{
    size_t model_len, blob_len, back_len;
    uint8_t *model = one_tensor_model(raw, n, dtype, &model_len);
    void *blob, *back;
    assert_int_equal(edgec_container_encode(model, model_len, &blob, &blob_len), EDGEC_STATUS_OK);
    assert_int_equal(edgec_container_unpack(blob, blob_len, "test", &back, &back_len),
                     EDGEC_STATUS_OK);
    assert_int_equal(back_len, model_len);
    assert_memory_equal(back, model, model_len);
    edgec_dec d;
    edgec_dec_mem mem = {blob, (uint32_t)blob_len};
    edgec_dec_tensor t;
    assert_int_equal(edgec_dec_open(&d, edgec_dec_mem_read, &mem, mem.size), 0);
    assert_int_equal(edgec_dec_count(&d), 1);
    assert_int_equal(edgec_dec_info(&d, 0, &t), 0);
    assert_int_equal(t.raw_size, n);
    assert_int_equal(t.dtype, dtype);
    uint32_t idx = 99;
    assert_int_equal(edgec_dec_find(&d, "t", &idx), 0);
    assert_int_equal(idx, 0);
    assert_int_equal(edgec_dec_find(&d, "u", &idx), EDGEC_DEC_ERANGE);
    uint8_t *out = malloc(n ? n : 1);
    assert_non_null(out);
    if (n > 1) /* a buffer one byte short is refused */
        assert_int_equal(edgec_dec_tensor_read(&d, 0, out, (uint32_t)n - 1), EDGEC_DEC_ERANGE);
    assert_int_equal(edgec_dec_tensor_read(&d, 0, out, (uint32_t)n), 0);
    assert_memory_equal(out, raw, n);
    *payload = t.payload_size;
    int enc = t.encoding;
    free(out);
    free(model);
    free(blob);
    free(back);
    return enc;
}

static void test_huffman_lengths(void **state)
{
    (void)state;
    uint64_t f[256] = {0};
    uint8_t len[256];
    uint16_t code[256];
    /* Fibonacci frequencies force a 40-deep tree; the limit must hold with a complete
     * code (Kraft sum exactly 1). */
    uint64_t a = 1, b = 1;
    for (int s = 0; s < 40; s++) {
        f[s] = a;
        uint64_t c = a + b;
        a = b;
        b = c;
    }
    edgec__huff_lengths(f, 256, 15, len);
    double kraft = 0;
    for (int s = 0; s < 256; s++) {
        assert_true(len[s] <= 15);
        assert_true((len[s] > 0) == (f[s] > 0));
        if (len[s])
            kraft += ldexp(1.0, -len[s]);
    }
    assert_true(fabs(kraft - 1.0) < 1e-12);
    /* Canonical codes are prefix-free: no code is a prefix of another. */
    edgec__huff_codes(len, 256, code);
    for (int x = 0; x < 40; x++)
        for (int y = 0; y < 40; y++)
            if (x != y && len[x] <= len[y])
                assert_false((code[y] >> (len[y] - len[x])) == code[x]);
    /* One symbol still gets a one-bit code. */
    memset(f, 0, sizeof f);
    f[200] = 5;
    edgec__huff_lengths(f, 256, 15, len);
    assert_int_equal(len[200], 1);
    /* Equal frequencies of 2^k symbols give k bits each. */
    for (int s = 0; s < 256; s++)
        f[s] = 10;
    edgec__huff_lengths(f, 256, 15, len);
    for (int s = 0; s < 256; s++)
        assert_int_equal(len[s], 8);
}

static void test_payload_forms(void **state)
{
    (void)state;
    enum { N = 20000 };
    uint8_t *raw = malloc(4 * N);
    uint32_t size;
    assert_non_null(raw);

    /* 90% of one byte value (not zero): masked with that background, ~1 bit/unit. */
    for (int i = 0; i < N; i++)
        raw[i] = next_rand() % 10 ? 7 : (uint8_t)(next_rand() % 16);
    assert_int_equal(roundtrip(raw, N, EDGEC_DTYPE_UINT8, &size), 2);
    assert_true(size < N / 4);

    /* Dense int8 with a narrow distribution: dense Huffman, well under 8 bits. */
    for (int i = 0; i < N; i++)
        raw[i] = (uint8_t)(int8_t)((int)(next_rand() % 9) - 4 + (int)(next_rand() % 3) - 1);
    assert_int_equal(roundtrip(raw, N, EDGEC_DTYPE_INT8, &size), 1);
    assert_true(size < N * 4 / 8);

    /* Uniform random bytes cannot be compressed: stored. */
    for (int i = 0; i < N; i++)
        raw[i] = (uint8_t)next_rand();
    assert_int_equal(roundtrip(raw, N, EDGEC_DTYPE_UINT8, &size), 0);
    assert_int_equal(size, N);

    /* int4, odd element count: the padding nibble round-trips too. */
    for (int i = 0; i < 1001; i++)
        raw[i] = (uint8_t)((next_rand() % 3) | (next_rand() % 4 == 0 ? 0x90 : 0x00));
    assert_int_equal(roundtrip(raw, 1001, EDGEC_DTYPE_INT4, &size) != 0, 1);

    /* Pruned float32: masked over 32-bit units. */
    float *fv = (float *)raw;
    for (int i = 0; i < N; i++)
        fv[i] = next_rand() % 5 ? 0.0f : (float)((int)(next_rand() % 2001) - 1000) / 1024.0f;
    assert_int_equal(roundtrip(raw, 4 * (size_t)N, EDGEC_DTYPE_FLOAT, &size), 2);
    assert_true(size < 4 * N / 3);

    /* float16 and all-background tensors. */
    for (int i = 0; i < N; i++)
        raw[i] = i % 2 ? 0x3c : (uint8_t)(next_rand() % 4);
    roundtrip(raw, N, EDGEC_DTYPE_FLOAT16, &size);
    memset(raw, 0, N);
    assert_int_equal(roundtrip(raw, N, EDGEC_DTYPE_FLOAT, &size), 2);
    assert_true(size < 40);

    /* Long runs of background and a value in the very last unit. */
    memset(raw, 3, N);
    raw[700] = 9;
    raw[N - 1] = 200;
    assert_int_equal(roundtrip(raw, N, EDGEC_DTYPE_UINT8, &size), 2);

    /* Tiny tensors are stored. */
    raw[0] = 1;
    assert_int_equal(roundtrip(raw, 1, EDGEC_DTYPE_UINT8, &size), 0);
    free(raw);
}

/* Serialized bytes of models/<name> after the pipeline `opts` (NULL: none). */
static void *compressed_model(const char *name, const char *const *opts, size_t *len)
{
    void *buf = codec_fixture_pipeline(name, opts, len);
    assert_non_null(buf);
    return buf;
}

static void test_sample_models(void **state)
{
    (void)state;
    static const char *const none[] = {NULL};
    static const char *const cluster[] = {"cluster", "16", NULL};
    const char *const *variants[] = {none, cluster};
    const char *models[] = {"digits_mlp.onnx", "digits_cnn.onnx"};
    for (int i = 0; i < 2; i++) {
        for (int v = 0; v < 2; v++) {
            size_t len, blob_len, back_len;
            void *onnx = compressed_model(models[i], variants[v], &len), *blob, *back, *blob2;
            assert_int_equal(edgec_container_encode(onnx, len, &blob, &blob_len), 0);
            assert_int_equal(edgec_container_unpack(blob, blob_len, models[i], &back, &back_len),
                             0);
            assert_int_equal(back_len, len);
            assert_memory_equal(back, onnx, len);
            /* Deterministic: the same model encodes to the same bytes. */
            size_t blob2_len;
            assert_int_equal(edgec_container_encode(onnx, len, &blob2, &blob2_len), 0);
            assert_int_equal(blob2_len, blob_len);
            assert_memory_equal(blob2, blob, blob_len);
            /* Float weights: under 0.9x; 16 clusters (uint8 indices of ~3.7 bits of
             * entropy) and small-tensor overhead: under 0.6x of the ONNX bytes. */
            print_message("%s %s: %zu -> %zu bytes\n", models[i], v ? "cluster 16" : "float",
                          len, blob_len);
            assert_true(blob_len < (v ? len * 3 / 5 : len * 9 / 10));
            free(onnx);
            free(blob);
            free(blob2);
            free(back);
        }
    }
}

static void test_cluster_pass(void **state)
{
    (void)state;
    static const char *const c4[] = {"cluster", "4", NULL};
    size_t len;
    void *onnx = compressed_model("digits_mlp.onnx", c4, &len);
    edgec_model *m = NULL;
    assert_int_equal(edgec_model_load_buffer(onnx, len, "clustered", NULL, &m), 0);
    /* Every large float weight became a codebook of <= 4 floats and uint8 indices. */
    int codebooks = 0, indices = 0;
    for (size_t i = 0; i < m->graph->n_inits; i++) {
        edgec_tensor *t = m->graph->inits[i];
        if (strstr(t->name, "_codebook")) {
            codebooks++;
            assert_int_equal(t->dtype, EDGEC_DTYPE_FLOAT);
            assert_true(t->numel <= 4);
            const float *c = t->data; /* ascending, distinct */
            for (int64_t k = 1; k < t->numel; k++)
                assert_true(c[k - 1] < c[k]);
        } else if (strstr(t->name, "_indices")) {
            indices++;
            assert_int_equal(t->dtype, EDGEC_DTYPE_UINT8);
            for (int64_t k = 0; k < t->numel; k++)
                assert_true(((const uint8_t *)t->data)[k] < 4);
        } else {
            assert_true(t->numel < 64); /* fc3.bias (10) stays float */
        }
    }
    assert_int_equal(codebooks, 5);
    assert_int_equal(indices, 5);
    edgec_model_free(m);
    /* Same input, same output bytes. */
    size_t len2;
    void *again = compressed_model("digits_mlp.onnx", c4, &len2);
    assert_int_equal(len2, len);
    assert_memory_equal(again, onnx, len);
    free(again);
    free(onnx);
    /* K out of range or not whole is a usage error. */
    edgec_pipeline *p = NULL;
    assert_int_equal(edgec_pipeline_create(&p), 0);
    assert_int_equal(edgec_pipeline_set(p, "cluster", "1"), EDGEC_STATUS_USAGE);
    assert_int_equal(edgec_pipeline_set(p, "cluster", "257"), EDGEC_STATUS_USAGE);
    assert_int_equal(edgec_pipeline_set(p, "cluster", "3.5"), EDGEC_STATUS_USAGE);
    assert_int_equal(edgec_pipeline_set(p, "cluster", "x"), EDGEC_STATUS_USAGE);
    edgec_pipeline_free(p);
}

/* Unpacks and decodes `blob` (one tensor per model tensor) and returns record i. */
static edgec_dec_tensor record_of(const void *blob, size_t blob_len, uint32_t i)
{
    static edgec_dec d;
    edgec_dec_mem mem = {blob, (uint32_t)blob_len};
    edgec_dec_tensor t;
    assert_int_equal(edgec_dec_open(&d, edgec_dec_mem_read, &mem, mem.size), 0);
    assert_int_equal(edgec_dec_info(&d, i, &t), 0);
    return t;
}

static void test_container_layout(void **state)
{
    (void)state;
    enum { R = 300, C = 64 };
    static uint8_t idx[R * C], nib[4096], small[40];
    /* Half the columns dead, the others 90% used: the mask runs down the columns (the
     * line is C), where it costs next to nothing on the dead ones. In storage order the
     * columns alternate and the mask would cost about a bit per unit (2.4 kB). */
    size_t n_values = 0;
    for (int r = 0; r < R; r++)
        for (int c = 0; c < C; c++) {
            idx[r * C + c] = c % 2 && next_rand() % 10 ? (uint8_t)(1 + next_rand() % 4) : 0;
            n_values += idx[r * C + c] != 0;
        }
    /* Pruned int4: whole rows of zero nibbles. Coded a byte at a time, masked. */
    for (size_t i = 0; i < sizeof nib; i++)
        nib[i] = (i / 256) % 4 ? 0 : (uint8_t)(next_rand() % 16 | (next_rand() % 16) << 4);
    for (size_t i = 0; i < sizeof small; i++)
        small[i] = (uint8_t)next_rand();
    codec_fixture_tensor t[] = {
        {.name = "idx", .dtype = EDGEC_DTYPE_UINT8, .raw = idx, .n = sizeof idx, .rank = 2,
         .dims = {R, C}},
        {.name = "nib", .dtype = EDGEC_DTYPE_INT4, .raw = nib, .n = sizeof nib, .rank = 1,
         .dims = {2 * sizeof nib}},
        {.name = "packed", .dtype = EDGEC_DTYPE_UINT8, .raw = small, .n = sizeof small,
         .rank = 2, .dims = {4, 10}, .packed_dims = 1},
    };
    size_t model_len, blob_len, back_len;
    uint8_t *model = codec_fixture_model(t, 3, &model_len);
    void *blob, *back;
    assert_int_equal(edgec_container_encode(model, model_len, &blob, &blob_len), 0);
    assert_int_equal(edgec_container_unpack(blob, blob_len, "layout", &back, &back_len), 0);
    assert_int_equal(back_len, model_len);
    assert_memory_equal(back, model, model_len);

    edgec_dec_tensor r = record_of(blob, blob_len, 0);
    assert_int_equal(r.encoding, EDGEC_ENC_MASKED);
    assert_int_equal(r.rank, 2);
    assert_int_equal(r.dims[0], R);
    assert_int_equal(r.dims[1], C);
    print_message("dead columns: %u units, %zu values -> %u bytes\n", R * C, n_values,
                  r.payload_size);
    /* 8.6 k values of 4 equally likely symbols take 2.15 kB; down the columns the mask
     * adds 0.56 kB for the live ones and some learning at each column's start; in
     * storage order it would add 2.4 kB. */
    assert_true(r.payload_size < 3500);
    /* Its TensorProto is what protobuf-c writes: rebuilt whole, name included. */
    assert_int_equal(r.form & (EDGEC_DEC_FORM_WHOLE | EDGEC_DEC_FORM_NAMED),
                     EDGEC_DEC_FORM_WHOLE | EDGEC_DEC_FORM_NAMED);

    r = record_of(blob, blob_len, 1);
    assert_int_equal(r.unit_bits, 8);
    assert_int_equal(r.encoding, EDGEC_ENC_MASKED);
    /* 1 kB of random bytes and a cheap mask; nibble by nibble it would be about 1.9 kB
     * (a bit for each zero nibble). */
    assert_true(r.payload_size < sizeof nib / 4 + 256);

    /* Packed dims are valid protobuf but not protobuf-c's: only raw_data is cut out. */
    r = record_of(blob, blob_len, 2);
    assert_int_equal(r.form & (EDGEC_DEC_FORM_WHOLE | EDGEC_DEC_FORM_NAMED), 0);
    assert_int_equal(r.rank, 2);
    free(model);
    free(blob);
    free(back);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_huffman_lengths),
        cmocka_unit_test(test_payload_forms),
        cmocka_unit_test(test_sample_models),
        cmocka_unit_test(test_container_layout),
        cmocka_unit_test(test_cluster_pass),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
