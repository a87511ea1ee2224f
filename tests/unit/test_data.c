/* Data files: .npy byte-exact with numpy, .npz stored and deflated, TensorProto .pb,
 * data sets, and malformed or hostile files refused without crashing. The numpy-made
 * files come from tests/unit/fixtures/make_fixtures.py. */
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
#include "fixtures/data_files.h"

typedef struct fixture {
    const unsigned char *bytes;
    size_t len;
    edgec_elem_type type;
    int rank;
    int64_t dims[3];
} fixture;

#define FIX(name, t, r, ...) {name, sizeof name, t, r, {__VA_ARGS__}}

static const fixture npy_fixtures[] = {
    FIX(npy_f32, EDGEC_ELEM_FLOAT, 2, 2, 3),
    FIX(npy_i64_scalar, EDGEC_ELEM_INT64, 0, 0),
    FIX(npy_bool, EDGEC_ELEM_BOOL, 1, 5),
    FIX(npy_f16, EDGEC_ELEM_FLOAT16, 2, 2, 2),
    FIX(npy_u8, EDGEC_ELEM_UINT8, 1, 3),
    FIX(npy_i8, EDGEC_ELEM_INT8, 1, 3),
    FIX(npy_f64_3d, EDGEC_ELEM_DOUBLE, 3, 2, 3, 4),
    FIX(npy_i32_empty, EDGEC_ELEM_INT32, 2, 0, 5),
    FIX(npy_big_dim, EDGEC_ELEM_FLOAT, 2, 1234567, 0),
};

/* Reading numpy's bytes and writing them back gives numpy's bytes. */
static void test_npy_matches_numpy(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof npy_fixtures / sizeof npy_fixtures[0]; i++) {
        const fixture *f = &npy_fixtures[i];
        edgec_array *a = NULL;
        assert_int_equal(edgec_npy_read_buffer(f->bytes, f->len, "fixture.npy", &a), 0);
        assert_int_equal(a->type, f->type);
        assert_int_equal(a->rank, f->rank);
        for (int k = 0; k < f->rank; k++)
            assert_int_equal(a->dims[k], f->dims[k]);
        void *out = NULL;
        size_t len = 0;
        assert_int_equal(edgec_npy_write_buffer(a, &out, &len), 0);
        assert_int_equal(len, f->len);
        assert_memory_equal(out, f->bytes, len);
        free(out);
        edgec_array_free(a);
    }
}

static void test_npy_values(void **state)
{
    (void)state;
    edgec_array *a = NULL;
    assert_int_equal(edgec_npy_read_buffer(npy_f32, sizeof npy_f32, NULL, &a), 0);
    assert_float_equal(((float *)a->data)[5], 1.25, 0);
    edgec_array_free(a);
    assert_int_equal(edgec_npy_read_buffer(npy_i64_scalar, sizeof npy_i64_scalar, NULL, &a), 0);
    assert_int_equal(a->numel, 1);
    assert_int_equal(*(int64_t *)a->data, -7);
    edgec_array_free(a);
    assert_int_equal(edgec_npy_read_buffer(npy_f16, sizeof npy_f16, NULL, &a), 0);
    assert_float_equal(edgec_array_get_f64(a, 3), 65504, 0);
    assert_float_equal(edgec_array_get_f64(a, 1), -2, 0);
    edgec_array_free(a);
    /* Big-endian files are byte-swapped; version 2 headers are read. */
    assert_int_equal(edgec_npy_read_buffer(npy_big_endian, sizeof npy_big_endian, NULL, &a), 0);
    assert_int_equal(a->type, EDGEC_ELEM_INT32);
    assert_int_equal(((int32_t *)a->data)[3], 3);
    edgec_array_free(a);
    assert_int_equal(edgec_npy_read_buffer(npy_v2, sizeof npy_v2, NULL, &a), 0);
    assert_float_equal(((float *)a->data)[2], 2, 0);
    edgec_array_free(a);
}

