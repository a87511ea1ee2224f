/* --int8[=weights|dynamic|static]: 8-bit quantization.
 *
 * weights (default): every weight of Conv, ConvTranspose, Gemm, MatMul, LSTM/GRU/RNN and
 *   Gather becomes a symmetric int8 tensor with one float scale per output channel
 *   (per tensor before opset 13) feeding a DequantizeLinear, wherever it lives. Biases
 *   stay float. The file's weight bytes shrink 4x; every runtime runs it.
 * dynamic: MatMul/Gemm/Conv of the main graph read DynamicQuantizeLinear'd activations
 *   (uint8) with MatMulInteger/ConvInteger on int8 weights, then rescale to float, as ONNX
 *   Runtime's CPU provider expects. Other weights are quantized as in `weights`.
 * static (needs --calib): activations get fixed ranges from calibration. QDQ format puts
 *   QuantizeLinear/DequantizeLinear on the activation inputs of Conv/Gemm/MatMul; QOp
 *   format (--int8-format qop) writes QLinearConv/QLinearMatMul.
 *
 * Before quantizing, cross-layer equalization evens out channel ranges (--no-equalize
 * skips it) and afterwards biases absorb the rounding's expected shift where its input
 * mean is known (--no-bias-correct skips it). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "passes/calibrate.h"
#include "passes/equalize.h"
#include "passes/quant_common.h"
#include "runtime/rt.h"

#define NOMEM edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory")

enum int8_mode { MODE_WEIGHTS, MODE_DYNAMIC, MODE_STATIC };

static edgec_status parse_mode(const char *arg, int *mode)
{
    if (!arg || !strcmp(arg, "weights"))
        *mode = MODE_WEIGHTS;
    else if (!strcmp(arg, "dynamic"))
        *mode = MODE_DYNAMIC;
    else if (!strcmp(arg, "static"))
        *mode = MODE_STATIC;
    else
        return edgec__fail(EDGEC_STATUS_USAGE,
                           "--int8 takes weights, dynamic or static (--int8=static), not '%s'",
                           arg);
    return EDGEC_STATUS_OK;
}

static edgec_status check(const char *arg)
{
    int mode;
    return parse_mode(arg, &mode);
}

/* Everything one run of the pass works with. */
typedef struct int8_run {
    edgec_pass_ctx *ctx;
    edgec_model *m;
    edgec_qemit e;
    int mode;
    bool qop, per_axis, bias_correct;
    edgec_calib_method method;
    edgec_qweight *q;
    size_t nq;
    /* Activation values quantized with fixed ranges (static), or dynamically. */
    const char **acts;
    int *act_axes;
    size_t n_acts;
    edgec_calib *cal;
    /* Nodes replaced by their integer form, removed at the end. */
    edgec_node **drop;
    size_t n_drop;
    size_t n_weights, n_dyn, n_static, n_bias;
    uint64_t bytes_before, bytes_after;
} int8_run;

static bool all_finite(const float *w, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(w[i]))
            return false;
    return true;
}

/* The float values the int8 data stands for. */
static void dequantize(const int8_t *q, const float *scales, int32_t rank, const int64_t *dims,
                       int axis, float *out)
{
    int64_t outer, len, inner;
    edgec__axis_split(rank, dims, axis < 0 ? rank : axis, &outer, &len, &inner);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t a = 0; a < len; a++)
            for (int64_t i = 0; i < inner; i++) {
                int64_t k = (o * len + a) * inner + i;
                out[k] = (float)q[k] * scales[axis < 0 ? 0 : a];
            }
}

/* ---- weight-only ---------------------------------------------------------------------- */

/* Quantizes weight `q` to int8 + DequantizeLinear; with `w`/`wq` given fills them with the
 * float and dequantized values (for bias correction). */
static edgec_status quantize_dq(int8_run *r, const edgec_qweight *q, float *w, float *wq)
{
    edgec_model *m = r->m;
    int64_t numel = q->w.numel;
    int axis = r->per_axis ? q->out_axis : -1;
    int64_t ns = axis < 0 ? 1 : q->w.dims[axis];
    int8_t *data = edgec__arena_alloc(m->arena, (size_t)numel);
    float *scales = malloc((size_t)ns * sizeof *scales);
    if (!data || !scales) {
        free(scales);
        return NOMEM;
    }
    edgec__quant_int8(w, q->w.rank, q->w.dims, axis, data, scales);
    if (wq)
        dequantize(data, scales, q->w.rank, q->w.dims, axis, wq);
    edgec_status st = edgec__qweight_emit(&r->e, q, EDGEC_DTYPE_INT8, data, (size_t)numel, scales,
                                          axis < 0 ? 0 : 1, &ns, axis, 0);
    free(scales);
    r->bytes_before += (uint64_t)numel * 4;
    r->bytes_after += (uint64_t)numel + (uint64_t)ns * 4;
    r->n_weights++;
    return st;
}

