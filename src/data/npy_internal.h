/* The .npy parser, shared with the .npz reader. */
#ifndef EDGEC_NPY_INTERNAL_H
#define EDGEC_NPY_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "edgec/array.h"

/* Parses a whole .npy image into an array named `array` (NULL for none); messages name
 * `file` and, when set, the array. */
edgec_status edgec__npy_parse(const uint8_t *buf, size_t len, const char *file,
                              const char *array, edgec_array **out);

#endif
