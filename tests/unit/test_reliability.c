/* Reliability: limits at the limit and one past it, the non-finite weight check for every
 * floating-point type, typed data fields that do not fit their type, duplicate
 * initializers, and quantization with a zero scale. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "edgec/edgec.h"
#include "ir/ir.h"
#include "pb_builder.h"

static const int64_t v_dims[1] = {4};
static const char *const id_in[] = {"X", NULL};
static const char *const id_out[] = {"Y", NULL};

/* X[4] -> Identity -> Y[4], plus the given unused initializers. */
static Onnx__ModelProto *identity_model(pbb *b, Onnx__TensorProto *const *inits, size_t n)
{
    Onnx__GraphProto *g = pbb_graph(b, "main");
    pbb_graph_add_node(b, g, pbb_node(b, "Identity", "id", id_in, id_out));
    for (size_t i = 0; i < n; i++)
        pbb_graph_add_init(b, g, inits[i]);
    pbb_graph_io(b, g, pbb_value(b, "X", 1, 1, v_dims), pbb_value(b, "Y", 1, 1, v_dims));
    return pbb_model(b, g, 13);
}

static edgec_status load_proto(const Onnx__ModelProto *pm, edgec_model **m)
{
    size_t len;
    uint8_t *buf = pbb_pack(pm, &len);
    edgec_status st = edgec_model_load_buffer(buf, len, "test.onnx", NULL, m);
    free(buf);
    return st;
}

/* ---- file size: the 2 GB protobuf limit, with sparse files ---------------------------- */

static void test_file_size_limit(void **state)
{
    (void)state;
    char dir[] = "/tmp/edgec-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/big.onnx", dir);
    const uint64_t sizes[2] = {2147483647u, 2147483648u}; /* at the limit, one past */
    for (int i = 0; i < 2; i++) {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        if (ftruncate(fileno(f), (off_t)sizes[i]) != 0) {
            fclose(f);
            unlink(path);
            rmdir(dir);
            skip(); /* the file system does not do sparse files of this size */
        }
        fclose(f);
        edgec_model *m = NULL;
        edgec_status st = edgec_model_load(path, &m);
        assert_null(m);
        if (i == 0) {
            /* Accepted by the size check, then refused for its content (all zero bytes). */
            assert_int_equal(st, EDGEC_STATUS_INVALID_MODEL);
            assert_non_null(strstr(edgec_error_message(), "field number 0"));
        } else {
            assert_int_equal(st, EDGEC_STATUS_LIMIT);
            assert_non_null(strstr(edgec_error_message(), "2 GB"));
        }
    }
    unlink(path);
    rmdir(dir);
}

/* ---- typed data fields must fit the tensor's type ------------------------------------ */

static void test_typed_field_must_fit_type(void **state)
{
    (void)state;
    pbb b = {0};
    uint64_t u64[4] = {1, 2, 3, 4};
    float f32[4] = {1, 2, 3, 4};
    int32_t i32[4] = {0x3c00, 0x4000, 0x4200, 0x4400};
    Onnx__TensorProto *t = pbb_tensor(&b, "T", EDGEC_DTYPE_UINT8, 1, v_dims, NULL, 0);
    Onnx__TensorProto *inits[1] = {t};
    Onnx__ModelProto *pm = identity_model(&b, inits, 1);
    edgec_model *m = NULL;

    /* UINT8 from uint64_data used to be decoded 4 bytes per element into a 4-byte
     * buffer: a heap overflow. */
    t->n_uint64_data = 4;
    t->uint64_data = u64;
    assert_int_equal(load_proto(pm, &m), EDGEC_STATUS_INVALID_MODEL);
    assert_non_null(strstr(edgec_error_message(), "uint64_data cannot hold UINT8"));
    t->n_uint64_data = 0;

    /* DOUBLE from float_data used to be copied 8 bytes per element out of 4: an over-read. */
    t->data_type = EDGEC_DTYPE_DOUBLE;
    t->n_float_data = 4;
    t->float_data = f32;
    assert_int_equal(load_proto(pm, &m), EDGEC_STATUS_INVALID_MODEL);
    assert_non_null(strstr(edgec_error_message(), "float_data cannot hold DOUBLE"));
    t->n_float_data = 0;

    /* The fields onnx.proto assigns are accepted and decoded. */
    t->data_type = EDGEC_DTYPE_FLOAT16;
    t->n_int32_data = 4;
    t->int32_data = i32;
    assert_int_equal(load_proto(pm, &m), EDGEC_STATUS_OK);
    const uint16_t *h = m->graph->inits[0]->data;
    assert_int_equal(h[0], 0x3c00);
    assert_int_equal(h[3], 0x4400);
    edgec_model_free(m);
    m = NULL;
    t->n_int32_data = 0;
    t->data_type = EDGEC_DTYPE_UINT32;
    t->n_uint64_data = 4;
    t->uint64_data = u64;
    assert_int_equal(load_proto(pm, &m), EDGEC_STATUS_OK);
    assert_int_equal(((const uint32_t *)m->graph->inits[0]->data)[2], 3);
    edgec_model_free(m);
    pbb_free(&b);
}

