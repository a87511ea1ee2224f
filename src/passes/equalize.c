/* Cross-layer equalization and bias correction; see equalize.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "passes/equalize.h"
#include "runtime/rt.h"

#define NOMEM edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory")

static edgec_node *producer_of(const edgec_graph *g, const char *name)
{
    for (size_t i = 0; i < g->n_nodes; i++)
        for (size_t k = 0; k < g->nodes[i]->n_outputs; k++)
            if (!strcmp(g->nodes[i]->outputs[k], name))
                return g->nodes[i];
    return NULL;
}

/* The dense float constant behind input `i` of `n`, read by nothing else. */
static bool sole_const(edgec_model *m, const edgec_node *n, size_t i, edgec_weight *w)
{
    if (i >= n->n_inputs || !*n->inputs[i] ||
        !edgec__find_const(m, n->graph, n->inputs[i], false, w))
        return false;
    return (w->kind == EDGEC_WEIGHT_INITIALIZER || w->kind == EDGEC_WEIGHT_CONSTANT) &&
           w->dtype == EDGEC_DTYPE_FLOAT && w->tensor && w->tensor->data &&
           w->tensor->nbytes >= (size_t)w->numel * sizeof(float) &&
           edgec__value_uses(w->graph, n->inputs[i]) == 1;
}

/* A writable float copy of a constant, put in place of its data (arena memory); the old
 * data, when it had a block of its own, goes back at once. */
static float *writable(edgec_model *m, edgec_tensor *t)
{
    size_t bytes = (size_t)t->numel * sizeof(float);
    float *f = edgec__arena_alloc(m->arena, bytes ? bytes : 1);
    if (!f)
        return NULL;
    memcpy(f, t->data, bytes);
    void *old = t->data;
    edgec__tensor_replace(t, EDGEC_DTYPE_FLOAT, t->rank, t->dims, f, bytes);
    edgec__arena_release(m->arena, old);
    return f;
}

/* The single node reading `name` in `g` (and nothing else reading it), or NULL. */
static edgec_node *sole_reader(const edgec_graph *g, const char *name)
{
    edgec_node *r = NULL;
    for (size_t i = 0; i < g->n_nodes; i++)
        for (size_t k = 0; k < g->nodes[i]->n_inputs; k++)
            if (!strcmp(g->nodes[i]->inputs[k], name)) {
                if (r || k != 0)
                    return NULL;
                r = g->nodes[i];
            }
    return r && edgec__value_uses(g, name) == 1 ? r : NULL;
}

/* Largest |w| of each index along `axis`. */
static void axis_ranges(const float *w, int32_t rank, const int64_t *dims, int axis, double *r)
{
    int64_t outer, len, inner;
    edgec__axis_split(rank, dims, axis, &outer, &len, &inner);
    for (int64_t a = 0; a < len; a++)
        r[a] = 0.0;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t a = 0; a < len; a++)
            for (int64_t i = 0; i < inner; i++)
                r[a] = fmax(r[a], fabs(w[(o * len + a) * inner + i]));
}

static void axis_scale(float *w, int32_t rank, const int64_t *dims, int axis, const double *s,
                       bool divide)
{
    int64_t outer, len, inner;
    edgec__axis_split(rank, dims, axis, &outer, &len, &inner);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t a = 0; a < len; a++)
            for (int64_t i = 0; i < inner; i++) {
                float *p = &w[(o * len + a) * inner + i];
                *p = divide ? (float)(*p / s[a]) : (float)(*p * s[a]);
            }
}

