/* Recurrent layers: LSTM, GRU and the simple RNN, all directions, sequence_lens,
 * initial states, LSTM peepholes, GRU linear_before_reset, layout 0/1, clip and the ONNX
 * activation list. The input projection of every time step is one SGEMM up front; each
 * step then multiplies the hidden state by R. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "runtime/kernels_c.h"

enum act_kind {
    ACT_SIGMOID,
    ACT_TANH,
    ACT_RELU,
    ACT_AFFINE,
    ACT_LEAKY_RELU,
    ACT_THRESHOLDED_RELU,
    ACT_SCALED_TANH,
    ACT_HARD_SIGMOID,
    ACT_ELU,
    ACT_SOFTSIGN,
    ACT_SOFTPLUS
};

typedef struct act {
    int kind;
    float alpha, beta;
} act;

static const struct {
    const char *name;
    int kind;
    int n_params; /* 0, 1 (alpha) or 2 (alpha, beta) */
    float alpha, beta;
} act_table[] = {
    {"Sigmoid", ACT_SIGMOID, 0, 0, 0},
    {"Tanh", ACT_TANH, 0, 0, 0},
    {"Relu", ACT_RELU, 0, 0, 0},
    {"Affine", ACT_AFFINE, 2, 1.0f, 0.0f},
    {"LeakyRelu", ACT_LEAKY_RELU, 1, 0.01f, 0},
    {"ThresholdedRelu", ACT_THRESHOLDED_RELU, 1, 1.0f, 0},
    {"ScaledTanh", ACT_SCALED_TANH, 2, 1.0f, 1.0f},
    {"HardSigmoid", ACT_HARD_SIGMOID, 2, 0.2f, 0.5f},
    {"Elu", ACT_ELU, 1, 1.0f, 0},
    {"Softsign", ACT_SOFTSIGN, 0, 0, 0},
    {"Softplus", ACT_SOFTPLUS, 0, 0, 0},
};

static inline float act_one(const act *a, float x)
{
    switch (a->kind) {
    case ACT_SIGMOID:
        return 1.0f / (1.0f + expf(-x));
    case ACT_TANH:
        return tanhf(x);
    case ACT_RELU:
        return x > 0.0f ? x : 0.0f;
    case ACT_AFFINE:
        return a->alpha * x + a->beta;
    case ACT_LEAKY_RELU:
        return x >= 0.0f ? x : a->alpha * x;
    case ACT_THRESHOLDED_RELU:
        return x > a->alpha ? x : 0.0f;
    case ACT_SCALED_TANH:
        return a->alpha * tanhf(a->beta * x);
    case ACT_HARD_SIGMOID: {
        float v = a->alpha * x + a->beta;
        return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
    }
    case ACT_ELU:
        return x >= 0.0f ? x : a->alpha * (expf(x) - 1.0f);
    case ACT_SOFTSIGN:
        return x / (1.0f + fabsf(x));
    case ACT_SOFTPLUS:
        return log1pf(expf(x));
    default:
        return x;
    }
}

/* Reads `per_dir` activations per direction (defaults when the attribute is absent). */
static edgec_status read_acts(const edgec_op_ctx *ctx, int dirs, int per_dir, const int *defaults,
                              act *out)
{
    const edgec_attr *a = edgec__node_attr(ctx->node, "activations");
    const edgec_attr *al = edgec__node_attr(ctx->node, "activation_alpha");
    const edgec_attr *be = edgec__node_attr(ctx->node, "activation_beta");
    size_t n_al = al && al->type == EDGEC_ATTR_FLOATS ? al->n : 0;
    size_t n_be = be && be->type == EDGEC_ATTR_FLOATS ? be->n : 0;
    size_t ia = 0, ib = 0;
    int total = dirs * per_dir;
    if (!a || a->type != EDGEC_ATTR_STRINGS || a->n == 0) {
        for (int i = 0; i < total; i++) {
            out[i].kind = defaults[i % per_dir];
            out[i].alpha = out[i].beta = 0;
        }
        return EDGEC_STATUS_OK;
    }
    if (a->n != (size_t)total && !(dirs == 2 && a->n == (size_t)per_dir))
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "activations has %zu entries; expected %d", a->n, total);
    for (int i = 0; i < total; i++) {
        const edgec_bytes *s = &a->strings[(size_t)i % a->n];
        size_t k;
        for (k = 0; k < sizeof act_table / sizeof act_table[0]; k++) {
            size_t len = strlen(act_table[k].name);
            if (s->len == len && !strncasecmp((const char *)s->data, act_table[k].name, len))
                break;
        }
        if (k == sizeof act_table / sizeof act_table[0])
            return edgec__op_fail(ctx, EDGEC_STATUS_UNSUPPORTED, "activation '%.*s'",
                                  (int)(s->len > 64 ? 64 : s->len), (const char *)s->data);
        out[i].kind = act_table[k].kind;
        out[i].alpha = act_table[k].alpha;
        out[i].beta = act_table[k].beta;
        if (act_table[k].n_params >= 1 && ia < n_al)
            out[i].alpha = al->floats[ia++];
        if (act_table[k].n_params >= 2 && ib < n_be)
            out[i].beta = be->floats[ib++];
    }
    return EDGEC_STATUS_OK;
}

