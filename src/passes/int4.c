/* --int4: 4-bit weights in blocks of 32 along the input axis.
 *
 * Each weight of Conv, ConvTranspose, Gemm, MatMul, LSTM/GRU/RNN and Gather becomes an
 * INT4 tensor (two values per byte, low nibble first) with one float scale per block of
 * 32 input features, read by a DequantizeLinear with `block_size` (opset 21, IR 10). The
 * model's opset is raised to 21 when every node keeps its meaning; otherwise the pass
 * refuses and says which node stands in the way.
 *
 * A Conv with fewer than PER_CHANNEL_BELOW input channels per group (a depthwise conv, an
 * RGB stem) would get a scale for every one to seven weights that way, which costs more
 * than its float weights did. Such a weight becomes int8 with one scale per output
 * channel instead (DequantizeLinear with `axis` 0, no `block_size`): one byte a weight,
 * and these small, sensitive layers keep int8's accuracy. On the digits CNN, int4 per
 * channel would cost 1.1 more top-1 points for 216 bytes.
 *
 * Rounding: each block's scale is the clipping ratio of least squared error. With --calib,
 * MatMul/Gemm weights of the main graph are rounded GPTQ-style instead (Frantar et al.
 * 2022): input by input, each rounding error is pushed onto the inputs not yet rounded,
 * weighted by the inverse Hessian of the layer's inputs on the calibration data, so the
 * layer's output error is what gets minimised. Biases absorb the expected shift of the
 * other layers (--no-bias-correct skips it). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "passes/calibrate.h"
#include "passes/equalize.h"
#include "passes/linalg_small.h"
#include "passes/quant_common.h"
#include "runtime/rt.h"

#define NOMEM edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory")
#define BLOCK 32
#define PER_CHANNEL_BELOW 8
/* GPTQ costs K^3 + K^2 N per layer and K^2 doubles of memory: larger layers are rounded
 * to nearest instead (and say so). */
#define GPTQ_MAX_K 2048
#define GPTQ_MAX_WORK 4e9

/* ---- GPTQ ----------------------------------------------------------------------------- */

/* A layer GPTQ rounds: weight viewed as W[k][n] (K inputs, N outputs), and the running
 * sum of x x^T over its inputs. */
typedef struct gptq_layer {
    size_t q;        /* index into the weight list */
    const char *x;   /* the activation it reads */
    int64_t K, N;
    double *H;       /* [K*K] */
    uint64_t rows;
} gptq_layer;

typedef struct gptq_ctx {
    gptq_layer *l;
    size_t n;
    const char **names; /* distinct activations */
    size_t n_names;
} gptq_ctx;

static edgec_status gptq_sample(int64_t sample, const edgec_array *const *values, void *vctx)
{
    (void)sample;
    gptq_ctx *g = vctx;
    for (size_t i = 0; i < g->n; i++) {
        gptq_layer *l = &g->l[i];
        size_t k = 0;
        while (strcmp(g->names[k], l->x))
            k++;
        const edgec_array *a = values[k];
        if (!a->numel || a->numel % l->K)
            return edgec__fail(EDGEC_STATUS_INVALID_DATA,
                               "value '%s' has %lld elements, not a multiple of %lld inputs",
                               l->x, (long long)a->numel, (long long)l->K);
        const float *x = a->data;
        int64_t rows = a->numel / l->K, K = l->K;
        for (int64_t r = 0; r < rows; r++) {
            const float *xr = x + r * K;
            for (int64_t p = 0; p < K; p++) {
                double xp = xr[p];
                if (xp == 0.0)
                    continue;
                double *hp = l->H + p * K;
                for (int64_t c = p; c < K; c++)
                    hp[c] += xp * xr[c];
            }
        }
        l->rows += (uint64_t)rows;
    }
    return EDGEC_STATUS_OK;
}

/* U, upper triangular with U^T U = H^-1, as GPTQ uses it: row k of U spreads the error of
 * input k over the inputs after it. */
