/* Normalization: BatchNormalization (inference), InstanceNormalization,
 * LayerNormalization. Statistics are accumulated in double. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/kernels_c.h"

static edgec_status need_vec(const edgec_op_ctx *ctx, const edgec_rt_tensor *t, int64_t n,
                             const char *what)
{
    if (!t)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "input %s is missing", what);
    if (t->numel != n || t->rank != 1)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "%s has %lld elements (rank %d); expected a vector of %lld", what,
                              (long long)t->numel, (int)t->rank, (long long)n);
    if (!edgec__kc_is_float_type(t->dtype))
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "%s must be float, not %s", what,
                              edgec__dtype(t->dtype)->name);
    return EDGEC_STATUS_OK;
}

/* ---- BatchNormalization ------------------------------------------------------------- */

static edgec_status run_batch_norm(edgec_op_ctx *ctx)
{
    const edgec_rt_tensor *x = edgec__kc_in(ctx, 0);
    if (!x)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "needs input X");
    if (!edgec__kc_is_float_type(x->dtype))
        return edgec__op_fail(ctx, EDGEC_STATUS_UNSUPPORTED, "BatchNormalization on %s tensors",
                              edgec__dtype(x->dtype)->name);
    if (ctx->opset >= 14 && edgec__attr_int(ctx->node, "training_mode", 0) != 0)
        return edgec__op_fail(ctx, EDGEC_STATUS_UNSUPPORTED,
                              "training_mode=1 is not supported by the inference runtime");
    if (ctx->opset < 14) {
        /* before opset 14, extra outputs meant training */
        for (size_t i = 1; i < ctx->node->n_outputs; i++)
            if (ctx->node->outputs[i] && ctx->node->outputs[i][0])
                return edgec__op_fail(ctx, EDGEC_STATUS_UNSUPPORTED,
                                      "training outputs (mean, var, saved stats) are not "
                                      "supported");
        if (ctx->opset < 9 && edgec__attr_int(ctx->node, "spatial", 1) == 0)
            return edgec__op_fail(ctx, EDGEC_STATUS_UNSUPPORTED, "spatial=0 is not supported");
    }
    if (x->rank < 1)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "X must have rank >= 1");
    int64_t N = x->dims[0], C = x->rank > 1 ? x->dims[1] : 1, sp = 1;
    for (int32_t i = 2; i < x->rank; i++)
        sp *= x->dims[i];
    static const char *names[] = {"X", "scale", "B", "input_mean", "input_var"};
    edgec_status st;
    for (size_t i = 1; i < 5; i++)
        if ((st = need_vec(ctx, edgec__kc_in(ctx, i), C, names[i])))
            return st;
    float eps = edgec__attr_float(ctx->node, "epsilon", 1e-5f);
    const float *p[5];
    float *own[5] = {0};
    for (size_t i = 0; i < 5 && !st; i++)
        st = edgec__kc_in_f32(ctx, i, &p[i], &own[i]);
    edgec_rt_tensor *y = NULL;
    float *Y = st ? NULL : edgec__kc_out_f32(ctx, 0, x->dtype, x->rank, x->dims, &y);
    if (!st && !Y)
        st = EDGEC_STATUS_NO_MEMORY;
    if (!st) {
        for (int64_t c = 0; c < C; c++) {
            float a = p[1][c] / sqrtf(p[4][c] + eps);
            float b = p[2][c] - p[3][c] * a;
            for (int64_t n = 0; n < N; n++) {
                const float *xr = p[0] + (n * C + c) * sp;
                float *yr = Y + (n * C + c) * sp;
                for (int64_t i = 0; i < sp; i++)
                    yr[i] = xr[i] * a + b;
            }
        }
        edgec__kc_out_f32_done(y, Y);
    }
    for (int i = 0; i < 5; i++)
        free(own[i]);
    return st;
}

/* ---- InstanceNormalization ---------------------------------------------------------- */

