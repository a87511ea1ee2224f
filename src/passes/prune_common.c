/* Shared machinery of the pruning passes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "passes/linalg_small.h"
#include "passes/prune_common.h"
#include "report/macs.h"
#include "runtime/rt.h"

#define NOMEM edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory")

/* Calibration budget of the reconstruction: samples per layer, patches per sample (a
 * deterministic stride through the positions of a convolution), the largest fan-in,
 * the bytes of stored original activations, and the flops of the per-row solves. */
#define RECON_MAX_SAMPLES 512
#define RECON_MAX_PATCHES 64
#define RECON_MAX_COLS 4608
#define RECON_MAX_STORE ((size_t)256 << 20)
#define RECON_MAX_FLOPS 4e10
/* Ridge towards the original weights, relative to the mean of the Hessian's diagonal. */
#define RECON_DAMP 0.01

int64_t edgec__count_zeros(const float *v, int64_t n)
{
    int64_t z = 0;
    for (int64_t i = 0; i < n; i++)
        z += v[i] == 0.0f;
    return z;
}

/* ---- finding the layers ---- */

typedef struct layers_ctx {
    edgec_pass_ctx *pc;
    edgec_prune_layer *v;
    size_t n, cap;
    edgec_status st;
} layers_ctx;

static bool auto_pad_plain(const edgec_node *n)
{
    char buf[32];
    const char *ap = edgec__attr_string(n, "auto_pad", buf, sizeof buf, "NOTSET");
    return !strcmp(ap, "NOTSET") || !strcmp(ap, "VALID");
}

/* Adds input `input` of `n` as a layer when it is a dense float constant. */
static edgec_status add_layer(layers_ctx *c, edgec_node *n, size_t input, int32_t nm_axis)
{
    edgec_weight w;
    if (input >= n->n_inputs ||
        !edgec__find_const(c->pc->model, n->graph, n->inputs[input], false, &w) || !w.tensor ||
        w.dtype != EDGEC_DTYPE_FLOAT || !w.tensor->data || w.numel < 1 || nm_axis >= w.rank ||
        edgec__pass_excluded(c->pc, n, w.name))
        return EDGEC_STATUS_OK;
    for (size_t i = 0; i < c->n; i++)
        if (c->v[i].w.tensor == w.tensor)
            return EDGEC_STATUS_OK; /* shared: pruned once, under its first reader */
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 32;
        edgec_prune_layer *v = realloc(c->v, cap * sizeof *v);
        if (!v)
            return NOMEM;
        c->v = v;
        c->cap = cap;
    }
    edgec_prune_layer *L = &c->v[c->n++];
    *L = (edgec_prune_layer){.node = n, .input = input, .w = w, .data = w.tensor->data,
                             .numel = w.numel, .nm_axis = nm_axis};
    if (n->graph->parent)
        return EDGEC_STATUS_OK;
    const char *op = n->op_type;
    const int64_t *d = w.dims;
    if (!strcmp(op, "Conv") && w.rank == 4 && edgec__attr_int(n, "group", 1) == 1 &&
        auto_pad_plain(n)) {
        L->rows = d[0];
        L->cols = d[1] * d[2] * d[3];
        L->rs = L->cols;
        L->cs = 1;
    } else if (!strcmp(op, "Gemm") && w.rank == 2 && !edgec__attr_int(n, "transA", 0)) {
        bool tb = edgec__attr_int(n, "transB", 0) != 0;
        L->rows = tb ? d[0] : d[1];
        L->cols = tb ? d[1] : d[0];
        L->rs = tb ? d[1] : 1;
        L->cs = tb ? 1 : d[1];
    } else if (!strcmp(op, "MatMul") && input == 1 && w.rank == 2) {
        L->rows = d[1];
        L->cols = d[0];
        L->rs = 1;
        L->cs = d[1];
    }
    return EDGEC_STATUS_OK;
}

static edgec_status graph_layers(edgec_graph *g, void *vctx)
{
    layers_ctx *c = vctx;
    edgec_graph_index *ix;
    edgec_status st = edgec__graph_index(c->pc->model->arena, g, &ix);
    if (st)
        return st;
    size_t n_topo;
    edgec_node *const *topo = edgec__index_topo(ix, &n_topo);
    for (size_t i = 0; !st && i < n_topo; i++) {
        edgec_node *n = topo[i];
        const char *op = n->op_type;
        if (*n->domain)
            continue;
        if (!strcmp(op, "Conv"))
            st = add_layer(c, n, 1, 1);
        else if (!strcmp(op, "ConvTranspose"))
            st = add_layer(c, n, 1, 0);
        else if (!strcmp(op, "Gemm"))
            st = add_layer(c, n, 1, edgec__attr_int(n, "transB", 0) ? 1 : 0);
        else if (!strcmp(op, "MatMul")) {
            edgec_weight w;
            if (n->n_inputs > 1 && edgec__find_const(c->pc->model, g, n->inputs[1], false, &w) &&
                w.rank >= 2)
                st = add_layer(c, n, 1, w.rank - 2);
            else if (n->n_inputs > 1 &&
                     edgec__find_const(c->pc->model, g, n->inputs[0], false, &w) && w.rank >= 1)
                st = add_layer(c, n, 0, w.rank - 1);
        } else if (!strcmp(op, "LSTM") || !strcmp(op, "GRU") || !strcmp(op, "RNN")) {
            st = add_layer(c, n, 1, 2);
            if (!st)
                st = add_layer(c, n, 2, 2);
        }
    }
    return st;
}

typedef struct uses_ctx {
    edgec_model *m;
    edgec_prune_layer *v;
    size_t n;
} uses_ctx;

static void count_use(uses_ctx *c, edgec_graph *g, const char *name)
{
    for (size_t i = 0; i < c->n; i++) {
        edgec_weight w;
        if (strcmp(c->v[i].w.name, name))
            continue;
        if (edgec__find_const(c->m, g, name, true, &w) && w.tensor == c->v[i].w.tensor)
            c->v[i].uses++;
    }
}

