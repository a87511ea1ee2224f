/* Shared machinery of the quantization passes; see quant_common.h. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "passes/quant_common.h"
#include "runtime/rt.h"

#define NOMEM edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory")

/* ---- reference counts by name -------------------------------------------------------- */

typedef struct name_count {
    const char *name;
    size_t count;
} name_count;

typedef struct name_counts {
    name_count *slots;
    size_t cap;
} name_counts;

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static name_count *counts_slot(name_counts *c, const char *name)
{
    size_t i = (size_t)hash_str(name) & (c->cap - 1);
    while (c->slots[i].name && strcmp(c->slots[i].name, name))
        i = (i + 1) & (c->cap - 1);
    return &c->slots[i];
}

typedef struct count_ctx {
    name_counts *c;
    size_t refs;
} count_ctx;

static edgec_status count_graph(edgec_graph *g, void *vctx)
{
    count_ctx *cc = vctx;
    for (size_t i = 0; i < g->n_nodes; i++) {
        const edgec_node *n = g->nodes[i];
        for (size_t k = 0; k < n->n_inputs; k++) {
            if (!*n->inputs[k])
                continue;
            name_count *s = counts_slot(cc->c, n->inputs[k]);
            s->name = n->inputs[k];
            s->count++;
        }
    }
    for (size_t i = 0; i < g->n_outputs; i++) {
        name_count *s = counts_slot(cc->c, g->outputs[i].name);
        s->name = g->outputs[i].name;
        s->count++;
    }
    return EDGEC_STATUS_OK;
}

static edgec_status refs_graph(edgec_graph *g, void *vctx)
{
    count_ctx *cc = vctx;
    for (size_t i = 0; i < g->n_nodes; i++)
        cc->refs += g->nodes[i]->n_inputs;
    cc->refs += g->n_outputs;
    return EDGEC_STATUS_OK;
}

/* ---- finding weights ----------------------------------------------------------------- */

bool edgec__qop_is(const edgec_node *n, const char *op)
{
    return n && !strcmp(n->op_type, op) && (!*n->domain || !strcmp(n->domain, "ai.onnx"));
}

bool edgec__qweight_axes(const edgec_node *n, size_t input, int32_t rank, int *out_axis,
                         int *in_axis)
{
    const char *op = n->op_type;
    if (*n->domain && strcmp(n->domain, "ai.onnx"))
        return false;
    if (!strcmp(op, "Conv") && input == 1 && rank >= 3) {
        *out_axis = 0;
        *in_axis = 1;
        return true;
    }
    if (!strcmp(op, "ConvTranspose") && input == 1 && rank >= 3) {
        *out_axis = 1;
        *in_axis = 0;
        return true;
    }
    if (!strcmp(op, "Gemm") && input == 1 && rank == 2) {
        bool tb = edgec__attr_int(n, "transB", 0) != 0;
        *out_axis = tb ? 0 : 1;
        *in_axis = tb ? 1 : 0;
        return true;
    }
    if (!strcmp(op, "MatMul") && input == 1 && rank >= 2) {
        *out_axis = rank - 1;
        *in_axis = rank - 2;
        return true;
    }
    if ((!strcmp(op, "LSTM") || !strcmp(op, "GRU") || !strcmp(op, "RNN")) &&
        (input == 1 || input == 2) && rank == 3) {
        *out_axis = 1;
        *in_axis = 2;
        return true;
    }
    if (!strcmp(op, "Gather") && input == 0 && rank >= 2) {
        /* Embedding rows: one scale per row, blocks along the row. */
        int64_t ax = edgec__attr_int(n, "axis", 0);
        if (ax < 0)
            ax += rank;
        *out_axis = (int)ax;
        *in_axis = ax == rank - 1 ? 0 : rank - 1;
        return true;
    }
    return false;
}

typedef struct find_ctx {
    const edgec_pass_ctx *pctx;
    edgec_qweight *list;
    size_t n, cap;
    bool *bad; /* per entry: read along different axes */
} find_ctx;

