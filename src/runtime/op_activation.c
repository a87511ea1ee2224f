/* Activations: Relu LeakyRelu Elu Selu Celu Sigmoid HardSigmoid HardSwish Softplus Softsign
 * ThresholdedRelu Tanh Gelu PRelu Softmax LogSoftmax Hardmax. float32 compute; float16,
 * bfloat16 and double staged through float32; Relu also on signed integers. */
#include <math.h>
#include <string.h>

#include "runtime/kernels_b.h"

enum act { A_RELU, A_LEAKY, A_ELU, A_SELU, A_CELU, A_SIGMOID, A_HSIGMOID, A_HSWISH, A_SOFTPLUS,
           A_SOFTSIGN, A_THRELU, A_TANH, A_GELU, A_GELU_TANH, A_MISH };

typedef struct act_par {
    float alpha, beta, gamma;
} act_par;

static inline float sigmoidf(float x)
{
    if (x >= 0)
        return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}

static inline float softplusf(float x)
{
    return x > 0 ? x + log1pf(expf(-x)) : log1pf(expf(x));
}

static void act_f32(enum act k, const act_par *p, float *o, const float *a, int64_t n)
{
    const float al = p->alpha, be = p->beta, ga = p->gamma;
    switch (k) {
#define A(CASE, EXPR)                                                                              \
    case CASE:                                                                                     \
        for (int64_t i = 0; i < n; i++) {                                                          \
            float x = a[i];                                                                        \
            o[i] = (EXPR);                                                                         \
        }                                                                                          \
        break;
        A(A_RELU, x > 0 ? x : (x == x ? 0.0f : x))
        A(A_LEAKY, x < 0 ? al * x : x)
        A(A_ELU, x < 0 ? al * expm1f(x) : x)
        A(A_SELU, x <= 0 ? ga * (al * expf(x) - al) : ga * x)
        A(A_CELU, (x > 0 ? x : 0.0f) + fminf(0.0f, al * expm1f(x / al)))
        A(A_SIGMOID, sigmoidf(x))
        A(A_HSIGMOID, fmaxf(0.0f, fminf(1.0f, al * x + be)))
        A(A_HSWISH, x * fmaxf(0.0f, fminf(1.0f, x / 6.0f + 0.5f)))
        A(A_SOFTPLUS, softplusf(x))
        A(A_SOFTSIGN, x / (1.0f + fabsf(x)))
        A(A_THRELU, x > al ? x : 0.0f)
        A(A_TANH, tanhf(x))
        A(A_GELU, 0.5f * x * (1.0f + erff(x * 0.70710678118654752f)))
        A(A_GELU_TANH,
          0.5f * x * (1.0f + tanhf(0.79788456080286536f * (x + 0.044715f * x * x * x))))
        A(A_MISH, x * tanhf(softplusf(x)))
#undef A
    }
}

static edgec_status unsupported(const edgec_op_ctx *ctx, int32_t dt)
{
    return edgec__op_fail(ctx, EDGEC_STATUS_UNSUPPORTED, "data type %s is not supported",
                          edgec__dtype(dt)->name);
}

static edgec_status activation(edgec_op_ctx *ctx, enum act k, act_par p)
{
    edgec_status st = edgec__kb_need_inputs(ctx, 1);
    if (st)
        return st;
    const edgec_rt_tensor *x = ctx->inputs[0];
    int32_t dt = x->dtype;
    if (k == A_RELU && edgec__kb_is_signed_int(dt)) {
        edgec_rt_tensor *o = edgec__rt_output(ctx, 0, dt, x->rank, x->dims);
        if (!o)
            return EDGEC_STATUS_NO_MEMORY;
        for (int64_t i = 0; i < x->numel; i++) {
            int64_t v = edgec__rt_get_i64(x, i);
            edgec__kb_set_i64(o, i, v > 0 ? v : 0);
        }
        return EDGEC_STATUS_OK;
    }
    if (!edgec__kb_is_float(dt))
        return unsupported(ctx, dt);
    edgec_rt_tensor *o = edgec__rt_output(ctx, 0, dt, x->rank, x->dims);
    if (!o)
        return EDGEC_STATUS_NO_MEMORY;
    if (dt == EDGEC_DTYPE_FLOAT) {
        act_f32(k, &p, o->data, x->data, x->numel);
        return EDGEC_STATUS_OK;
    }
    edgec_rt_tensor *t;
    if ((st = edgec__kb_to_f32(ctx, x, &t)))
        return st;
    act_f32(k, &p, t->data, t->data, t->numel);
    edgec__kb_store_f32(o, t->data);
    edgec__rt_tensor_free(t);
    return EDGEC_STATUS_OK;
}