static edgec_status graph_uses(edgec_graph *g, void *vctx)
{
    uses_ctx *c = vctx;
    for (size_t i = 0; i < g->n_nodes; i++)
        for (size_t k = 0; k < g->nodes[i]->n_inputs; k++)
            count_use(c, g, g->nodes[i]->inputs[k]);
    for (size_t i = 0; i < g->n_outputs; i++)
        count_use(c, g, g->outputs[i].name);
    return EDGEC_STATUS_OK;
}

edgec_status edgec__prune_layers(edgec_pass_ctx *ctx, edgec_prune_layer **out, size_t *n)
{
    layers_ctx c = {.pc = ctx};
    edgec_status st = edgec__model_graphs(ctx->model, graph_layers, &c);
    if (!st) {
        uses_ctx u = {ctx->model, c.v, c.n};
        st = edgec__model_graphs(ctx->model, graph_uses, &u);
    }
    if (st) {
        free(c.v);
        c.v = NULL;
        c.n = 0;
    }
    *out = c.v;
    *n = c.n;
    return st;
}

edgec_tensor *edgec__tensor_select(edgec_model *m, const edgec_tensor *t, int32_t axis,
                                   const int64_t *keep, int64_t n_keep)
{
    int64_t dims[EDGEC_MAX_RANK];
    memcpy(dims, t->dims, (size_t)t->rank * sizeof *dims);
    dims[axis] = n_keep;
    edgec_tensor *r = edgec__tensor_new(m, t->name, t->dtype, t->rank, dims);
    if (!r)
        return NULL;
    size_t es = edgec__dtype(t->dtype)->bits / 8;
    int64_t outer = 1, inner = 1;
    for (int32_t i = 0; i < axis; i++)
        outer *= t->dims[i];
    for (int32_t i = axis + 1; i < t->rank; i++)
        inner *= t->dims[i];
    size_t row = (size_t)inner * es;
    const uint8_t *src = t->data;
    uint8_t *dst = r->data;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t k = 0; k < n_keep; k++)
            memcpy(dst + ((size_t)o * (size_t)n_keep + (size_t)k) * row,
                   src + ((size_t)o * (size_t)t->dims[axis] + (size_t)keep[k]) * row, row);
    return r;
}

/* ---- reconstruction ---- */

/* Marks a layer's tensor for re-encoding; its weights are then changed in place. Tensor
 * data always lives in the model's arena, one buffer per tensor (the reader copies it out
 * of the file), so a private copy would only hold every weight twice. */
static void own_data(edgec_prune_layer *L)
{
    edgec_tensor *t = L->w.tensor;
    edgec__tensor_replace(t, t->dtype, t->rank, t->dims, t->data, t->nbytes);
    L->data = t->data;
}

/* A bias the reconstruction may re-solve together with the weights: a private dense
 * float vector with one entry per output unit, added as is (Gemm alpha = beta = 1). */
static edgec_tensor *layer_bias(edgec_model *m, const edgec_prune_layer *L)
{
    const edgec_node *n = L->node;
    edgec_weight b;
    if (n->n_inputs < 3 || !edgec__find_const(m, n->graph, n->inputs[2], false, &b) ||
        !b.tensor || b.dtype != EDGEC_DTYPE_FLOAT || b.numel != L->rows || !b.tensor->data)
        return NULL;
    if (!strcmp(n->op_type, "Gemm") &&
        (edgec__attr_float(n, "alpha", 1.0f) != 1.0f || edgec__attr_float(n, "beta", 1.0f) != 1.0f))
        return NULL;
    /* A bias other nodes read too must stay as it is. */
    size_t uses = 0;
    for (size_t i = 0; i < n->graph->n_nodes; i++)
        for (size_t k = 0; k < n->graph->nodes[i]->n_inputs; k++)
            uses += !strcmp(n->graph->nodes[i]->inputs[k], b.name);
    return uses == 1 ? b.tensor : NULL;
}

/* The patches of one sample's input that the layer multiplies with its [rows, cols]
 * matrix: rows of a Gemm/MatMul input, im2col columns of a Conv input. */
typedef struct patcher {
    const edgec_node *node;
    bool conv;
    int64_t c, h, w, kh, kw, sh, sw, dh, dw, ph, pw, oh, ow;
    int64_t cols;
    int64_t n_patches, step;
} patcher;

static bool patcher_init(patcher *p, const edgec_prune_layer *L, const edgec_array *x)
{
    *p = (patcher){.node = L->node, .cols = L->cols};
    if (!strcmp(L->node->op_type, "Conv")) {
        if (x->rank != 4 || x->dims[0] != 1)
            return false;
        int64_t v[4];
        p->conv = true;
        p->c = x->dims[1];
        p->h = x->dims[2];
        p->w = x->dims[3];
        p->kh = L->w.dims[2];
        p->kw = L->w.dims[3];
        p->sh = p->sw = p->dh = p->dw = 1;
        if (edgec__attr_ints(L->node, "strides", v, 2) == 2) {
            p->sh = v[0];
            p->sw = v[1];
        }
        if (edgec__attr_ints(L->node, "dilations", v, 2) == 2) {
            p->dh = v[0];
            p->dw = v[1];
        }
        if (edgec__attr_ints(L->node, "pads", v, 4) == 4) {
            p->ph = v[0];
            p->pw = v[1];
            /* Trailing pads only change how many positions there are. */
            p->oh = (p->h + v[0] + v[2] - p->dh * (p->kh - 1) - 1) / p->sh + 1;
            p->ow = (p->w + v[1] + v[3] - p->dw * (p->kw - 1) - 1) / p->sw + 1;
        } else {
            p->oh = (p->h - p->dh * (p->kh - 1) - 1) / p->sh + 1;
            p->ow = (p->w - p->dw * (p->kw - 1) - 1) / p->sw + 1;
        }
        if (p->c * p->kh * p->kw != L->cols || p->oh < 1 || p->ow < 1)
            return false;
        p->n_patches = p->oh * p->ow;
    } else {
        if (x->rank < 1 || x->dims[x->rank - 1] != L->cols)
            return false;
        p->n_patches = x->numel / L->cols;
    }
    p->step = p->n_patches > RECON_MAX_PATCHES
                  ? (p->n_patches + RECON_MAX_PATCHES - 1) / RECON_MAX_PATCHES
                  : 1;
    return true;
}