static edgec_status find_graph(edgec_graph *g, void *vctx)
{
    find_ctx *f = vctx;
    edgec_model *m = f->pctx->model;
    for (size_t i = 0; i < g->n_nodes; i++) {
        edgec_node *n = g->nodes[i];
        for (size_t k = 0; k < n->n_inputs && k < 3; k++) {
            edgec_weight w;
            int oa, ia;
            if (!*n->inputs[k] || !edgec__find_const(m, g, n->inputs[k], false, &w))
                continue;
            if ((w.kind != EDGEC_WEIGHT_INITIALIZER && w.kind != EDGEC_WEIGHT_CONSTANT) ||
                w.dtype != EDGEC_DTYPE_FLOAT || !w.tensor || !w.tensor->data || w.numel <= 0 ||
                !edgec__qweight_axes(n, k, w.rank, &oa, &ia))
                continue;
            size_t j = 0;
            while (j < f->n && f->list[j].w.tensor != w.tensor)
                j++;
            bool excluded = edgec__pass_excluded(f->pctx, n, w.name);
            if (j < f->n) {
                edgec_qweight *q = &f->list[j];
                if (q->out_axis != oa || q->in_axis != ia || excluded)
                    f->bad[j] = true;
                q->uses++;
                continue;
            }
            if (f->n == f->cap) {
                size_t c = f->cap ? f->cap * 2 : 64;
                edgec_qweight *l = realloc(f->list, c * sizeof *l);
                bool *b = l ? realloc(f->bad, c * sizeof *b) : NULL;
                if (l)
                    f->list = l;
                if (!b)
                    return NOMEM;
                f->bad = b;
                f->cap = c;
            }
            f->list[f->n] = (edgec_qweight){w, n, k, oa, ia, 1};
            f->bad[f->n++] = excluded;
        }
    }
    return EDGEC_STATUS_OK;
}

edgec_status edgec__qweights_find(const edgec_pass_ctx *ctx, edgec_qweight **out, size_t *n)
{
    edgec_model *m = ctx->model;
    find_ctx f = {ctx, NULL, 0, 0, NULL};
    count_ctx cc = {NULL, 0};
    name_counts counts = {NULL, 0};
    edgec_status st = edgec__model_graphs(m, refs_graph, &cc);
    *out = NULL;
    *n = 0;
    if (st)
        return st;
    counts.cap = 16;
    while (counts.cap < 2 * cc.refs + 16)
        counts.cap *= 2;
    if (!(counts.slots = calloc(counts.cap, sizeof *counts.slots)))
        return NOMEM;
    cc.c = &counts;
    if ((st = edgec__model_graphs(m, count_graph, &cc)) ||
        (st = edgec__model_graphs(m, find_graph, &f)))
        goto cleanup;
    edgec_qweight *keep = edgec__arena_calloc(m->arena, f.n ? f.n : 1, sizeof *keep);
    if (!keep) {
        st = NOMEM;
        goto cleanup;
    }
    size_t k = 0;
    for (size_t i = 0; i < f.n; i++) {
        /* Every reference of the name must be one of the weight uses found: a weight that
         * is also read as data (or is a graph output) keeps its float values. Names shadowed
         * in subgraphs only add references, so the test errs on the side of skipping. */
        name_count *s = counts_slot(&counts, f.list[i].w.name);
        if (f.bad[i] || s->count != f.list[i].uses)
            continue;
        keep[k++] = f.list[i];
    }
    *out = keep;
    *n = k;
cleanup:
    free(counts.slots);
    free(f.list);
    free(f.bad);
    return st;
}

edgec_status edgec__qweight_load(const edgec_weight *w, float **out)
{
    size_t bytes;
    *out = NULL;
    if (!w->tensor || w->tensor->dtype != EDGEC_DTYPE_FLOAT ||
        !edgec__mul_size((size_t)w->tensor->numel, sizeof(float), &bytes) ||
        w->tensor->nbytes < bytes)
        return edgec__fail(EDGEC_STATUS_INVALID_MODEL, "weight '%s': data is shorter than its shape",
                           w->name);
    float *f = malloc(bytes ? bytes : 1);
    if (!f)
        return NOMEM;
    memcpy(f, w->tensor->data, bytes);
    *out = f;
    return EDGEC_STATUS_OK;
}

/* ---- quantization arithmetic --------------------------------------------------------- */

float edgec__round_half_even(float x)
{
    /* rintf rounds in the current mode, which C starts as to-nearest-even. */
    return rintf(x);
}

void edgec__axis_split(int32_t rank, const int64_t *dims, int axis, int64_t *outer, int64_t *len,
                       int64_t *inner)
{
    *outer = 1;
    *inner = 1;
    *len = 1;
    for (int32_t i = 0; i < rank; i++) {
        if (i < axis)
            *outer *= dims[i];
        else if (i > axis)
            *inner *= dims[i];
        else
            *len = dims[i];
    }
}

/* A scale for values whose largest magnitude is `amax` on a grid of `qmax` steps; 1 for
 * all-zero (or vanishingly small) data, where every value becomes 0 anyway. */
static float scale_for(float amax, float qmax)
{
    float s = amax / qmax;
    return s >= FLT_MIN && isfinite(s) ? s : 1.0f;
}

static int8_t quant_one(float x, float s, float lo, float hi)
{
    float v = edgec__round_half_even(x / s);
    return (int8_t)(v < lo ? lo : v > hi ? hi : v);
}

