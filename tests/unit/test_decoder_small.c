/* The firmware build of decoder/edgec_decode.c (without EDGEC_DECODE_FAST) against the
 * host build that libedgec uses (format 7.4: both accept and refuse exactly the same
 * containers and decode them to the same bytes). The firmware build is compiled into
 * this file under other names; the host build is libedgec's, called through its symbols
 * with its state in an opaque buffer, since its edgec_dec differs. Inputs: containers of
 * the sample models under several pipelines, and a small container damaged by every
 * truncation, every bit flip, and random edits with the CRCs made valid again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "edgec/container.h"
#include "edgec/pipeline.h"
#include "codec_fixture.h"

#undef EDGEC_DECODE_FAST
#define edgec_dec_open small_dec_open
#define edgec_dec_count small_dec_count
#define edgec_dec_info small_dec_info
#define edgec_dec_find small_dec_find
#define edgec_dec_tensor_read small_dec_tensor_read
#define edgec_dec_crc32 small_dec_crc32
#define edgec_dec_mem_read small_dec_mem_read
#include "../../decoder/edgec_decode.c"
#undef edgec_dec_open
#undef edgec_dec_count
#undef edgec_dec_info
#undef edgec_dec_find
#undef edgec_dec_tensor_read
#undef edgec_dec_crc32
#undef edgec_dec_mem_read

/* The host build in libedgec. */
int edgec_dec_open(void *d, edgec_dec_read_fn read, void *user, uint32_t size);
uint32_t edgec_dec_count(const void *d);
int edgec_dec_find(void *d, const char *name, uint32_t *index);
int edgec_dec_tensor_read(void *d, uint32_t index, void *out, uint32_t out_size);
int edgec_dec_mem_read(void *user, uint32_t offset, void *buf, uint32_t len);

static uint64_t fast_state[1 << 16]; /* well over the host build's sizeof(edgec_dec) */
static edgec_dec small_state;
static uint64_t rng = 0x8BADF00D12345679ull;
static size_t decoded_ok;

static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 32);
}

/* Opens `b` with both builds and decodes every tensor into exact-size buffers: the same
 * codes, and where they succeed, the same bytes. */
static void same_results(const uint8_t *b, size_t len)
{
    edgec_dec_mem mem = {b, (uint32_t)len};
    int rs = small_dec_open(&small_state, small_dec_mem_read, &mem, (uint32_t)len);
    int rf = edgec_dec_open(fast_state, edgec_dec_mem_read, &mem, (uint32_t)len);
    assert_int_equal(rs, rf);
    if (rs)
        return;
    assert_int_equal(small_dec_count(&small_state), edgec_dec_count(fast_state));
    for (uint32_t i = 0; i < small_dec_count(&small_state) && i < 64; i++) {
        edgec_dec_tensor t;
        if (small_dec_info(&small_state, i, &t))
            break;
        uint32_t cap = t.raw_size < (1u << 20) ? t.raw_size : 1u << 20;
        uint8_t *x = malloc(cap ? cap : 1), *y = malloc(cap ? cap : 1);
        assert_non_null(x);
        assert_non_null(y);
        rs = small_dec_tensor_read(&small_state, i, x, cap);
        rf = edgec_dec_tensor_read(fast_state, i, y, cap);
        assert_int_equal(rs, rf);
        if (!rs) {
            assert_memory_equal(x, y, t.raw_size);
            decoded_ok++;
        }
        free(x);
        free(y);
    }
}

static void *container_of(const char *model, const char *const *opts, size_t *len)
{
    size_t onnx_len;
    void *onnx = codec_fixture_pipeline(model, opts, &onnx_len), *blob;
    assert_non_null(onnx);
    assert_int_equal(edgec_container_encode(onnx, onnx_len, &blob, len), 0);
    free(onnx);
    return blob;
}

static void test_sample_containers(void **state)
{
    (void)state;
    static const char *const none[] = {NULL}, *const c16[] = {"cluster", "16", NULL},
                             *const pc[] = {"prune", "0.8", "cluster", "16", NULL},
                             *const i4[] = {"int4", NULL, NULL},
                             *const i8[] = {"int8", NULL, NULL},
                             *const p5[] = {"prune", "0.5", NULL};
    const char *const *pipes[] = {none, c16, pc, i4, i8, p5};
    const char *models[] = {"digits_mlp.onnx", "digits_cnn.onnx"};
    decoded_ok = 0;
    for (int m = 0; m < 2; m++)
        for (size_t k = 0; k < sizeof pipes / sizeof *pipes; k++) {
            size_t len;
            uint8_t *blob = container_of(models[m], pipes[k], &len);
            same_results(blob, len);
            free(blob);
        }
    assert_true(decoded_ok >= 100); /* every tensor of the twelve containers decoded */
}

/* The fixture's small model (a tensor of each form) as a container. */
static uint8_t *small_container(size_t *len)
{
    size_t onnx_len;
    uint8_t *onnx = codec_fixture_small_model(&rng, &onnx_len);
    void *blob;
    assert_int_equal(edgec_container_encode(onnx, onnx_len, &blob, len), 0);
    free(onnx);
    return blob;
}

static void test_damaged_containers(void **state)
{
    (void)state;
    size_t len;
    uint8_t *blob = small_container(&len), *b = malloc(len);
    assert_non_null(b);
    for (size_t cut = 0; cut < len; cut++)
        same_results(blob, cut);
    for (size_t bit = 0; bit < 8 * len; bit++) {
        memcpy(b, blob, len);
        b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        same_results(b, len);
    }
    decoded_ok = 0;
    for (int round = 0; round < 20000; round++) {
        memcpy(b, blob, len);
        for (int e = 1 + (int)(next_rand() % 4); e > 0; e--) {
            size_t at = 24 + next_rand() % (len - 24);
            b[at] = (uint8_t)(next_rand() % 3 ? next_rand() : b[at] ^ (1u << (next_rand() % 8)));
        }
        codec_fixture_fix_crcs(b, len);
        same_results(b, len);
    }
    print_message("edited containers: %zu tensors still decoded, alike in both builds\n",
                  decoded_ok);
    free(b);
    free(blob);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sample_containers),
        cmocka_unit_test(test_damaged_containers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