/* Writes patch `i` of `x` (numel floats) into `out` [cols]. */
static void patch(const patcher *p, const float *x, int64_t i, double *out)
{
    if (!p->conv) {
        for (int64_t k = 0; k < p->cols; k++)
            out[k] = x[i * p->cols + k];
        return;
    }
    int64_t oy = i / p->ow, ox = i % p->ow, k = 0;
    for (int64_t c = 0; c < p->c; c++)
        for (int64_t a = 0; a < p->kh; a++)
            for (int64_t b = 0; b < p->kw; b++, k++) {
                int64_t y = oy * p->sh - p->ph + a * p->dh, xx = ox * p->sw - p->pw + b * p->dw;
                out[k] = y < 0 || y >= p->h || xx < 0 || xx >= p->w ? 0.0
                                                                     : x[(c * p->h + y) * p->w + xx];
            }
}

typedef struct recon_ctx {
    const edgec_prune_layer *L;
    patcher pt;
    bool pt_ok;
    int64_t dim; /* cols, + 1 with a bias */
    float **orig_x;  /* per sample: the original model's input to the layer */
    int64_t x_numel;
    int64_t samples;
    size_t stored;
    double *H, *G, *xp, *xo;
    int64_t patches;
} recon_ctx;

static edgec_status collect_orig(int64_t sample, const edgec_array *const *values, void *vctx)
{
    recon_ctx *c = vctx;
    const edgec_array *x = values[0];
    if (sample == 0) {
        c->pt_ok = patcher_init(&c->pt, c->L, x);
        c->x_numel = x->numel;
    }
    if (!c->pt_ok || x->numel != c->x_numel)
        return EDGEC_STATUS_OK;
    if (c->stored + (size_t)x->nbytes > RECON_MAX_STORE)
        return EDGEC_STATUS_OK;
    float *copy = malloc(x->nbytes);
    if (!copy)
        return NOMEM;
    memcpy(copy, x->data, x->nbytes);
    c->orig_x[sample] = copy;
    c->stored += x->nbytes;
    return EDGEC_STATUS_OK;
}

static edgec_status collect_pruned(int64_t sample, const edgec_array *const *values, void *vctx)
{
    recon_ctx *c = vctx;
    const edgec_array *x = values[0];
    const float *xo = c->orig_x[sample];
    if (!xo || x->numel != c->x_numel)
        return EDGEC_STATUS_OK;
    int64_t d = c->dim;
    for (int64_t i = 0; i < c->pt.n_patches; i += c->pt.step) {
        patch(&c->pt, x->data, i, c->xp);
        patch(&c->pt, xo, i, c->xo);
        if (d > c->L->cols)
            c->xp[d - 1] = c->xo[d - 1] = 1.0;
        for (int64_t a = 0; a < d; a++) {
            double pa = c->xp[a];
            if (pa == 0.0)
                continue;
            double *h = c->H + a * d, *g = c->G + a * d;
            for (int64_t b = 0; b < d; b++) {
                h[b] += pa * c->xp[b];
                g[b] += pa * c->xo[b];
            }
        }
        c->patches++;
    }
    return EDGEC_STATUS_OK;
}

/* Re-solves the kept weights of every row of `L`: minimises |X_p w - X_o w_o|^2 +
 * damp |w - w_o|^2 over the kept entries, where X_p are the patches the pruned model
 * feeds the layer and X_o those of the original. `wo` is the original weight tensor,
 * `bo` the original bias (or NULL). */
static edgec_status solve_rows(recon_ctx *c, const float *wo, float *bias, const float *bo,
                               const uint8_t *keep)
{
    const edgec_prune_layer *L = c->L;
    int64_t d = c->dim;
    double mean = 0;
    for (int64_t i = 0; i < d; i++)
        mean += c->H[i * d + i];
    double damp = RECON_DAMP * (mean / (double)d > 0 ? mean / (double)d : 1.0);
    int64_t *S = malloc((size_t)d * sizeof *S);
    double *A = malloc((size_t)d * (size_t)d * sizeof *A), *rhs = malloc((size_t)d * sizeof *rhs);
    double *w = malloc((size_t)d * sizeof *w);
    edgec_status st = EDGEC_STATUS_OK;
    if (!S || !A || !rhs || !w) {
        st = NOMEM;
        goto cleanup;
    }
    for (int64_t r = 0; r < L->rows; r++) {
        int64_t ns = 0;
        for (int64_t k = 0; k < L->cols; k++) {
            w[k] = wo[r * L->rs + k * L->cs];
            if (keep[r * L->rs + k * L->cs])
                S[ns++] = k;
        }
        if (d > L->cols) {
            w[d - 1] = bo[r];
            S[ns++] = d - 1;
        }
        if (ns == 0)
            continue;
        for (int64_t i = 0; i < ns; i++) {
            const double *g = c->G + S[i] * d;
            double t = 0;
            for (int64_t k = 0; k < d; k++)
                t += g[k] * w[k];
            rhs[i] = t + damp * w[S[i]];
            for (int64_t j = 0; j < ns; j++)
                A[i * ns + j] = c->H[S[i] * d + S[j]];
            A[i * ns + i] += damp;
        }
        if (!edgec__cholesky(A, ns))
            continue; /* keeps the magnitude-pruned row */
        edgec__cholesky_solve(A, ns, rhs);
        for (int64_t i = 0; i < ns; i++) {
            if (S[i] == L->cols)
                bias[r] = (float)rhs[i];
            else
                L->data[r * L->rs + S[i] * L->cs] = (float)rhs[i];
        }
    }
cleanup:
    free(S);
    free(A);
    free(rhs);
    free(w);
    return st;
}