void edgec__quant_int8(const float *w, int32_t rank, const int64_t *dims, int axis, int8_t *q,
                       float *scales)
{
    int64_t outer, len, inner;
    if (axis < 0)
        edgec__axis_split(rank, dims, rank, &outer, &len, &inner); /* all in `outer` */
    else
        edgec__axis_split(rank, dims, axis, &outer, &len, &inner);
    int64_t nscale = axis < 0 ? 1 : len;
    for (int64_t a = 0; a < nscale; a++)
        scales[a] = 0.0f;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t a = 0; a < len; a++) {
            const float *p = w + (o * len + a) * inner;
            float m = scales[axis < 0 ? 0 : a];
            /* A plain comparison vectorizes; fmaxf is a library call per element. */
            for (int64_t i = 0; i < inner; i++) {
                float v = fabsf(p[i]);
                m = v > m ? v : m;
            }
            scales[axis < 0 ? 0 : a] = m;
        }
    for (int64_t a = 0; a < nscale; a++)
        scales[a] = scale_for(scales[a], 127.0f);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t a = 0; a < len; a++) {
            int64_t base = (o * len + a) * inner;
            float s = scales[axis < 0 ? 0 : a];
            for (int64_t i = 0; i < inner; i++)
                q[base + i] = quant_one(w[base + i], s, -127.0f, 127.0f);
        }
}

float edgec__int4_scale(const float *x, int64_t n, int64_t stride)
{
    float amax = 0.0f;
    for (int64_t k = 0; k < n; k++)
        amax = fmaxf(amax, fabsf(x[k * stride]));
    float base = scale_for(amax, 7.0f), best = base;
    if (base == 1.0f && amax < 7.0f * FLT_MIN)
        return base;
    /* Clipping the largest values a little often lowers the error of all others. */
    double best_err = INFINITY;
    for (int r = 0; r < 8; r++) {
        float s = base * (1.0f - 0.05f * (float)r);
        double err = 0.0;
        for (int64_t k = 0; k < n; k++) {
            float v = x[k * stride];
            float d = v - s * (float)quant_one(v, s, -8.0f, 7.0f);
            err += (double)d * d;
        }
        if (err < best_err) {
            best_err = err;
            best = s;
        }
    }
    return best;
}

void edgec__quant_int4_blocked(const float *w, int32_t rank, const int64_t *dims, int axis,
                               int64_t block, int8_t *q, float *scales)
{
    int64_t outer, len, inner;
    edgec__axis_split(rank, dims, axis, &outer, &len, &inner);
    int64_t nb = (len + block - 1) / block;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t b = 0; b < nb; b++) {
            int64_t k0 = b * block, kn = len - k0 < block ? len - k0 : block;
            for (int64_t i = 0; i < inner; i++) {
                int64_t base = (o * len + k0) * inner + i;
                float s = edgec__int4_scale(w + base, kn, inner);
                scales[(o * nb + b) * inner + i] = s;
                for (int64_t k = 0; k < kn; k++)
                    q[base + k * inner] = quant_one(w[base + k * inner], s, -8.0f, 7.0f);
            }
        }
}

void edgec__pack_int4(const int8_t *q, int64_t n, uint8_t *out)
{
    for (int64_t i = 0; i + 1 < n; i += 2)
        out[i / 2] = (uint8_t)((q[i] & 0x0F) | ((q[i + 1] & 0x0F) << 4));
    if (n & 1)
        out[n / 2] = (uint8_t)(q[n - 1] & 0x0F);
}

/* ---- emitting ------------------------------------------------------------------------ */

edgec_status edgec__qemit_slot(edgec_qemit *e, edgec_graph *g, size_t *pos)
{
    size_t i = 0;
    while (i < e->n && e->graphs[i] != g)
        i++;
    if (i == e->n) {
        if (e->n == e->cap) {
            size_t c = e->cap ? e->cap * 2 : 8;
            edgec_graph **gs = realloc(e->graphs, c * sizeof *gs);
            if (gs)
                e->graphs = gs;
            size_t *nx = gs ? realloc(e->next, c * sizeof *nx) : NULL;
            if (!nx)
                return NOMEM;
            e->next = nx;
            e->cap = c;
        }
        e->graphs[e->n] = g;
        e->next[e->n++] = 0;
    }
    *pos = e->next[i];
    return EDGEC_STATUS_OK;
}

void edgec__qemit_inserted(edgec_qemit *e, edgec_graph *g, size_t pos)
{
    for (size_t i = 0; i < e->n; i++)
        if (e->graphs[i] == g && pos <= e->next[i])
            e->next[i]++;
}

void edgec__qemit_free(edgec_qemit *e)
{
    if (!e)
        return;
    free(e->graphs);
    free(e->next);
    e->graphs = NULL;
    e->next = NULL;
    e->n = e->cap = 0;
}