static void test_npy_refuses_fortran_order(void **state)
{
    (void)state;
    edgec_array *a = NULL;
    assert_int_equal(edgec_npy_read_buffer(npy_fortran, sizeof npy_fortran, "f.npy", &a),
                     EDGEC_STATUS_UNSUPPORTED);
    assert_null(a);
    assert_non_null(strstr(edgec_error_message(), "Fortran"));
    assert_non_null(strstr(edgec_error_message(), "f.npy"));
}

/* Replaces the header text of a copy of npy_f32 (keeping its length). */
static unsigned char *patched_header(const char *text, size_t *len)
{
    unsigned char *b = malloc(sizeof npy_f32);
    memcpy(b, npy_f32, sizeof npy_f32);
    size_t hlen = (size_t)b[8] | (size_t)b[9] << 8;
    memset(b + 10, ' ', hlen - 1);
    memcpy(b + 10, text, strlen(text));
    *len = sizeof npy_f32;
    return b;
}

static void test_npy_malformed(void **state)
{
    (void)state;
    edgec_array *a = NULL;
    /* Every truncation fails cleanly. */
    for (size_t n = 0; n < sizeof npy_f32; n++) {
        assert_int_not_equal(edgec_npy_read_buffer(npy_f32, n, "t.npy", &a), 0);
        assert_null(a);
    }
    static const char *const bad[] = {
        "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999), }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (9223372036854775807, 2), }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000), }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 3), }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 4), }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }",
        "{'descr': '<U4', 'fortran_order': False, 'shape': (2, 3), }",
        "{'descr': '|O', 'fortran_order': False, 'shape': (2, 3), }",
        "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }",
        "{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2, 3), }",
        "{'descr': '<f4', 'shape': (2, 3), }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3",
        "{'descr: '<f4', 'fortran_order': False, 'shape': (2, 3), }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'extra': 1, }",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len;
        unsigned char *b = patched_header(bad[i], &len);
        edgec_status st = edgec_npy_read_buffer(b, len, "bad.npy", &a);
        assert_int_not_equal(st, 0);
        assert_true(st == EDGEC_STATUS_INVALID_DATA || st == EDGEC_STATUS_LIMIT ||
                    st == EDGEC_STATUS_UNSUPPORTED);
        assert_null(a);
        assert_non_null(strstr(edgec_error_message(), "bad.npy"));
        free(b);
    }
    /* A header length past the end, a bad magic, an unknown version. */
    unsigned char b[sizeof npy_f32];
    memcpy(b, npy_f32, sizeof b);
    b[8] = 0xff;
    b[9] = 0xff;
    assert_int_equal(edgec_npy_read_buffer(b, sizeof b, NULL, &a), EDGEC_STATUS_INVALID_DATA);
    memcpy(b, npy_f32, sizeof b);
    b[1] = 'X';
    assert_int_equal(edgec_npy_read_buffer(b, sizeof b, NULL, &a), EDGEC_STATUS_INVALID_DATA);
    memcpy(b, npy_f32, sizeof b);
    b[6] = 9;
    assert_int_equal(edgec_npy_read_buffer(b, sizeof b, NULL, &a), EDGEC_STATUS_UNSUPPORTED);
}

static void check_npz_content(const edgec_dataset *ds)
{
    assert_int_equal(edgec_dataset_count(ds), 2);
    const edgec_array *in = edgec_dataset_find(ds, "input");
    const edgec_array *lb = edgec_dataset_find(ds, "labels");
    assert_non_null(in);
    assert_non_null(lb);
    assert_int_equal(in->type, EDGEC_ELEM_FLOAT);
    assert_int_equal(in->dims[0], 3);
    assert_int_equal(in->dims[1], 4);
    assert_float_equal(((float *)in->data)[11], 11, 0);
    assert_int_equal(lb->type, EDGEC_ELEM_INT64);
    assert_int_equal(((int64_t *)lb->data)[0], 2);
    int64_t n;
    assert_int_equal(edgec_dataset_samples(ds, &n), 0);
    assert_int_equal(n, 3);
}

