/* Data sets and the files they come from: NumPy .npy and .npz, ONNX TensorProto .pb
 * files and ONNX test_data_set_N folders.
 *
 * Every reader is safe on hostile input: sizes and offsets are checked against the
 * bytes actually present before anything is allocated from them, and a malformed file
 * is an INVALID_DATA (exit 2) or LIMIT failure naming the file and the array. */
#ifndef EDGEC_DATA_H
#define EDGEC_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edgec/array.h"
#include "edgec/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An ordered collection of arrays, keyed by name. Model inputs are keyed by the model's
 * input names with the first axis counting samples; an optional int64 `labels` array
 * holds one class index per sample. Arrays may be unnamed (a lone .npy file, .pb files
 * without a name), and then they are matched by position. */
typedef struct edgec_dataset edgec_dataset;

/** Creates an empty data set. */
edgec_status edgec_dataset_create(edgec_dataset **out);

/** Appends `a` and takes ownership of it on success (on failure the caller keeps it).
 * Fails with INVALID_DATA when a named array of the same name is already present. */
edgec_status edgec_dataset_add(edgec_dataset *ds, edgec_array *a);

/** Number of arrays. */
size_t edgec_dataset_count(const edgec_dataset *ds);

/** Array `i` in insertion order, or NULL when out of range. */
const edgec_array *edgec_dataset_at(const edgec_dataset *ds, size_t i);

/** The array called `name`, or NULL. */
const edgec_array *edgec_dataset_find(const edgec_dataset *ds, const char *name);

/** The file the data set was read from, for messages ("<memory>" otherwise). */
const char *edgec_dataset_source(const edgec_dataset *ds);

/** The number of samples: the common length of the first axis of all arrays. Fails
 * with INVALID_DATA, naming the array, when an array is a scalar or the lengths differ. */
edgec_status edgec_dataset_samples(const edgec_dataset *ds, int64_t *out);

/** Releases the data set and its arrays. Accepts NULL. */
void edgec_dataset_free(edgec_dataset *ds);

/** Reads a data set, choosing the format from `path`: a `.npz` archive, a single `.npy`
 * array (unnamed), a `.pb` TensorProto file, or a folder of `input_N.pb` files (an ONNX
 * test_data_set_N folder). */
edgec_status edgec_dataset_load(const char *path, edgec_dataset **out);

/** Writes a data set: `.npy` for a single array, otherwise a `.npz` archive (deflated)
 * keyed by the array names, which must all be set and distinct. The file appears whole
 * or not at all. */
edgec_status edgec_dataset_save(const char *path, const edgec_dataset *ds);

/** Reads a NumPy .npy file (format versions 1, 2 and 3; little-endian or one-byte
 * types: f2 f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1; C order only). The array is unnamed. */
edgec_status edgec_npy_read(const char *path, edgec_array **out);

/** Like `edgec_npy_read`, from bytes in memory; `name` is used in messages. */
edgec_status edgec_npy_read_buffer(const void *data, size_t size, const char *name,
                                   edgec_array **out);

/** Writes `a` as a version 1.0 .npy file (version 2.0 when the header needs it), byte
 * for byte what numpy.save writes. */
edgec_status edgec_npy_write(const char *path, const edgec_array *a);

/** Like `edgec_npy_write`, into a malloc'ed buffer that the caller frees. */
edgec_status edgec_npy_write_buffer(const edgec_array *a, void **data, size_t *size);

/** Reads a NumPy .npz archive: a ZIP of .npy members, stored or deflated. Each array is
 * named after its member without the ".npy" suffix. ZIP64 archives, encrypted members
 * and other compression methods are refused with a clear message. */
edgec_status edgec_npz_read(const char *path, edgec_dataset **out);

/** Like `edgec_npz_read`, from bytes in memory; `name` is used in messages. */
edgec_status edgec_npz_read_buffer(const void *data, size_t size, const char *name,
                                   edgec_dataset **out);

/** Writes the data set as an .npz archive, members deflated when `compress` is true
 * (numpy.savez_compressed) and stored otherwise (numpy.savez). */
edgec_status edgec_npz_write(const char *path, const edgec_dataset *ds, bool compress);

/** Like `edgec_npz_write`, into a malloc'ed buffer that the caller frees. */
edgec_status edgec_npz_write_buffer(const edgec_dataset *ds, bool compress, void **data,
                                    size_t *size);

/** Reads an ONNX TensorProto from a .pb file. The array takes the tensor's name (NULL
 * when it has none). Raw and typed (float_data, int32_data...) encodings are accepted. */
edgec_status edgec_tensor_pb_read(const char *path, edgec_array **out);

/** Like `edgec_tensor_pb_read`, from bytes in memory; `name` is used in messages. */
edgec_status edgec_tensor_pb_read_buffer(const void *data, size_t size, const char *name,
                                         edgec_array **out);

/** Writes `a` as a TensorProto with raw_data, named after the array. */
edgec_status edgec_tensor_pb_write(const char *path, const edgec_array *a);

/** Reads `PREFIX_0.pb`, `PREFIX_1.pb`, ... from `dir`, in order, until the next index is
 * missing (ONNX test_data_set_N folders use the prefixes "input" and "output"). */
edgec_status edgec_test_data_read(const char *dir, const char *prefix, edgec_dataset **out);

#ifdef __cplusplus
}
#endif
#endif