/* Tensors whose original data the reconstruction swaps back in to run the original
 * model: every layer's weights, and the biases it re-solved. */
typedef struct originals {
    edgec_tensor **t;
    float **data;
    size_t n, cap;
} originals;

static edgec_status originals_add(originals *o, edgec_tensor *t, const float *data, size_t nbytes)
{
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 32;
        edgec_tensor **nt = realloc(o->t, cap * sizeof *nt);
        if (nt)
            o->t = nt;
        float **nd = nt ? realloc(o->data, cap * sizeof *nd) : NULL;
        if (!nd)
            return NOMEM;
        o->data = nd;
        o->cap = cap;
    }
    if (!(o->data[o->n] = malloc(nbytes ? nbytes : 1)))
        return NOMEM;
    memcpy(o->data[o->n], data, nbytes);
    o->t[o->n++] = t;
    return EDGEC_STATUS_OK;
}

static void originals_swap(originals *o)
{
    for (size_t i = 0; i < o->n; i++) {
        float *t = o->t[i]->data;
        o->t[i]->data = o->data[i];
        o->data[i] = t;
    }
}

static void originals_free(originals *o)
{
    for (size_t i = 0; i < o->n; i++)
        free(o->data[i]);
    free(o->t);
    free(o->data);
}

static edgec_status reconstruct(edgec_pass_ctx *ctx, edgec_prune_layer *L, const float *wo,
                                originals *orig, const uint8_t *keep, bool *done)
{
    edgec_model *m = ctx->model;
    recon_ctx c = {.L = L};
    edgec_status st = EDGEC_STATUS_OK;
    float *bo = NULL;
    *done = false;
    if (!L->rows || L->uses != 1 || L->cols > RECON_MAX_COLS)
        return EDGEC_STATUS_OK;
    /* The per-row solves cost about rows * kept^3 / 3 flops. */
    double kept = 0;
    for (int64_t i = 0; i < L->numel; i++)
        kept += keep[i];
    double per_row = kept / (double)L->rows;
    if ((double)L->rows * per_row * per_row * per_row / 3.0 > RECON_MAX_FLOPS) {
        edgec__pass_log(ctx, "%s: too large to reconstruct; magnitude mask only", L->w.name);
        return EDGEC_STATUS_OK;
    }
    edgec_tensor *bias = layer_bias(m, L);
    c.dim = L->cols + (bias ? 1 : 0);
    int64_t samples = 0;
    if ((st = edgec_dataset_samples(ctx->calib, &samples)))
        return st;
    if (samples > RECON_MAX_SAMPLES)
        samples = RECON_MAX_SAMPLES;
    size_t dd = (size_t)c.dim * (size_t)c.dim;
    c.orig_x = calloc((size_t)samples + 1, sizeof *c.orig_x);
    c.H = calloc(dd, sizeof *c.H);
    c.G = calloc(dd, sizeof *c.G);
    c.xp = calloc((size_t)c.dim, sizeof *c.xp);
    c.xo = calloc((size_t)c.dim, sizeof *c.xo);
    if (!c.orig_x || !c.H || !c.G || !c.xp || !c.xo) {
        st = NOMEM;
        goto cleanup;
    }
    const char *name = L->node->inputs[0];
    originals_swap(orig);
    st = edgec__collect(m, ctx->calib, &name, 1, samples, collect_orig, &c);
    originals_swap(orig);
    if (st || !c.pt_ok)
        goto cleanup;
    if ((st = edgec__collect(m, ctx->calib, &name, 1, samples, collect_pruned, &c)))
        goto cleanup;
    if (!c.patches)
        goto cleanup;
    if (bias) {
        /* The bias gets a private copy too; its original is the rows' target. */
        if (!(bo = malloc((size_t)L->rows * sizeof *bo))) {
            st = NOMEM;
            goto cleanup;
        }
        memcpy(bo, bias->data, (size_t)L->rows * sizeof *bo);
        float *nb = edgec__arena_alloc(m->arena, bias->nbytes);
        if (!nb) {
            st = NOMEM;
            goto cleanup;
        }
        memcpy(nb, bo, bias->nbytes);
        edgec__tensor_replace(bias, bias->dtype, bias->rank, bias->dims, nb, bias->nbytes);
        if ((st = originals_add(orig, bias, bo, bias->nbytes)))
            goto cleanup;
    }
    if ((st = solve_rows(&c, wo, bias ? bias->data : NULL, bo, keep)))
        goto cleanup;
    *done = true;
    edgec__pass_log(ctx, "%s: kept weights%s re-solved on %lld calibration patches", L->w.name,
                    bias ? " and bias" : "", (long long)c.patches);
cleanup:
    for (int64_t i = 0; c.orig_x && i < samples; i++)
        free(c.orig_x[i]);
    free(c.orig_x);
    free(c.H);
    free(c.G);
    free(c.xp);
    free(c.xo);
    free(bo);
    return st;
}

edgec_status edgec__prune_apply(edgec_pass_ctx *ctx, edgec_prune_layer *layers, size_t n,
                                uint8_t *const *keep, bool *redone_out)
{
    edgec_status st = EDGEC_STATUS_OK;
    originals orig = {0};
    /* Only reconstruction runs the original model, so only it needs the originals. */
    for (size_t i = 0; i < n && !st; i++) {
        edgec_prune_layer *L = &layers[i];
        if (ctx->calib)
            st = originals_add(&orig, L->w.tensor, L->data, (size_t)L->numel * sizeof(float));
        own_data(L);
    }
    /* First every mask, so that reconstruction sees the partially pruned model; then
     * each layer in order re-solves on inputs that the layers before it already shape. */
    for (size_t i = 0; i < n && !st; i++)
        for (int64_t e = 0; e < layers[i].numel; e++)
            if (!keep[i][e])
                layers[i].data[e] = 0.0f;
    size_t redone = 0;
    for (size_t i = 0; ctx->calib && i < n && !st; i++) {
        bool done = false;
        /* The layer's original weights are entry i: layers were added first, in order. */
        st = reconstruct(ctx, &layers[i], orig.data[i], &orig, keep[i], &done);
        redone += done;
        if (redone_out)
            redone_out[i] = done;
    }
    if (ctx->calib && !st)
        edgec__pass_log(ctx, "reconstruction: %zu of %zu layers re-solved on calibration data",
                        redone, n);
    originals_free(&orig);
    return st;
}