static void test_npz_numpy_files(void **state)
{
    (void)state;
    edgec_dataset *ds = NULL;
    assert_int_equal(edgec_npz_read_buffer(npz_stored, sizeof npz_stored, "s.npz", &ds), 0);
    check_npz_content(ds);
    edgec_dataset_free(ds);
    assert_int_equal(edgec_npz_read_buffer(npz_deflated, sizeof npz_deflated, "d.npz", &ds), 0);
    check_npz_content(ds);
    edgec_dataset_free(ds);
}

static void test_npz_round_trip(void **state)
{
    (void)state;
    edgec_dataset *ds = NULL, *back = NULL;
    assert_int_equal(edgec_npz_read_buffer(npz_deflated, sizeof npz_deflated, NULL, &ds), 0);
    for (int compress = 0; compress < 2; compress++) {
        void *buf = NULL, *buf2 = NULL;
        size_t len = 0, len2 = 0;
        assert_int_equal(edgec_npz_write_buffer(ds, compress, &buf, &len), 0);
        assert_int_equal(edgec_npz_read_buffer(buf, len, NULL, &back), 0);
        check_npz_content(back);
        /* Deterministic: the same data gives the same bytes. */
        assert_int_equal(edgec_npz_write_buffer(back, compress, &buf2, &len2), 0);
        assert_int_equal(len, len2);
        assert_memory_equal(buf, buf2, len);
        edgec_dataset_free(back);
        free(buf);
        free(buf2);
    }
    edgec_dataset_free(ds);
}