static float fattr(const edgec_op_ctx *ctx, const char *name, float def)
{
    return edgec__attr_float(ctx->node, name, def);
}

static edgec_status op_relu(edgec_op_ctx *ctx) { return activation(ctx, A_RELU, (act_par){0}); }
static edgec_status op_leaky_relu(edgec_op_ctx *ctx)
{
    return activation(ctx, A_LEAKY, (act_par){fattr(ctx, "alpha", 0.01f), 0, 0});
}
static edgec_status op_elu(edgec_op_ctx *ctx)
{
    return activation(ctx, A_ELU, (act_par){fattr(ctx, "alpha", 1.0f), 0, 0});
}
static edgec_status op_selu(edgec_op_ctx *ctx)
{
    return activation(ctx, A_SELU,
                      (act_par){fattr(ctx, "alpha", 1.67326319217681884765625f), 0,
                                fattr(ctx, "gamma", 1.05070102214813232421875f)});
}
static edgec_status op_celu(edgec_op_ctx *ctx)
{
    float a = fattr(ctx, "alpha", 1.0f);
    if (a == 0)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "alpha must not be 0");
    return activation(ctx, A_CELU, (act_par){a, 0, 0});
}
static edgec_status op_sigmoid(edgec_op_ctx *ctx) { return activation(ctx, A_SIGMOID, (act_par){0}); }
static edgec_status op_hard_sigmoid(edgec_op_ctx *ctx)
{
    return activation(ctx, A_HSIGMOID,
                      (act_par){fattr(ctx, "alpha", 0.2f), fattr(ctx, "beta", 0.5f), 0});
}
static edgec_status op_hard_swish(edgec_op_ctx *ctx) { return activation(ctx, A_HSWISH, (act_par){0}); }
static edgec_status op_softplus(edgec_op_ctx *ctx) { return activation(ctx, A_SOFTPLUS, (act_par){0}); }
static edgec_status op_softsign(edgec_op_ctx *ctx) { return activation(ctx, A_SOFTSIGN, (act_par){0}); }
static edgec_status op_thresholded_relu(edgec_op_ctx *ctx)
{
    return activation(ctx, A_THRELU, (act_par){fattr(ctx, "alpha", 1.0f), 0, 0});
}
static edgec_status op_tanh(edgec_op_ctx *ctx) { return activation(ctx, A_TANH, (act_par){0}); }
static edgec_status op_mish(edgec_op_ctx *ctx) { return activation(ctx, A_MISH, (act_par){0}); }
static edgec_status op_gelu(edgec_op_ctx *ctx)
{
    char buf[16];
    const char *ap = edgec__attr_string(ctx->node, "approximate", buf, sizeof buf, "none");
    if (!strcmp(ap, "none"))
        return activation(ctx, A_GELU, (act_par){0});
    if (!strcmp(ap, "tanh"))
        return activation(ctx, A_GELU_TANH, (act_par){0});
    return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "approximate '%s' is not none or tanh",
                          ap);
}