/* ---- helpers for the integer rewrites --------------------------------------------------- */

static const char *fresh(int8_run *r, const char *base, const char *suffix)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s%s", base, suffix);
    return edgec__unique_name(r->m, buf);
}

static edgec_status add_init(int8_run *r, edgec_tensor *t)
{
    return t ? edgec__graph_add_init(r->m, r->m->graph, t) : NOMEM;
}

static edgec_tensor *scalar_tensor(int8_run *r, const char *name, int32_t dtype)
{
    return name ? edgec__tensor_new(r->m, name, dtype, 0, NULL) : NULL;
}

/* A node in the main graph at `*pos` with inputs/outputs given (NULL-terminated lists). */
static edgec_status add_node(int8_run *r, size_t *pos, const char *op, const char *name,
                             const char *const *in, const char *const *out, edgec_node **made)
{
    size_t ni = 0, no = 0;
    while (in[ni])
        ni++;
    while (out[no])
        no++;
    edgec_node *n = edgec__node_new(r->m, op, name, ni, no);
    if (!n)
        return NOMEM;
    for (size_t i = 0; i < ni; i++)
        n->inputs[i] = (char *)in[i];
    for (size_t i = 0; i < no; i++)
        n->outputs[i] = (char *)out[i];
    if (made)
        *made = n;
    return edgec__qemit_insert(&r->e, r->m->graph, pos, n);
}

/* Copies the attributes of `from` (Conv's geometry) onto `to`. */
static edgec_status copy_attrs(int8_run *r, const edgec_node *from, edgec_node *to)
{
    edgec_attr *a = edgec__arena_calloc(r->m->arena, from->n_attrs ? from->n_attrs : 1, sizeof *a);
    if (!a)
        return NOMEM;
    for (size_t i = 0; i < from->n_attrs; i++) {
        a[i] = from->attrs[i];
        a[i].origin = NULL;
    }
    to->attrs = a;
    to->n_attrs = from->n_attrs;
    return EDGEC_STATUS_OK;
}

/* The weight as int8 in the layout the integer op reads: [K, N] for MatMul forms
 * (transposed from Gemm's transB layout), as is for Conv. `*scales` (malloc'd, one per
 * output, Gemm's alpha folded in) is what the integer result gets multiplied by besides
 * the activation's scale. */
static edgec_status int_weight(int8_run *r, const edgec_qweight *q, const float *w,
                               float **scales, const char **qname)
{
    edgec_model *m = r->m;
    int64_t numel = q->w.numel, n_out = q->w.dims[q->out_axis];
    int8_t *data = edgec__arena_alloc(m->arena, (size_t)numel);
    if (!data || !(*scales = malloc((size_t)n_out * sizeof **scales)))
        return NOMEM;
    edgec__quant_int8(w, q->w.rank, q->w.dims, q->out_axis, data, *scales);
    float alpha = edgec__qop_is(q->node, "Gemm") ? edgec__attr_float(q->node, "alpha", 1.0f) : 1.0f;
    for (int64_t o = 0; o < n_out; o++)
        (*scales)[o] *= alpha;
    int64_t dims[EDGEC_MAX_RANK];
    memcpy(dims, q->w.dims, (size_t)q->w.rank * sizeof *dims);
    if (edgec__qop_is(q->node, "Gemm") && q->out_axis == 0) {
        int64_t N = q->w.dims[0], K = q->w.dims[1];
        int8_t *t = edgec__arena_alloc(m->arena, (size_t)numel);
        if (!t)
            return NOMEM;
        for (int64_t n = 0; n < N; n++)
            for (int64_t k = 0; k < K; k++)
                t[k * N + n] = data[n * K + k];
        /* The untransposed copy is not needed any more: give a large one back now. */
        edgec__arena_release(m->arena, data);
        data = t;
        dims[0] = K;
        dims[1] = N;
    }
    r->bytes_before += (uint64_t)numel * 4;
    r->bytes_after += (uint64_t)numel + (uint64_t)n_out * 4;
    r->n_weights++;
    return edgec__qweight_replace(&r->e, q, EDGEC_DTYPE_INT8, data, (size_t)numel, q->w.rank, dims,
                                  qname);
}