static void test_duplicate_initializer(void **state)
{
    (void)state;
    pbb b = {0};
    float v[4] = {1, 2, 3, 4};
    Onnx__TensorProto *inits[2] = {pbb_tensor(&b, "T", 1, 1, v_dims, v, sizeof v),
                                   pbb_tensor(&b, "T", 1, 1, v_dims, v, sizeof v)};
    edgec_model *m = NULL;
    assert_int_equal(load_proto(identity_model(&b, inits, 2), &m), EDGEC_STATUS_INVALID_MODEL);
    assert_non_null(strstr(edgec_error_message(), "initializer 'T' is defined twice"));
    /* An initializer that is also a graph input stays valid (IR < 4 requires it). */
    Onnx__ModelProto *pm = identity_model(&b, inits, 1);
    inits[0]->name = "X";
    assert_int_equal(load_proto(pm, &m), EDGEC_STATUS_OK);
    edgec_model_free(m);
    pbb_free(&b);
}

/* ---- non-finite weights ---------------------------------------------------------------- */

typedef struct pattern {
    int32_t dtype;
    size_t width; /* bytes per stored unit */
    uint64_t bad, good;
} pattern;

static void test_nonfinite_every_float_type(void **state)
{
    (void)state;
    static const pattern cases[] = {
        {EDGEC_DTYPE_FLOAT, 4, 0x7fc00000u, 0x7f7fffffu},      /* NaN; FLT_MAX */
        {EDGEC_DTYPE_FLOAT, 4, 0xff800000u, 0x00000001u},      /* -Inf; a denormal */
        {EDGEC_DTYPE_DOUBLE, 8, 0x7ff0000000000001ull, 0x7fefffffffffffffull},
        {EDGEC_DTYPE_FLOAT16, 2, 0x7e00u, 0x7bffu},            /* NaN; 65504 */
        {EDGEC_DTYPE_FLOAT16, 2, 0xfc00u, 0x8001u},            /* -Inf; -denormal */
        {EDGEC_DTYPE_BFLOAT16, 2, 0x7f80u, 0x7f7fu},
        {EDGEC_DTYPE_FLOAT8E4M3FN, 1, 0xffu, 0x7eu},           /* NaN; 448 */
        {EDGEC_DTYPE_FLOAT8E4M3FNUZ, 1, 0x80u, 0xffu},         /* NaN; -240 */
        {EDGEC_DTYPE_FLOAT8E5M2, 1, 0x7cu, 0x7bu},             /* Inf; 57344 */
        {EDGEC_DTYPE_FLOAT8E5M2FNUZ, 1, 0x80u, 0x7fu},
        {EDGEC_DTYPE_COMPLEX64, 4, 0x7f800000u, 0x3f800000u},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (int bad = 0; bad < 2; bad++) {
            pbb b = {0};
            size_t per = cases[c].dtype == EDGEC_DTYPE_COMPLEX64 ? 2 : 1;
            size_t nbytes = 4 * per * cases[c].width;
            uint8_t *raw = pbb_alloc(&b, nbytes);
            for (size_t i = 0; i < 4 * per; i++) {
                uint64_t v = bad && i == 4 * per - 1 ? cases[c].bad : cases[c].good;
                memcpy(raw + i * cases[c].width, &v, cases[c].width); /* little-endian */
            }
            Onnx__TensorProto *inits[1] = {
                pbb_tensor(&b, "T", cases[c].dtype, 1, v_dims, raw, nbytes)};
            edgec_model *m = NULL;
            assert_int_equal(load_proto(identity_model(&b, inits, 1), &m), EDGEC_STATUS_OK);
            edgec_status st = edgec_model_check_finite(m);
            if (bad) {
                if (st != EDGEC_STATUS_INVALID_MODEL || !strstr(edgec_error_message(), "'T'") ||
                    !strstr(edgec_error_message(), "element 3 of 4"))
                    fail_msg("%s pattern 0x%llx: %s '%s'", edgec__dtype(cases[c].dtype)->name,
                             (unsigned long long)cases[c].bad, edgec_status_name(st),
                             edgec_error_message());
            } else if (st != EDGEC_STATUS_OK) {
                fail_msg("%s finite pattern 0x%llx refused: %s",
                         edgec__dtype(cases[c].dtype)->name, (unsigned long long)cases[c].good,
                         edgec_error_message());
            }
            edgec_model_free(m);
            pbb_free(&b);
        }
    }
}