/* ---- sparse storage ---- */

/* Whether a pass that runs after this one is enabled: it gets the weights dense. */
static bool later_pass_enabled(const edgec_pass_ctx *ctx)
{
    size_t me = 0;
    for (size_t i = 0; i < edgec__n_passes; i++)
        if (edgec__passes[i] == ctx->pass)
            me = i;
    for (size_t i = 0; i < edgec__n_passes; i++) {
        const edgec_pass *p = edgec__passes[i];
        bool later = p->order > ctx->pass->order || (p->order == ctx->pass->order && i > me);
        if (later && edgec__pass_enabled(ctx, p->name))
            return true;
    }
    return false;
}

static edgec_sparse *make_sparse(edgec_model *m, const edgec_tensor *t, int64_t nnz)
{
    int64_t one = nnz;
    edgec_sparse *s = edgec__arena_calloc(m->arena, 1, sizeof *s);
    int64_t *dims = edgec__arena_calloc(m->arena, t->rank ? (size_t)t->rank : 1, sizeof *dims);
    edgec_tensor *v = edgec__tensor_new(m, t->name, EDGEC_DTYPE_FLOAT, 1, &one);
    edgec_tensor *ix = edgec__tensor_new(m, "", EDGEC_DTYPE_INT64, 1, &one);
    if (!s || !dims || !v || !ix)
        return NULL;
    if (t->rank)
        memcpy(dims, t->dims, (size_t)t->rank * sizeof *dims);
    const float *src = t->data;
    float *vals = v->data;
    int64_t *idx = ix->data, k = 0;
    for (int64_t i = 0; i < t->numel; i++) {
        if (src[i] != 0.0f) {
            vals[k] = src[i];
            idx[k++] = i;
        }
    }
    *s = (edgec_sparse){.values = v, .indices = ix, .rank = t->rank, .dims = dims};
    return s;
}

static edgec_status to_sparse(edgec_model *m, edgec_prune_layer *L, int64_t nnz)
{
    edgec_tensor *t = L->w.tensor;
    edgec_graph *g = L->w.graph;
    edgec_sparse *s = make_sparse(m, t, nnz);
    if (!s)
        return NOMEM;
    if (L->w.kind == EDGEC_WEIGHT_CONSTANT) {
        *L->w.attr = (edgec_attr){.name = "sparse_value", .type = EDGEC_ATTR_SPARSE_TENSOR,
                                  .sparse = s};
        s->values->name = "";
    } else {
        edgec_sparse **arr = edgec__arena_calloc(m->arena, g->n_sparse_inits + 1, sizeof *arr);
        if (!arr)
            return NOMEM;
        if (g->n_sparse_inits)
            memcpy(arr, g->sparse_inits, g->n_sparse_inits * sizeof *arr);
        arr[g->n_sparse_inits] = s;
        g->sparse_inits = arr;
        g->n_sparse_inits++;
        size_t k = 0;
        for (size_t i = 0; i < g->n_inits; i++)
            if (g->inits[i] != t)
                g->inits[k++] = g->inits[i];
        g->n_inits = k;
    }
    L->w.tensor = NULL;
    L->data = NULL;
    return EDGEC_STATUS_OK;
}

edgec_status edgec__prune_store_sparse(edgec_pass_ctx *ctx, edgec_prune_layer *layers, size_t n)
{
    if (later_pass_enabled(ctx)) {
        edgec__pass_log(ctx, "storage: weights stay dense for the passes that follow");
        return EDGEC_STATUS_OK;
    }
    /* A container codes runs of zeros better than ONNX sparse tensors do. */
    const char *storage = edgec__pass_option(ctx, "prune-storage");
    if (storage && !strcmp(storage, "dense")) {
        edgec__pass_log(ctx, "storage: weights stay dense (--prune-storage dense)");
        return EDGEC_STATUS_OK;
    }
    size_t n_sparse = 0, n_dense = 0;
    uint64_t dense_bytes = 0, sparse_bytes = 0;
    for (size_t i = 0; i < n; i++) {
        edgec_prune_layer *L = &layers[i];
        if (!L->w.tensor || (L->w.kind != EDGEC_WEIGHT_INITIALIZER &&
                             L->w.kind != EDGEC_WEIGHT_CONSTANT))
            continue;
        if (L->w.kind == EDGEC_WEIGHT_INITIALIZER && edgec__graph_is_input(L->w.graph, L->w.name))
            continue;
        int64_t nnz = L->numel - edgec__count_zeros(L->data, L->numel);
        /* Values (4 bytes) plus INT64 linear indices (8 bytes) per nonzero, against 4
         * bytes per element; a few bytes of framing either way. */
        uint64_t sp = (uint64_t)nnz * 12 + 16, de = (uint64_t)L->numel * 4;
        if (sp < de && nnz > 0) {
            edgec_status st = to_sparse(ctx->model, L, nnz);
            if (st)
                return st;
            n_sparse++;
            sparse_bytes += sp;
        } else {
            n_dense++;
            dense_bytes += de;
        }
    }
    edgec__pass_log(ctx, "storage: %zu weight%s as sparse tensors (%llu bytes), %zu dense "
                    "(%llu bytes; sparse would not be smaller)",
                    n_sparse, n_sparse == 1 ? "" : "s", (unsigned long long)sparse_bytes, n_dense,
                    (unsigned long long)dense_bytes);
    return EDGEC_STATUS_OK;
}

