/* Data-free corrections for quantization (Nagel et al., "Data-Free Quantization Through
 * Weight Equalization and Bias Correction", ICCV 2019): cross-layer equalization of
 * Conv/Gemm -> [BatchNormalization] -> ReLU -> Conv/Gemm chains, and correction of the
 * expected output shift that rounding the weights causes. */
#ifndef EDGEC_EQUALIZE_H
#define EDGEC_EQUALIZE_H

#include "passes/calibrate.h"
#include "passes/quant_common.h"

/* Rescales the channels between two layers so that the first layer's output channel c
 * and the second layer's input channel c have the same weight range (s_c =
 * sqrt(r1_c / r2_c)); ReLU commutes with positive scales, so the model computes the same
 * function. With a BatchNormalization in between its scale and shift absorb the factor.
 * `*pairs` counts the layer pairs rescaled. */
edgec_status edgec__equalize(const edgec_pass_ctx *ctx, size_t *pairs);

/* The expected value of input 0 of `n` per channel, without data: known when it comes
 * from BatchNormalization (mean = shift), optionally through Relu (mean of a rectified
 * normal) and GlobalAveragePool/Flatten. `*out` is malloc'd, NULL when unknown. */
edgec_status edgec__expected_input(edgec_model *m, const edgec_node *n, double **out,
                                   int64_t *channels);

/* Mean and variance of max(x, 0) for x ~ N(mu, sd^2) (the rectified normal); with sd = 0,
 * max(mu, 0) and 0. */
void edgec__relu_normal_moments(double mu, double sd, double *mean, double *var);

/* Subtracts the expected shift (Wq - W) E[x] from the bias of q->node (Conv, Gemm, or
 * MatMul followed by Add of a constant vector), creating a Conv or Gemm bias when there
 * is none. `w` and `wq` are the float and dequantized weights, `ex` the mean of each input
 * channel. `*done` says whether a bias was corrected. */
edgec_status edgec__bias_correct(edgec_qemit *e, const edgec_qweight *q, const float *w,
                                 const float *wq, const double *ex, int64_t channels,
                                 bool *done);

/* The mean of each input channel of every weight's reader (input 0 of Conv, Gemm, MatMul
 * read once, in the main graph): from `cal` (values `cal_names`, gathered with channel
 * axes) when given, else measured on ctx->calib when there is one, else data-free where
 * edgec__expected_input knows it. `means[i]` is malloc'd, NULL when unknown. */
edgec_status edgec__input_means(const edgec_pass_ctx *ctx, const edgec_qweight *q, size_t n,
                                const edgec_calib *cal, const char *const *cal_names,
                                size_t n_cal, double **means, int64_t *channels);

/* The channel axis input_means measures for a weight's reader (for gathering with cal). */
int edgec__activation_axis(const edgec_node *n);

#endif
