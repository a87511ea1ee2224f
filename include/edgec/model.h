/* Loading, saving and freeing ONNX models. */
#ifndef EDGEC_MODEL_H
#define EDGEC_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "edgec/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An ONNX model in memory: the graph, its weights and everything else the file held.
 * All of a model's memory lives in one arena that `edgec_model_free` releases. */
typedef struct edgec_model edgec_model;

/** Where tensor data goes when a model is saved. */
typedef enum edgec_external_mode {
    /* External when the input model used external data or the model is near the
     * 2 GB protobuf limit; inline otherwise. */
    EDGEC_EXTERNAL_AUTO = 0,
    EDGEC_EXTERNAL_ALWAYS = 1, /* large tensors go to OUTPUT.data */
    EDGEC_EXTERNAL_NEVER = 2   /* everything inline; fails past the 2 GB limit */
} edgec_external_mode;

/** Options for `edgec_model_save`. Zero-initialise for the defaults. */
typedef struct edgec_save_options {
    edgec_external_mode external;
} edgec_save_options;

/** Reads and validates the ONNX model at `path` ("-" reads standard input).
 * External data is resolved relative to the model's folder and loaded. On failure
 * `*out` is NULL and `edgec_error_message()` says what was wrong and where. */
edgec_status edgec_model_load(const char *path, edgec_model **out);

/** Like `edgec_model_load`, from bytes in memory. `name` is used in messages; external
 * data is resolved in `dir` (NULL refuses models with external data). */
edgec_status edgec_model_load_buffer(const void *data, size_t size, const char *name,
                                     const char *dir, edgec_model **out);

/** Writes the model to `path` ("-" writes standard output). The file is written to a
 * temporary name in the same folder, synced and renamed, so a failure never leaves a
 * partial file and never touches an older file at `path`. Refuses to write onto the
 * model's own input file or its external data files. `opt` may be NULL. */
edgec_status edgec_model_save(edgec_model *model, const char *path, const edgec_save_options *opt);

/** Serializes the model into a malloc'ed buffer that the caller frees. Tensors stay
 * inline, so this fails for models over the 2 GB protobuf limit. */
edgec_status edgec_model_save_buffer(edgec_model *model, void **data, size_t *size);

/** Checks that no weight holds a NaN or an infinity: initializers, sparse initializers,
 * tensor attributes (Constant values included) and Constant value_float(s), in every
 * subgraph, for every floating-point type (float8 NaN patterns included). Fails with
 * INVALID_MODEL naming the first such tensor, its graph and the element index. */
edgec_status edgec_model_check_finite(const edgec_model *model);

/** Releases the model and all its memory. Accepts NULL. */
void edgec_model_free(edgec_model *model);

/** Output formats for `edgec_model_print_info`. */
typedef enum edgec_info_format {
    EDGEC_INFO_TEXT = 0,
    EDGEC_INFO_JSON = 1
} edgec_info_format;

/** Describes the model: IR version, opsets, producer, inputs and outputs with shapes,
 * op histogram, parameters and bytes by data type, the largest weights and where they
 * live, external data files. */
edgec_status edgec_model_print_info(const edgec_model *model, FILE *out, edgec_info_format fmt);

/** The library version as "MAJOR.MINOR.PATCH". */
const char *edgec_version(void);

#ifdef __cplusplus
}
#endif
#endif
