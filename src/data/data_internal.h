/* Internal helpers shared by the data readers and writers (src/data, src/onnx/tensor_io.c). */
#ifndef EDGEC_DATA_INTERNAL_H
#define EDGEC_DATA_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "common/common.h"
#include "edgec/data.h"

/* Data files larger than this are refused before anything is read. */
#define EDGEC_DATA_FILE_LIMIT ((uint64_t)1 << 36)

/* Reads the whole regular file at `path` into a malloc'ed buffer. Fails with IO (naming
 * the file) when it cannot be read, LIMIT when it is larger than `limit`. */
edgec_status edgec__read_file(const char *path, uint64_t limit, uint8_t **buf, size_t *len);

/* Writes `len` bytes to `path` so that the file appears whole or not at all. */
edgec_status edgec__write_file(const char *path, const void *data, size_t len);

/* Records the file a data set was read from, for messages. */
edgec_status edgec__dataset_set_source(edgec_dataset *ds, const char *source);

/* The array of `ds` that feeds model input `name` of a model with `n_inputs` inputs: the
 * array of that name, or for a one-input model the only array that is not `labels`.
 * NULL when there is none. */
const edgec_array *edgec__dataset_input(const edgec_dataset *ds, const char *name,
                                        size_t n_inputs);

/* The `labels` array of `ds` (NULL when it has none); INVALID_DATA, naming the file, when
 * it is not one integer class index per sample. */
edgec_status edgec__dataset_labels(const edgec_dataset *ds, const edgec_array **out);

#endif