edgec_status edgec__qemit_insert(edgec_qemit *e, edgec_graph *g, size_t *pos, edgec_node *n)
{
    edgec_status st = edgec__graph_insert(e->m, g, *pos, n);
    if (!st) {
        edgec__qemit_inserted(e, g, *pos);
        (*pos)++;
    }
    return st;
}

edgec_status edgec__qconst_add(edgec_qemit *e, edgec_graph *g, bool as_node, size_t *pos,
                               edgec_tensor *t)
{
    if (!as_node)
        return edgec__graph_add_init(e->m, g, t);
    edgec_node *c = edgec__node_new(e->m, "Constant", t->name, 0, 1);
    if (!c)
        return NOMEM;
    c->outputs[0] = (char *)t->name;
    edgec_status st = edgec__attr_set_tensor(e->m, c, "value", t);
    return st ? st : edgec__qemit_insert(e, g, pos, c);
}

edgec_tensor *edgec__qtensor_f32(edgec_model *m, const char *name, int32_t rank,
                                 const int64_t *dims, const float *data)
{
    edgec_tensor *t = edgec__tensor_new(m, name, EDGEC_DTYPE_FLOAT, rank, dims);
    if (t && t->numel)
        memcpy(t->data, data, (size_t)t->numel * sizeof(float));
    return t;
}

size_t edgec__node_pos(const edgec_graph *g, const edgec_node *n)
{
    for (size_t i = 0; i < g->n_nodes; i++)
        if (g->nodes[i] == n)
            return i;
    return g->n_nodes;
}

edgec_status edgec__qweight_replace(edgec_qemit *e, const edgec_qweight *q, int32_t qtype,
                                    void *qdata, size_t qbytes, int32_t rank,
                                    const int64_t *dims, const char **qname)
{
    edgec_model *m = e->m;
    const edgec_weight *w = &q->w;
    char buf[512];
    snprintf(buf, sizeof buf, "%s_quantized", w->name);
    const char *nm = edgec__unique_name(m, buf);
    int64_t *d = edgec__arena_calloc(m->arena, rank ? (size_t)rank : 1, sizeof *d);
    if (!nm || !d)
        return NOMEM;
    memcpy(d, dims, (size_t)rank * sizeof *d);
    /* The float data is dead once replaced: every reader of the weight now reads the
     * quantized tensor (edgec__qweights_find admits no other use) and the passes work on
     * copies (edgec__qweight_load). Giving it back keeps the model from being held in
     * float and quantized at once (peak memory, issue 10). */
    void *old = w->tensor->data;
    if (w->kind == EDGEC_WEIGHT_CONSTANT) {
        /* The Constant node keeps its place; its value and output name change. */
        edgec__tensor_replace(w->tensor, qtype, rank, d, qdata, qbytes);
        w->node->outputs[0] = (char *)nm;
        edgec__arena_release(m->arena, old);
    } else {
        /* A new tensor takes the initializer's place in the list (the writer re-emits a
         * changed tensor under the name it was read with, so the object cannot be
         * renamed in place). */
        edgec_tensor *t = edgec__arena_calloc(m->arena, 1, sizeof *t);
        if (!t)
            return NOMEM;
        *t = (edgec_tensor){.name = nm, .dims = d};
        edgec__tensor_replace(t, qtype, rank, d, qdata, qbytes);
        size_t i = 0;
        while (i < w->graph->n_inits && w->graph->inits[i] != w->tensor)
            i++;
        if (i == w->graph->n_inits)
            return edgec__fail(EDGEC_STATUS_INTERNAL, "weight '%s' is not in its graph", w->name);
        w->graph->inits[i] = t;
        w->tensor->data = NULL; /* the dropped tensor must not point at freed memory */
        edgec__arena_release(m->arena, old);
    }
    *qname = nm;
    return EDGEC_STATUS_OK;
}

