/* The decoder (decoder/edgec_decode.c, in the host build libedgec uses; test_decoder_small.c
 * holds the firmware build to the same results) on the host: it decodes a real clustered
 * model's container to the exact tensor bytes of the ONNX file; and on damaged input it
 * returns an error code and never touches memory outside its buffers (run this under
 * ASan: tensors are decoded into heap buffers of exactly their size). Damage covered:
 * every truncation, every single-bit flip, failing reads, and random edits with the
 * CRCs recomputed so that the parser itself meets garbage. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "codec/codec.h"
#include "edgec/container.h"
#include "edgec/pipeline.h"
#include "../../decoder/edgec_decode.h"
#include "codec_fixture.h"

static uint64_t rng = 0x2545F4914F6CDD1Dull;

static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 32);
}

/* A small container with one tensor of each kind: masked cluster indices, dense int8,
 * int4, pruned float, stored random bytes. */
/* The fixture's small model (a tensor of each form) and its container. */
static uint8_t *small_container(size_t *len, uint8_t **onnx, size_t *onnx_len)
{
    void *blob;
    *onnx = codec_fixture_small_model(&rng, onnx_len);
    assert_int_equal(edgec_container_encode(*onnx, *onnx_len, &blob, len), 0);
    return blob;
}

/* Opens and decodes every tensor into exact-size heap buffers; returns the first error
 * code, or 0. */
static int decode_all(const uint8_t *data, size_t size)
{
    edgec_dec d;
    edgec_dec_mem mem = {data, (uint32_t)size};
    edgec_dec_tensor t;
    int rc = edgec_dec_open(&d, edgec_dec_mem_read, &mem, mem.size);
    for (uint32_t i = 0; !rc && i < edgec_dec_count(&d); i++) {
        if ((rc = edgec_dec_info(&d, i, &t)))
            break;
        /* Damaged sizes can claim gigabytes: a buffer that small is refused (ERANGE). */
        uint32_t cap = t.raw_size < (1u << 20) ? t.raw_size : 1u << 20;
        uint8_t *out = malloc(cap ? cap : 1);
        assert_non_null(out);
        rc = edgec_dec_tensor_read(&d, i, out, cap);
        if (cap < t.raw_size)
            assert_int_equal(rc, EDGEC_DEC_ERANGE);
        free(out);
    }
    return rc;
}

static void test_crc32(void **state)
{
    (void)state;
    assert_int_equal(edgec_dec_crc32(0, "123456789", 9), 0xCBF43926u);
    assert_int_equal(edgec_dec_crc32(edgec_dec_crc32(0, "1234", 4), "56789", 5), 0xCBF43926u);
}

static void test_real_model(void **state)
{
    (void)state;
    static const char *const c16[] = {"cluster", "16", NULL};
    void *onnx, *blob;
    size_t onnx_len, blob_len, n_wt;
    assert_non_null(onnx = codec_fixture_pipeline("digits_mlp.onnx", c16, &onnx_len));
    assert_int_equal(edgec_container_encode(onnx, onnx_len, &blob, &blob_len), 0);
    edgec_wire_tensor *wt;
    assert_int_equal(edgec__wire_tensors(onnx, onnx_len, &wt, &n_wt), 0);

    edgec_dec d;
    edgec_dec_mem mem = {blob, (uint32_t)blob_len};
    assert_int_equal(edgec_dec_open(&d, edgec_dec_mem_read, &mem, mem.size), 0);
    assert_int_equal(edgec_dec_count(&d), n_wt);
    int coded = 0;
    for (uint32_t i = 0; i < n_wt; i++) {
        edgec_dec_tensor t;
        assert_int_equal(edgec_dec_info(&d, i, &t), 0);
        assert_int_equal(t.raw_size, wt[i].len);
        assert_int_equal(t.name_len, wt[i].name_len);
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)wt[i].name_len, (const char *)wt[i].name);
        uint32_t found;
        assert_int_equal(edgec_dec_find(&d, name, &found), 0);
        assert_int_equal(found, i);
        uint8_t *out = malloc(t.raw_size);
        assert_non_null(out);
        assert_int_equal(edgec_dec_tensor_read(&d, i, out, t.raw_size), 0);
        assert_memory_equal(out, (const uint8_t *)onnx + wt[i].off, t.raw_size);
        coded += t.encoding == 2 || t.encoding == 1;
        free(out);
    }
    assert_true(coded >= 5); /* the five index tensors are Huffman-coded */
    assert_int_equal(edgec_dec_tensor_read(&d, (uint32_t)n_wt, NULL, 0), EDGEC_DEC_ERANGE);
    free(wt);
    free(onnx);
    free(blob);
}