/* PRelu: slope broadcasts to X (unidirectionally). */
static edgec_status op_prelu(edgec_op_ctx *ctx)
{
    edgec_status st = edgec__kb_need_inputs(ctx, 2);
    if (st)
        return st;
    const edgec_rt_tensor *x = ctx->inputs[0], *sl = ctx->inputs[1];
    if (x->dtype != sl->dtype)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "X and slope differ in type");
    int32_t r = 0;
    int64_t dims[EDGEC_MAX_RANK];
    const edgec_rt_tensor *in[2] = {x, sl};
    edgec_rt_tensor sview;
    /* Before opset 7 a 1-D slope of size C applies along axis 1. */
    if (ctx->opset < 7 && sl->rank == 1 && x->rank >= 2 && sl->dims[0] == x->dims[1] &&
        sl->dims[0] != 1) {
        sview = *sl;
        sview.rank = x->rank - 1;
        sview.dims[0] = sl->dims[0];
        for (int32_t i = 1; i < sview.rank; i++)
            sview.dims[i] = 1;
        in[1] = &sview;
    }
    if ((st = edgec__kb_broadcast_shape(ctx, 2, in, &r, dims)))
        return st;
    if (r != x->rank || memcmp(dims, x->dims, sizeof(int64_t) * (size_t)r))
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "slope does not broadcast to X");
    int32_t dt = x->dtype;
    edgec_rt_tensor *o = edgec__rt_output(ctx, 0, dt, r, dims);
    if (!o)
        return EDGEC_STATUS_NO_MEMORY;
    if (dt == EDGEC_DTYPE_FLOAT) {
        edgec__kb_broadcast(edgec__kb_prelu_f32, NULL, o, 2, in);
        return EDGEC_STATUS_OK;
    }
    if (edgec__kb_is_float(dt)) {
        edgec_rt_tensor *tx = NULL, *ts = NULL;
        if (!(st = edgec__kb_to_f32(ctx, x, &tx)) && !(st = edgec__kb_to_f32(ctx, in[1], &ts))) {
            ts->rank = in[1]->rank;
            memcpy(ts->dims, in[1]->dims, sizeof ts->dims);
            const edgec_rt_tensor *fin[2] = {tx, ts};
            edgec__kb_broadcast(edgec__kb_prelu_f32, NULL, tx, 2, fin);
            edgec__kb_store_f32(o, tx->data);
        }
        edgec__rt_tensor_free(tx);
        edgec__rt_tensor_free(ts);
        return st;
    }
    if (!edgec__kb_is_signed_int(dt) && !edgec__kb_is_int(dt))
        return unsupported(ctx, dt);
    /* Integer PRelu: index the slope through the broadcast strides. */
    int64_t ss[EDGEC_MAX_RANK], sd[EDGEC_MAX_RANK];
    edgec__kb_strides(in[1]->rank, in[1]->dims, ss);
    for (int32_t i = 0; i < r; i++) {
        int32_t j = i - (r - in[1]->rank);
        sd[i] = j < 0 || in[1]->dims[j] == 1 ? 0 : ss[j];
    }
    int64_t cnt[EDGEC_MAX_RANK] = {0}, off = 0;
    for (int64_t i = 0; i < x->numel; i++) {
        int64_t v = edgec__rt_get_i64(x, i);
        edgec__kb_set_i64(o, i, v < 0 ? v * edgec__rt_get_i64(sl, off) : v);
        for (int32_t k = r - 1; k >= 0; k--) {
            off += sd[k];
            if (++cnt[k] < dims[k])
                break;
            off -= sd[k] * dims[k];
            cnt[k] = 0;
        }
    }
    return EDGEC_STATUS_OK;
}

/* Softmax family over (outer, n, inner) blocks: opset < 13 coerces to 2-D at `axis`
 * (n covers every dim from axis on), opset 13+ normalises along the one axis. */
enum smx { SMX_SOFTMAX, SMX_LOG, SMX_HARDMAX };