/* One layer pair A -> [BN] -> [Relu|LeakyRelu] -> B; false when the pattern does not hold. */
static edgec_status equalize_pair(edgec_model *m, edgec_node *a, bool *done)
{
    edgec_graph *g = a->graph;
    edgec_weight wa, wb, ba, bn_s, bn_b, bn_v;
    edgec_node *bn = NULL, *act = NULL, *b;
    int oa, ia, ob, ib;
    *done = false;
    if (!(edgec__qop_is(a, "Conv") || edgec__qop_is(a, "Gemm")) || a->n_outputs != 1 ||
        !sole_const(m, a, 1, &wa) || !edgec__qweight_axes(a, 1, wa.rank, &oa, &ia))
        return EDGEC_STATUS_OK;
    if (edgec__qop_is(a, "Gemm") && edgec__attr_int(a, "transA", 0))
        return EDGEC_STATUS_OK;
    const char *cur = a->outputs[0];
    edgec_node *next = sole_reader(g, cur);
    if (edgec__qop_is(next, "BatchNormalization") && next->n_outputs == 1 &&
        sole_const(m, next, 1, &bn_s) && sole_const(m, next, 2, &bn_b) &&
        edgec__find_const(m, g, next->inputs[4], false, &bn_v) &&
        bn_v.dtype == EDGEC_DTYPE_FLOAT && bn_v.tensor && bn_v.tensor->data) {
        bn = next;
        cur = bn->outputs[0];
        next = sole_reader(g, cur);
    }
    if ((edgec__qop_is(next, "Relu") || edgec__qop_is(next, "LeakyRelu")) && next->n_outputs == 1) {
        act = next;
        cur = act->outputs[0];
        next = sole_reader(g, cur);
    }
    b = next;
    if (!b || !(edgec__qop_is(b, "Conv") || edgec__qop_is(b, "Gemm")) || !sole_const(m, b, 1, &wb) ||
        !edgec__qweight_axes(b, 1, wb.rank, &ob, &ib))
        return EDGEC_STATUS_OK;
    if ((edgec__qop_is(b, "Conv") && edgec__attr_int(b, "group", 1) != 1) ||
        (edgec__qop_is(b, "Gemm") && edgec__attr_int(b, "transA", 0)) || edgec__qop_is(a, "Gemm") != edgec__qop_is(b, "Gemm"))
        return EDGEC_STATUS_OK;
    int64_t ch = wa.dims[oa];
    if (wb.dims[ib] != ch || ch <= 0)
        return EDGEC_STATUS_OK;
    if (bn && (bn_s.numel != ch || bn_b.numel != ch || bn_v.numel != ch))
        return EDGEC_STATUS_OK;
    bool has_bias = a->n_inputs > 2 && *a->inputs[2];
    if (!bn && has_bias && (!sole_const(m, a, 2, &ba) || ba.numel != ch))
        return EDGEC_STATUS_OK;
    edgec_status st = EDGEC_STATUS_OK;
    double *r1 = malloc((size_t)ch * sizeof *r1), *r2 = malloc((size_t)ch * sizeof *r2);
    float *fa = NULL, *fb = NULL;
    if (!r1 || !r2 || (st = edgec__qweight_load(&wa, &fa)) || (st = edgec__qweight_load(&wb, &fb))) {
        st = st ? st : NOMEM;
        goto cleanup;
    }
    axis_ranges(fa, wa.rank, wa.dims, oa, r1);
    axis_ranges(fb, wb.rank, wb.dims, ib, r2);
    const float *var = bn ? bn_v.tensor->data : NULL, *gam = bn ? bn_s.tensor->data : NULL;
    float eps = bn ? edgec__attr_float(bn, "epsilon", 1e-5f) : 0.0f;
    for (int64_t c = 0; c < ch; c++) {
        double r = r1[c];
        if (bn) {
            float gv, vv;
            memcpy(&gv, &gam[c], sizeof gv);
            memcpy(&vv, &var[c], sizeof vv);
            r *= fabs(gv) / sqrt((double)vv + eps);
        }
        double s = r > 0.0 && r2[c] > 0.0 ? sqrt(r / r2[c]) : 1.0;
        r1[c] = isfinite(s) ? fmin(fmax(s, 1e-2), 1e2) : 1.0;
    }
    /* r1 now holds s_c: channel c of A's output shrinks by s_c, B's input grows by s_c. */
    if (bn) {
        float *gs = writable(m, bn_s.tensor), *bs = writable(m, bn_b.tensor);
        if (!gs || !bs) {
            st = NOMEM;
            goto cleanup;
        }
        for (int64_t c = 0; c < ch; c++) {
            gs[c] = (float)(gs[c] / r1[c]);
            bs[c] = (float)(bs[c] / r1[c]);
        }
    } else {
        float *wa_rw = writable(m, wa.tensor);
        float *ba_rw = has_bias ? writable(m, ba.tensor) : NULL;
        if (!wa_rw || (has_bias && !ba_rw)) {
            st = NOMEM;
            goto cleanup;
        }
        axis_scale(wa_rw, wa.rank, wa.dims, oa, r1, true);
        for (int64_t c = 0; has_bias && c < ch; c++)
            ba_rw[c] = (float)(ba_rw[c] / r1[c]);
    }
    float *wb_rw = writable(m, wb.tensor);
    if (!wb_rw) {
        st = NOMEM;
        goto cleanup;
    }
    axis_scale(wb_rw, wb.rank, wb.dims, ib, r1, false);
    *done = true;
cleanup:
    free(r1);
    free(r2);
    free(fa);
    free(fb);
    return st;
}