/* Deterministic pseudo-random numbers for the corruption tests. */
static uint32_t rnd(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

static void test_npz_malformed(void **state)
{
    (void)state;
    edgec_dataset *ds = NULL;
    const unsigned char *srcs[2] = {npz_stored, npz_deflated};
    size_t lens[2] = {sizeof npz_stored, sizeof npz_deflated};
    for (int k = 0; k < 2; k++) {
        for (size_t n = 0; n < lens[k]; n++) {
            assert_int_not_equal(edgec_npz_read_buffer(srcs[k], n, "t.npz", &ds), 0);
            assert_null(ds);
        }
        /* Random byte corruption: either an error or (for bytes nothing checks, such as
         * timestamps) a success, never a crash. */
        unsigned char *b = malloc(lens[k]);
        uint32_t seed = 12345;
        for (int iter = 0; iter < 3000; iter++) {
            memcpy(b, srcs[k], lens[k]);
            int flips = 1 + (int)(rnd(&seed) % 4);
            for (int f = 0; f < flips; f++)
                b[rnd(&seed) % lens[k]] ^= (unsigned char)(1 + rnd(&seed) % 255);
            edgec_status st = edgec_npz_read_buffer(b, lens[k], "c.npz", &ds);
            if (st == 0)
                edgec_dataset_free(ds);
            ds = NULL;
        }
        free(b);
    }
    /* Not a zip at all. */
    assert_int_equal(edgec_npz_read_buffer(npy_f32, sizeof npy_f32, "x.npz", &ds),
                     EDGEC_STATUS_INVALID_DATA);
    assert_non_null(strstr(edgec_error_message(), "x.npz"));
}

static char *temp_path(const char *suffix)
{
    static char buf[256];
    snprintf(buf, sizeof buf, "/tmp/edgec_test_data_%d%s", (int)getpid(), suffix);
    return buf;
}

static void test_files_and_datasets(void **state)
{
    (void)state;
    int64_t dims[2] = {2, 3};
    edgec_array *a = NULL, *back = NULL;
    assert_int_equal(edgec_array_create("input", EDGEC_ELEM_FLOAT, 2, dims, &a), 0);
    for (int i = 0; i < 6; i++)
        ((float *)a->data)[i] = (float)i * 0.5f;

    /* TensorProto .pb round trip. */
    char *pb = temp_path(".pb");
    assert_int_equal(edgec_tensor_pb_write(pb, a), 0);
    assert_int_equal(edgec_tensor_pb_read(pb, &back), 0);
    assert_string_equal(back->name, "input");
    assert_int_equal(back->rank, 2);
    assert_memory_equal(back->data, a->data, a->nbytes);
    edgec_array_free(back);
    unlink(pb);

    /* .npy through the data set loader. */
    char *npy = temp_path(".npy");
    edgec_dataset *ds = NULL;
    assert_int_equal(edgec_npy_write(npy, a), 0);
    assert_int_equal(edgec_dataset_load(npy, &ds), 0);
    assert_int_equal(edgec_dataset_count(ds), 1);
    assert_null(edgec_dataset_at(ds, 0)->name);
    assert_memory_equal(edgec_dataset_at(ds, 0)->data, a->data, a->nbytes);
    edgec_dataset_free(ds);
    unlink(npy);

    /* A slice along the first axis. */
    assert_int_equal(edgec_array_slice(a, 1, 1, &back), 0);
    assert_int_equal(back->dims[0], 1);
    assert_float_equal(((float *)back->data)[0], 1.5, 0);
    edgec_array_free(back);
    assert_int_equal(edgec_array_slice(a, 2, 1, &back), EDGEC_STATUS_INVALID_DATA);

    /* .npz save and load; names must be unique; sample counts must agree. */
    char *npz = temp_path(".npz");
    assert_int_equal(edgec_dataset_create(&ds), 0);
    assert_int_equal(edgec_dataset_add(ds, a), 0);
    edgec_array *dup = NULL;
    assert_int_equal(edgec_array_clone(a, NULL, &dup), 0);
    assert_int_equal(edgec_dataset_add(ds, dup), EDGEC_STATUS_INVALID_DATA);
    int64_t d3[1] = {3};
    assert_int_equal(edgec_array_set_name(dup, "labels"), 0);
    edgec_array_free(dup);
    assert_int_equal(edgec_array_create("labels", EDGEC_ELEM_INT64, 1, d3, &dup), 0);
    assert_int_equal(edgec_dataset_add(ds, dup), 0);
    int64_t n;
    assert_int_equal(edgec_dataset_samples(ds, &n), EDGEC_STATUS_INVALID_DATA);
    assert_int_equal(edgec_dataset_save(npz, ds), 0);
    edgec_dataset *ds2 = NULL;
    assert_int_equal(edgec_dataset_load(npz, &ds2), 0);
    assert_int_equal(edgec_dataset_count(ds2), 2);
    assert_memory_equal(edgec_dataset_find(ds2, "input")->data, a->data, a->nbytes);
    edgec_dataset_free(ds2);
    edgec_dataset_free(ds);
    unlink(npz);

    /* Missing files and unknown extensions. */
    assert_int_equal(edgec_dataset_load("/nonexistent/x.npz", &ds), EDGEC_STATUS_IO);
    assert_int_equal(edgec_dataset_load("/etc/hostname", &ds), EDGEC_STATUS_INVALID_DATA);
    edgec_dataset_free(NULL);
    edgec_array_free(NULL);
}

static void test_pb_malformed(void **state)
{
    (void)state;
    edgec_array *a = NULL;
    /* A TensorProto whose dims claim far more elements than raw_data holds:
     * dims 1000000 x 1000000, data_type FLOAT, raw_data of 4 bytes. */
    static const unsigned char big[] = {0x08, 0xc0, 0x84, 0x3d, 0x08, 0xc0, 0x84, 0x3d,
                                        0x10, 0x01, 0x4a, 0x04, 0, 0, 0, 0};
    assert_int_equal(edgec_tensor_pb_read_buffer(big, sizeof big, "big.pb", &a),
                     EDGEC_STATUS_INVALID_DATA);
    assert_null(a);
    static const unsigned char garbage[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x01};
    assert_int_not_equal(edgec_tensor_pb_read_buffer(garbage, sizeof garbage, "g.pb", &a), 0);
    assert_null(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_npy_matches_numpy),   cmocka_unit_test(test_npy_values),
        cmocka_unit_test(test_npy_refuses_fortran_order), cmocka_unit_test(test_npy_malformed),
        cmocka_unit_test(test_npz_numpy_files),     cmocka_unit_test(test_npz_round_trip),
        cmocka_unit_test(test_npz_malformed),       cmocka_unit_test(test_files_and_datasets),
        cmocka_unit_test(test_pb_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