/* ---- QuantizeLinear with a zero scale ---------------------------------------------- */

static const char *const q_in[] = {"X", "s", "zp", NULL};
static const char *const q_out[] = {"Y", NULL};

static void test_quantize_zero_scale(void **state)
{
    (void)state;
    pbb b = {0};
    float scale = 0.0f;
    uint8_t zp = 128;
    Onnx__GraphProto *g = pbb_graph(&b, "main");
    pbb_graph_add_node(&b, g, pbb_node(&b, "QuantizeLinear", "q", q_in, q_out));
    pbb_graph_add_init(&b, g, pbb_tensor(&b, "s", EDGEC_DTYPE_FLOAT, 0, NULL, &scale, 4));
    pbb_graph_add_init(&b, g, pbb_tensor(&b, "zp", EDGEC_DTYPE_UINT8, 0, NULL, &zp, 1));
    pbb_graph_io(&b, g, pbb_value(&b, "X", EDGEC_DTYPE_FLOAT, 1, v_dims),
                 pbb_value(&b, "Y", EDGEC_DTYPE_UINT8, 1, v_dims));
    edgec_model *m = NULL;
    edgec_session *s = NULL;
    edgec_array *x = NULL, *y = NULL;
    assert_int_equal(load_proto(pbb_model(&b, g, 13), &m), EDGEC_STATUS_OK);
    assert_int_equal(edgec_session_create(m, NULL, &s), EDGEC_STATUS_OK);
    assert_int_equal(edgec_array_create("X", EDGEC_ELEM_FLOAT, 1, v_dims, &x), EDGEC_STATUS_OK);
    float *xv = x->data;
    xv[0] = -1.0f;
    xv[1] = 0.0f;
    xv[2] = 2.0f;
    xv[3] = __builtin_nanf("");
    const edgec_array *in[1] = {x};
    assert_int_equal(edgec_session_run(s, in, 1, &y, 1), EDGEC_STATUS_OK);
    /* The limits of x / scale: saturated for x != 0, the zero point for 0 and NaN. */
    const uint8_t *yv = y->data;
    assert_int_equal(yv[0], 0);
    assert_int_equal(yv[1], 128);
    assert_int_equal(yv[2], 255);
    assert_int_equal(yv[3], 128);
    edgec_array_free(x);
    edgec_array_free(y);
    edgec_session_free(s);
    edgec_model_free(m);
    pbb_free(&b);
}

/* DynamicQuantizeLinear over an infinite range: scale +Inf, zero point 0 (not NaN cast to
 * an integer, which UBSan reports), every finite value on the zero point. */
static const char *const dq_in[] = {"X", NULL};
static const char *const dq_out[] = {"Y", "Ys", "Yz", NULL};