/* The float bias the rewritten node adds after rescaling, as a constant shaped to broadcast
 * over its output ([N], or [M, 1, 1] for Conv): Gemm's C times beta or Conv's B. NULL name
 * when the node has none. Fails (keeping the node float) when the bias is not constant. */
static edgec_status bias_const(int8_run *r, const edgec_qweight *q, int64_t n_out, int32_t out_rank,
                               const char **name, bool *ok)
{
    edgec_node *n = q->node;
    *name = NULL;
    *ok = true;
    if (n->n_inputs < 3 || !*n->inputs[2])
        return EDGEC_STATUS_OK;
    edgec_weight b;
    if (!edgec__find_const(r->m, n->graph, n->inputs[2], false, &b) ||
        b.dtype != EDGEC_DTYPE_FLOAT || !b.tensor || !b.tensor->data ||
        (b.numel != n_out && b.numel != 1)) {
        *ok = false;
        return EDGEC_STATUS_OK;
    }
    float mult = edgec__qop_is(n, "Gemm") ? edgec__attr_float(n, "beta", 1.0f) : 1.0f;
    int64_t dims[EDGEC_MAX_RANK];
    int32_t rank = edgec__qop_is(n, "Conv") ? out_rank - 1 : 1;
    for (int32_t i = 0; i < rank; i++)
        dims[i] = 1;
    dims[0] = n_out;
    edgec_tensor *t = edgec__tensor_new(r->m, fresh(r, n->inputs[2], "_rescaled"),
                                        EDGEC_DTYPE_FLOAT, rank, dims);
    if (!t)
        return NOMEM;
    float *d = t->data;
    for (int64_t o = 0; o < n_out; o++) {
        float v;
        memcpy(&v, (const char *)b.tensor->data + (b.numel == 1 ? 0 : o) * 4, 4);
        d[o] = v * mult;
    }
    *name = t->name;
    return add_init(r, t);
}

/* Whether node `n` (reading weight q) can take an integer form: main graph, float
 * activation in input 0, weight read only here, Gemm without transA, MatMul on a 2-D
 * weight. */
static bool integer_candidate(const int8_run *r, const edgec_qweight *q)
{
    const edgec_node *n = q->node;
    if (n->graph != r->m->graph || q->w.graph != r->m->graph || q->uses != 1 || q->input != 1 ||
        !n->n_inputs || !*n->inputs[0] || n->n_outputs != 1)
        return false;
    if (edgec__qop_is(n, "Conv"))
        return q->w.rank >= 3;
    if (edgec__qop_is(n, "Gemm"))
        return !edgec__attr_int(n, "transA", 0);
    if (edgec__qop_is(n, "MatMul"))
        return q->w.rank == 2;
    return false;
}

/* Ends the integer form of `n`: adds the float bias to `unbiased` under n's output name
 * (when there is a bias; otherwise `unbiased` already is that name) and marks n for
 * removal. */
static edgec_status finish_rewrite(int8_run *r, size_t *pos, edgec_node *n, const char *base,
                                   const char *unbiased, const char *bias)
{
    if (bias) {
        const char *in[] = {unbiased, bias, NULL}, *out[] = {n->outputs[0], NULL};
        edgec_status st = add_node(r, pos, "Add", fresh(r, base, "_bias_Add"), in, out, NULL);
        if (st)
            return st;
    }
    r->drop[r->n_drop++] = n;
    return EDGEC_STATUS_OK;
}

/* ---- dynamic ------------------------------------------------------------------------- */

/* The DynamicQuantizeLinear outputs for activation `x`, made once per value, placed
 * before the first node reading it. */
typedef struct dyn_act {
    const char *x, *xq, *xs, *xzp;
} dyn_act;