typedef struct eq_ctx {
    const edgec_pass_ctx *pctx;
    size_t pairs;
} eq_ctx;

static edgec_status equalize_graph(edgec_graph *g, void *vctx)
{
    eq_ctx *e = vctx;
    for (size_t i = 0; i < g->n_nodes; i++) {
        edgec_node *n = g->nodes[i];
        bool done;
        if (edgec__pass_excluded(e->pctx, n, NULL))
            continue;
        edgec_status st = equalize_pair(e->pctx->model, n, &done);
        if (st)
            return st;
        e->pairs += done;
    }
    return EDGEC_STATUS_OK;
}

edgec_status edgec__equalize(const edgec_pass_ctx *ctx, size_t *pairs)
{
    eq_ctx e = {ctx, 0};
    edgec_status st = edgec__model_graphs(ctx->model, equalize_graph, &e);
    *pairs = e.pairs;
    return st;
}

/* ---- bias correction ----------------------------------------------------------------- */

static double normal_pdf(double x)
{
    return exp(-0.5 * x * x) / sqrt(2.0 * M_PI);
}

static double normal_cdf(double x)
{
    return 0.5 * erfc(-x / sqrt(2.0));
}

void edgec__relu_normal_moments(double mu, double sd, double *mean, double *var)
{
    if (!(sd > 0.0)) {
        *mean = fmax(mu, 0.0);
        *var = 0.0;
        return;
    }
    double z = mu / sd, p = normal_pdf(z), q = normal_cdf(z);
    *mean = sd * p + mu * q;
    *var = fmax((mu * mu + sd * sd) * q + mu * sd * p - *mean * *mean, 0.0);
}

edgec_status edgec__expected_input(edgec_model *m, const edgec_node *n, double **out,
                                   int64_t *channels)
{
    *out = NULL;
    *channels = 0;
    const edgec_graph *g = n->graph;
    if (!n->n_inputs || !*n->inputs[0])
        return EDGEC_STATUS_OK;
    edgec_node *p = producer_of(g, n->inputs[0]);
    /* Averaging keeps each channel's mean; Flatten of [N, C, 1, 1] keeps the channels. */
    if (edgec__qop_is(p, "Flatten")) {
        p = producer_of(g, p->inputs[0]);
        if (!edgec__qop_is(p, "GlobalAveragePool"))
            return EDGEC_STATUS_OK;
    }
    if (edgec__qop_is(p, "GlobalAveragePool"))
        p = producer_of(g, p->inputs[0]);
    bool relu = edgec__qop_is(p, "Relu");
    if (relu)
        p = producer_of(g, p->inputs[0]);
    edgec_weight s, b;
    if (!edgec__qop_is(p, "BatchNormalization") || p->n_inputs < 5 ||
        !edgec__find_const(m, (edgec_graph *)g, p->inputs[1], false, &s) ||
        !edgec__find_const(m, (edgec_graph *)g, p->inputs[2], false, &b) ||
        s.dtype != EDGEC_DTYPE_FLOAT || b.dtype != EDGEC_DTYPE_FLOAT || !s.tensor ||
        !b.tensor || !s.tensor->data || !b.tensor->data || s.numel != b.numel || s.numel <= 0)
        return EDGEC_STATUS_OK;
    double *ex = malloc((size_t)s.numel * sizeof *ex);
    if (!ex)
        return NOMEM;
    for (int64_t c = 0; c < s.numel; c++) {
        float gv, bv;
        memcpy(&gv, (const char *)s.tensor->data + c * 4, 4);
        memcpy(&bv, (const char *)b.tensor->data + c * 4, 4);
        /* BN output is ~N(beta, gamma^2); ReLU of it has mean
         * gamma*pdf(beta/gamma) + beta*cdf(beta/gamma). */
        double sd = fabs(gv);
        double var;
        ex[c] = bv;
        if (relu)
            edgec__relu_normal_moments(bv, sd, &ex[c], &var);
    }
    *out = ex;
    *channels = s.numel;
    return EDGEC_STATUS_OK;
}