static void test_dynamic_quantize_infinite_range(void **state)
{
    (void)state;
    pbb b = {0};
    static const int64_t none[1] = {0};
    Onnx__GraphProto *g = pbb_graph(&b, "main");
    pbb_graph_add_node(&b, g, pbb_node(&b, "DynamicQuantizeLinear", "dq", dq_in, dq_out));
    pbb_graph_io(&b, g, pbb_value(&b, "X", EDGEC_DTYPE_FLOAT, 1, v_dims),
                 pbb_value(&b, "Y", EDGEC_DTYPE_UINT8, 1, v_dims));
    Onnx__ValueInfoProto *extra[2] = {pbb_value(&b, "Ys", EDGEC_DTYPE_FLOAT, 0, none),
                                      pbb_value(&b, "Yz", EDGEC_DTYPE_UINT8, 0, none)};
    for (int i = 0; i < 2; i++)
        pbb_append(&b, &g->output, &g->n_output, extra[i]);
    edgec_model *m = NULL;
    edgec_session *s = NULL;
    edgec_array *x = NULL, *y[3] = {0};
    assert_int_equal(load_proto(pbb_model(&b, g, 13), &m), EDGEC_STATUS_OK);
    assert_int_equal(edgec_session_create(m, NULL, &s), EDGEC_STATUS_OK);
    assert_int_equal(edgec_array_create("X", EDGEC_ELEM_FLOAT, 1, v_dims, &x), EDGEC_STATUS_OK);
    float *xv = x->data;
    xv[0] = -__builtin_inff();
    xv[1] = 1.0f;
    xv[2] = __builtin_inff();
    xv[3] = 0.0f;
    const edgec_array *in[1] = {x};
    assert_int_equal(edgec_session_run(s, in, 1, y, 3), EDGEC_STATUS_OK);
    assert_true(__builtin_isinf(*(const float *)y[1]->data));
    assert_int_equal(*(const uint8_t *)y[2]->data, 0);
    assert_int_equal(((const uint8_t *)y[0]->data)[1], 0);
    edgec_array_free(x);
    for (int i = 0; i < 3; i++)
        edgec_array_free(y[i]);
    edgec_session_free(s);
    edgec_model_free(m);
    pbb_free(&b);
}

/* ---- .npy: rank and element count limits -------------------------------------------- */

/* A version 1.0 .npy image of float32 with `rank` dims of 1 and `payload` data bytes. */
static uint8_t *npy_image(int rank, size_t payload, size_t *len)
{
    char hdr[512];
    int n = snprintf(hdr, sizeof hdr, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    for (int i = 0; i < rank; i++)
        n += snprintf(hdr + n, sizeof hdr - (size_t)n, "1,%s", i + 1 < rank ? " " : "");
    n += snprintf(hdr + n, sizeof hdr - (size_t)n, "), }");
    size_t total = 10 + (size_t)n + 1;
    size_t pad = (64 - total % 64) % 64;
    size_t hl = (size_t)n + pad + 1;
    uint8_t *buf = malloc(10 + hl + payload);
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (uint8_t)(hl & 0xff);
    buf[9] = (uint8_t)(hl >> 8);
    memcpy(buf + 10, hdr, (size_t)n);
    memset(buf + 10 + n, ' ', pad);
    buf[10 + hl - 1] = '\n';
    memset(buf + 10 + hl, 0, payload);
    *len = 10 + hl + payload;
    return buf;
}

static void test_npy_limits(void **state)
{
    (void)state;
    size_t len;
    edgec_array *a = NULL;
    uint8_t *img = npy_image(32, 4, &len);
    assert_int_equal(edgec_npy_read_buffer(img, len, "r32.npy", &a), EDGEC_STATUS_OK);
    assert_int_equal(a->rank, 32);
    edgec_array_free(a);
    a = NULL;
    free(img);
    img = npy_image(33, 4, &len);
    edgec_status st = edgec_npy_read_buffer(img, len, "r33.npy", &a);
    assert_true(st == EDGEC_STATUS_LIMIT || st == EDGEC_STATUS_INVALID_DATA);
    assert_null(a);
    assert_non_null(strstr(edgec_error_message(), "r33.npy"));
    free(img);
    /* One element (4 bytes) needed, 3 bytes present. */
    img = npy_image(1, 3, &len);
    assert_int_equal(edgec_npy_read_buffer(img, len, "short.npy", &a), EDGEC_STATUS_INVALID_DATA);
    assert_null(a);
    free(img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_size_limit),
        cmocka_unit_test(test_typed_field_must_fit_type),
        cmocka_unit_test(test_duplicate_initializer),
        cmocka_unit_test(test_nonfinite_every_float_type),
        cmocka_unit_test(test_quantize_zero_scale),
        cmocka_unit_test(test_dynamic_quantize_infinite_range),
        cmocka_unit_test(test_npy_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