edgec_status edgec__qweight_emit(edgec_qemit *e, const edgec_qweight *q, int32_t qtype,
                                 void *qdata, size_t qbytes, const float *scales,
                                 int32_t scale_rank, const int64_t *scale_dims, int axis,
                                 int64_t block)
{
    edgec_model *m = e->m;
    const edgec_weight *w = &q->w;
    edgec_graph *g = w->graph;
    bool as_node = w->kind == EDGEC_WEIGHT_CONSTANT;
    const char *orig = w->name, *qname;
    char buf[512];
    snprintf(buf, sizeof buf, "%s_scale", orig);
    const char *sname = edgec__unique_name(m, buf);
    snprintf(buf, sizeof buf, "%s_DequantizeLinear", orig);
    edgec_node *dq = sname ? edgec__node_new(m, "DequantizeLinear", buf, 2, 1) : NULL;
    edgec_tensor *st_ = sname ? edgec__qtensor_f32(m, sname, scale_rank, scale_dims, scales) : NULL;
    if (!dq || !st_)
        return NOMEM;
    edgec_status st = edgec__qweight_replace(e, q, qtype, qdata, qbytes, w->rank, w->dims, &qname);
    size_t pos;
    if (st)
        return st;
    if (as_node)
        pos = edgec__node_pos(g, w->node) + 1;
    else if ((st = edgec__qemit_slot(e, g, &pos)))
        return st;
    if ((st = edgec__qconst_add(e, g, as_node, &pos, st_)))
        return st;
    dq->inputs[0] = (char *)qname;
    dq->inputs[1] = (char *)sname;
    dq->outputs[0] = (char *)orig;
    if (axis >= 0 && (st = edgec__attr_set_int(m, dq, "axis", axis)))
        return st;
    if (block > 0 && (st = edgec__attr_set_int(m, dq, "block_size", block)))
        return st;
    return edgec__qemit_insert(e, g, &pos, dq);
}

/* ---- opset raising ------------------------------------------------------------------- */

enum change_kind {
    CH_SAME,       /* new types, or new attributes/inputs whose defaults keep the meaning */
    CH_BREAK,      /* the meaning (or the inputs) changed */
    CH_BREAK_ATTR, /* changed only for nodes that set `attr` */
    CH_MOVE_ATTR,  /* attribute `attr` became input 1: edgec rewrites the node */
    CH_AXIS_LAST   /* Softmax family: same only when axis is -1 */
};

typedef struct op_change {
    const char *op;
    int version;
    int kind;
    const char *attr; /* for BREAK_ATTR and MOVE_ATTR */
    const char *what; /* what changed, for messages */
} op_change;

#define S(op, v) {op, v, CH_SAME, NULL, NULL}
#define REDUCE(op) S(op, 1), S(op, 11), S(op, 13), {op, 18, CH_MOVE_ATTR, "axes", NULL}, S(op, 20)

/* Versions of default-domain ops from opset 7 to 21 (ONNX's Changelog.md) and whether each
 * change keeps the meaning of existing nodes. An op missing here is refused, since
 * edgec cannot vouch for it. */