static edgec_status dynamic_node(int8_run *r, const edgec_qweight *q, const float *w,
                                 dyn_act *acts, size_t *n_acts, bool *done)
{
    edgec_node *n = q->node;
    bool conv = edgec__qop_is(n, "Conv");
    const char *bias = NULL;
    bool ok;
    int64_t n_out = q->w.dims[q->out_axis];
    int32_t out_rank = conv ? q->w.rank : 2;
    edgec_status st;
    *done = false;
    if ((st = bias_const(r, q, n_out, out_rank, &bias, &ok)) || !ok)
        return st;
    float *scales = NULL;
    const char *wq;
    if ((st = int_weight(r, q, w, &scales, &wq)))
        goto cleanup;
    size_t pos = edgec__node_pos(r->m->graph, n);
    const char *base = *n->name ? n->name : n->outputs[0];
    /* The activation's quantization, shared by every rewritten reader. */
    size_t k = 0;
    while (k < *n_acts && strcmp(acts[k].x, n->inputs[0]))
        k++;
    if (k == *n_acts) {
        dyn_act a = {n->inputs[0], fresh(r, n->inputs[0], "_quantized"),
                     fresh(r, n->inputs[0], "_scale"), fresh(r, n->inputs[0], "_zero_point")};
        const char *in[] = {a.x, NULL}, *out[] = {a.xq, a.xs, a.xzp, NULL};
        if ((st = add_node(r, &pos, "DynamicQuantizeLinear", fresh(r, a.x, "_DynamicQuantizeLinear"),
                           in, out, NULL)))
            goto cleanup;
        acts[(*n_acts)++] = a;
    }
    dyn_act *a = &acts[k];
    /* Output scale per channel: x_scale * w_scale. */
    int64_t sd[EDGEC_MAX_RANK];
    int32_t srank = conv ? out_rank - 1 : 1;
    for (int32_t i = 0; i < srank; i++)
        sd[i] = 1;
    sd[0] = n_out;
    edgec_tensor *ws = edgec__qtensor_f32(r->m, fresh(r, q->w.name, "_scale"), srank, sd, scales);
    if ((st = add_init(r, ws)))
        goto cleanup;
    const char *acc = fresh(r, base, "_int32"), *accf = fresh(r, base, "_int32_float"),
               *sc = fresh(r, base, "_output_scale"), *y = n->outputs[0];
    const char *mm = bias ? fresh(r, base, "_unbiased") : y;
    edgec_node *in_node;
    const char *i1[] = {a->xq, wq, a->xzp, NULL}, *o1[] = {acc, NULL};
    if ((st = add_node(r, &pos, conv ? "ConvInteger" : "MatMulInteger",
                       fresh(r, base, conv ? "_ConvInteger" : "_MatMulInteger"), i1, o1, &in_node)))
        goto cleanup;
    if (conv) {
        if ((st = copy_attrs(r, n, in_node)))
            goto cleanup;
    }
    edgec_node *cast;
    const char *i2[] = {acc, NULL}, *o2[] = {accf, NULL};
    if ((st = add_node(r, &pos, "Cast", fresh(r, base, "_Cast"), i2, o2, &cast)) ||
        (st = edgec__attr_set_int(r->m, cast, "to", EDGEC_DTYPE_FLOAT)))
        goto cleanup;
    const char *i3[] = {a->xs, ws->name, NULL}, *o3[] = {sc, NULL};
    const char *i4[] = {accf, sc, NULL}, *o4[] = {mm, NULL};
    if ((st = add_node(r, &pos, "Mul", fresh(r, base, "_scale_Mul"), i3, o3, NULL)) ||
        (st = add_node(r, &pos, "Mul", fresh(r, base, "_rescale"), i4, o4, NULL)))
        goto cleanup;
    if ((st = finish_rewrite(r, &pos, n, base, mm, bias)))
        goto cleanup;
    r->n_dyn++;
    *done = true;
cleanup:
    free(scales);
    return st;
}

/* ---- static --------------------------------------------------------------------------- */

/* uint8 scale and zero point covering [lo, hi] (which contains 0). */
static void u8_params(float lo, float hi, float *scale, uint8_t *zp)
{
    float s = (hi - lo) / 255.0f;
    if (!(s > 0.0f) || !isfinite(s)) {
        *scale = 1.0f;
        *zp = 0;
        return;
    }
    float z = edgec__round_half_even(-lo / s);
    *scale = s;
    *zp = (uint8_t)(z < 0.0f ? 0.0f : z > 255.0f ? 255.0f : z);
}

static size_t act_index(const int8_run *r, const char *name)
{
    for (size_t i = 0; i < r->n_acts; i++)
        if (!strcmp(r->acts[i], name))
            return i;
    return r->n_acts;
}

