/* Helpers shared by the compute-heavy kernel families (linalg, conv, pool, norm, quant,
 * rnn). Internal to src/runtime; defined in op_linalg.c (float views) and op_conv.c
 * (window geometry). */
#ifndef EDGEC_KERNELS_C_H
#define EDGEC_KERNELS_C_H

#include "runtime/gemm.h"
#include "runtime/rt.h"

/* Input `i`, or NULL when omitted. */
static inline const edgec_rt_tensor *edgec__kc_in(const edgec_op_ctx *ctx, size_t i)
{
    return i < ctx->n_inputs ? ctx->inputs[i] : NULL;
}

/* Float32 view of input `i`: borrowed when it is FLOAT, converted into `*own` (free it)
 * from FLOAT16, BFLOAT16 and DOUBLE. Other types fail with UNSUPPORTED naming the input. */
edgec_status edgec__kc_in_f32(const edgec_op_ctx *ctx, size_t i, const float **p, float **own);

/* Allocates output `i` of `dtype` (FLOAT, FLOAT16, BFLOAT16 or DOUBLE) and returns a float
 * buffer to compute into: the output's own data for FLOAT, else zeroed scratch that
 * edgec__kc_out_f32_done converts into the output and frees. NULL on failure (message
 * recorded). */
float *edgec__kc_out_f32(edgec_op_ctx *ctx, size_t i, int32_t dtype, int32_t rank,
                         const int64_t *dims, edgec_rt_tensor **t);
void edgec__kc_out_f32_done(edgec_rt_tensor *t, float *buf);

static inline bool edgec__kc_is_float_type(int32_t dt)
{
    return dt == EDGEC_DTYPE_FLOAT || dt == EDGEC_DTYPE_FLOAT16 || dt == EDGEC_DTYPE_BFLOAT16 ||
           dt == EDGEC_DTYPE_DOUBLE;
}

/* Sliding-window geometry for Conv/ConvInteger/QLinearConv and the pools, lifted to
 * three spatial dims (leading dims of size 1 when the op has fewer). */
#define KC_SP 3
typedef struct kc_geom {
    int nsp;              /* spatial dims of the op (1..3) */
    int64_t in[KC_SP];    /* input spatial size */
    int64_t k[KC_SP];     /* kernel size */
    int64_t s[KC_SP];     /* stride */
    int64_t d[KC_SP];     /* dilation */
    int64_t pb[KC_SP];    /* padding at the beginning */
    int64_t pe[KC_SP];    /* padding at the end */
    int64_t out[KC_SP];   /* output spatial size */
    int64_t in_size, out_size, k_size; /* products */
} kc_geom;

/* Reads strides, dilations, pads, auto_pad from the node and computes output sizes.
 * `ceil_mode` for pools. `use_dilations` false for ops without the attribute. Fails
 * with INVALID_MODEL on bad attribute lengths or values and on an empty output. */
edgec_status edgec__kc_geom(const edgec_op_ctx *ctx, int nsp, const int64_t *in,
                            const int64_t *kernel, bool ceil_mode, bool use_dilations,
                            kc_geom *g);

/* im2col of one image's first `nc` channels (CHW layout, `x` at channel 0) for output
 * rows [r0, r1) (a row is one (od, oh) pair: row = od * out[1] + oh) into
 * col[(c * k_size + kpos) * ncols + (row - r0) * out[2] + ow], ncols = (r1-r0) * out[2].
 * Padding reads as `padv` (0 for the int32 version). */
void edgec__kc_im2col_f32(const kc_geom *g, const float *x, int64_t nc, int64_t r0, int64_t r1,
                          float *col, float padv);
void edgec__kc_im2col_i32(const kc_geom *g, const int32_t *x, int64_t nc, int64_t r0,
                          int64_t r1, int32_t *col);

/* Floor and ceiling of a / b for b > 0 and any sign of a. */
static inline int64_t edgec__kc_floor_div(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}
static inline int64_t edgec__kc_ceil_div(int64_t a, int64_t b)
{
    return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}

/* Quantization helpers. */
static inline float edgec__kc_round_even(float v)
{
    /* round half to even independent of the FP environment */
    float r = __builtin_roundf(v);
    if (__builtin_fabsf(v - __builtin_truncf(v)) == 0.5f)
        r = 2.0f * __builtin_roundf(v * 0.5f);
    return r;
}

/* Value range of an integer type for saturation; false for non-integer types. */
bool edgec__kc_int_range(int32_t dtype, int64_t *lo, int64_t *hi);

/* Rounds `v` half to even, adds `zp` and saturates into [lo, hi]. */
static inline int64_t edgec__kc_quantize(float v, int64_t zp, int64_t lo, int64_t hi)
{
    float r = edgec__kc_round_even(v);
    double q = (double)r + (double)zp;
    if (!(q == q))
        return lo > 0 ? lo : (hi < 0 ? hi : 0);
    if (q < (double)lo)
        return lo;
    if (q > (double)hi)
        return hi;
    return (int64_t)q;
}

#endif