static edgec_status run_instance_norm(edgec_op_ctx *ctx)
{
    const edgec_rt_tensor *x = edgec__kc_in(ctx, 0);
    if (!x)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "needs input");
    if (!edgec__kc_is_float_type(x->dtype))
        return edgec__op_fail(ctx, EDGEC_STATUS_UNSUPPORTED,
                              "InstanceNormalization on %s tensors",
                              edgec__dtype(x->dtype)->name);
    if (x->rank < 3)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "input has rank %d; expected N, C and spatial dimensions",
                              (int)x->rank);
    int64_t N = x->dims[0], C = x->dims[1], sp = 1;
    for (int32_t i = 2; i < x->rank; i++)
        sp *= x->dims[i];
    edgec_status st;
    if ((st = need_vec(ctx, edgec__kc_in(ctx, 1), C, "scale")) ||
        (st = need_vec(ctx, edgec__kc_in(ctx, 2), C, "B")))
        return st;
    float eps = edgec__attr_float(ctx->node, "epsilon", 1e-5f);
    const float *p[3];
    float *own[3] = {0};
    for (size_t i = 0; i < 3 && !st; i++)
        st = edgec__kc_in_f32(ctx, i, &p[i], &own[i]);
    edgec_rt_tensor *y = NULL;
    float *Y = st ? NULL : edgec__kc_out_f32(ctx, 0, x->dtype, x->rank, x->dims, &y);
    if (!st && !Y)
        st = EDGEC_STATUS_NO_MEMORY;
    if (!st) {
        for (int64_t n = 0; n < N; n++)
            for (int64_t c = 0; c < C; c++) {
                const float *xr = p[0] + (n * C + c) * sp;
                float *yr = Y + (n * C + c) * sp;
                double s = 0, ss = 0;
                for (int64_t i = 0; i < sp; i++)
                    s += xr[i];
                double mean = sp ? s / (double)sp : 0;
                for (int64_t i = 0; i < sp; i++) {
                    double d = xr[i] - mean;
                    ss += d * d;
                }
                double var = sp ? ss / (double)sp : 0;
                float a = (float)((double)p[1][c] / sqrt(var + (double)eps));
                float m = (float)mean, b = p[2][c];
                for (int64_t i = 0; i < sp; i++)
                    yr[i] = (xr[i] - m) * a + b;
            }
        edgec__kc_out_f32_done(y, Y);
    }
    for (int i = 0; i < 3; i++)
        free(own[i]);
    return st;
}

/* ---- LayerNormalization ------------------------------------------------------------- */

/* True when `t` broadcasts unidirectionally to the trailing dims `d[0..r)`. */
static bool bcast_to(const edgec_rt_tensor *t, int32_t r, const int64_t *d)
{
    if (t->rank > r)
        return false;
    for (int32_t i = 0; i < t->rank; i++) {
        int64_t td = t->dims[t->rank - 1 - i], od = d[r - 1 - i];
        if (td != od && td != 1)
            return false;
    }
    return true;
}

/* Index into `t` (broadcast to trailing dims d[0..r)) for flat position `i` there. */
static int64_t bcast_index(const edgec_rt_tensor *t, int32_t r, const int64_t *d, int64_t i)
{
    if (t->numel == 1)
        return 0;
    int64_t idx = 0, stride = 1;
    for (int32_t k = r - 1, tk = t->rank - 1; k >= 0; k--, tk--) {
        int64_t c = i % d[k];
        i /= d[k];
        if (tk >= 0) {
            if (t->dims[tk] != 1)
                idx += c * stride;
            stride *= t->dims[tk];
        }
    }
    return idx;
}