static bool inverse_chol_upper(double *h, int64_t n, double *u)
{
    if (!edgec__cholesky(h, n))
        return false;
    /* Linv = L^-1 (lower), by forward substitution column by column. */
    double *li = calloc((size_t)(n * n), sizeof *li);
    if (!li)
        return false;
    for (int64_t c = 0; c < n; c++) {
        li[c * n + c] = 1.0 / h[c * n + c];
        for (int64_t i = c + 1; i < n; i++) {
            double s = 0.0;
            for (int64_t k = c; k < i; k++)
                s += h[i * n + k] * li[k * n + c];
            li[i * n + c] = -s / h[i * n + i];
        }
    }
    /* H^-1 = Linv^T Linv. */
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = i; j < n; j++) {
            double s = 0.0;
            for (int64_t k = j; k < n; k++)
                s += li[k * n + i] * li[k * n + j];
            u[i * n + j] = u[j * n + i] = s;
        }
    free(li);
    if (!edgec__cholesky(u, n))
        return false;
    /* U = L^T of H^-1's factor. */
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < n; j++)
            if (j > i) {
                u[i * n + j] = u[j * n + i];
                u[j * n + i] = 0.0;
            }
    return true;
}

/* Rounds w (W[k][n] at w[k*sk + n*sn]) GPTQ-style into q, with scales per block of BLOCK
 * inputs stored at scales[b*ssb + n*ssn]. */
static edgec_status gptq_round(gptq_layer *l, float *w, int64_t sk, int64_t sn, int8_t *q,
                               float *scales, int64_t ssb, int64_t ssn, bool *ok)
{
    int64_t K = l->K, N = l->N;
    double *H = l->H, *U = malloc((size_t)(K * K) * sizeof *U);
    double *W = malloc((size_t)(K * N) * sizeof *W);
    float *col = malloc((size_t)BLOCK * sizeof *col);
    *ok = false;
    if (!U || !W || !col) {
        free(U);
        free(W);
        free(col);
        return NOMEM;
    }
    /* Mirror the upper triangle, average, and damp by 1% of the mean diagonal; inputs
     * never seen nonzero get a unit diagonal so the factorization exists. */
    double mean = 0.0;
    for (int64_t i = 0; i < K; i++) {
        for (int64_t j = 0; j < i; j++)
            H[i * K + j] = H[j * K + i];
        mean += H[i * K + i];
    }
    mean = mean / (double)K / (double)(l->rows ? l->rows : 1);
    double damp = 0.01 * (mean > 0.0 ? mean : 1.0);
    for (int64_t i = 0; i < K * K; i++)
        H[i] /= (double)(l->rows ? l->rows : 1);
    for (int64_t i = 0; i < K; i++)
        H[i * K + i] = H[i * K + i] > 0.0 ? H[i * K + i] + damp : 1.0;
    if (!inverse_chol_upper(H, K, U))
        goto cleanup;
    for (int64_t k = 0; k < K; k++)
        for (int64_t n = 0; n < N; n++)
            W[k * N + n] = w[k * sk + n * sn];
    for (int64_t k = 0; k < K; k++) {
        if (k % BLOCK == 0) {
            int64_t kn = K - k < BLOCK ? K - k : BLOCK;
            for (int64_t n = 0; n < N; n++) {
                for (int64_t j = 0; j < kn; j++)
                    col[j] = (float)W[(k + j) * N + n];
                scales[(k / BLOCK) * ssb + n * ssn] = edgec__int4_scale(col, kn, 1);
            }
        }
        double d = U[k * K + k];
        for (int64_t n = 0; n < N; n++) {
            float s = scales[(k / BLOCK) * ssb + n * ssn];
            float v = edgec__round_half_even((float)W[k * N + n] / s);
            v = v < -8.0f ? -8.0f : v > 7.0f ? 7.0f : v;
            q[k * sk + n * sn] = (int8_t)v;
            double err = (W[k * N + n] - (double)v * s) / d;
            for (int64_t j = k + 1; j < K; j++)
                W[j * N + n] -= err * U[k * K + j];
        }
    }
    *ok = true;
cleanup:
    free(U);
    free(W);
    free(col);
    return EDGEC_STATUS_OK;
}

/* Which weights GPTQ takes: MatMul (2-D weight) and Gemm of the main graph reading a
 * float activation, small enough. */
static bool gptq_candidate(const edgec_model *m, const edgec_qweight *q)
{
    const edgec_node *n = q->node;
    if (n->graph != m->graph || q->uses != 1 || q->input != 1 || q->w.rank != 2 ||
        !n->n_inputs || !*n->inputs[0])
        return false;
    if (!edgec__qop_is(n, "MatMul") && !(edgec__qop_is(n, "Gemm") && !edgec__node_attr(n, "transA")))
        return false;
    double K = (double)q->w.dims[q->in_axis], N = (double)q->w.dims[q->out_axis];
    return K <= GPTQ_MAX_K && K * K * (K + N) <= GPTQ_MAX_WORK;
}