/* Scale and zero-point constants for activation `name` from its calibrated range. */
static edgec_status act_params(int8_run *r, const char *name, float lo, float hi,
                               const char **sname, const char **zname, float *scale,
                               uint8_t *zp)
{
    u8_params(lo, hi, scale, zp);
    edgec_tensor *s = scalar_tensor(r, fresh(r, name, "_scale"), EDGEC_DTYPE_FLOAT);
    edgec_tensor *z = scalar_tensor(r, fresh(r, name, "_zero_point"), EDGEC_DTYPE_UINT8);
    if (!s || !z)
        return NOMEM;
    memcpy(s->data, scale, 4);
    *(uint8_t *)z->data = *zp;
    *sname = s->name;
    *zname = z->name;
    edgec_status st = add_init(r, s);
    return st ? st : add_init(r, z);
}

/* The quantized form of activation `x`: QuantizeLinear once, placed before `before`. */
typedef struct st_act {
    const char *x, *xq, *xs, *xz, *xdq;
    float scale;
    uint8_t zp;
} st_act;

static edgec_status static_act(int8_run *r, st_act *acts, size_t *n, const char *x,
                               edgec_node *before, st_act **out)
{
    for (size_t i = 0; i < *n; i++)
        if (!strcmp(acts[i].x, x)) {
            *out = &acts[i];
            return EDGEC_STATUS_OK;
        }
    size_t k = act_index(r, x);
    float lo, hi;
    edgec__calib_range(r->cal, k, r->method, &lo, &hi);
    st_act a = {x, fresh(r, x, "_quantized"), NULL, NULL, NULL, 0, 0};
    edgec_status st = act_params(r, x, lo, hi, &a.xs, &a.xz, &a.scale, &a.zp);
    if (st)
        return st;
    size_t pos = edgec__node_pos(r->m->graph, before);
    const char *in[] = {x, a.xs, a.xz, NULL}, *out1[] = {a.xq, NULL};
    if ((st = add_node(r, &pos, "QuantizeLinear", fresh(r, x, "_QuantizeLinear"), in, out1, NULL)))
        return st;
    if (!r->qop) {
        a.xdq = fresh(r, x, "_dequantized");
        const char *in2[] = {a.xq, a.xs, a.xz, NULL}, *out2[] = {a.xdq, NULL};
        if ((st = add_node(r, &pos, "DequantizeLinear", fresh(r, x, "_DequantizeLinear"), in2,
                           out2, NULL)))
            return st;
    }
    acts[*n] = a;
    *out = &acts[(*n)++];
    return EDGEC_STATUS_OK;
}

/* QOp form of one node: QLinearConv or QLinearMatMul (+ Add of the float bias), with the
 * output dequantized under the node's output name. */