void edgec__prune_log_macs(edgec_pass_ctx *ctx, edgec_prune_macs *saved, bool after)
{
    edgec_macs mc;
    if (edgec__model_macs(ctx->model, &mc)) {
        if (after || !saved)
            edgec__pass_log(ctx, "MACs not counted: %s", edgec_error_message());
        edgec__error_clear();
        if (saved)
            saved->known = false;
        return;
    }
    if (!after) {
        *saved = (edgec_prune_macs){true, mc.total, mc.nonzero};
        return;
    }
    if (!saved->known) {
        edgec__pass_log(ctx, "MACs: %llu, %llu with nonzero weights",
                        (unsigned long long)mc.total, (unsigned long long)mc.nonzero);
        return;
    }
    edgec__pass_log(ctx, "MACs: %llu -> %llu (%.3fx); with nonzero weights %llu -> %llu (%.3fx)",
                    (unsigned long long)saved->total, (unsigned long long)mc.total,
                    saved->total ? (double)mc.total / (double)saved->total : 1.0,
                    (unsigned long long)saved->nonzero, (unsigned long long)mc.nonzero,
                    saved->nonzero ? (double)mc.nonzero / (double)saved->nonzero : 1.0);
}

/* ---- codebook refit ---- */

typedef struct refit_ctx {
    const edgec_prune_layer *L;
    const uint8_t *idx;
    int k, base; /* unknowns are codebook entries base..k-1 */
    patcher pt;
    bool pt_ok;
    int64_t x_numel;
    double *xp, *z, *A, *B;
    int64_t patches;
} refit_ctx;

static edgec_status collect_refit(int64_t sample, const edgec_array *const *values, void *vctx)
{
    refit_ctx *c = vctx;
    const edgec_array *x = values[0];
    const edgec_prune_layer *L = c->L;
    if (sample == 0) {
        c->pt_ok = patcher_init(&c->pt, L, x);
        c->x_numel = x->numel;
    }
    if (!c->pt_ok || x->numel != c->x_numel)
        return EDGEC_STATUS_OK;
    int n = c->k - c->base;
    for (int64_t i = 0; i < c->pt.n_patches; i += c->pt.step) {
        patch(&c->pt, x->data, i, c->xp);
        for (int64_t r = 0; r < L->rows; r++) {
            /* z[j]: the sum of the inputs that share entry base + j in row r; y: the row's
             * output with the float weights. */
            double y = 0;
            memset(c->z, 0, (size_t)n * sizeof *c->z);
            for (int64_t a = 0; a < L->cols; a++) {
                int64_t e = r * L->rs + a * L->cs;
                y += (double)L->data[e] * c->xp[a];
                int j = (int)c->idx[e] - c->base;
                if (j >= 0)
                    c->z[j] += c->xp[a];
            }
            for (int a = 0; a < n; a++) {
                if (c->z[a] == 0.0)
                    continue;
                for (int b = 0; b < n; b++)
                    c->A[a * n + b] += c->z[a] * c->z[b];
                c->B[a] += c->z[a] * y;
            }
        }
        c->patches++;
    }
    return EDGEC_STATUS_OK;
}

edgec_status edgec__refit_codebook(edgec_pass_ctx *ctx, const char *tensor, const uint8_t *idx,
                                   float *codebook, int k, bool pin_zero, bool *done)
{
    edgec_prune_layer *layers = NULL, *L = NULL;
    size_t n_layers = 0;
    refit_ctx c = {.idx = idx, .k = k, .base = pin_zero ? 1 : 0};
    int n = k - c.base;
    *done = false;
    if (!ctx->calib || n < 1 || n > EDGEC_REFIT_MAX_K)
        return EDGEC_STATUS_OK;
    edgec_status st = edgec__prune_layers(ctx, &layers, &n_layers);
    for (size_t i = 0; !st && i < n_layers; i++)
        if (!strcmp(layers[i].w.name, tensor) && layers[i].rows && layers[i].uses == 1 &&
            layers[i].cols <= RECON_MAX_COLS)
            L = &layers[i];
    if (st || !L)
        goto cleanup;
    c.L = L;
    c.xp = calloc((size_t)L->cols, sizeof *c.xp);
    c.z = calloc((size_t)n, sizeof *c.z);
    c.A = calloc((size_t)n * (size_t)n, sizeof *c.A);
    c.B = calloc((size_t)n, sizeof *c.B);
    if (!c.xp || !c.z || !c.A || !c.B) {
        st = NOMEM;
        goto cleanup;
    }
    int64_t samples = 0;
    const char *name = L->node->inputs[0];
    if ((st = edgec_dataset_samples(ctx->calib, &samples)) ||
        (st = edgec__collect(ctx->model, ctx->calib, &name, 1,
                             samples < RECON_MAX_SAMPLES ? samples : RECON_MAX_SAMPLES,
                             collect_refit, &c)))
        goto cleanup;
    if (!c.patches)
        goto cleanup;
    /* A light ridge toward the k-means values keeps entries the data barely sees where
     * they were, and the system positive definite. */
    double tr = 0;
    for (int a = 0; a < n; a++)
        tr += c.A[a * n + a];
    double lambda = 1e-4 * (tr > 0 ? tr / n : 1.0);
    for (int a = 0; a < n; a++) {
        c.A[a * n + a] += lambda;
        c.B[a] += lambda * codebook[c.base + a];
    }
    if (!edgec__cholesky(c.A, n))
        goto cleanup;
    edgec__cholesky_solve(c.A, n, c.B);
    for (int a = 0; a < n; a++)
        if (!isfinite(c.B[a]) || fabs(c.B[a]) > 3.4e38)
            goto cleanup;
    for (int a = 0; a < n; a++)
        codebook[c.base + a] = (float)c.B[a];
    *done = true;
cleanup:
    free(c.xp);
    free(c.z);
    free(c.A);
    free(c.B);
    free(layers);
    return st;
}

/* ---- units nothing reads ---- */