static const op_change changes[] = {
    S("Abs", 13), S("Acos", 7), S("Acosh", 9), S("Add", 13), S("Add", 14), S("And", 7),
    S("ArgMax", 11), S("ArgMax", 12), S("ArgMax", 13), S("ArgMin", 11), S("ArgMin", 12),
    S("ArgMin", 13), S("Asin", 7), S("Asinh", 9), S("Atan", 7), S("Atanh", 9),
    S("AveragePool", 10), S("AveragePool", 11), S("AveragePool", 19),
    {"BatchNormalization", 9, CH_BREAK_ATTR, "spatial", "attribute 'spatial' was removed"},
    S("BatchNormalization", 14), S("BatchNormalization", 15), S("BitShift", 11),
    S("BitwiseAnd", 18), S("BitwiseNot", 18), S("BitwiseOr", 18), S("BitwiseXor", 18),
    S("Cast", 9), S("Cast", 13), S("Cast", 19), S("Cast", 21), S("CastLike", 15),
    S("CastLike", 19), S("CastLike", 21), S("Ceil", 13), S("Celu", 12),
    {"Clip", 11, CH_BREAK_ATTR, "min", "min/max moved from attributes to inputs"},
    {"Clip", 11, CH_BREAK_ATTR, "max", "min/max moved from attributes to inputs"},
    S("Clip", 12), S("Clip", 13), S("Compress", 9), S("Compress", 11), S("Concat", 11),
    S("Concat", 13), S("ConcatFromSequence", 11), S("Constant", 9), S("Constant", 11),
    S("Constant", 12), S("Constant", 13), S("Constant", 19), S("Constant", 21),
    S("ConstantOfShape", 9), S("ConstantOfShape", 20), S("ConstantOfShape", 21),
    S("Conv", 11), S("ConvInteger", 10), S("ConvTranspose", 11), S("Cos", 7), S("Cosh", 9),
    S("CumSum", 11), S("CumSum", 14), S("DepthToSpace", 11), S("DepthToSpace", 13),
    S("DequantizeLinear", 10), S("DequantizeLinear", 13), S("DequantizeLinear", 19),
    S("DequantizeLinear", 21), S("Det", 11), S("Div", 13), S("Div", 14), S("Dropout", 10),
    {"Dropout", 12, CH_BREAK_ATTR, "ratio", "ratio moved from an attribute to an input"},
    S("Dropout", 13), S("DynamicQuantizeLinear", 11), S("Einsum", 12), S("Elu", 7),
    S("Equal", 11), S("Equal", 13), S("Equal", 19), S("Erf", 9), S("Erf", 13), S("Exp", 13),
    S("Expand", 8), S("Expand", 13), S("EyeLike", 9), S("Flatten", 9), S("Flatten", 11),
    S("Flatten", 13), S("Flatten", 21), S("Floor", 13), S("GRU", 14), S("Gather", 11),
    S("Gather", 13), S("GatherElements", 11), S("GatherElements", 13), S("GatherND", 11),
    S("GatherND", 12), S("GatherND", 13), S("Gelu", 20), S("Gemm", 9), S("Gemm", 11),
    S("Gemm", 13), S("GlobalAveragePool", 1), S("GlobalLpPool", 2), S("GlobalMaxPool", 1),
    S("Greater", 9), S("Greater", 13), S("GreaterOrEqual", 12), S("GreaterOrEqual", 16),
    S("GridSample", 16),
    {"GridSample", 20, CH_BREAK_ATTR, "mode", "mode names changed (bilinear -> linear)"},
    {"GroupNormalization", 21, CH_BREAK, NULL, "scale and bias became per channel"},
    S("GroupNormalization", 18), S("HardSigmoid", 6), S("HardSwish", 14),
    {"Hardmax", 13, CH_AXIS_LAST, NULL, "axis now selects one axis, not a 2-D coercion"},
    S("Identity", 13), S("Identity", 14), S("Identity", 16), S("Identity", 19),
    S("Identity", 21), S("If", 11), S("If", 13), S("If", 16), S("If", 19), S("If", 21),
    S("InstanceNormalization", 6), S("IsInf", 10), S("IsInf", 20), S("IsNaN", 9),
    S("IsNaN", 13), S("IsNaN", 20), S("LRN", 13), S("LSTM", 14), S("LayerNormalization", 17),
    S("LeakyRelu", 16), S("Less", 9), S("Less", 13), S("LessOrEqual", 12),
    S("LessOrEqual", 16), S("Log", 13),
    {"LogSoftmax", 13, CH_AXIS_LAST, NULL, "axis now selects one axis, not a 2-D coercion"},
    S("Loop", 11), S("Loop", 13), S("Loop", 16), S("Loop", 19), S("Loop", 21),
    S("LpNormalization", 1), S("LpPool", 11), S("LpPool", 18), S("MatMul", 9),
    S("MatMul", 13), S("MatMulInteger", 10), S("Max", 8), S("Max", 12), S("Max", 13),
    S("MaxPool", 8), S("MaxPool", 10), S("MaxPool", 11), S("MaxPool", 12), S("MaxUnpool", 9),
    S("MaxUnpool", 11), S("Mean", 8), S("Mean", 13), S("MeanVarianceNormalization", 9),
    S("MeanVarianceNormalization", 13), S("Min", 8), S("Min", 12), S("Min", 13),
    S("Mish", 18), S("Mod", 10), S("Mod", 13), S("Mul", 13), S("Mul", 14), S("Neg", 13),
    S("NonMaxSuppression", 10), S("NonMaxSuppression", 11), S("NonZero", 9),
    S("NonZero", 13), S("Not", 1), S("OneHot", 9), S("OneHot", 11), S("Or", 7),
    S("PRelu", 9), S("PRelu", 16),
    {"Pad", 11, CH_BREAK, NULL, "pads moved from an attribute to an input"}, S("Pad", 13),
    S("Pad", 18), S("Pad", 19), S("Pad", 21), S("Pow", 12), S("Pow", 13), S("Pow", 15),
    S("QLinearConv", 10), S("QLinearMatMul", 10), S("QLinearMatMul", 21),
    S("QuantizeLinear", 10), S("QuantizeLinear", 13), S("QuantizeLinear", 19),
    S("QuantizeLinear", 21), S("RNN", 14), S("RandomNormal", 1), S("RandomNormalLike", 1),
    S("RandomUniform", 1), S("RandomUniformLike", 1), S("Range", 11), S("Reciprocal", 13),
    REDUCE("ReduceL1"), REDUCE("ReduceL2"), REDUCE("ReduceLogSum"), REDUCE("ReduceLogSumExp"),
    REDUCE("ReduceMax"), S("ReduceMax", 12), REDUCE("ReduceMean"), REDUCE("ReduceMin"),
    S("ReduceMin", 12), REDUCE("ReduceProd"), REDUCE("ReduceSumSquare"), S("ReduceSum", 11),
    {"ReduceSum", 13, CH_MOVE_ATTR, "axes", NULL}, S("Relu", 13), S("Relu", 14),
    S("Reshape", 13), S("Reshape", 14), S("Reshape", 19), S("Reshape", 21), S("Resize", 10),
    {"Resize", 11, CH_BREAK, NULL, "inputs changed (roi added before scales)"},
    S("Resize", 13), S("Resize", 18), S("Resize", 19), S("ReverseSequence", 10),
    {"RoiAlign", 16, CH_BREAK, NULL, "the default coordinate mode changed"}, S("RoiAlign", 10),
    S("Round", 11), {"Scan", 9, CH_BREAK, NULL, "the batch axis was removed"}, S("Scan", 11),
    S("Scan", 16), S("Scan", 19), S("Scan", 21), S("ScatterElements", 11),
    S("ScatterElements", 13), S("ScatterElements", 16), S("ScatterElements", 18),
    S("ScatterND", 11), S("ScatterND", 13), S("ScatterND", 16), S("ScatterND", 18),
    S("Selu", 6), S("Shape", 13), S("Shape", 15), S("Shape", 19), S("Shape", 21),
    S("Shrink", 9), S("Sigmoid", 13), S("Sign", 9), S("Sign", 13), S("Sin", 7), S("Sinh", 9),
    S("Size", 13), S("Size", 19), S("Size", 21),
    {"Slice", 10, CH_BREAK, NULL, "starts/ends moved from attributes to inputs"},
    S("Slice", 11), S("Slice", 13),
    {"Softmax", 13, CH_AXIS_LAST, NULL, "axis now selects one axis, not a 2-D coercion"},
    S("Softplus", 1), S("Softsign", 1), S("SpaceToDepth", 13), S("Split", 11),
    {"Split", 13, CH_MOVE_ATTR, "split", NULL}, S("Split", 18), S("Sqrt", 13),
    S("Squeeze", 11), {"Squeeze", 13, CH_MOVE_ATTR, "axes", NULL}, S("Squeeze", 21),
    S("Sub", 13), S("Sub", 14), S("Sum", 8), S("Sum", 13), S("Tan", 7), S("Tanh", 13),
    S("ThresholdedRelu", 10), S("Tile", 13),
    {"TopK", 10, CH_BREAK, NULL, "k moved from an attribute to an input"}, S("TopK", 11),
    S("Transpose", 13), S("Transpose", 21), S("Trilu", 14), S("Unique", 11),
    S("Unsqueeze", 11), {"Unsqueeze", 13, CH_MOVE_ATTR, "axes", NULL}, S("Unsqueeze", 21),
    {"Upsample", 10, CH_BREAK, NULL, "the op was removed (use Resize)"}, S("Where", 9),
    S("Where", 16), S("Xor", 7),
};

