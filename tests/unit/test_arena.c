/* The arena's early release of large blocks (edgec__arena_release), which keeps peak
 * memory down when a pass replaces a tensor's data (issue 10). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/common.h"

/* More than ARENA_BLOCK / 4: each of these gets a block of its own. */
#define LARGE (20 * 1024)

static void test_release_large_blocks(void **state)
{
    (void)state;
    edgec_arena *a = edgec__arena_new();
    assert_non_null(a);
    unsigned char *keep = edgec__arena_alloc(a, LARGE);
    unsigned char *drop = edgec__arena_alloc(a, 3 * LARGE);
    assert_non_null(keep);
    assert_non_null(drop);
    memset(keep, 0x5a, LARGE);
    memset(drop, 0xa5, 3 * LARGE);
    size_t before = edgec__arena_size(a);
    edgec__arena_release(a, drop);
    /* The block's whole capacity is gone from the arena's count; the other is intact. */
    assert_int_equal(edgec__arena_size(a), before - 3 * LARGE);
    for (size_t i = 0; i < LARGE; i++)
        assert_int_equal(keep[i], 0x5a);
    /* A second release of the same pointer is a no-op, not a double free. */
    edgec__arena_release(a, drop);
    assert_int_equal(edgec__arena_size(a), before - 3 * LARGE);
    edgec__arena_free(a);
}

static void test_release_ignores_other_pointers(void **state)
{
    (void)state;
    edgec_arena *a = edgec__arena_new();
    unsigned char *small = edgec__arena_alloc(a, 100);
    unsigned char *big = edgec__arena_alloc(a, LARGE);
    int on_stack = 0;
    void *heap = malloc(LARGE);
    assert_non_null(small);
    assert_non_null(big);
    assert_non_null(heap);
    memset(small, 1, 100);
    size_t before = edgec__arena_size(a);
    edgec__arena_release(a, small);   /* shares a block with other small allocations */
    edgec__arena_release(a, big + 16); /* inside a large block, not its start */
    edgec__arena_release(a, &on_stack);
    edgec__arena_release(a, heap);
    edgec__arena_release(a, NULL);
    edgec__arena_release(NULL, big);
    assert_int_equal(edgec__arena_size(a), before);
    for (int i = 0; i < 100; i++)
        assert_int_equal(small[i], 1);
    big[LARGE - 1] = 7; /* still ours: ASan would flag a freed block */
    free(heap);
    edgec__arena_free(a);
}

/* Many blocks, released in an order unrelated to allocation, with new ones allocated in
 * between: every release must find its block (the index's deletions keep probe runs
 * intact) and every remaining block must keep its contents. */
static void test_release_many_interleaved(void **state)
{
    (void)state;
    enum { N = 3000 };
    edgec_arena *a = edgec__arena_new();
    unsigned char **p = calloc(N, sizeof *p);
    bool *live = calloc(N, sizeof *live);
    assert_non_null(a);
    assert_non_null(p);
    assert_non_null(live);
    size_t expect = 0;
    for (int i = 0; i < N; i++) {
        size_t n = LARGE + (size_t)(i % 7) * 16;
        assert_non_null(p[i] = edgec__arena_alloc(a, n));
        memset(p[i], i & 0xff, LARGE);
        live[i] = true;
        expect += n;
        /* Release an earlier block now and then, by a fixed pseudo-random pick. */
        if (i % 3 == 2) {
            int j = (int)(((uint32_t)i * 2654435761u) % (uint32_t)(i + 1));
            if (live[j]) {
                edgec__arena_release(a, p[j]);
                live[j] = false;
                expect -= LARGE + (size_t)(j % 7) * 16;
            }
        }
    }
    assert_int_equal(edgec__arena_size(a), expect);
    for (int i = 0; i < N; i++) {
        if (!live[i])
            continue;
        assert_int_equal(p[i][0], i & 0xff);
        assert_int_equal(p[i][LARGE - 1], i & 0xff);
        if (i % 2) {
            edgec__arena_release(a, p[i]);
            expect -= LARGE + (size_t)(i % 7) * 16;
            live[i] = false;
        }
    }
    assert_int_equal(edgec__arena_size(a), expect);
    /* What is left is still found and released one by one. */
    for (int i = N - 1; i >= 0; i--)
        if (live[i]) {
            edgec__arena_release(a, p[i]);
            expect -= LARGE + (size_t)(i % 7) * 16;
        }
    assert_int_equal(edgec__arena_size(a), 0);
    free(p);
    free(live);
    edgec__arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_release_large_blocks),
        cmocka_unit_test(test_release_ignores_other_pointers),
        cmocka_unit_test(test_release_many_interleaved),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
