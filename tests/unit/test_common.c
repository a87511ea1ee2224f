/* Status table, arena, JSON writer and safe output files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/common.h"
#include "common/json.h"
#include "common/outfile.h"

static void test_status_table(void **state)
{
    (void)state;
    assert_string_equal(edgec_status_name(EDGEC_STATUS_INVALID_MODEL), "INVALID_MODEL");
    assert_int_equal(edgec_status_exit_code(EDGEC_STATUS_OK), 0);
    assert_int_equal(edgec_status_exit_code(EDGEC_STATUS_USAGE), 1);
    assert_int_equal(edgec_status_exit_code(EDGEC_STATUS_INVALID_MODEL), 2);
    assert_int_equal(edgec_status_exit_code(EDGEC_STATUS_LIMIT), 2);
    assert_int_equal(edgec_status_exit_code(EDGEC_STATUS_GATE), 3);
    assert_int_equal(edgec_status_exit_code(EDGEC_STATUS_IO), 4);
    assert_int_equal(edgec_status_exit_code(EDGEC_STATUS_UNSUPPORTED), 5);
    assert_string_equal(edgec_status_name((edgec_status)999), "UNKNOWN");
    assert_int_equal(edgec__fail(EDGEC_STATUS_IO, "%s: %d", "f", 7), EDGEC_STATUS_IO);
    assert_string_equal(edgec_error_message(), "f: 7");
    edgec__error_clear();
    assert_string_equal(edgec_error_message(), "");
}

static void test_arena(void **state)
{
    (void)state;
    edgec_arena *a = edgec__arena_new();
    assert_non_null(a);
    for (int i = 1; i < 2000; i += 37) {
        void *p = edgec__arena_alloc(a, (size_t)i);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % 16, 0);
        memset(p, 0xab, (size_t)i);
    }
    void *big = edgec__arena_alloc(a, 1 << 20);
    assert_non_null(big);
    memset(big, 1, 1 << 20);
    /* n * size overflowing must fail instead of allocating a wrapped size. */
    assert_null(edgec__arena_calloc(a, SIZE_MAX / 2, 4));
    assert_null(edgec__arena_alloc(a, SIZE_MAX - 4));
    char *s = edgec__arena_strdup(a, "weights");
    assert_string_equal(s, "weights");
    assert_true(edgec__arena_size(a) >= (1 << 20));
    edgec__arena_free(a);
    edgec__arena_free(NULL);
}

static void test_checked_math(void **state)
{
    (void)state;
    size_t s;
    int64_t v;
    assert_true(edgec__mul_size(1 << 20, 1 << 10, &s));
    assert_false(edgec__mul_size(SIZE_MAX, 2, &s));
    assert_false(edgec__add_size(SIZE_MAX, 1, &s));
    assert_false(edgec__mul_i64(INT64_MAX, 2, &v));
    assert_true(edgec__mul_i64(-3, 4, &v));
    assert_int_equal(v, -12);
}

static void test_json_escaping(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    edgec_json j;
    edgec__json_init(&j, f, false);
    edgec__json_begin_object(&j, NULL);
    edgec__json_str(&j, "a\"b", "line\nnext\t\\ \x01");
    edgec__json_begin_array(&j, "xs");
    edgec__json_int(&j, NULL, -5);
    edgec__json_num(&j, NULL, 0.5);
    edgec__json_num(&j, NULL, 1.0 / 0.0);
    edgec__json_end_array(&j);
    edgec__json_bool(&j, "ok", true);
    edgec__json_end_object(&j);
    fclose(f);
    assert_string_equal(buf, "{\"a\\\"b\":\"line\\nnext\\t\\\\ \\u0001\",\"xs\":[-5,0.5,null],\"ok\":true}");
    free(buf);
}

static char dir[] = "/tmp/edgec-test-XXXXXX";

static int setup_dir(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    (void)state;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

static size_t count_entries(void)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", dir);
    FILE *p = popen(cmd, "r");
    size_t n = 0;
    if (fscanf(p, "%zu", &n) != 1)
        n = 999;
    pclose(p);
    return n;
}

static void read_file(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
}

static void test_outfile_commit_and_abort(void **state)
{
    (void)state;
    char path[256], got[64];
    snprintf(path, sizeof path, "%s/out.onnx", dir);
    edgec_outfile *f;
    assert_int_equal(edgec__outfile_open(path, NULL, 0, &f), EDGEC_STATUS_OK);
    assert_int_equal(edgec__outfile_write(f, "old", 3), EDGEC_STATUS_OK);
    assert_int_equal(edgec__outfile_commit(f), EDGEC_STATUS_OK);
    read_file(path, got, sizeof got);
    assert_string_equal(got, "old");
    /* An aborted rewrite leaves the old file and no temporary behind. */
    assert_int_equal(edgec__outfile_open(path, NULL, 0, &f), EDGEC_STATUS_OK);
    assert_int_equal(edgec__outfile_write(f, "new-and-longer", 14), EDGEC_STATUS_OK);
    assert_int_equal(count_entries(), 2); /* out.onnx + its temporary */
    edgec__outfile_abort(f);
    read_file(path, got, sizeof got);
    assert_string_equal(got, "old");
    assert_int_equal(count_entries(), 1);
    edgec__outfile_abort(NULL);
}

static void test_outfile_refuses_input_inode(void **state)
{
    (void)state;
    char path[256], hard[256];
    snprintf(path, sizeof path, "%s/in.onnx", dir);
    snprintf(hard, sizeof hard, "%s/hard.onnx", dir);
    FILE *f = fopen(path, "wb");
    fputs("input", f);
    fclose(f);
    assert_int_equal(link(path, hard), 0);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    edgec_inode forbid = {(uint64_t)sb.st_dev, (uint64_t)sb.st_ino};
    edgec_outfile *o;
    assert_int_equal(edgec__outfile_open(path, &forbid, 1, &o), EDGEC_STATUS_USAGE);
    assert_int_equal(edgec__outfile_open(hard, &forbid, 1, &o), EDGEC_STATUS_USAGE);
    assert_non_null(strstr(edgec_error_message(), "input"));
}

static void test_outfile_dev_full(void **state)
{
    (void)state;
    struct stat before, after;
    if (stat("/dev/full", &before) != 0 || !S_ISCHR(before.st_mode))
        skip();
    edgec_outfile *f;
    assert_int_equal(edgec__outfile_open("/dev/full", NULL, 0, &f), EDGEC_STATUS_OK);
    static char block[4096];
    edgec_status st = edgec__outfile_write(f, block, sizeof block);
    if (!st)
        st = edgec__outfile_commit(f);
    else
        edgec__outfile_abort(f);
    assert_int_equal(st, EDGEC_STATUS_IO);
    /* The device is written in place, never replaced by a regular file. */
    assert_int_equal(stat("/dev/full", &after), 0);
    assert_true(S_ISCHR(after.st_mode));
    assert_int_equal(before.st_rdev, after.st_rdev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_table),
        cmocka_unit_test(test_arena),
        cmocka_unit_test(test_checked_math),
        cmocka_unit_test(test_json_escaping),
        cmocka_unit_test(test_outfile_commit_and_abort),
        cmocka_unit_test(test_outfile_refuses_input_inode),
        cmocka_unit_test(test_outfile_dev_full),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