static edgec_status qop_node(int8_run *r, const edgec_qweight *q, const float *w, st_act *x,
                             bool *done)
{
    edgec_node *n = q->node;
    bool conv = edgec__qop_is(n, "Conv");
    int64_t n_out = q->w.dims[q->out_axis];
    const char *bias = NULL;
    bool ok;
    edgec_status st;
    *done = false;
    if (!conv && (st = bias_const(r, q, n_out, 2, &bias, &ok)))
        return st;
    if (!conv && !ok)
        return EDGEC_STATUS_OK;
    edgec_weight cb;
    bool has_b = conv && n->n_inputs > 2 && *n->inputs[2];
    if (has_b && (!edgec__find_const(r->m, n->graph, n->inputs[2], false, &cb) ||
                  cb.dtype != EDGEC_DTYPE_FLOAT || cb.numel != n_out || !cb.tensor->data))
        return EDGEC_STATUS_OK;
    float *scales = NULL;
    const char *wq, *base = *n->name ? n->name : n->outputs[0];
    if ((st = int_weight(r, q, w, &scales, &wq)))
        goto cleanup;
    edgec_tensor *ws = edgec__qtensor_f32(r->m, fresh(r, q->w.name, "_scale"), 1, &n_out, scales);
    edgec_tensor *wz = edgec__tensor_new(r->m, fresh(r, q->w.name, "_zero_point"),
                                         EDGEC_DTYPE_INT8, 1, &n_out);
    if ((st = add_init(r, ws)) || (st = add_init(r, wz)))
        goto cleanup;
    /* The output range: for Gemm the calibrated range includes the bias, which is added
     * after dequantizing; widen by the bias so nothing clips. */
    float lo, hi, ys;
    uint8_t yz;
    edgec__calib_range(r->cal, act_index(r, n->outputs[0]), r->method, &lo, &hi);
    if (bias) {
        const float *bd = NULL;
        for (size_t i = 0; i < r->m->graph->n_inits; i++)
            if (!strcmp(r->m->graph->inits[i]->name, bias))
                bd = r->m->graph->inits[i]->data;
        for (int64_t o = 0; bd && o < n_out; o++) {
            lo = fminf(lo, lo - bd[o]);
            hi = fmaxf(hi, hi - bd[o]);
        }
    }
    const char *ysn, *yzn, *y = n->outputs[0];
    if ((st = act_params(r, y, lo, hi, &ysn, &yzn, &ys, &yz)))
        goto cleanup;
    const char *bq = NULL;
    if (has_b) {
        /* QLinearConv adds an int32 bias on the accumulator's scale x_scale * w_scale. */
        edgec_tensor *t = edgec__tensor_new(r->m, fresh(r, n->inputs[2], "_quantized"),
                                            EDGEC_DTYPE_INT32, 1, &n_out);
        if (!t) {
            st = NOMEM;
            goto cleanup;
        }
        for (int64_t o = 0; o < n_out; o++) {
            float bv;
            memcpy(&bv, (const char *)cb.tensor->data + o * 4, 4);
            double v = rint((double)bv / ((double)x->scale * scales[o]));
            ((int32_t *)t->data)[o] = (int32_t)fmax(fmin(v, 2147483647.0), -2147483647.0);
        }
        bq = t->name;
        if ((st = add_init(r, t)))
            goto cleanup;
    }
    size_t pos = edgec__node_pos(r->m->graph, n);
    const char *yq = fresh(r, y, "_quantized"), *ydq = bias ? fresh(r, base, "_unbiased") : y;
    edgec_node *qn;
    const char *in[] = {x->xq, x->xs, x->xz, wq, ws->name, wz->name, ysn, yzn, bq, NULL};
    const char *out[] = {yq, NULL};
    if ((st = add_node(r, &pos, conv ? "QLinearConv" : "QLinearMatMul",
                       fresh(r, base, conv ? "_QLinearConv" : "_QLinearMatMul"), in, out, &qn)))
        goto cleanup;
    if (conv && (st = copy_attrs(r, n, qn)))
        goto cleanup;
    const char *in2[] = {yq, ysn, yzn, NULL}, *out2[] = {ydq, NULL};
    if ((st = add_node(r, &pos, "DequantizeLinear", fresh(r, y, "_DequantizeLinear"), in2, out2,
                       NULL)))
        goto cleanup;
    if ((st = finish_rewrite(r, &pos, n, base, ydq, bias)))
        goto cleanup;
    r->n_static++;
    *done = true;
cleanup:
    free(scales);
    return st;
}

/* ---- the pass ------------------------------------------------------------------------- */

static bool drop_listed(const edgec_node *n, void *vctx)
{
    const int8_run *r = vctx;
    for (size_t i = 0; i < r->n_drop; i++)
        if (r->drop[i] == n)
            return true;
    return false;
}

/* Opset: per-axis scales need 13 (raised when legal), dynamic ops 11, and anything
 * quantized needs DequantizeLinear (10). */
static edgec_status choose_opset(int8_run *r)
{
    edgec_model *m = r->m;
    int64_t opset = edgec__model_opset(m, "");
    char reason[1024];
    int64_t need = r->mode == MODE_DYNAMIC ? 11 : 10;
    r->per_axis = true;
    if (opset >= 13)
        return EDGEC_STATUS_OK;
    if (edgec__quant_opset_legal(m, 13, reason, sizeof reason))
        return edgec__quant_raise_opset(r->ctx, 13, 7, "per-channel int8 scales", "");
    if (opset >= need) {
        r->per_axis = false;
        edgec__pass_log(r->ctx, "opset %lld stays (%s): one scale per tensor", (long long)opset,
                        reason);
        return EDGEC_STATUS_OK;
    }
    return edgec__quant_raise_opset(r->ctx, need, 5,
                                    r->mode == MODE_DYNAMIC ? "DynamicQuantizeLinear"
                                                            : "DequantizeLinear",
                                    "Re-export the model at a newer opset.");
}

/* Calibrates the activations the static rewrite needs: input 0 of each candidate node
 * (with channel means for bias correction) and, for QOp, its output. */