static bool want_output(const edgec_op_ctx *ctx, size_t i)
{
    return i < ctx->n_outputs && i < ctx->node->n_outputs && ctx->node->outputs[i] &&
           ctx->node->outputs[i][0];
}

enum { CELL_RNN, CELL_GRU, CELL_LSTM };

typedef struct rnn_args {
    int cell, gates; /* gates: 1, 3, 4 */
    int dirs;        /* 1 or 2 */
    bool reverse;    /* single direction, reverse */
    int layout;
    int64_t T, Bt, I, H;
    float clip;
    bool input_forget, lbr;
    act acts[6];
    int n_act;
    const float *X, *W, *R, *B, *h0, *c0, *P;
    const edgec_rt_tensor *lens;
    float *Y, *Yh, *Yc;
} rnn_args;

static inline float clipv(float v, float c)
{
    if (c > 0.0f) {
        if (v > c)
            return c;
        if (v < -c)
            return -c;
    }
    return v;
}

/* Runs one direction. */
static edgec_status run_dir(const edgec_op_ctx *ctx, const rnn_args *a, int d, bool backward)
{
    int64_t T = a->T, Bt = a->Bt, I = a->I, H = a->H, G = a->gates * H;
    const float *W = a->W + d * G * I, *R = a->R + d * G * H;
    const float *Bw = a->B ? a->B + d * 2 * G : NULL, *Br = Bw ? Bw + G : NULL;
    const float *P = a->P ? a->P + d * 3 * H : NULL;
    size_t n_xw = (size_t)(T * Bt * G), n_state = (size_t)(Bt * H), n_hr = (size_t)(Bt * G);
    float *buf = calloc(n_xw + 3 * n_state + n_hr + 1, sizeof(float));
    if (!buf)
        return edgec__op_fail(ctx, EDGEC_STATUS_NO_MEMORY, "out of memory");
    float *XW = buf, *Hs = XW + n_xw, *Cs = Hs + n_state, *RH = Cs + n_state, *HR = RH + n_state;
    /* XW[row] = X[row] W^T, rows in X's own order */
    edgec__sgemm(false, true, T * Bt, G, I, 1.0f, a->X, I, W, I, 0.0f, XW, G, ctx->threads);
    for (int64_t b = 0; b < Bt; b++) {
        for (int64_t h = 0; h < H; h++) {
            int64_t hi = a->layout ? (b * a->dirs + d) * H + h : (d * Bt + b) * H + h;
            Hs[b * H + h] = a->h0 ? a->h0[hi] : 0.0f;
            Cs[b * H + h] = a->c0 ? a->c0[hi] : 0.0f;
        }
    }
    const act *f = &a->acts[(size_t)d * (size_t)a->n_act];
    for (int64_t s = 0; s < T; s++) {
        /* HR = H R^T (+ for GRU without linear_before_reset only the z and r gates) */
        int64_t gcols = (a->cell == CELL_GRU && !a->lbr) ? 2 * H : G;
        edgec__sgemm(false, true, Bt, gcols, H, 1.0f, Hs, H, R, H, 0.0f, HR, G, ctx->threads);
        for (int64_t b = 0; b < Bt; b++) {
            int64_t len = a->lens ? edgec__rt_get_i64(a->lens, b) : T;
            if (s >= len)
                continue;
            int64_t t = backward ? len - 1 - s : s;
            int64_t row = a->layout ? b * T + t : t * Bt + b;
            const float *xw = XW + row * G;
            float *hr = HR + b * G, *hb = Hs + b * H, *cb = Cs + b * H;
            if (a->cell == CELL_LSTM) {
                for (int64_t j = 0; j < H; j++) {
                    float gi = xw[j] + hr[j], go = xw[H + j] + hr[H + j];
                    float gf = xw[2 * H + j] + hr[2 * H + j], gc = xw[3 * H + j] + hr[3 * H + j];
                    if (Bw) {
                        gi += Bw[j] + Br[j];
                        go += Bw[H + j] + Br[H + j];
                        gf += Bw[2 * H + j] + Br[2 * H + j];
                        gc += Bw[3 * H + j] + Br[3 * H + j];
                    }
                    float cp = cb[j];
                    if (P) {
                        gi += P[j] * cp;
                        gf += P[2 * H + j] * cp;
                    }
                    float it = act_one(&f[0], clipv(gi, a->clip));
                    float ft = a->input_forget ? 1.0f - it : act_one(&f[0], clipv(gf, a->clip));
                    float ct = act_one(&f[1], clipv(gc, a->clip));
                    float c = ft * cp + it * ct;
                    if (P)
                        go += P[H + j] * c;
                    float ot = act_one(&f[0], clipv(go, a->clip));
                    cb[j] = c;
                    hb[j] = ot * act_one(&f[2], c);
                }
            } else if (a->cell == CELL_GRU) {
                float *zr = RH + b * H; /* reuse as scratch: z values */
                for (int64_t j = 0; j < H; j++) {
                    float gz = xw[j] + hr[j], gr = xw[H + j] + hr[H + j];
                    if (Bw) {
                        gz += Bw[j] + Br[j];
                        gr += Bw[H + j] + Br[H + j];
                    }
                    float z = act_one(&f[0], clipv(gz, a->clip));
                    float r = act_one(&f[0], clipv(gr, a->clip));
                    zr[j] = z;
                    if (a->lbr) {
                        float rh = hr[2 * H + j] + (Br ? Br[2 * H + j] : 0.0f);
                        float gh = xw[2 * H + j] + (Bw ? Bw[2 * H + j] : 0.0f) + r * rh;
                        float ht = act_one(&f[1], clipv(gh, a->clip));
                        cb[j] = ht; /* candidate, combined below */
                    } else {
                        cb[j] = r * hb[j]; /* r (.) H, multiplied by Rh below */
                    }
                }
                if (!a->lbr) {
                    /* (r (.) H) Rh^T for this batch row */
                    edgec__sgemm(false, true, 1, H, H, 1.0f, cb, H, R + 2 * H * H, H, 0.0f,
                                 hr + 2 * H, G, 1);
                    for (int64_t j = 0; j < H; j++) {
                        float gh = xw[2 * H + j] + hr[2 * H + j] +
                                   (Bw ? Bw[2 * H + j] + Br[2 * H + j] : 0.0f);
                        cb[j] = act_one(&f[1], clipv(gh, a->clip));
                    }
                }
                for (int64_t j = 0; j < H; j++)
                    hb[j] = (1.0f - zr[j]) * cb[j] + zr[j] * hb[j];
            } else {
                for (int64_t j = 0; j < H; j++) {
                    float g = xw[j] + hr[j] + (Bw ? Bw[j] + Br[j] : 0.0f);
                    hb[j] = act_one(&f[0], clipv(g, a->clip));
                }
            }
            if (a->Y) {
                float *y = a->layout ? a->Y + ((b * T + t) * a->dirs + d) * H
                                     : a->Y + ((t * a->dirs + d) * Bt + b) * H;
                memcpy(y, hb, sizeof(float) * (size_t)H);
            }
        }
    }
    for (int64_t b = 0; b < Bt; b++) {
        int64_t o = a->layout ? (b * a->dirs + d) * H : (d * Bt + b) * H;
        if (a->Yh)
            memcpy(a->Yh + o, Hs + b * H, sizeof(float) * (size_t)H);
        if (a->Yc)
            memcpy(a->Yc + o, Cs + b * H, sizeof(float) * (size_t)H);
    }
    free(buf);
    return EDGEC_STATUS_OK;
}