/* The node that adds a constant vector to the output of MatMul `n`, and which input. */
static edgec_node *following_add(const edgec_graph *g, const edgec_node *n, size_t *bias_in)
{
    edgec_node *r = NULL;
    for (size_t i = 0; i < g->n_nodes; i++)
        for (size_t k = 0; k < g->nodes[i]->n_inputs; k++)
            if (!strcmp(g->nodes[i]->inputs[k], n->outputs[0])) {
                if (r)
                    return NULL;
                r = g->nodes[i];
                *bias_in = 1 - k;
            }
    return edgec__qop_is(r, "Add") && r->n_inputs == 2 && edgec__value_uses(g, n->outputs[0]) == 1
               ? r
               : NULL;
}

edgec_status edgec__bias_correct(edgec_qemit *e, const edgec_qweight *q, const float *w,
                                 const float *wq, const double *ex, int64_t channels,
                                 bool *done)
{
    edgec_model *m = e->m;
    edgec_node *n = q->node;
    const edgec_weight *wt = &q->w;
    *done = false;
    bool conv = edgec__qop_is(n, "Conv"), gemm = edgec__qop_is(n, "Gemm"), matmul = edgec__qop_is(n, "MatMul");
    if (!(conv || gemm || matmul) || q->uses != 1 || q->input != 1)
        return EDGEC_STATUS_OK;
    if ((gemm && edgec__attr_int(n, "transA", 0)) || (matmul && wt->rank != 2))
        return EDGEC_STATUS_OK;
    int64_t outs = wt->dims[q->out_axis];
    int64_t in_per = wt->dims[q->in_axis];
    int64_t group = conv ? edgec__attr_int(n, "group", 1) : 1;
    if (group <= 0 || in_per * group != channels || outs % group)
        return EDGEC_STATUS_OK;
    double *delta = calloc((size_t)outs, sizeof *delta);
    if (!delta)
        return NOMEM;
    /* delta[o] = sum over the weights of output o of (wq - w) * E[x of their channel]. */
    int64_t outer, len, inner;
    edgec__axis_split(wt->rank, wt->dims, q->in_axis, &outer, &len, &inner);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t c = 0; c < len; c++)
            for (int64_t i = 0; i < inner; i++) {
                int64_t idx = (o * len + c) * inner + i;
                /* The output index: Conv/Gemm(transB) lay outputs outermost, MatMul and
                 * Gemm without transB innermost. */
                int64_t out = q->out_axis < q->in_axis ? o : i;
                int64_t ch = conv ? (out / (outs / group)) * in_per + c : c;
                delta[out] += ((double)wq[idx] - w[idx]) * ex[ch];
            }
    edgec_status st = EDGEC_STATUS_OK;
    double mult = 1.0; /* the factor the bias gets multiplied by in the node */
    edgec_node *holder = n;
    size_t bi = 2;
    if (gemm) {
        float beta = edgec__attr_float(n, "beta", 1.0f), alpha = edgec__attr_float(n, "alpha", 1.0f);
        for (int64_t o = 0; o < outs; o++)
            delta[o] *= alpha;
        mult = beta;
        if (beta == 0.0f)
            goto cleanup;
    } else if (matmul) {
        if (!(holder = following_add(n->graph, n, &bi)))
            goto cleanup;
    }
    edgec_weight b;
    float *bias;
    if (bi < holder->n_inputs && *holder->inputs[bi]) {
        if (!sole_const(m, holder, bi, &b) || b.numel != outs ||
            (b.rank == 2 && b.dims[0] != 1) || b.rank > 2 || !(bias = writable(m, b.tensor)))
            goto cleanup;
    } else {
        if (matmul)
            goto cleanup;
        char buf[512];
        snprintf(buf, sizeof buf, "%s_bias", *n->name ? n->name : wt->name);
        const char *nm = edgec__unique_name(m, buf);
        edgec_tensor *t = nm ? edgec__tensor_new(m, nm, EDGEC_DTYPE_FLOAT, 1, &outs) : NULL;
        if (!t) {
            st = NOMEM;
            goto cleanup;
        }
        /* A new bias lives where the weight does, so the node can see it. */
        size_t pos = 0;
        if (wt->kind == EDGEC_WEIGHT_CONSTANT) {
            for (pos = 0; pos < wt->graph->n_nodes && wt->graph->nodes[pos] != wt->node; pos++)
                ;
        } else if ((st = edgec__qemit_slot(e, wt->graph, &pos))) {
            goto cleanup;
        }
        if ((st = edgec__qconst_add(e, wt->graph, wt->kind == EDGEC_WEIGHT_CONSTANT, &pos, t)) ||
            (st = edgec__node_set_input(m, n, 2, t->name)))
            goto cleanup;
        bias = t->data;
    }
    for (int64_t o = 0; o < outs; o++)
        bias[o] = (float)(bias[o] - delta[o] / mult);
    *done = true;
