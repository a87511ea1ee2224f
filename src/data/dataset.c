/* Data sets: ordered named arrays, and loading/saving them by file type. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/data_internal.h"

struct edgec_dataset {
    edgec_array **arrays;
    size_t n, cap;
    char *source;
};

edgec_status edgec_dataset_create(edgec_dataset **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? EDGEC_STATUS_OK
                : edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory creating a data set");
}

edgec_status edgec__dataset_set_source(edgec_dataset *ds, const char *source)
{
    size_t n = strlen(source) + 1;
    char *s = malloc(n);
    if (!s)
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
    memcpy(s, source, n);
    free(ds->source);
    ds->source = s;
    return EDGEC_STATUS_OK;
}

const char *edgec_dataset_source(const edgec_dataset *ds)
{
    return ds->source ? ds->source : "<memory>";
}

edgec_status edgec_dataset_add(edgec_dataset *ds, edgec_array *a)
{
    if (a->name && edgec_dataset_find(ds, a->name))
        return edgec__fail(EDGEC_STATUS_INVALID_DATA, "%s: array '%s' appears twice",
                           edgec_dataset_source(ds), a->name);
    if (ds->n == ds->cap) {
        size_t cap = ds->cap ? ds->cap * 2 : 8;
        edgec_array **na = realloc(ds->arrays, cap * sizeof *na);
        if (!na)
            return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
        ds->arrays = na;
        ds->cap = cap;
    }
    ds->arrays[ds->n++] = a;
    return EDGEC_STATUS_OK;
}

size_t edgec_dataset_count(const edgec_dataset *ds)
{
    return ds->n;
}

const edgec_array *edgec_dataset_at(const edgec_dataset *ds, size_t i)
{
    return i < ds->n ? ds->arrays[i] : NULL;
}

const edgec_array *edgec_dataset_find(const edgec_dataset *ds, const char *name)
{
    for (size_t i = 0; i < ds->n; i++)
        if (ds->arrays[i]->name && !strcmp(ds->arrays[i]->name, name))
            return ds->arrays[i];
    return NULL;
}

edgec_status edgec_dataset_samples(const edgec_dataset *ds, int64_t *out)
{
    *out = 0;
    if (!ds->n)
        return edgec__fail(EDGEC_STATUS_INVALID_DATA, "%s: holds no arrays",
                           edgec_dataset_source(ds));
    int64_t n = -1;
    const char *first = NULL;
    for (size_t i = 0; i < ds->n; i++) {
        const edgec_array *a = ds->arrays[i];
        const char *nm = a->name ? a->name : "(unnamed)";
        if (a->rank < 1)
            return edgec__fail(EDGEC_STATUS_INVALID_DATA,
                               "%s: array '%s' is a scalar; arrays need a first axis that counts "
                               "samples",
                               edgec_dataset_source(ds), nm);
        if (n >= 0 && a->dims[0] != n)
            return edgec__fail(EDGEC_STATUS_INVALID_DATA,
                               "%s: array '%s' has %lld samples but array '%s' has %lld",
                               edgec_dataset_source(ds), nm, (long long)a->dims[0], first,
                               (long long)n);
        n = a->dims[0];
        first = nm;
    }
    *out = n;
    return EDGEC_STATUS_OK;
}

void edgec_dataset_free(edgec_dataset *ds)
{
    if (!ds)
        return;
    for (size_t i = 0; i < ds->n; i++)
        edgec_array_free(ds->arrays[i]);
    free(ds->arrays);
    free(ds->source);
    free(ds);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

edgec_status edgec_dataset_load(const char *path, edgec_dataset **out)
{
    *out = NULL;
    edgec__error_clear();
    struct stat sb;
    if (stat(path, &sb) != 0)
        return edgec__fail(EDGEC_STATUS_IO, "%s: cannot open data file: no such file or folder",
                           path);
    if (S_ISDIR(sb.st_mode)) {
        edgec_status st = edgec_test_data_read(path, "input", out);
        if (!st && !edgec_dataset_count(*out)) {
            edgec_dataset_free(*out);
            *out = NULL;
            return edgec__fail(EDGEC_STATUS_INVALID_DATA,
                               "%s: the folder has no input_0.pb; expected an ONNX "
                               "test_data_set folder",
                               path);
        }
        return st;
    }
    if (ends_with(path, ".npz"))
        return edgec_npz_read(path, out);
    edgec_array *a = NULL;
    edgec_status st;
    if (ends_with(path, ".npy"))
        st = edgec_npy_read(path, &a);
    else if (ends_with(path, ".pb"))
        st = edgec_tensor_pb_read(path, &a);
    else
        return edgec__fail(EDGEC_STATUS_INVALID_DATA,
                           "%s: unknown data file type; use .npz, .npy, .pb or a folder of "
                           "input_N.pb files",
                           path);
    if (st)
        return st;
    edgec_dataset *ds = NULL;
    if ((st = edgec_dataset_create(&ds)) || (st = edgec__dataset_set_source(ds, path)) ||
        (st = edgec_dataset_add(ds, a))) {
        edgec_array_free(a);
        edgec_dataset_free(ds);
        return st;
    }
    *out = ds;
    return EDGEC_STATUS_OK;
}

edgec_status edgec_dataset_save(const char *path, const edgec_dataset *ds)
{
    edgec__error_clear();
    if (ends_with(path, ".npy")) {
        if (ds->n != 1)
            return edgec__fail(EDGEC_STATUS_USAGE,
                               "%s: a .npy file holds one array but there are %zu; use .npz",
                               path, ds->n);
        return edgec_npy_write(path, ds->arrays[0]);
    }
    if (ends_with(path, ".pb")) {
        if (ds->n != 1)
            return edgec__fail(EDGEC_STATUS_USAGE,
                               "%s: a .pb file holds one tensor but there are %zu; use .npz",
                               path, ds->n);
        return edgec_tensor_pb_write(path, ds->arrays[0]);
    }
    return edgec_npz_write(path, ds, true);
}

const edgec_array *edgec__dataset_input(const edgec_dataset *ds, const char *name,
                                        size_t n_inputs)
{
    const edgec_array *a = edgec_dataset_find(ds, name);
    if (a || n_inputs != 1)
        return a;
    const edgec_array *only = NULL;
    size_t n = 0;
    for (size_t i = 0; i < edgec_dataset_count(ds); i++) {
        const edgec_array *c = edgec_dataset_at(ds, i);
        if (c->name && !strcmp(c->name, "labels"))
            continue;
        only = c;
        n++;
    }
    return n == 1 ? only : NULL;
}

edgec_status edgec__dataset_labels(const edgec_dataset *ds, const edgec_array **out)
{
    const edgec_array *l = edgec_dataset_find(ds, "labels");
    *out = NULL;
    if (!l)
        return EDGEC_STATUS_OK;
    if (l->rank < 1 || l->numel != l->dims[0] || l->type == EDGEC_ELEM_FLOAT ||
        l->type == EDGEC_ELEM_DOUBLE || l->type == EDGEC_ELEM_FLOAT16 ||
        l->type == EDGEC_ELEM_BFLOAT16)
        return edgec__fail(EDGEC_STATUS_INVALID_DATA,
                           "%s: array 'labels' must hold one integer class index per sample "
                           "(int64 [N])",
                           edgec_dataset_source(ds));
    *out = l;
    return EDGEC_STATUS_OK;
}
