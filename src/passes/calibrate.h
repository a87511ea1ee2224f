/* Calibration: the ranges of activations over a data set, computed while streaming the
 * samples through the interpreter. Memory per value is bounded (exact min/max, a fixed
 * histogram of |x| whose range doubles when needed, optional per-channel sums), whatever
 * the number of samples. */
#ifndef EDGEC_CALIBRATE_H
#define EDGEC_CALIBRATE_H

#include <stdint.h>

#include "passes/pass.h"

typedef enum edgec_calib_method {
    EDGEC_CALIB_MINMAX,
    EDGEC_CALIB_PERCENTILE, /* clip the 0.01% largest magnitudes */
    EDGEC_CALIB_ENTROPY     /* the clipping threshold of least KL divergence (TensorRT) */
} edgec_calib_method;

/* Parses "minmax", "percentile" or "entropy" (NULL: minmax); USAGE otherwise. */
edgec_status edgec__calib_method_parse(const char *s, edgec_calib_method *out);

typedef struct edgec_calib edgec_calib;

/* No per-channel means for this value. Other negative axes count from the end. */
#define EDGEC_CALIB_NO_AXIS INT32_MIN

/* Runs up to `max_samples` samples (0 = all) of `data` through `m` and gathers statistics
 * of the main-graph values `names`. With `channel_axis` (may be NULL; EDGEC_CALIB_NO_AXIS
 * entries for none) it also keeps per-channel means along that axis. */
edgec_status edgec__calibrate(edgec_model *m, const edgec_dataset *data, const char *const *names,
                              size_t n, const int *channel_axis, int64_t max_samples,
                              edgec_calib **out);

/* The range [lo, hi] of value `i` under `method`; it always contains 0, as quantized
 * zero must be exact. */
void edgec__calib_range(const edgec_calib *c, size_t i, edgec_calib_method method, float *lo,
                        float *hi);

/* Mean of value `i` per channel (NULL unless a channel axis was given); `*channels` set. */
const double *edgec__calib_means(const edgec_calib *c, size_t i, int64_t *channels);

/* Number of samples seen. */
int64_t edgec__calib_samples(const edgec_calib *c);

void edgec__calib_free(edgec_calib *c);

/* The clipping threshold of least KL divergence for a histogram of |x| (`bins` counts of
 * width `width`) quantized to `levels` levels. Exposed for tests. */
double edgec__entropy_threshold(const uint64_t *hist, int bins, double width, int levels);

#endif
