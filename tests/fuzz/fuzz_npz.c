/* The .npz reader (include/edgec/data.h): ZIP directory, local headers, stored and
 * deflated members, and the .npy parser behind them.
 *
 * Any input may be refused. A data set that is read must hold consistent arrays, and
 * writing it (stored or deflated, chosen by the input) and reading the result back
 * must give the same names, types, shapes and bytes. */
#include <string.h>

#include "fuzz.h"

static void check_same(const edgec_dataset *x, const edgec_dataset *y)
{
    FUZZ_CHECK(edgec_dataset_count(x) == edgec_dataset_count(y), "array count changed");
    for (size_t i = 0; i < edgec_dataset_count(x); i++) {
        const edgec_array *a = edgec_dataset_at(x, i), *b = edgec_dataset_at(y, i);
        FUZZ_CHECK(a && b, "array %zu missing", i);
        FUZZ_CHECK((!a->name && !b->name) || (a->name && b->name && !strcmp(a->name, b->name)),
                   "name of array %zu changed", i);
        FUZZ_CHECK(a->type == b->type && a->rank == b->rank && a->numel == b->numel &&
                       !memcmp(a->dims, b->dims, (size_t)a->rank * sizeof a->dims[0]) &&
                       a->nbytes == b->nbytes && !memcmp(a->data, b->data, a->nbytes),
                   "array %zu changed in the round trip", i);
        FUZZ_CHECK(a->nbytes == (size_t)a->numel * edgec_elem_size(a->type), "nbytes");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    edgec_dataset *a = NULL, *b = NULL;
    void *buf = NULL;
    size_t n = 0;
    int64_t samples;
    edgec_status st = edgec_npz_read_buffer(data, size, "fuzz.npz", &a);
    FUZZ_CHECK(fuzz_status_expected(st), "read returned %s", edgec_status_name(st));
    if (st)
        goto cleanup;
    st = edgec_dataset_samples(a, &samples);
    FUZZ_CHECK(st == EDGEC_STATUS_OK || st == EDGEC_STATUS_INVALID_DATA, "samples returned %s",
               edgec_status_name(st));
    st = edgec_npz_write_buffer(a, size & 1, &buf, &n);
    /* Writing refuses what it cannot name (an unnamed or duplicated array). */
    FUZZ_CHECK(fuzz_status_expected(st) || st == EDGEC_STATUS_USAGE, "write returned %s",
               edgec_status_name(st));
    if (st)
        goto cleanup;
    st = edgec_npz_read_buffer(buf, n, "fuzz-saved.npz", &b);
    FUZZ_CHECK(st == EDGEC_STATUS_OK, "cannot read back a written .npz");
    check_same(a, b);
cleanup:
    free(buf);
    edgec_dataset_free(a);
    edgec_dataset_free(b);
    return 0;
}