#undef S
#undef REDUCE

static bool is_default_domain(const char *d)
{
    return !*d || !strcmp(d, "ai.onnx");
}

/* The first change of `n` between `from` (exclusive) and `to` (inclusive) that edgec
 * cannot keep the meaning of; NULL when none. `*unknown` is set for ops not in the
 * table. */
static const op_change *breaking_change(const edgec_node *n, int64_t from, int64_t to,
                                        bool *unknown)
{
    bool known = false;
    *unknown = false;
    for (size_t i = 0; i < sizeof changes / sizeof changes[0]; i++) {
        const op_change *c = &changes[i];
        if (strcmp(c->op, n->op_type))
            continue;
        known = true;
        if (c->version <= from || c->version > to)
            continue;
        if (c->kind == CH_BREAK)
            return c;
        if (c->kind == CH_BREAK_ATTR && edgec__node_attr(n, c->attr))
            return c;
        if (c->kind == CH_AXIS_LAST) {
            const edgec_attr *a = edgec__node_attr(n, "axis");
            if (!a || a->type != EDGEC_ATTR_INT || a->i != -1)
                return c;
        }
        if (c->kind == CH_MOVE_ATTR) {
            const edgec_attr *a = edgec__node_attr(n, c->attr);
            if (a && a->type != EDGEC_ATTR_INTS)
                return c;
        }
    }
    *unknown = !known;
    return NULL;
}

typedef struct legal_ctx {
    int64_t from, to;
    char *reason;
    size_t size;
    bool ok;
} legal_ctx;

static edgec_status legal_graph(edgec_graph *g, void *vctx)
{
    legal_ctx *l = vctx;
    for (size_t i = 0; l->ok && i < g->n_nodes; i++) {
        const edgec_node *n = g->nodes[i];
        bool unknown;
        if (!is_default_domain(n->domain))
            continue;
        const op_change *c = breaking_change(n, l->from, l->to, &unknown);
        if (c || unknown) {
            char where[256];
            edgec__graph_path(g, where, sizeof where);
            if (c)
                snprintf(l->reason, l->size,
                         "raising opset %lld to %lld would change node '%s' (%s, in %s): at "
                         "opset %d %s",
                         (long long)l->from, (long long)l->to, n->name, n->op_type, where,
                         c->version, c->what);
            else
                snprintf(l->reason, l->size,
                         "edgec does not know whether op %s (node '%s', in %s) keeps its "
                         "meaning from opset %lld to %lld",
                         n->op_type, n->name, where, (long long)l->from, (long long)l->to);
            l->ok = false;
        }
    }
    return EDGEC_STATUS_OK;
}