/* Ops that map each element to one element: a unit's value goes through them unmixed. */
static bool elementwise(const edgec_node *n)
{
    static const char *const ops[] = {"Relu",    "LeakyRelu", "Sigmoid", "Tanh",
                                      "Clip",    "Elu",       "Selu",    "HardSigmoid",
                                      "HardSwish", "Softplus", "Identity", "PRelu"};
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
        if (!strcmp(n->op_type, ops[i]))
            return !strcmp(n->op_type, "PRelu") ? false : true;
    return false;
}

#define MAX_HOPS 16

/* The values from a layer's output to the layer that reads it: P's output, then the
 * output of each elementwise op in between. */
typedef struct reader_path {
    const char *v[MAX_HOPS];
    int n;
} reader_path;

/* The layer that alone reads P's output, through elementwise ops only; NULL if none.
 * `path` gets the values on the way. */
static edgec_prune_layer *sole_reader(const edgec_graph_index *ix, const edgec_prune_layer *P,
                                      edgec_prune_layer *layers, size_t n, reader_path *path)
{
    const edgec_graph *g = P->node->graph;
    const char *v = P->node->outputs[0];
    path->n = 0;
    for (int hops = 0; hops < MAX_HOPS; hops++) {
        path->v[path->n++] = v;
        size_t nc = 0;
        edgec_node *const *cons = edgec__index_consumers(ix, v, &nc);
        if (nc != 1 || edgec__graph_is_output(g, v))
            return NULL;
        const edgec_node *c = cons[0];
        if (elementwise(c) && c->n_inputs >= 1 && !strcmp(c->inputs[0], v) && c->n_outputs >= 1) {
            for (size_t k = 1; k < c->n_inputs; k++)
                if (c->inputs[k] && !strcmp(c->inputs[k], v))
                    return NULL;
            v = c->outputs[0];
            continue;
        }
        for (size_t i = 0; i < n; i++)
            if (layers[i].node == c && layers[i].rows && layers[i].input == 1 &&
                !strcmp(c->inputs[0], v))
                return &layers[i];
        return NULL;
    }
    return NULL;
}

/* The weight axis that holds a layer's output units; the other axis of a Gemm / MatMul
 * weight, and axis 1 of a Conv weight, holds its input features. */
static int32_t unit_axis(const edgec_prune_layer *L)
{
    if (!strcmp(L->node->op_type, "Gemm"))
        return edgec__attr_int(L->node, "transB", 0) ? 0 : 1;
    return strcmp(L->node->op_type, "MatMul") ? 0 : 1;
}

/* Replaces a layer's weight by its slice along `axis` (in place, so the tensor keeps its
 * name and place, and a later pass or a plan still finds it) and brings the layer's
 * matrix view up to date. */
static edgec_status slice_layer(edgec_model *m, edgec_prune_layer *L, int32_t axis,
                                const int64_t *keep, int64_t n_keep)
{
    edgec_tensor *t = L->w.tensor, *s = edgec__tensor_select(m, t, axis, keep, n_keep);
    if (!s)
        return NOMEM;
    void *old = t->data;
    edgec__tensor_replace(t, t->dtype, t->rank, s->dims, s->data, s->nbytes);
    edgec__arena_release(m->arena, old);
    L->data = t->data;
    L->w.dims = t->dims;
    L->w.numel = L->numel = (int64_t)(t->nbytes / sizeof(float));
    if (axis == unit_axis(L))
        L->rows = n_keep;
    else
        L->cols = L->numel / L->rows;
    bool units_first = unit_axis(L) == 0;
    L->rs = units_first ? L->cols : 1;
    L->cs = units_first ? 1 : L->rows;
    return EDGEC_STATUS_OK;
}

/* Sets the channel dim of the shape recorded for value `name` (axis 1 of a Conv's NCHW
 * output, else the last axis) from `from` to `to`; other shapes are left alone. */
static edgec_status shrink_value_info(edgec_model *m, edgec_graph *g, const char *name, bool conv,
                                      int64_t from, int64_t to)
{
    edgec_value_info *v = edgec__graph_value_info(g, name);
    if (!v || v->rank < 1)
        return EDGEC_STATUS_OK;
    int32_t axis = conv ? 1 : v->rank - 1;
    if (axis >= v->rank || v->dims[axis] != from)
        return EDGEC_STATUS_OK;
    int64_t *d = edgec__arena_calloc(m->arena, (size_t)v->rank, sizeof *d);
    if (!d)
        return NOMEM;
    memcpy(d, v->dims, (size_t)v->rank * sizeof *d);
    d[axis] = to;
    v->dims = d;
    v->dirty = true;
    return EDGEC_STATUS_OK;
}

/* Whether the units of P that `dead` marks can be cut out of the model rather than
 * zeroed: P's weight and bias and C's weight are private initializers or Constants whose
 * shapes nothing declares, and some unit stays. */
static bool can_remove(edgec_model *m, const edgec_prune_layer *P, const edgec_prune_layer *C,
                       const edgec_tensor *bias, int64_t n_live)
{
    edgec_graph *g = m->graph;
    const edgec_node *n = P->node;
    bool has_bias = n->n_inputs >= 3 && *n->inputs[2];
    if (n_live < 1 || (has_bias && (!bias || edgec__graph_value_info(g, n->inputs[2]))))
        return false;
    const edgec_prune_layer *L[2] = {P, C};
    for (int i = 0; i < 2; i++)
        if (!L[i]->w.tensor || L[i]->uses != 1 || L[i]->node->graph != g ||
            (L[i]->w.kind != EDGEC_WEIGHT_INITIALIZER && L[i]->w.kind != EDGEC_WEIGHT_CONSTANT) ||
            edgec__graph_value_info(g, L[i]->w.name))
            return false;
    return true;
}

/* Cuts the units `live` does not list out of P: its weight rows and bias entries, and the
 * matching input features of C, its sole reader; the shapes recorded for the values in
 * between (`path`) follow. */