static edgec_status gptq_collect(const edgec_pass_ctx *ctx, const edgec_qweight *q, size_t nq,
                                 gptq_ctx *g)
{
    g->l = calloc(nq + 1, sizeof *g->l);
    g->names = calloc(nq + 1, sizeof *g->names);
    if (!g->l || !g->names)
        return NOMEM;
    for (size_t i = 0; i < nq; i++) {
        if (!gptq_candidate(ctx->model, &q[i]) || edgec__pass_excluded(ctx, q[i].node, NULL))
            continue;
        gptq_layer *l = &g->l[g->n];
        *l = (gptq_layer){i, q[i].node->inputs[0], q[i].w.dims[q[i].in_axis],
                          q[i].w.dims[q[i].out_axis], NULL, 0};
        if (!(l->H = calloc((size_t)(l->K * l->K), sizeof *l->H)))
            return NOMEM;
        g->n++;
        size_t k = 0;
        while (k < g->n_names && strcmp(g->names[k], l->x))
            k++;
        if (k == g->n_names)
            g->names[g->n_names++] = l->x;
    }
    if (!g->n)
        return EDGEC_STATUS_OK;
    return edgec__collect(ctx->model, ctx->calib, g->names, g->n_names, 0, gptq_sample, g);
}

static void gptq_free(gptq_ctx *g)
{
    for (size_t i = 0; g->l && i < g->n; i++)
        free(g->l[i].H);
    free(g->l);
    free(g->names);
}

/* ---- the pass ------------------------------------------------------------------------- */