bool edgec__quant_opset_legal(const edgec_model *m, int64_t target, char *reason, size_t size)
{
    int64_t from = edgec__model_opset(m, "");
    if (from >= target)
        return true;
    if (from < 7) {
        snprintf(reason, size, "the model imports opset %lld; edgec raises opsets from 7 on",
                 (long long)from);
        return false;
    }
    if (m->n_functions) {
        snprintf(reason, size,
                 "the model has model-local functions, whose opset imports must match the "
                 "model's");
        return false;
    }
    legal_ctx l = {from, target, reason, size, true};
    edgec__model_graphs((edgec_model *)m, legal_graph, &l);
    return l.ok;
}

/* IR version an opset needs (the ONNX release that introduced the opset). */
static int64_t ir_for_opset(int64_t opset)
{
    return opset >= 21 ? 10 : opset >= 19 ? 9 : opset >= 15 ? 8 : opset >= 12 ? 7 : opset >= 11 ? 6 : opset >= 10 ? 5 : 4;
}

typedef struct move_ctx {
    edgec_qemit *e;
    int64_t from, to;
    size_t moved;
    edgec_status st;
} move_ctx;

static edgec_status move_graph(edgec_graph *g, void *vctx)
{
    move_ctx *mc = vctx;
    edgec_model *m = mc->e->m;
    for (size_t i = 0; i < g->n_nodes; i++) {
        edgec_node *n = g->nodes[i];
        if (!is_default_domain(n->domain))
            continue;
        for (size_t c = 0; c < sizeof changes / sizeof changes[0]; c++) {
            const op_change *ch = &changes[c];
            if (ch->kind != CH_MOVE_ATTR || strcmp(ch->op, n->op_type) ||
                ch->version <= mc->from || ch->version > mc->to)
                continue;
            const edgec_attr *a = edgec__node_attr(n, ch->attr);
            if (!a)
                continue;
            char buf[512];
            snprintf(buf, sizeof buf, "%s_%s", *n->name ? n->name : n->op_type, ch->attr);
            int64_t len = (int64_t)a->n;
            const char *nm = edgec__unique_name(m, buf);
            edgec_tensor *t = nm ? edgec__tensor_new(m, nm, EDGEC_DTYPE_INT64, 1, &len) : NULL;
            if (!t)
                return NOMEM;
            if (len)
                memcpy(t->data, a->ints, (size_t)len * sizeof(int64_t));
            size_t pos = i;
            edgec_status st = edgec__qconst_add(mc->e, g, g->parent != NULL, &pos, t);
            if (!st)
                st = edgec__node_set_input(m, n, 1, t->name);
            if (st)
                return st;
            edgec__attr_remove(n, ch->attr);
            i = pos; /* the node moved one place down when a Constant went before it */
            mc->moved++;
        }
    }
    return EDGEC_STATUS_OK;
}

edgec_status edgec__quant_raise_opset(const edgec_pass_ctx *ctx, int64_t target, int64_t ir,
                                      const char *why, const char *advice)
{
    edgec_model *m = ctx->model;
    int64_t from = edgec__model_opset(m, "");
    char reason[1024];
    if (from >= target) {
        if (m->ir_version < ir)
            m->ir_version = ir;
        return EDGEC_STATUS_OK;
    }
    if (!edgec__quant_opset_legal(m, target, reason, sizeof reason))
        return edgec__fail(EDGEC_STATUS_UNSUPPORTED, "%s needs opset %lld, but %s. %s", why,
                           (long long)target, reason, advice);
    edgec_qemit e = {m, NULL, NULL, 0, 0};
    move_ctx mc = {&e, from, target, 0, EDGEC_STATUS_OK};
    edgec_status st = edgec__model_graphs(m, move_graph, &mc);
    edgec__qemit_free(&e);
    if (!st)
        st = edgec__model_set_opset(m, target);
    if (st)
        return st;
    int64_t need = ir_for_opset(target);
    if (need < ir)
        need = ir;
    if (m->ir_version < need)
        m->ir_version = need;
    edgec__pass_log(ctx,
                    "raised the model's opset from %lld to %lld (IR %lld) for %s; every node "
                    "keeps its meaning%s",
                    (long long)from, (long long)target, (long long)m->ir_version, why,
                    mc.moved ? " (attributes that became inputs were moved)" : "");
    return EDGEC_STATUS_OK;
}
