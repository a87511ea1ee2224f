/* The .npy reader (include/edgec/data.h).
 *
 * Any input may be refused. An array that is read must be consistent (numel the product
 * of its dims, nbytes numel times the element size), and writing it and reading the
 * result back must give the same type, shape and bytes. */
#include <string.h>

#include "fuzz.h"

static void check_array(const edgec_array *a)
{
    int64_t n = 1;
    FUZZ_CHECK(a->rank >= 0 && a->rank <= EDGEC_ARRAY_MAX_RANK, "rank %d", a->rank);
    for (int i = 0; i < a->rank; i++) {
        FUZZ_CHECK(a->dims[i] >= 0, "negative dim %lld", (long long)a->dims[i]);
        n *= a->dims[i];
    }
    FUZZ_CHECK(n == a->numel, "numel %lld, dims give %lld", (long long)a->numel, (long long)n);
    FUZZ_CHECK(a->nbytes == (size_t)a->numel * edgec_elem_size(a->type), "nbytes %zu",
               a->nbytes);
    /* Touch every byte, so that ASan sees a short buffer. */
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < a->nbytes; i++)
        sink ^= ((const uint8_t *)a->data)[i];
    (void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    edgec_array *a = NULL, *b = NULL;
    void *buf = NULL;
    size_t n = 0;
    edgec_status st = edgec_npy_read_buffer(data, size, "fuzz.npy", &a);
    FUZZ_CHECK(fuzz_status_expected(st), "read returned %s", edgec_status_name(st));
    if (st)
        goto cleanup;
    check_array(a);
    st = edgec_npy_write_buffer(a, &buf, &n);
    FUZZ_CHECK(st == EDGEC_STATUS_OK || st == EDGEC_STATUS_NO_MEMORY, "write returned %s",
               edgec_status_name(st));
    if (st)
        goto cleanup;
    st = edgec_npy_read_buffer(buf, n, "fuzz-saved.npy", &b);
    FUZZ_CHECK(st == EDGEC_STATUS_OK, "cannot read back a written .npy");
    check_array(b);
    FUZZ_CHECK(a->type == b->type && a->rank == b->rank &&
                   !memcmp(a->dims, b->dims, (size_t)a->rank * sizeof a->dims[0]) &&
                   a->nbytes == b->nbytes && !memcmp(a->data, b->data, a->nbytes),
               "round trip changed the array");
cleanup:
    free(buf);
    edgec_array_free(a);
    edgec_array_free(b);
    return 0;
}