static edgec_status check_dims(const edgec_op_ctx *ctx, const edgec_rt_tensor *t,
                               const char *what, int32_t rank, const int64_t *dims)
{
    if (!t)
        return EDGEC_STATUS_OK;
    bool ok = t->rank == rank;
    for (int32_t i = 0; ok && i < rank; i++)
        ok = t->dims[i] == dims[i];
    if (ok)
        return EDGEC_STATUS_OK;
    char want[128] = "", got[128] = "";
    for (int32_t i = 0; i < rank; i++)
        snprintf(want + strlen(want), sizeof want - strlen(want), "%s%lld", i ? "x" : "",
                 (long long)dims[i]);
    for (int32_t i = 0; i < t->rank && i < 8; i++)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", i ? "x" : "",
                 (long long)t->dims[i]);
    return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "%s has shape [%s]; expected [%s]",
                          what, got, want);
}

static edgec_status run_recurrent(edgec_op_ctx *ctx, int cell)
{
    rnn_args a;
    memset(&a, 0, sizeof a);
    a.cell = cell;
    a.gates = cell == CELL_LSTM ? 4 : cell == CELL_GRU ? 3 : 1;
    const edgec_rt_tensor *x = edgec__kc_in(ctx, 0), *w = edgec__kc_in(ctx, 1),
                          *r = edgec__kc_in(ctx, 2), *bias = edgec__kc_in(ctx, 3),
                          *lens = edgec__kc_in(ctx, 4), *h0 = edgec__kc_in(ctx, 5),
                          *c0 = cell == CELL_LSTM ? edgec__kc_in(ctx, 6) : NULL,
                          *p = cell == CELL_LSTM ? edgec__kc_in(ctx, 7) : NULL;
    if (!x || !w || !r)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "needs inputs X, W and R");
    if (!edgec__kc_is_float_type(x->dtype))
        return edgec__op_fail(ctx, EDGEC_STATUS_UNSUPPORTED, "%s on %s tensors",
                              ctx->node->op_type, edgec__dtype(x->dtype)->name);
    char buf[32];
    const char *dir = edgec__attr_string(ctx->node, "direction", buf, sizeof buf, "forward");
    if (!strcmp(dir, "forward"))
        a.dirs = 1;
    else if (!strcmp(dir, "reverse"))
        a.dirs = 1, a.reverse = true;
    else if (!strcmp(dir, "bidirectional"))
        a.dirs = 2;
    else
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "unknown direction '%s'", dir);
    a.layout = ctx->opset >= 14 ? (int)edgec__attr_int(ctx->node, "layout", 0) : 0;
    if (a.layout != 0 && a.layout != 1)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "layout must be 0 or 1");
    if (x->rank != 3 || w->rank != 3 || r->rank != 3)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                              "X, W and R must be 3-D (got ranks %d, %d, %d)", (int)x->rank,
                              (int)w->rank, (int)r->rank);
    a.T = a.layout ? x->dims[1] : x->dims[0];
    a.Bt = a.layout ? x->dims[0] : x->dims[1];
    a.I = x->dims[2];
    a.H = edgec__attr_int(ctx->node, "hidden_size", 0);
    if (a.H <= 0)
        a.H = w->dims[1] / a.gates;
    if (a.H <= 0 || a.H > ((int64_t)1 << 28))
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "hidden_size is invalid");
    int64_t D = a.dirs, G = a.gates * a.H;
    edgec_status st;
    int64_t dw[3] = {D, G, a.I}, dr[3] = {D, G, a.H}, db[2] = {D, 2 * G}, dl[1] = {a.Bt},
            dh[3] = {D, a.Bt, a.H}, dp[2] = {D, 3 * a.H};
    if (a.layout) {
        dh[0] = a.Bt;
        dh[1] = D;
    }
    if ((st = check_dims(ctx, w, "W", 3, dw)) || (st = check_dims(ctx, r, "R", 3, dr)) ||
        (st = check_dims(ctx, bias, "B", 2, db)) || (st = check_dims(ctx, lens, "sequence_lens", 1, dl)) ||
        (st = check_dims(ctx, h0, "initial_h", 3, dh)) ||
        (st = check_dims(ctx, c0, "initial_c", 3, dh)) || (st = check_dims(ctx, p, "P", 2, dp)))
        return st;
    if (lens) {
        if (lens->dtype != EDGEC_DTYPE_INT32 && lens->dtype != EDGEC_DTYPE_INT64)
            return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                                  "sequence_lens must be int32");
        for (int64_t b = 0; b < a.Bt; b++) {
            int64_t l = edgec__rt_get_i64(lens, b);
            if (l < 0 || l > a.T)
                return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL,
                                      "sequence_lens[%lld] = %lld is outside [0, %lld]",
                                      (long long)b, (long long)l, (long long)a.T);
        }
        a.lens = lens;
    }
    const edgec_attr *ca = edgec__node_attr(ctx->node, "clip");
    a.clip = ca ? edgec__attr_float(ctx->node, "clip", 0.0f) : 0.0f;
    if (ca && a.clip <= 0.0f)
        return edgec__op_fail(ctx, EDGEC_STATUS_INVALID_MODEL, "clip must be positive");
    a.input_forget = cell == CELL_LSTM && edgec__attr_int(ctx->node, "input_forget", 0) != 0;
    a.lbr = cell == CELL_GRU && edgec__attr_int(ctx->node, "linear_before_reset", 0) != 0;
    static const int def_lstm[3] = {ACT_SIGMOID, ACT_TANH, ACT_TANH};
    static const int def_gru[2] = {ACT_SIGMOID, ACT_TANH};
    static const int def_rnn[1] = {ACT_TANH};
    a.n_act = cell == CELL_LSTM ? 3 : cell == CELL_GRU ? 2 : 1;
    if ((st = read_acts(ctx, a.dirs, a.n_act,
                        cell == CELL_LSTM ? def_lstm : cell == CELL_GRU ? def_gru : def_rnn,
                        a.acts)))
        return st;

    const edgec_rt_tensor *ins[8] = {x, w, r, bias, NULL, h0, c0, p};
    const float *fp[8] = {0};
    float *own[8] = {0};
    for (size_t i = 0; i < 8 && !st; i++)
        if (ins[i] && i != 4)
            st = edgec__kc_in_f32(ctx, i, &fp[i], &own[i]);
    edgec_rt_tensor *ty = NULL, *tyh = NULL, *tyc = NULL;
    if (!st && want_output(ctx, 0)) {
        int64_t d[4] = {a.T, D, a.Bt, a.H};
        if (a.layout)
            d[0] = a.Bt, d[1] = a.T, d[2] = D;
        if (!(a.Y = edgec__kc_out_f32(ctx, 0, x->dtype, 4, d, &ty)))
            st = EDGEC_STATUS_NO_MEMORY;
    }
    if (!st && want_output(ctx, 1) && !(a.Yh = edgec__kc_out_f32(ctx, 1, x->dtype, 3, dh, &tyh)))
        st = EDGEC_STATUS_NO_MEMORY;
    if (!st && cell == CELL_LSTM && want_output(ctx, 2) &&
        !(a.Yc = edgec__kc_out_f32(ctx, 2, x->dtype, 3, dh, &tyc)))
        st = EDGEC_STATUS_NO_MEMORY;
    if (!st) {
        a.X = fp[0];
        a.W = fp[1];
        a.R = fp[2];
        a.B = fp[3];
        a.h0 = fp[5];
        a.c0 = fp[6];
        a.P = fp[7];
        for (int d = 0; d < a.dirs && !st; d++)
            st = run_dir(ctx, &a, d, a.reverse || d == 1);
        edgec__kc_out_f32_done(ty, a.Y);
        edgec__kc_out_f32_done(tyh, a.Yh);
        edgec__kc_out_f32_done(tyc, a.Yc);
    }
    for (int i = 0; i < 8; i++)
        free(own[i]);
    return st;
}

static edgec_status run_lstm(edgec_op_ctx *ctx)
{
    return run_recurrent(ctx, CELL_LSTM);
}

static edgec_status run_gru(edgec_op_ctx *ctx)
{
    return run_recurrent(ctx, CELL_GRU);
}

static edgec_status run_rnn(edgec_op_ctx *ctx)
{
    return run_recurrent(ctx, CELL_RNN);
}

const edgec_op edgec__ops_rnn[] = {
    {"LSTM", "", 1, run_lstm},
    {"GRU", "", 1, run_gru},
    {"RNN", "", 1, run_rnn},
    {0},
};
