/* The .edgec container: a compressed model for devices and for shipping.
 *
 * A container holds the ONNX model with its tensors' bytes cut out (zlib-compressed),
 * and each tensor entropy-coded on its own: run lengths of the background value for
 * sparse tensors, canonical Huffman codes for int8, int4, cluster indices and float
 * bytes. Unpacking gives back the exact bytes of the ONNX file the same model saves to.
 * docs/FORMAT.md specifies the bytes; decoder/edgec_decode.{h,c} is a standalone C99
 * decoder for firmware. */
#ifndef EDGEC_CONTAINER_H
#define EDGEC_CONTAINER_H

#include <stdbool.h>
#include <stddef.h>

#include "edgec/model.h"
#include "edgec/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Encodes a serialized ONNX model (`onnx`, `onnx_size` bytes) into a malloc'ed
 * container that the caller frees. */
edgec_status edgec_container_encode(const void *onnx, size_t onnx_size, void **data,
                                    size_t *size);

/** Serializes `model` (tensors inline) and writes it as a container to `path`. The file
 * appears whole or not at all and is never the model's own input file. */
edgec_status edgec_container_save(edgec_model *model, const char *path);

/** True when the bytes start like a container. */
bool edgec_container_detect(const void *data, size_t size);

/** Rebuilds the ONNX file from a container in memory, checking every CRC, into a
 * malloc'ed buffer that the caller frees. `name` is used in messages. */
edgec_status edgec_container_unpack(const void *data, size_t size, const char *name,
                                    void **onnx, size_t *onnx_size);

/** Reads the container file at `path` into a malloc'ed buffer after checking its
 * header, directory and every tensor, for tools that pass the blob on (emit-c). */
edgec_status edgec_container_read(const char *path, void **data, size_t *size);

/** Unpacks the container at `in_path` into the ONNX file `out_path` ("-" for standard
 * output), written whole or not at all. */
edgec_status edgec_container_unpack_file(const char *in_path, const char *out_path);

/** Loads the model a container file holds. */
edgec_status edgec_container_load(const char *path, edgec_model **out);

/** Writes the container `data` as C source `c_path` and header `h_path`: an aligned
 * `const unsigned char SYMBOL[]`, `SYMBOL_len`, and the tensor table as comments.
 * `symbol` must be a C identifier. Both files appear whole or not at all. */
edgec_status edgec_container_emit_c(const void *data, size_t size, const char *symbol,
                                    const char *c_path, const char *h_path);

#ifdef __cplusplus
}
#endif
#endif