static void softmax_rows(enum smx kind, float *o, const float *x, int64_t outer, int64_t n,
                         int64_t inner)
{
    for (int64_t a = 0; a < outer; a++) {
        for (int64_t b = 0; b < inner; b++) {
            const float *px = x + a * n * inner + b;
            float *po = o + a * n * inner + b;
            float mx = -INFINITY;
            int64_t arg = 0;
            for (int64_t i = 0; i < n; i++)
                if (px[i * inner] > mx) {
                    mx = px[i * inner];
                    arg = i;
                }
            if (kind == SMX_HARDMAX) {
                for (int64_t i = 0; i < n; i++)
                    po[i * inner] = i == arg ? 1.0f : 0.0f;
                continue;
            }
            double sum = 0;
            if (kind == SMX_SOFTMAX) {
                for (int64_t i = 0; i < n; i++) {
                    float e = expf(px[i * inner] - mx);
                    po[i * inner] = e;
                    sum += e;
                }
                float inv = (float)(1.0 / sum);
                for (int64_t i = 0; i < n; i++)
                    po[i * inner] *= inv;
            } else {
                for (int64_t i = 0; i < n; i++)
                    sum += expf(px[i * inner] - mx);
                float ls = (float)log(sum);
                for (int64_t i = 0; i < n; i++)
                    po[i * inner] = px[i * inner] - mx - ls;
            }
        }
    }
}

static edgec_status softmax(edgec_op_ctx *ctx, enum smx kind)
{
    edgec_status st = edgec__kb_need_inputs(ctx, 1);
    if (st)
        return st;
    const edgec_rt_tensor *x = ctx->inputs[0];
    if (!edgec__kb_is_float(x->dtype))
        return unsupported(ctx, x->dtype);
    bool modern = ctx->opset >= 13;
    int32_t axis = 0;
    if (x->rank == 0) {
        axis = 0;
    } else if ((st = edgec__kb_axis(ctx, edgec__attr_int(ctx->node, "axis", modern ? -1 : 1),
                                    x->rank, false, &axis))) {
        return st;
    }
    int64_t outer = 1, n = 1, inner = 1;
    for (int32_t i = 0; i < x->rank; i++) {
        if (i < axis)
            outer *= x->dims[i];
        else if (i == axis || !modern)
            n *= x->dims[i];
        else
            inner *= x->dims[i];
    }
    edgec_rt_tensor *o = edgec__rt_output(ctx, 0, x->dtype, x->rank, x->dims);
    if (!o)
        return EDGEC_STATUS_NO_MEMORY;
    if (!o->numel)
        return EDGEC_STATUS_OK;
    if (x->dtype == EDGEC_DTYPE_FLOAT) {
        softmax_rows(kind, o->data, x->data, outer, n, inner);
        return EDGEC_STATUS_OK;
    }
    edgec_rt_tensor *t;
    if ((st = edgec__kb_to_f32(ctx, x, &t)))
        return st;
    softmax_rows(kind, t->data, t->data, outer, n, inner);
    edgec__kb_store_f32(o, t->data);
    edgec__rt_tensor_free(t);
    return EDGEC_STATUS_OK;
}

static edgec_status op_softmax(edgec_op_ctx *ctx) { return softmax(ctx, SMX_SOFTMAX); }
static edgec_status op_log_softmax(edgec_op_ctx *ctx) { return softmax(ctx, SMX_LOG); }
static edgec_status op_hardmax(edgec_op_ctx *ctx) { return softmax(ctx, SMX_HARDMAX); }

const edgec_op edgec__ops_activation[] = {
    {"Relu", "", 1, op_relu},
    {"LeakyRelu", "", 1, op_leaky_relu},
    {"Elu", "", 1, op_elu},
    {"Selu", "", 1, op_selu},
    {"Celu", "", 12, op_celu},
    {"Sigmoid", "", 1, op_sigmoid},
    {"HardSigmoid", "", 1, op_hard_sigmoid},
    {"HardSwish", "", 14, op_hard_swish},
    {"Softplus", "", 1, op_softplus},
    {"Softsign", "", 1, op_softsign},
    {"ThresholdedRelu", "", 10, op_thresholded_relu},
    {"Tanh", "", 1, op_tanh},
    {"Mish", "", 18, op_mish},
    {"Gelu", "", 20, op_gelu},
    {"PRelu", "", 1, op_prelu},
    {"Softmax", "", 1, op_softmax},
    {"LogSoftmax", "", 1, op_log_softmax},
    {"Hardmax", "", 1, op_hardmax},
    {0},
};