cleanup:
    free(delta);
    return st;
}

/* The channel axis of the activation a weight's reader multiplies: 1 for Conv, the last
 * for Gemm and MatMul. */
int edgec__activation_axis(const edgec_node *n)
{
    return edgec__qop_is(n, "Conv") ? 1 : -1;
}

static bool measurable(const edgec_model *m, const edgec_qweight *q)
{
    const edgec_node *n = q->node;
    return n->graph == m->graph && q->uses == 1 && q->input == 1 && n->n_inputs &&
           *n->inputs[0] && (edgec__qop_is(n, "Conv") || edgec__qop_is(n, "Gemm") || edgec__qop_is(n, "MatMul"));
}

edgec_status edgec__input_means(const edgec_pass_ctx *ctx, const edgec_qweight *q, size_t n,
                                const edgec_calib *cal, const char *const *cal_names,
                                size_t n_cal, double **means, int64_t *channels)
{
    edgec_model *m = ctx->model;
    edgec_status st = EDGEC_STATUS_OK;
    edgec_calib *own = NULL;
    const char **names = NULL;
    int *axes = NULL;
    size_t nn = 0;
    for (size_t i = 0; i < n; i++) {
        means[i] = NULL;
        channels[i] = 0;
    }
    if (!cal && ctx->calib) {
        names = calloc(n ? n : 1, sizeof *names);
        axes = calloc(n ? n : 1, sizeof *axes);
        if (!names || !axes) {
            st = NOMEM;
            goto cleanup;
        }
        for (size_t i = 0; i < n; i++) {
            if (!measurable(m, &q[i]))
                continue;
            size_t k = 0;
            while (k < nn && strcmp(names[k], q[i].node->inputs[0]))
                k++;
            if (k == nn) {
                names[nn] = q[i].node->inputs[0];
                axes[nn++] = edgec__activation_axis(q[i].node);
            }
        }
        if ((st = edgec__calibrate(m, ctx->calib, names, nn, axes, 0, &own)))
            goto cleanup;
        cal = own;
        cal_names = names;
        n_cal = nn;
    }
    for (size_t i = 0; i < n; i++) {
        if (cal && measurable(m, &q[i])) {
            size_t k = 0;
            while (k < n_cal && strcmp(cal_names[k], q[i].node->inputs[0]))
                k++;
            int64_t ch;
            const double *mu = k < n_cal ? edgec__calib_means(cal, k, &ch) : NULL;
            if (mu) {
                if (!(means[i] = malloc((size_t)ch * sizeof **means))) {
                    st = NOMEM;
                    goto cleanup;
                }
                memcpy(means[i], mu, (size_t)ch * sizeof **means);
                channels[i] = ch;
                continue;
            }
        }
        if ((st = edgec__expected_input(m, q[i].node, &means[i], &channels[i])))
            goto cleanup;
    }
cleanup:
    edgec__calib_free(own);
    free(names);
    free(axes);
    return st;
}