static edgec_status calibrate_static(int8_run *r)
{
    size_t cap = 2 * r->nq + 1;
    r->acts = calloc(cap, sizeof *r->acts);
    r->act_axes = calloc(cap, sizeof *r->act_axes);
    if (!r->acts || !r->act_axes)
        return NOMEM;
    for (size_t i = 0; i < r->nq; i++) {
        if (!integer_candidate(r, &r->q[i]) || edgec__pass_excluded(r->ctx, r->q[i].node, NULL))
            continue;
        const char *names[2] = {r->q[i].node->inputs[0], r->q[i].node->outputs[0]};
        for (int k = 0; k < (r->qop ? 2 : 1); k++) {
            if (act_index(r, names[k]) < r->n_acts)
                continue;
            r->acts[r->n_acts] = names[k];
            r->act_axes[r->n_acts++] = k == 0 ? edgec__activation_axis(r->q[i].node)
                                              : EDGEC_CALIB_NO_AXIS;
        }
    }
    return edgec__calibrate(r->m, r->ctx->calib, r->acts, r->n_acts, r->act_axes, 0, &r->cal);
}

static edgec_status run(edgec_pass_ctx *ctx)
{
    int8_run r = {.ctx = ctx, .m = ctx->model};
    r.e.m = ctx->model;
    double **means = NULL;
    int64_t *channels = NULL;
    float **wf = NULL, **wdq = NULL;
    dyn_act *dacts = NULL;
    st_act *sacts = NULL;
    size_t n_dacts = 0, n_sacts = 0, pairs = 0;
    edgec_status st = parse_mode(ctx->arg, &r.mode);
    const char *fmt = edgec__pass_option(ctx, "int8-format");
    const char *meth = edgec__pass_option(ctx, "calib-method");
    if (st || (st = edgec__calib_method_parse(meth && *meth ? meth : NULL, &r.method)))
        return st;
    if (fmt && strcmp(fmt, "qdq") && strcmp(fmt, "qop"))
        return edgec__fail(EDGEC_STATUS_USAGE, "--int8-format must be qdq or qop, not '%s'", fmt);
    if ((fmt || meth) && r.mode != MODE_STATIC)
        return edgec__fail(EDGEC_STATUS_USAGE, "--%s applies to --int8=static only",
                           fmt ? "int8-format" : "calib-method");
    if (r.mode == MODE_STATIC && !ctx->calib)
        return edgec__fail(EDGEC_STATUS_USAGE,
                           "--int8=static needs calibration data: add --calib FILE (inputs "
                           "like the ones the model will see), or use --int8 (weights only)");
    r.qop = fmt && !strcmp(fmt, "qop");
    r.bias_correct = !edgec__pass_option(ctx, "no-bias-correct");
    if ((st = choose_opset(&r)))
        goto cleanup;
    /* Equalizing channels pays where one scale spans many channels (per-tensor weights).
     * With a scale per output channel it only reshuffles the second layer's inputs, which
     * measured worse on the sample models (digits MLP 52.2 -> 51.4 dB SQNR, digits CNN
     * static 38.5 -> 36.3 dB), so it is left out there. */
    if (!edgec__pass_option(ctx, "no-equalize") && !r.per_axis &&
        (st = edgec__equalize(ctx, &pairs)))
        goto cleanup;
    if ((st = edgec__qweights_find(ctx, &r.q, &r.nq)))
        goto cleanup;
    means = calloc(r.nq + 1, sizeof *means);
    channels = calloc(r.nq + 1, sizeof *channels);
    wf = calloc(r.nq + 1, sizeof *wf);
    wdq = calloc(r.nq + 1, sizeof *wdq);
    r.drop = calloc(r.nq + 1, sizeof *r.drop);
    dacts = calloc(r.nq + 1, sizeof *dacts);
    sacts = calloc(r.nq + 1, sizeof *sacts);
    if (!means || !channels || !wf || !wdq || !r.drop || !dacts || !sacts) {
        st = NOMEM;
        goto cleanup;
    }
    if (r.mode == MODE_STATIC && (st = calibrate_static(&r)))
        goto cleanup;
    if (r.bias_correct && r.mode != MODE_DYNAMIC &&
        (st = edgec__input_means(ctx, r.q, r.nq, r.cal, r.acts, r.n_acts, means, channels)))
        goto cleanup;
    for (size_t i = 0; i < r.nq; i++) {
        const edgec_qweight *q = &r.q[i];
        /* A weight's float copies serve that weight only: keeping them all until the end
         * would hold a second copy of the model (peak memory of issue 10). */
        if (i) {
            free(wf[i - 1]);
            free(wdq[i - 1]);
            wf[i - 1] = wdq[i - 1] = NULL;
        }
        if ((st = edgec__qweight_load(&q->w, &wf[i])))
            goto cleanup;
        if (!all_finite(wf[i], q->w.numel)) {
            edgec__pass_log(ctx, "weight '%s' has NaN or infinite values: kept in float",
                            q->w.name);
            continue;
        }
        bool done = false;
        if (r.mode == MODE_DYNAMIC && integer_candidate(&r, q) &&
            !edgec__pass_excluded(ctx, q->node, NULL)) {
            if ((st = dynamic_node(&r, q, wf[i], dacts, &n_dacts, &done)))
                goto cleanup;
        } else if (r.mode == MODE_STATIC && r.qop && integer_candidate(&r, q) &&
                   !edgec__pass_excluded(ctx, q->node, NULL)) {
            st_act *x;
            if ((st = static_act(&r, sacts, &n_sacts, q->node->inputs[0], q->node, &x)) ||
                (st = qop_node(&r, q, wf[i], x, &done)))
                goto cleanup;
        }
        if (done)
            continue;
        if (means[i] && !(wdq[i] = malloc((size_t)q->w.numel * sizeof(float)))) {
            st = NOMEM;
            goto cleanup;
        }
        if ((st = quantize_dq(&r, q, wf[i], wdq[i])))
            goto cleanup;
        if (r.mode == MODE_STATIC && !r.qop && integer_candidate(&r, q) &&
            !edgec__pass_excluded(ctx, q->node, NULL)) {
            st_act *x;
            if ((st = static_act(&r, sacts, &n_sacts, q->node->inputs[0], q->node, &x)) ||
                (st = edgec__node_set_input(r.m, q->node, 0, x->xdq)))
                goto cleanup;
            r.n_static++;
        }
        if (means[i]) {
            bool corrected;
            if ((st = edgec__bias_correct(&r.e, q, wf[i], wdq[i], means[i], channels[i],
                                          &corrected)))
                goto cleanup;
            r.n_bias += corrected;
        }
    }
    edgec__graph_remove_nodes(r.m->graph, drop_listed, &r);
    edgec__pass_log(ctx,
                    "%s: %zu weight tensors to int8 (%s scales), %.1f kB -> %.1f kB; "
                    "%zu layer pairs equalized, %zu biases corrected",
                    r.mode == MODE_WEIGHTS ? "weights" : r.mode == MODE_DYNAMIC ? "dynamic"
                                                                               : "static",
                    r.n_weights, r.per_axis ? "per-channel" : "per-tensor",
                    (double)r.bytes_before / 1e3, (double)r.bytes_after / 1e3, pairs, r.n_bias);
    if (r.mode == MODE_DYNAMIC)
        edgec__pass_log(ctx, "%zu nodes now MatMulInteger/ConvInteger on dynamically quantized "
                             "uint8 activations", r.n_dyn);
    if (r.mode == MODE_STATIC)
        edgec__pass_log(ctx, "%zu nodes read %s activations calibrated on %lld samples (%s)",
                        r.n_static, r.qop ? "QLinear (QOp)" : "QDQ",
                        (long long)edgec__calib_samples(r.cal),
                        r.method == EDGEC_CALIB_MINMAX       ? "minmax"
                        : r.method == EDGEC_CALIB_PERCENTILE ? "percentile"
                                                             : "entropy");
cleanup:
    for (size_t i = 0; i < r.nq; i++) {
        if (means)
            free(means[i]);
        if (wf)
            free(wf[i]);
        if (wdq)
            free(wdq[i]);
    }
    free(means);
    free(channels);
    free(wf);
    free(wdq);
    free(r.drop);
    free(dacts);
    free(sacts);
    free(r.acts);
    free(r.act_axes);
    edgec__calib_free(r.cal);
    edgec__qemit_free(&r.e);
    return st;
}

static const edgec_pass_option options[] = {
    {"int8-format", "qdq|qop",
     "with --int8=static: QuantizeLinear/DequantizeLinear pairs (qdq, default) or "
     "QLinearConv/QLinearMatMul (qop)"},
    {"calib-method", "minmax|percentile|entropy",
     "how --int8=static turns calibration data into ranges (default minmax)"},
    {"no-equalize", NULL, "skip cross-layer equalization before quantizing"},
    {"no-bias-correct", NULL, "skip correcting biases for the rounding's expected shift"},
    {0},
};

const edgec_pass edgec__pass_int8 = {
    "int8",
    "[=weights|dynamic|static]",
    false,
    "8-bit quantization: weights (default; per-channel int8 + DequantizeLinear), dynamic "
    "(MatMulInteger/ConvInteger) or static (activations too; needs --calib)",
    EDGEC_ORDER_QUANTIZE,
    options,
    check,
    run,
    true, /* layer settings */
};