static edgec_status run(edgec_pass_ctx *ctx)
{
    edgec_model *m = ctx->model;
    edgec_qemit e = {m, NULL, NULL, 0, 0};
    edgec_qweight *q = NULL;
    size_t nq = 0, pairs = 0, n_gptq = 0, n_bias = 0, n_done = 0, n_channel = 0;
    gptq_ctx g = {0};
    double **means = NULL;
    int64_t *channels = NULL;
    float *w = NULL, *wdq = NULL, *scales = NULL;
    int8_t *unpacked = NULL;
    uint64_t before = 0, after = 0;
    bool bias_correct = !edgec__pass_option(ctx, "no-bias-correct");
    edgec_status st = edgec__quant_raise_opset(
        ctx, 21, 10, "--int4 (DequantizeLinear with block_size)",
        "Re-export the model at opset 21 or newer, or use --int8 (per-channel from opset 13, "
        "per-tensor from 10).");
    if (st)
        return st;
    if (!edgec__pass_option(ctx, "no-equalize") && (st = edgec__equalize(ctx, &pairs)))
        goto cleanup;
    if ((st = edgec__qweights_find(ctx, &q, &nq)))
        goto cleanup;
    means = calloc(nq + 1, sizeof *means);
    channels = calloc(nq + 1, sizeof *channels);
    if (!means || !channels) {
        st = NOMEM;
        goto cleanup;
    }
    if (ctx->calib && (st = gptq_collect(ctx, q, nq, &g)))
        goto cleanup;
    if (bias_correct && (st = edgec__input_means(ctx, q, nq, NULL, NULL, 0, means, channels)))
        goto cleanup;
    for (size_t i = 0; i < nq; i++) {
        const edgec_weight *wt = &q[i].w;
        int axis = q[i].in_axis;
        int64_t numel = wt->numel, sdims[EDGEC_MAX_RANK], ns = 1;
        bool per_channel = q[i].out_axis == 0 && wt->rank >= 3 && wt->dims[axis] < PER_CHANNEL_BELOW;
        int64_t pc_dims[2] = {wt->dims[0], wt->dims[0] ? numel / wt->dims[0] : 0};
        memcpy(sdims, wt->dims, (size_t)wt->rank * sizeof *sdims);
        sdims[axis] = (sdims[axis] + BLOCK - 1) / BLOCK;
        for (int32_t k = 0; k < wt->rank; k++)
            ns *= sdims[k];
        if (per_channel)
            ns = pc_dims[0];
        free(w);
        free(wdq);
        free(scales);
        free(unpacked);
        wdq = NULL;
        scales = NULL;
        unpacked = NULL;
        if ((st = edgec__qweight_load(wt, &w)))
            goto cleanup;
        bool finite = true;
        for (int64_t k = 0; k < numel && finite; k++)
            finite = isfinite(w[k]);
        if (!finite) {
            edgec__pass_log(ctx, "weight '%s' has NaN or infinite values: kept in float", wt->name);
            continue;
        }
        scales = malloc((size_t)ns * sizeof *scales);
        unpacked = malloc((size_t)numel);
        size_t qbytes = per_channel ? (size_t)numel : (size_t)(numel + 1) / 2;
        uint8_t *packed = edgec__arena_alloc(m->arena, qbytes);
        if (!scales || !unpacked || !packed) {
            st = NOMEM;
            goto cleanup;
        }
        bool rounded = false;
        for (size_t l = 0; l < g.n && !rounded; l++) {
            if (g.l[l].q != i)
                continue;
            /* W[k][n] strides in the stored layout, and the scales' (same layout, K/32). */
            bool kn = q[i].in_axis == 0;
            int64_t K = g.l[l].K, N = g.l[l].N, KB = sdims[axis];
            if ((st = gptq_round(&g.l[l], w, kn ? N : 1, kn ? 1 : K, unpacked, scales,
                                 kn ? N : 1, kn ? 1 : KB, &rounded)))
                goto cleanup;
            if (!rounded)
                edgec__pass_log(ctx, "weight '%s': its inputs' Hessian is singular; rounded "
                                "to nearest", wt->name);
        }
        if (per_channel)
            edgec__quant_int8(w, wt->rank, wt->dims, 0, unpacked, scales);
        else if (!rounded)
            edgec__quant_int4_blocked(w, wt->rank, wt->dims, axis, BLOCK, unpacked, scales);
        n_gptq += rounded;
        if (means[i] && !rounded) {
            /* The dequantized weights, for the bias's expected shift. */
            int64_t outer, len, inner;
            edgec__axis_split(wt->rank, wt->dims, axis, &outer, &len, &inner);
            if (!(wdq = malloc((size_t)numel * sizeof *wdq))) {
                st = NOMEM;
                goto cleanup;
            }
            for (int64_t o = 0; o < outer; o++)
                for (int64_t k = 0; k < len; k++)
                    for (int64_t in = 0; in < inner; in++) {
                        int64_t idx = (o * len + k) * inner + in;
                        wdq[idx] = (float)unpacked[idx] *
                                   (per_channel ? scales[idx / pc_dims[1]]
                                                : scales[(o * sdims[axis] + k / BLOCK) * inner + in]);
                    }
        }
        if (per_channel)
            memcpy(packed, unpacked, qbytes);
        else
            edgec__pack_int4(unpacked, numel, packed);
        if ((st = per_channel
                      ? edgec__qweight_emit(&e, &q[i], EDGEC_DTYPE_INT8, packed, qbytes, scales,
                                            1, pc_dims, 0, 0)
                      : edgec__qweight_emit(&e, &q[i], EDGEC_DTYPE_INT4, packed, qbytes, scales,
                                            wt->rank, sdims, axis, BLOCK)))
            goto cleanup;
        n_channel += per_channel;
        before += (uint64_t)numel * 4;
        after += qbytes + (uint64_t)ns * 4;
        n_done++;
        if (wdq) {
            bool corrected;
            if ((st = edgec__bias_correct(&e, &q[i], w, wdq, means[i], channels[i], &corrected)))
                goto cleanup;
            n_bias += corrected;
        }
    }
    edgec__pass_log(ctx,
                    "%zu weight tensors to int4 in blocks of %d (%zu Conv weights with fewer "
                    "than %d input channels per group to int8 per output channel instead), "
                    "%.1f kB -> %.1f kB; "
                    "%zu rounded GPTQ-style on calibration data, %zu layer pairs equalized, %zu "
                    "biases corrected",
                    n_done, BLOCK, n_channel, PER_CHANNEL_BELOW, (double)before / 1e3,
                    (double)after / 1e3, n_gptq, pairs, n_bias);
cleanup:
    for (size_t i = 0; means && i < nq; i++)
        free(means[i]);
    free(means);
    free(channels);
    free(w);
    free(wdq);
    free(scales);
    free(unpacked);
    gptq_free(&g);
    edgec__qemit_free(&e);
    return st;
}

static const edgec_pass_option options[] = {
    {"no-equalize", NULL, "skip cross-layer equalization before quantizing"},
    {"no-bias-correct", NULL, "skip correcting biases for the rounding's expected shift"},
    {0},
};

const edgec_pass edgec__pass_int4 = {
    "int4",
    NULL,
    false,
    "4-bit weights in blocks of 32 (DequantizeLinear with block_size; raises the opset to "
    "21); convs with under 8 input channels per group (depthwise, stems) get int8 per "
    "channel; with --calib, GPTQ-style rounding",
    EDGEC_ORDER_QUANTIZE,
    options,
    NULL,
    run,
    true, /* layer settings */
};