static edgec_status remove_units(edgec_model *m, const reader_path *path, edgec_prune_layer *P,
                                 edgec_prune_layer *C, edgec_tensor *bias, const int64_t *live,
                                 int64_t n_live)
{
    bool conv = !strcmp(P->node->op_type, "Conv");
    edgec_status st = EDGEC_STATUS_OK;
    for (int k = 0; k < path->n && !st; k++)
        st = shrink_value_info(m, m->graph, path->v[k], conv, P->rows, n_live);
    if (!st)
        st = slice_layer(m, P, unit_axis(P), live, n_live);
    if (!st && bias) {
        edgec_tensor *b = edgec__tensor_select(m, bias, bias->rank - 1, live, n_live);
        if (!b)
            return NOMEM;
        edgec__tensor_replace(bias, bias->dtype, bias->rank, b->dims, b->data, b->nbytes);
    }
    /* A Conv reader's axis 1 is the channel axis, its kernel window inside each entry. */
    return st ? st : slice_layer(m, C, strcmp(C->node->op_type, "Conv") ? 1 - unit_axis(C) : 1,
                                 live, n_live);
}

/* Removes every output unit of a layer whose value the next layer multiplies only by
 * zeros: its weights and bias, and the next layer's zero weights that read it. This is
 * exact (the unit's value never reaches anything) and makes the model smaller and
 * cheaper in any format. Where the tensors cannot change shape, or with
 * --prune-dead zero, or for N:M sparsity (whose pattern the next layer must keep), the
 * unit's weights and bias are zeroed instead, which costs next to nothing in a
 * container. Layers are visited last to first, so that a unit removed this way can free
 * units of the layer before it. */
static edgec_status drop_dead_units(edgec_pass_ctx *ctx, edgec_prune_layer *layers, size_t n,
                                    bool allow_remove)
{
    edgec_model *m = ctx->model;
    edgec_graph_index *ix = NULL;
    int64_t units = 0, weights = 0, removed = 0, removed_weights = 0;
    int64_t *live = NULL;
    bool *dead = NULL;
    edgec_status st = edgec__graph_index(m->arena, m->graph, &ix);
    if (st)
        return st;
    const char *mode = edgec__pass_option(ctx, "prune-dead");
    if (mode && !strcmp(mode, "zero"))
        allow_remove = false;
    for (size_t i = n; i-- > 0;) {
        edgec_prune_layer *P = &layers[i];
        if (!P->rows || P->uses != 1 || !P->data || P->node->graph != m->graph ||
            P->node->n_outputs < 1)
            continue;
        reader_path path;
        edgec_prune_layer *C = sole_reader(ix, P, layers, n, &path);
        if (!C || !C->data || C->cols % P->rows)
            continue;
        /* Conv reads each input channel through a kh x kw window of columns. */
        int64_t per = C->cols / P->rows;
        if (per != 1 && strcmp(C->node->op_type, "Conv"))
            continue;
        free(live);
        free(dead);
        live = malloc((size_t)P->rows * sizeof *live);
        dead = calloc((size_t)P->rows, sizeof *dead);
        if (!live || !dead) {
            st = NOMEM;
            goto cleanup;
        }
        int64_t n_live = 0, n_dead = 0;
        for (int64_t u = 0; u < P->rows; u++) {
            bool d = true;
            for (int64_t r = 0; r < C->rows && d; r++)
                for (int64_t k = u * per; k < (u + 1) * per && d; k++)
                    d = C->data[r * C->rs + k * C->cs] == 0.0f;
            dead[u] = d;
            n_dead += d;
            if (!d)
                live[n_live++] = u;
        }
        if (!n_dead)
            continue;
        edgec_tensor *bias = layer_bias(m, P);
        if (allow_remove && can_remove(m, P, C, bias, n_live)) {
            for (int64_t u = 0; u < P->rows; u++)
                for (int64_t c = 0; c < P->cols && dead[u]; c++)
                    removed_weights += P->data[u * P->rs + c * P->cs] != 0.0f;
            if ((st = remove_units(m, &path, P, C, bias, live, n_live)))
                goto cleanup;
            removed += n_dead;
            continue;
        }
        float *nb = NULL;
        for (int64_t u = 0; u < P->rows; u++) {
            if (!dead[u])
                continue;
            int64_t zeroed = 0;
            for (int64_t c = 0; c < P->cols; c++) {
                float *w = &P->data[u * P->rs + c * P->cs];
                zeroed += *w != 0.0f;
                *w = 0.0f;
            }
            if (bias && ((const float *)bias->data)[u] != 0.0f) {
                if (!nb) {
                    if (!(nb = edgec__arena_alloc(m->arena, bias->nbytes))) {
                        st = NOMEM;
                        goto cleanup;
                    }
                    memcpy(nb, bias->data, bias->nbytes);
                    edgec__tensor_replace(bias, bias->dtype, bias->rank, bias->dims, nb,
                                          bias->nbytes);
                }
                nb[u] = 0.0f;
            }
            units += zeroed > 0;
            weights += zeroed;
        }
    }
    if (removed)
        edgec__pass_log(ctx, "%lld output units are read only through zero weights: removed "
                             "with their %lld remaining weights (exact)",
                        (long long)removed, (long long)removed_weights);
    if (units)
        edgec__pass_log(ctx, "%lld output units are read only through zero weights: their %lld "
                             "remaining weights zeroed too (exact)",
                        (long long)units, (long long)weights);
cleanup:
    free(live);
    free(dead);
    return st;
}

edgec_status edgec__prune_finish(edgec_pass_ctx *ctx, edgec_prune_layer *layers, size_t n,
                                 edgec_prune_macs *before, bool remove_dead)
{
    edgec_status st = drop_dead_units(ctx, layers, n, remove_dead);
    if (st)
        return st;
    edgec__prune_log_macs(ctx, before, true);
    return edgec__prune_store_sparse(ctx, layers, n);
}

void edgec__prune_masks_free(uint8_t **keep, size_t n)
{
    for (size_t i = 0; keep && i < n; i++)
        free(keep[i]);
    free(keep);
}