static void test_truncation(void **state)
{
    (void)state;
    uint8_t *onnx;
    size_t len, onnx_len;
    uint8_t *blob = small_container(&len, &onnx, &onnx_len);
    assert_int_equal(decode_all(blob, len), 0);
    for (size_t cut = 0; cut < len; cut++) {
        /* A copy of exactly `cut` bytes, so that ASan sees any read past its end. */
        uint8_t *b = malloc(cut ? cut : 1);
        void *back = NULL;
        size_t back_len;
        assert_non_null(b);
        memcpy(b, blob, cut);
        assert_true(decode_all(b, cut) < 0);
        assert_int_not_equal(edgec_container_unpack(b, cut, "cut", &back, &back_len), 0);
        assert_null(back);
        free(b);
    }
    free(blob);
    free(onnx);
}

static void test_bit_flips(void **state)
{
    (void)state;
    uint8_t *onnx;
    size_t len, onnx_len;
    uint8_t *blob = small_container(&len, &onnx, &onnx_len);
    /* The model section is the last model_size + 4 bytes (format 2, 4). */
    uint32_t model_offset = (uint32_t)len - 4 -
                            ((uint32_t)blob[16] | (uint32_t)blob[17] << 8 |
                             (uint32_t)blob[18] << 16 | (uint32_t)blob[19] << 24);
    uint8_t *b = malloc(len);
    assert_non_null(b);
    size_t decoder_errors = 0;
    for (size_t bit = 0; bit < 8 * len; bit++) {
        memcpy(b, blob, len);
        b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        int rc = decode_all(b, len);
        /* CRC-32 catches every single-bit error; the decoder skips only the model
         * section, which it never reads. */
        if (bit / 8 < model_offset)
            assert_true(rc < 0);
        else
            assert_int_equal(rc, 0);
        decoder_errors += rc < 0;
        void *back = NULL;
        size_t back_len;
        assert_int_not_equal(edgec_container_unpack(b, len, "flip", &back, &back_len), 0);
        assert_null(back);
    }
    assert_true(decoder_errors >= 8 * (size_t)model_offset);
    free(b);
    free(blob);
    free(onnx);
}

static void test_garbage_with_valid_crcs(void **state)
{
    (void)state;
    uint8_t *onnx;
    size_t len, onnx_len;
    uint8_t *blob = small_container(&len, &onnx, &onnx_len);
    uint8_t *b = malloc(len);
    assert_non_null(b);
    size_t ok = 0;
    for (int round = 0; round < 20000; round++) {
        memcpy(b, blob, len);
        int edits = 1 + (int)(next_rand() % 4);
        for (int e = 0; e < edits; e++) {
            size_t at = 24 + next_rand() % (len - 24);
            b[at] = (uint8_t)(next_rand() % 3 ? next_rand() : b[at] ^ (1u << (next_rand() % 8)));
        }
        codec_fixture_fix_crcs(b, len);
        int rc = decode_all(b, len);
        assert_true(rc <= 0 && rc >= EDGEC_DEC_ERANGE);
        ok += rc == 0;
        void *back = NULL;
        size_t back_len;
        if (!edgec_container_unpack(b, len, "garbage", &back, &back_len))
            free(back);
    }
    print_message("%zu of 20000 edited containers still decoded\n", ok);
    free(b);
    free(blob);
    free(onnx);
}

static int failing_read(void *user, uint32_t offset, void *buf, uint32_t len)
{
    int *budget = user;
    (void)offset;
    memset(buf, 0xA5, len);
    return (*budget)-- > 0 ? 0 : -1;
}

static void test_read_errors(void **state)
{
    (void)state;
    int budget = 0;
    edgec_dec d;
    assert_int_equal(edgec_dec_open(&d, failing_read, &budget, 1000), EDGEC_DEC_EREAD);
    budget = 1; /* header reads, garbage: not a container */
    assert_int_equal(edgec_dec_open(&d, failing_read, &budget, 1000), EDGEC_DEC_EFORMAT);
    assert_int_equal(edgec_dec_open(&d, edgec_dec_mem_read, &(edgec_dec_mem){NULL, 0}, 0),
                     EDGEC_DEC_EFORMAT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32),
        cmocka_unit_test(test_real_model),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_bit_flips),
        cmocka_unit_test(test_garbage_with_valid_crcs),
        cmocka_unit_test(test_read_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
