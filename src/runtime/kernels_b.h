/* Helpers shared by the elementwise, activation, reduce, shape and tensor kernels
 * (src/runtime/op_{elementwise,activation,reduce,shape,tensor}.c). Internal to those
 * files; the kernel interface proper is runtime/rt.h.
 *
 * Layout helpers (element sizes, axis and int-list inputs, float32 staging, strided
 * copies) live in op_shape.c; the broadcasting driver lives in op_elementwise.c. */
#ifndef EDGEC_KERNELS_B_H
#define EDGEC_KERNELS_B_H

#include "runtime/rt.h"

/* Internal views may have up to twice the tensor rank (Tile, DepthToSpace). */
#define KB_MAX_DIMS (2 * EDGEC_MAX_RANK + 2)

/* Bytes per element for byte-addressable dtypes; 0 for sub-byte and unsupported ones. */
size_t edgec__kb_esize(int32_t dtype);
/* FLOAT, DOUBLE, FLOAT16, BFLOAT16. */
bool edgec__kb_is_float(int32_t dtype);
/* INT8..UINT64 (not BOOL). */
bool edgec__kb_is_int(int32_t dtype);
bool edgec__kb_is_signed_int(int32_t dtype);
/* Any dtype the runtime computes on: float or int or bool. */
bool edgec__kb_is_numeric(int32_t dtype);

/* Fails unless the node has at least `n` inputs and the first `n` are present. */
edgec_status edgec__kb_need_inputs(const edgec_op_ctx *ctx, size_t n);
/* Input `i` or NULL when omitted / absent. */
const edgec_rt_tensor *edgec__kb_in(const edgec_op_ctx *ctx, size_t i);
/* Whether output `i` exists and is requested (non-empty name). */
bool edgec__kb_want_output(const edgec_op_ctx *ctx, size_t i);

/* Normalises `axis` in [-rank, rank-1] (or [-rank, rank] with `extra`, as Flatten allows)
 * into [0, rank-1] (or [0, rank]). */
edgec_status edgec__kb_axis(const edgec_op_ctx *ctx, int64_t axis, int32_t rank, bool extra,
                            int32_t *out);
/* Reads an integer tensor (INT32/INT64, scalar or 1-D) of at most `cap` values. `what`
 * names it in messages. */
edgec_status edgec__kb_read_ints(const edgec_op_ctx *ctx, const edgec_rt_tensor *t,
                                 const char *what, int64_t *out, size_t cap, size_t *n);
/* Reads a scalar (or one-element tensor) of any numeric dtype. */
edgec_status edgec__kb_read_scalar_f64(const edgec_op_ctx *ctx, const edgec_rt_tensor *t,
                                       const char *what, double *out);

/* Writes an exact integer into element `i` (any numeric dtype; wraps for narrow ints). */
void edgec__kb_set_i64(edgec_rt_tensor *t, int64_t i, int64_t v);

/* A float32 copy of float-family tensor `t` (FLOAT16/BFLOAT16/DOUBLE/FLOAT), as a new
 * free-standing tensor (free with edgec__rt_tensor_free). */
edgec_status edgec__kb_to_f32(const edgec_op_ctx *ctx, const edgec_rt_tensor *t,
                              edgec_rt_tensor **out);
/* Converts float32 values into `dst` (dst->numel of them) of a float-family dtype. */
void edgec__kb_store_f32(edgec_rt_tensor *dst, const float *src);

/* Copies into contiguous `dst` (shape `dims`) from `src` read with element strides
 * `strides` (may be 0 or negative). `esize` is the element size in bytes. */
void edgec__kb_strided_copy(void *dst, const void *src, size_t esize, int32_t rank,
                            const int64_t *dims, const int64_t *strides);
/* Row-major element strides of a shape. */
void edgec__kb_strides(int32_t rank, const int64_t *dims, int64_t *strides);

/* Allocates output `idx` with `dims` and copies all of `in`'s bytes (same numel). */
edgec_status edgec__kb_output_copy(edgec_op_ctx *ctx, size_t idx, const edgec_rt_tensor *in,
                                   int32_t rank, const int64_t *dims);

/* The broadcasting driver: calls `fn` for contiguous runs of the output. For each
 * run, `o` points at the output, `in[k]` at input k, and `s[k]` is 0 (input k is
 * constant along the run) or 1 (contiguous). The output must already have the
 * broadcast shape of all inputs. Up to 3 inputs. In-place use (an input aliasing
 * the output with the same shape) is allowed. */
typedef void (*kb_run_fn)(void *user, int64_t n, void *o, const void *const *in,
                          const int64_t *s);
void edgec__kb_broadcast(kb_run_fn fn, void *user, edgec_rt_tensor *o, size_t n_in,
                         const edgec_rt_tensor *const *in);
/* Broadcast shape of `n` tensors; fails naming the node when they are incompatible. */
edgec_status edgec__kb_broadcast_shape(const edgec_op_ctx *ctx, size_t n,
                                       const edgec_rt_tensor *const *in, int32_t *rank,
                                       int64_t *dims);

/* PRelu's elementwise kernel for float32 (x, slope). */
void edgec__kb_prelu_f32(void *user, int64_t n, void *o, const void *const *in, const int64_t *s);

#endif