static edgec_status run_layer_norm(edgec_op_ctx *ctx)
{
    const edgec_rt_tensor *x = edgec__kc_in(ctx, 0), *sc = edgec__kc_in(ctx, 1),
                          *bb = edgec__kc_in(ctx, 2);
    if (!x || !sc)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "needs inputs X and Scale");
    if (!edgec__kc_is_float_type(x->dtype) || !edgec__kc_is_float_type(sc->dtype) ||
        (bb && !edgec__kc_is_float_type(bb->dtype)))
        return edgec__op_fail(ctx, EDGEC_STATUS_UNSUPPORTED,
                              "LayerNormalization on %s tensors", edgec__dtype(x->dtype)->name);
    int64_t axis = edgec__attr_int(ctx->node, "axis", -1);
    if (axis < -(int64_t)x->rank || axis >= (int64_t)x->rank)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "axis %lld is out of range for rank %d", (long long)axis,
                              (int)x->rank);
    if (axis < 0)
        axis += x->rank;
    int32_t nr = x->rank - (int32_t)axis;
    const int64_t *nd = x->dims + axis;
    int64_t outer = 1, inner = 1;
    for (int32_t i = 0; i < x->rank; i++) {
        if (i < axis)
            outer *= x->dims[i];
        else
            inner *= x->dims[i];
    }
    if (!bcast_to(sc, nr, nd) || (bb && !bcast_to(bb, nr, nd)))
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "Scale and B must broadcast to the normalized dimensions");
    float eps = edgec__attr_float(ctx->node, "epsilon", 1e-5f);
    int64_t stash = edgec__attr_int(ctx->node, "stash_type", 1);
    (void)stash; /* statistics are always computed in at least float precision */
    const float *X, *S, *B = NULL;
    float *ox = NULL, *os = NULL, *ob = NULL, *sbuf = NULL, *bbuf = NULL;
    edgec_status st;
    if ((st = edgec__kc_in_f32(ctx, 0, &X, &ox)) || (st = edgec__kc_in_f32(ctx, 1, &S, &os)) ||
        (bb && (st = edgec__kc_in_f32(ctx, 2, &B, &ob))))
        goto done;
    /* expand scale and bias to `inner` elements */
    sbuf = malloc(sizeof(float) * (size_t)(inner ? inner : 1));
    bbuf = malloc(sizeof(float) * (size_t)(inner ? inner : 1));
    if (!sbuf || !bbuf) {
        st = edgec__op_fail(ctx, EDGEC_STATUS_NO_MEMORY, "out of memory");
        goto done;
    }
    for (int64_t i = 0; i < inner; i++) {
        sbuf[i] = S[bcast_index(sc, nr, nd, i)];
        bbuf[i] = B ? B[bcast_index(bb, nr, nd, i)] : 0.0f;
    }
    edgec_rt_tensor *y, *ym = NULL, *yv = NULL;
    float *Y = edgec__kc_out_f32(ctx, 0, x->dtype, x->rank, x->dims, &y);
    if (!Y) {
        st = EDGEC_STATUS_NO_MEMORY;
        goto done;
    }
    int64_t sdims[EDGEC_MAX_RANK];
    for (int32_t i = 0; i < x->rank; i++)
        sdims[i] = i < axis ? x->dims[i] : 1;
    float *M = NULL, *V = NULL;
    /* Mean and InvStdDev use the stash type (float) */
    if (ctx->n_outputs > 1 && ctx->node->n_outputs > 1 && ctx->node->outputs[1][0]) {
        if (!(ym = edgec__rt_output(ctx, 1, EDGEC_DTYPE_FLOAT, x->rank, sdims))) {
            st = EDGEC_STATUS_NO_MEMORY;
            goto done;
        }
        M = ym->data;
    }
    if (ctx->n_outputs > 2 && ctx->node->n_outputs > 2 && ctx->node->outputs[2][0]) {
        if (!(yv = edgec__rt_output(ctx, 2, EDGEC_DTYPE_FLOAT, x->rank, sdims))) {
            st = EDGEC_STATUS_NO_MEMORY;
            goto done;
        }
        V = yv->data;
    }
    for (int64_t o = 0; o < outer; o++) {
        const float *xr = X + o * inner;
        float *yr = Y + o * inner;
        double s = 0, ss = 0;
        for (int64_t i = 0; i < inner; i++)
            s += xr[i];
        double mean = inner ? s / (double)inner : 0;
        for (int64_t i = 0; i < inner; i++) {
            double d = xr[i] - mean;
            ss += d * d;
        }
        double var = inner ? ss / (double)inner : 0;
        float inv = (float)(1.0 / sqrt(var + (double)eps)), m = (float)mean;
        for (int64_t i = 0; i < inner; i++)
            yr[i] = (xr[i] - m) * inv * sbuf[i] + bbuf[i];
        if (M)
            M[o] = m;
        if (V)
            V[o] = inv;
    }
    edgec__kc_out_f32_done(y, Y);
done:
    free(ox);
    free(os);
    free(ob);
    free(sbuf);
    free(bbuf);
    return st;
}

const edgec_op edgec__ops_norm[] = {
    {"BatchNormalization", "", 1, run_batch_norm},
    {"InstanceNormalization", "", 1, run_instance_norm},
    {"LayerNormalization", "", 17, run_layer_norm},
    {0},
};
