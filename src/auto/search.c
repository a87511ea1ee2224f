/* The --auto search (docs/AUTO.md).
 *
 * 1. Sensitivity: every weight tensor is compressed alone with every candidate setting
 *    (sparsity with reconstruction x value coding, or value coding alone for biases), and
 *    the real compressed model is measured: bytes saved, and the relative output error on
 *    the calibration data.
 * 2. Each tensor's candidates are reduced to their lower convex hull in (bytes saved,
 *    error): only settings that no mix of two others beats.
 * 3. Bisection: all hull steps of all tensors, merged in order of bytes saved per unit of
 *    error, form one sequence; the longest prefix within the budget is found in a few
 *    trials.
 * 4. Steps: from there, every tensor's next hull step is tried on the real model and the
 *    one saving the most bytes per unit of real added error is kept; a tensor whose step
 *    fails skips that point, and stops at its third failure.
 * Every state is checked on the calibration data (top-1 drop against its labels, or the
 * share of changed top-1) and, when given, on the eval data too: that is the
 * verification, and the smallest state that passed both is the result.
 * Trials are whole pipeline runs on a fresh copy of the model, so what is measured is
 * exactly what the plan later reproduces. */
#include <fnmatch.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auto/auto_int.h"
#include "data/data_internal.h"
#include "edgec/container.h"
#include "edgec/report.h"
#include "edgec/runtime.h"
#include "ir/ir.h"
#include "report/report.h"

#define MIN_NUMEL 64 /* smaller tensors are not worth a setting (the cluster pass's limit) */
#define MAX_CANDS 192

static const char *const sparsities[] = {NULL,   "0.5",  "0.6",  "0.7",  "0.75", "0.8",
                                         "0.83", "0.86", "0.88", "0.9",  "0.92", "0.93",
                                         "0.94", "0.95", "0.96", "0.97", "0.98"};
/* Value codings: with the container, shared values (k-means) or int8; as ONNX, where
 * zeros and clusters save no bytes, int8 or int4. */
static const char *const container_values[][2] = {
    {NULL, NULL},      {"int8", "on"},    {"int4", "on"},   {"cluster", "32"},
    {"cluster", "16"}, {"cluster", "12"}, {"cluster", "8"}, {"cluster", "6"},
    {"cluster", "4"},  {"cluster", "3"}};
static const char *const onnx_values[][2] = {{NULL, NULL}, {"int8", "on"}, {"int4", "on"}};
/* Low-rank factorization keeping this much of each layer's energy. */
static const char *const onnx_ranks[] = {NULL, "0.99", "0.97", "0.93", "0.9", "0.85", "0.8", "0.7"};

typedef struct cand {
    edgec_plan_setting set[2]; /* borrowed strings */
    size_t n_set;
    int64_t saved; /* bytes, against the uncompressed model */
    double err;    /* relative output error, tensor alone */
} cand;

typedef struct tensor_entry {
    const char *name; /* in the search's arena copy */
    const char *op;
    int64_t numel;
    bool layer;       /* a Conv/Gemm/MatMul weight (else a bias or other constant) */
    cand c[MAX_CANDS];
    size_t n_c;
    size_t hull[MAX_CANDS]; /* candidate indices along the hull, hull[0] = untouched */
    size_t n_hull;
    size_t cur;       /* position on the hull */
    int failures;     /* greedy steps of this tensor over the budget */
    bool blocked;
} tensor_entry;

/* Outputs of a model on a data set: the first output, one row per sample. */
typedef struct outputs {
    double *v;
    int64_t n, width;
} outputs;

typedef struct score {
    double err;  /* relative output error against the reference */
    double drop; /* top-1 points against labels, or % of changed top-1 */
} score;

typedef struct search {
    const edgec_auto_options *o;
    void *onnx;
    size_t onnx_len;
    edgec_model *clean; /* the model after cleanup: tensor names as the passes see them */
    tensor_entry *t;
    size_t n_t;
    outputs ref_calib, ref_eval;
    const edgec_array *labels_calib, *labels_eval;
    double ref_acc_calib, ref_acc_eval;
    uint64_t bytes_float, bytes_base; /* original, and after cleanup alone */
    struct timespec t0;
    edgec_auto_result *res;
    bool sensitivity_cut; /* the sensitivity phase ran out of its share of the budget */
} search;

static double elapsed(const search *s)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - s->t0.tv_sec) + 1e-9 * (double)(now.tv_nsec - s->t0.tv_nsec);
}

static bool out_of_time(search *s)
{
    if (s->o->time_budget > 0 && elapsed(s) > s->o->time_budget)
        s->res->timed_out = true;
    return s->res->timed_out;
}

/* The share of --time-budget the sensitivity phase may use. The rest is the search's, so
 * that a budget too short to measure every candidate still gives a result built from the
 * ones measured (before, the search found no time left and kept the model as it was). */
#define SENSITIVITY_SHARE 0.75
#define SENSITIVITY_STRIDE 8

static bool sensitivity_out_of_time(search *s)
{
    if (s->o->time_budget > 0 && elapsed(s) > SENSITIVITY_SHARE * s->o->time_budget)
        s->sensitivity_cut = true;
    return s->sensitivity_cut || out_of_time(s);
}

/* Larger tensors first (ties in graph order): when the budget cuts the sensitivity phase
 * short, the candidates measured are those of the tensors that hold the most bytes. */
typedef struct sized {
    int64_t numel;
    size_t i;
} sized;

static int by_size(const void *a, const void *b)
{
    const sized *x = a, *y = b;
    if (x->numel != y->numel)
        return x->numel > y->numel ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* ---- running models ------------------------------------------------------------------- */

/* Runs `m` one sample at a time (as edgec_evaluate does) and keeps the first output. */
static edgec_status run_outputs(const edgec_model *m, const edgec_dataset *d, outputs *out)
{
    edgec_session *s = NULL;
    edgec_array **ins = NULL, **outs = NULL;
    const edgec_array **src = NULL;
    size_t n_in = 0, n_out = 0;
    int64_t n = 0;
    edgec_status st = edgec_session_create(m, NULL, &s);
    out->v = NULL;
    if (st || (st = edgec_dataset_samples(d, &n)))
        goto cleanup;
    n_in = edgec_session_input_count(s);
    n_out = edgec_session_output_count(s);
    ins = calloc(n_in + 1, sizeof *ins);
    outs = calloc(n_out + 1, sizeof *outs);
    src = calloc(n_in + 1, sizeof *src);
    if (!ins || !outs || !src) {
        st = edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
        goto cleanup;
    }
    if (!n_out) {
        st = edgec__fail(EDGEC_STATUS_INVALID_MODEL, "the model has no outputs");
        goto cleanup;
    }
    for (size_t i = 0; i < n_in; i++) {
        edgec_value_desc desc;
        if ((st = edgec_session_input(s, i, &desc)))
            goto cleanup;
        if (!(src[i] = edgec__dataset_input(d, desc.name, n_in))) {
            st = edgec__fail(EDGEC_STATUS_INVALID_DATA, "%s: no array named '%s' (a model input)",
                             edgec_dataset_source(d), desc.name);
            goto cleanup;
        }
    }
    for (int64_t k = 0; k < n; k++) {
        for (size_t i = 0; i < n_in; i++) {
            edgec_value_desc desc;
            edgec_array_free(ins[i]);
            ins[i] = NULL;
            if ((st = edgec_session_input(s, i, &desc)) ||
                (st = edgec_array_slice(src[i], k, 1, &ins[i])) ||
                (st = edgec_array_set_name(ins[i], desc.name)))
                goto cleanup;
        }
        if ((st = edgec_session_run(s, (const edgec_array *const *)ins, n_in, outs, n_out)))
            goto cleanup;
        const edgec_array *o = outs[0];
        if (!k) {
            size_t bytes;
            out->width = o->numel;
            if (o->numel < 1 || !edgec__mul_size((size_t)n, (size_t)o->numel, &bytes) ||
                !edgec__mul_size(bytes, sizeof(double), &bytes) || !(out->v = malloc(bytes))) {
                st = edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
                goto cleanup;
            }
            out->n = n;
        } else if (o->numel != out->width) {
            st = edgec__fail(EDGEC_STATUS_INVALID_DATA,
                             "the first output changes size between samples; --auto needs one "
                             "fixed-size output per sample");
            goto cleanup;
        }
        for (int64_t e = 0; e < o->numel; e++)
            out->v[k * out->width + e] = edgec_array_get_f64(o, e);
        for (size_t i = 0; i < n_out; i++) {
            edgec_array_free(outs[i]);
            outs[i] = NULL;
        }
    }
cleanup:
    for (size_t i = 0; ins && i < n_in; i++)
        edgec_array_free(ins[i]);
    for (size_t i = 0; outs && i < n_out; i++)
        edgec_array_free(outs[i]);
    free(ins);
    free(outs);
    free(src);
    edgec_session_free(s);
    if (st) {
        free(out->v);
        out->v = NULL;
    }
    return st;
}

static int64_t argmax_row(const outputs *o, int64_t k)
{
    const double *r = o->v + k * o->width;
    int64_t best = 0;
    for (int64_t e = 1; e < o->width; e++)
        if (r[e] > r[best])
            best = e;
    return best;
}

static double accuracy(const outputs *o, const edgec_array *labels)
{
    int64_t hits = 0;
    for (int64_t k = 0; k < o->n; k++)
        hits += argmax_row(o, k) == (int64_t)edgec_array_get_f64(labels, k);
    return 100.0 * (double)hits / (double)o->n;
}

/* Error and top-1 drop of `o` against the reference outputs. */
static score compare(const outputs *ref, const outputs *o, const edgec_array *labels,
                     double ref_acc)
{
    double num = 0, den = 0;
    int64_t changed = 0;
    for (int64_t i = 0; i < ref->n * ref->width; i++) {
        double d = o->v[i] - ref->v[i];
        num += d * d;
        den += ref->v[i] * ref->v[i];
    }
    for (int64_t k = 0; k < ref->n; k++)
        changed += argmax_row(o, k) != argmax_row(ref, k);
    score sc = {den > 0 ? num / den : num, 0};
    sc.drop = labels ? ref_acc - accuracy(o, labels) : 100.0 * (double)changed / (double)ref->n;
    return sc;
}

/* ---- trials ----------------------------------------------------------------------------- */

/* Builds the model for `choice` (candidate index per tensor; NULL: the hull positions),
 * measures its size and, when asked, its score on the calibration and eval data. */
static edgec_status trial(search *s, const size_t *choice, uint64_t *bytes, score *calib,
                          score *eval)
{
    edgec_pipeline *p = NULL;
    edgec_model *m = NULL;
    void *buf = NULL, *box = NULL;
    size_t len = 0, box_len = 0;
    outputs o = {0};
    edgec_status st = edgec_pipeline_create(&p);
    if (st)
        return st;
    edgec_pipeline_set_calib(p, s->o->calib);
    edgec_pipeline_set_seed(p, s->o->seed);
    bool pruned = false;
    for (size_t i = 0; i < s->n_t; i++) {
        const tensor_entry *t = &s->t[i];
        const cand *c = &t->c[choice ? choice[i] : t->hull[t->cur]];
        for (size_t k = 0; k < c->n_set && !st; k++) {
            st = edgec_pipeline_set_layer(p, t->name, c->set[k].pass, c->set[k].value);
            pruned |= !strcmp(c->set[k].pass, "prune");
        }
    }
    if (!st && pruned && s->o->container)
        st = edgec_pipeline_set(p, "prune-storage", "dense");
    if (st || (st = edgec_model_load_buffer(s->onnx, s->onnx_len, "auto", NULL, &m)) ||
        (st = edgec_pipeline_run(p, m, NULL)) || (st = edgec_model_save_buffer(m, &buf, &len)))
        goto cleanup;
    if (s->o->container) {
        if ((st = edgec_container_encode(buf, len, &box, &box_len)))
            goto cleanup;
        len = box_len;
    }
    *bytes = len;
    s->res->trials++;
    if (calib) {
        if ((st = run_outputs(m, s->o->calib, &o)))
            goto cleanup;
        *calib = compare(&s->ref_calib, &o, s->labels_calib, s->ref_acc_calib);
        free(o.v);
        o.v = NULL;
    }
    if (eval) {
        if ((st = run_outputs(m, s->o->eval, &o)))
            goto cleanup;
        *eval = compare(&s->ref_eval, &o, s->labels_eval, s->ref_acc_eval);
    }
cleanup:
    free(o.v);
    free(buf);
    free(box);
    edgec_model_free(m);
    edgec_pipeline_free(p);
    return st;
}

/* ---- candidates ------------------------------------------------------------------------ */

static void add_cand(tensor_entry *t, const char *p1, const char *v1, const char *p2,
                     const char *v2)
{
    if (t->n_c == MAX_CANDS)
        return;
    cand *c = &t->c[t->n_c++];
    *c = (cand){0};
    if (p1)
        c->set[c->n_set++] = (edgec_plan_setting){(char *)p1, (char *)v1};
    if (p2)
        c->set[c->n_set++] = (edgec_plan_setting){(char *)p2, (char *)v2};
}

/* Candidate 0 is always "untouched". */
static void make_cands(const search *s, tensor_entry *t)
{
    t->n_c = 0;
    add_cand(t, NULL, NULL, NULL, NULL);
    if (s->o->container) {
        size_t nv = sizeof container_values / sizeof *container_values;
        size_t ns = t->layer ? sizeof sparsities / sizeof *sparsities : 1;
        for (size_t a = 0; a < ns; a++)
            for (size_t b = 0; b < nv; b++) {
                if (!a && !b)
                    continue;
                /* int8 and int4 only quantize layer weights; other tensors get shared
                 * values. */
                if (!t->layer && (b == 1 || b == 2))
                    continue;
                add_cand(t, sparsities[a] ? "prune" : container_values[b][0],
                         sparsities[a] ? sparsities[a] : container_values[b][1],
                         sparsities[a] ? container_values[b][0] : NULL, container_values[b][1]);
            }
        return;
    }
    if (!t->layer)
        return;
    size_t nv = sizeof onnx_values / sizeof *onnx_values;
    for (size_t a = 0; a < sizeof onnx_ranks / sizeof *onnx_ranks; a++)
        for (size_t b = 0; b < nv; b++) {
            if (!a && !b)
                continue;
            add_cand(t, a ? "svd" : onnx_values[b][0], a ? onnx_ranks[a] : onnx_values[b][1],
                     a ? onnx_values[b][0] : NULL, onnx_values[b][1]);
        }
}

/* Lower convex hull of (saved, err) from the untouched point, in order of savings. */
static void make_hull(tensor_entry *t)
{
    size_t idx[MAX_CANDS], n = 0;
    for (size_t i = 0; i < t->n_c; i++)
        if (t->c[i].saved > 0 && isfinite(t->c[i].err))
            idx[n++] = i;
    /* Insertion sort by savings, then error: few candidates, stable and deterministic. */
    for (size_t i = 1; i < n; i++)
        for (size_t k = i; k > 0; k--) {
            const cand *a = &t->c[idx[k - 1]], *b = &t->c[idx[k]];
            if (a->saved < b->saved || (a->saved == b->saved && a->err <= b->err))
                break;
            size_t tmp = idx[k];
            idx[k] = idx[k - 1];
            idx[k - 1] = tmp;
        }
    t->hull[0] = 0;
    t->n_hull = 1;
    for (size_t i = 0; i < n; i++) {
        const cand *c = &t->c[idx[i]];
        /* Monotone: a point must lower the error reachable at its savings... */
        while (t->n_hull >= 1) {
            const cand *last = &t->c[t->hull[t->n_hull - 1]];
            if (c->saved == last->saved && c->err >= last->err)
                break;
            if (t->n_hull >= 2) {
                /* ...and lie below the segment from the point before the last. */
                const cand *a = &t->c[t->hull[t->n_hull - 2]];
                double cross = (double)(last->saved - a->saved) * (c->err - a->err) -
                               (last->err - a->err) * (double)(c->saved - a->saved);
                if (cross <= 0) {
                    t->n_hull--;
                    continue;
                }
            }
            break;
        }
        const cand *last = &t->c[t->hull[t->n_hull - 1]];
        if (c->saved > last->saved && t->n_hull < MAX_CANDS)
            t->hull[t->n_hull++] = idx[i];
    }
    t->cur = 0;
}

/* ---- finding the tensors ---------------------------------------------------------------- */

typedef struct finder {
    search *s;
    edgec_graph_index *ix;
    const char *const *exclude;
    size_t n_exclude;
    edgec_status st;
} finder;

static bool excluded(const finder *f, const char *tensor, const edgec_node *consumer)
{
    for (size_t i = 0; i < f->n_exclude; i++) {
        const char *g = f->exclude[i];
        if (!fnmatch(g, tensor, 0) ||
            (consumer && ((*consumer->name && !fnmatch(g, consumer->name, 0)) ||
                          !fnmatch(g, consumer->op_type, 0))))
            return true;
    }
    return false;
}

static edgec_status find_tensor(edgec_weight *w, void *arg)
{
    finder *f = arg;
    search *s = f->s;
    if (w->graph != s->clean->graph || !w->tensor || w->dtype != EDGEC_DTYPE_FLOAT ||
        w->numel < MIN_NUMEL || (w->kind != EDGEC_WEIGHT_INITIALIZER && w->kind != EDGEC_WEIGHT_CONSTANT))
        return EDGEC_STATUS_OK;
    size_t nc = 0;
    edgec_node *const *cons = edgec__index_consumers(f->ix, w->name, &nc);
    bool layer = false;
    const edgec_node *first = nc ? cons[0] : NULL;
    for (size_t i = 0; i < nc; i++) {
        const edgec_node *n = cons[i];
        bool op = !strcmp(n->op_type, "Conv") || !strcmp(n->op_type, "Gemm") ||
                  !strcmp(n->op_type, "MatMul");
        if (op && n->n_inputs > 1 && n->inputs[1] && !strcmp(n->inputs[1], w->name)) {
            layer = true;
            first = n;
        }
    }
    if (excluded(f, w->name, first))
        return EDGEC_STATUS_OK;
    tensor_entry *v = realloc(s->t, (s->n_t + 1) * sizeof *v);
    if (!v)
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
    s->t = v;
    tensor_entry *t = &v[s->n_t++];
    memset(t, 0, sizeof *t);
    t->name = w->name;
    t->op = first ? first->op_type : NULL;
    t->numel = w->numel;
    t->layer = layer;
    return EDGEC_STATUS_OK;
}

/* ---- the search ------------------------------------------------------------------------- */

static void say(const search *s, const char *fmt, ...) EDGEC_PRINTF(2, 3);
static void say(const search *s, const char *fmt, ...)
{
    if (!s->o->log)
        return;
    va_list ap;
    fputs("edgec: auto: ", s->o->log);
    va_start(ap, fmt);
    vfprintf(s->o->log, fmt, ap);
    va_end(ap);
    fputc('\n', s->o->log);
}

static void describe(const cand *c, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = '\0';
    if (!c->n_set)
        snprintf(buf, size, "untouched");
    for (size_t k = 0; k < c->n_set && n < size; k++)
        n += (size_t)snprintf(buf + n, size - n, "%s%s=%s", k ? " " : "", c->set[k].pass,
                              c->set[k].value);
}

static edgec_status sensitivity(search *s)
{
    size_t total = 0, done = 0;
    for (size_t i = 0; i < s->n_t; i++)
        total += s->t[i].n_c - 1;
    size_t *choice = calloc(s->n_t + 1, sizeof *choice);
    sized *order = malloc((s->n_t + 1) * sizeof *order);
    if (!choice || !order) {
        free(choice);
        free(order);
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
    }
    for (size_t i = 0; i < s->n_t; i++) {
        order[i] = (sized){s->t[i].numel, i};
        s->t[i].c[0].saved = 0; /* untouched */
        s->t[i].c[0].err = 0;
    }
    qsort(order, s->n_t, sizeof *order, by_size);
    edgec_status st = EDGEC_STATUS_OK;
    /* Coarse to fine: every SENSITIVITY_STRIDE-th candidate of every tensor first, then
     * the ones in between, so that a cut-short phase has seen each tensor's whole range.
     * Each trial stands alone, so the order changes nothing when the phase completes. */
    for (size_t off = 0; off < SENSITIVITY_STRIDE && !st; off++)
        for (size_t k = 0; k < s->n_t && !st; k++) {
            size_t i = order[k].i;
            tensor_entry *t = &s->t[i];
            for (size_t c = 1 + off; c < t->n_c && !st; c += SENSITIVITY_STRIDE) {
                edgec__progress("auto: sensitivity", (int64_t)done++, (int64_t)total);
                if (sensitivity_out_of_time(s)) {
                    t->c[c].saved = 0; /* never chosen */
                    t->c[c].err = INFINITY;
                    continue;
                }
                uint64_t bytes = 0;
                score sc;
                choice[i] = c;
                st = trial(s, choice, &bytes, &sc, NULL);
                choice[i] = 0;
                t->c[c].saved = (int64_t)s->bytes_base - (int64_t)bytes;
                t->c[c].err = sc.err;
            }
        }
    for (size_t i = 0; i < s->n_t && !st; i++)
        make_hull(&s->t[i]);
    free(choice);
    free(order);
    return st;
}

/* A state the budget allowed on the calibration data: each tensor's hull position. */
typedef struct feasible {
    size_t *cur;
    uint64_t bytes;
} feasible;

typedef struct states {
    feasible *v;
    size_t n, cap;
} states;

static edgec_status remember(search *s, states *f, uint64_t bytes)
{
    if (f->n == f->cap) {
        size_t cap = f->cap ? 2 * f->cap : 16;
        feasible *v = realloc(f->v, cap * sizeof *v);
        if (!v)
            return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
        f->v = v;
        f->cap = cap;
    }
    size_t *cur = malloc((s->n_t + 1) * sizeof *cur);
    if (!cur)
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
    for (size_t i = 0; i < s->n_t; i++)
        cur[i] = s->t[i].cur;
    f->v[f->n++] = (feasible){cur, bytes};
    return EDGEC_STATUS_OK;
}

static void restore(search *s, const feasible *f)
{
    for (size_t i = 0; i < s->n_t; i++)
        s->t[i].cur = f->cur[i];
}

static double slope(const tensor_entry *t, size_t k)
{
    const cand *a = &t->c[t->hull[k]], *b = &t->c[t->hull[k + 1]];
    return (double)(b->saved - a->saved) / fmax(b->err - a->err, 1e-12);
}

/* One trial of the current positions; true when it fits the budget on the calibration
 * data and, when given, on the eval data too (the verification of every step). */
static edgec_status try_state(search *s, states *f, const char *what, bool *ok, uint64_t *bytes,
                              score *out)
{
    score sc, ev = {0, 0};
    edgec_status st = trial(s, NULL, bytes, &sc, s->o->eval ? &ev : NULL);
    if (st)
        return st;
    bool calib_ok = sc.drop <= s->o->max_drop + 1e-9, eval_ok = ev.drop <= s->o->max_drop + 1e-9;
    *ok = calib_ok && eval_ok;
    char evtext[64] = "";
    if (s->o->eval)
        snprintf(evtext, sizeof evtext, ", eval drop %.2f", ev.drop);
    say(s, "%s: %llu B (%.2fx), calibration drop %.2f%s, error %.4g: %s", what,
        (unsigned long long)*bytes, (double)s->bytes_float / (double)*bytes, sc.drop, evtext,
        sc.err, *ok ? "within the budget" : !calib_ok ? "over the budget" : "over the budget on the eval data");
    if (calib_ok && !eval_ok)
        s->res->backoffs++;
    if (out)
        *out = sc;
    return *ok ? remember(s, f, *bytes) : EDGEC_STATUS_OK;
}

/* Phase 1: all hull moves in order of bytes per error form one sequence; a bisection finds
 * the longest prefix that fits the budget (a few trials instead of one per move). */
static edgec_status bisect(search *s, states *f, uint64_t target)
{
    size_t m = 0;
    for (size_t i = 0; i < s->n_t; i++)
        m += s->t[i].n_hull - 1;
    size_t *order = malloc((m + 1) * sizeof *order), *pos = calloc(s->n_t + 1, sizeof *pos);
    edgec_status st = EDGEC_STATUS_OK;
    if (!order || !pos) {
        st = edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
        goto cleanup;
    }
    /* Merge the tensors' hulls: slopes fall along each hull, so taking the steepest next
     * step each time gives the global order. Ties go to the lower tensor index. */
    for (size_t k = 0; k < m; k++) {
        size_t best = (size_t)-1;
        for (size_t i = 0; i < s->n_t; i++)
            if (pos[i] + 1 < s->t[i].n_hull &&
                (best == (size_t)-1 || slope(&s->t[i], pos[i]) > slope(&s->t[best], pos[best])))
                best = i;
        order[k] = best;
        pos[best]++;
    }
    size_t lo = 0, hi = m;
    while (lo < hi && !st && !out_of_time(s)) {
        size_t mid = lo + (hi - lo + 1) / 2;
        for (size_t i = 0; i < s->n_t; i++)
            s->t[i].cur = 0;
        for (size_t k = 0; k < mid; k++)
            s->t[order[k]].cur++;
        char what[64];
        snprintf(what, sizeof what, "first %zu of %zu moves", mid, m);
        bool ok = false;
        uint64_t bytes = 0;
        edgec__progress("auto: search", (int64_t)(m - (hi - lo)), (int64_t)m);
        if ((st = try_state(s, f, what, &ok, &bytes, NULL)))
            break;
        if (ok)
            lo = mid;
        else
            hi = mid - 1;
        if (ok && target && bytes <= target)
            break;
    }
    for (size_t i = 0; i < s->n_t; i++)
        s->t[i].cur = 0;
    for (size_t k = 0; k < lo; k++)
        s->t[order[k]].cur++;
cleanup:
    free(order);
    free(pos);
    return st;
}

/* Drops hull point cur + 1 of `t` after a failed step (the budget is counted in whole
 * samples, so one failure says little about the next point); the third failure stops it. */
static void step_failed(tensor_entry *t)
{
    if (++t->failures >= 3 || t->cur + 2 >= t->n_hull) {
        t->blocked = true;
        return;
    }
    memmove(&t->hull[t->cur + 1], &t->hull[t->cur + 2], (t->n_hull - t->cur - 2) * sizeof *t->hull);
    t->n_hull--;
}

/* Phase 2: from the bisection's result, one step at a time: every tensor's next step is
 * tried on the real model, and the one saving the most bytes per unit of real added error
 * (within the budget) is kept. */
static edgec_status greedy(search *s, states *f, uint64_t target, uint64_t bytes)
{
    edgec_status st = EDGEC_STATUS_OK;
    score now;
    if ((st = trial(s, NULL, &bytes, &now, NULL)))
        return st;
    for (int64_t step = 0; !st; step++) {
        if ((target && bytes <= target) || out_of_time(s))
            break;
        size_t best = (size_t)-1, open = 0;
        double best_gain = -1, best_err = 0;
        uint64_t best_bytes = 0;
        for (size_t i = 0; i < s->n_t && !st && !out_of_time(s); i++) {
            tensor_entry *t = &s->t[i];
            if (t->blocked || t->cur + 1 >= t->n_hull)
                continue;
            open++;
            t->cur++;
            char what[160], set[96];
            describe(&t->c[t->hull[t->cur]], set, sizeof set);
            snprintf(what, sizeof what, "try %s %s", t->name, set);
            bool ok = false;
            uint64_t b = 0;
            score sc;
            st = try_state(s, f, what, &ok, &b, &sc);
            t->cur--;
            if (st)
                break;
            if (!ok || b >= bytes) {
                step_failed(t);
                continue;
            }
            double gain = (double)(bytes - b) / fmax(sc.err - now.err, 1e-9);
            if (gain > best_gain) {
                best_gain = gain;
                best = i;
                best_bytes = b;
                best_err = sc.err;
            }
        }
        if (st || !open)
            break;
        if (best == (size_t)-1)
            continue; /* every step failed; their next points get a chance */
        s->t[best].cur++;
        bytes = best_bytes;
        now.err = best_err;
        char set[96];
        describe(&s->t[best].c[s->t[best].hull[s->t[best].cur]], set, sizeof set);
        say(s, "step %lld: %s %s, %llu B (%.2fx)", (long long)step + 1, s->t[best].name, set,
            (unsigned long long)bytes, (double)s->bytes_float / (double)bytes);
    }
    return st;
}

/* Phase 3: the smallest state found within the budget, measured once more for the result. */
static edgec_status best_state(search *s, states *f, uint64_t *bytes, score *calib, score *eval)
{
    size_t best = 0;
    for (size_t i = 1; i < f->n; i++)
        if (f->v[i].bytes < f->v[best].bytes)
            best = i;
    restore(s, &f->v[best]);
    return trial(s, NULL, bytes, calib, s->o->eval ? eval : NULL);
}

static edgec_status make_plan(search *s, edgec_plan **out)
{
    edgec_plan *plan = calloc(1, sizeof *plan);
    if (!plan)
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
    plan->calib = true;
    plan->container = s->o->container;
    plan->max_drop = s->o->max_drop;
    plan->result = *s->res;
    plan->has_result = true;
    edgec_status st = EDGEC_STATUS_OK;
    for (size_t i = 0; i < s->n_t && !st; i++) {
        const tensor_entry *t = &s->t[i];
        const cand *c = &t->c[t->hull[t->cur]];
        edgec_plan_layer *l;
        if (!c->n_set || (st = edgec__plan_add_layer(plan, t->name, t->op, t->numel, &l)))
            continue;
        l->bytes_saved = c->saved;
        l->error = c->err;
        for (size_t k = 0; k < c->n_set && !st; k++)
            st = edgec__plan_layer_set(l, c->set[k].pass, c->set[k].value);
    }
    bool pruned = false;
    for (size_t i = 0; i < plan->n_layers; i++)
        for (size_t k = 0; k < plan->layers[i].n_set; k++)
            pruned |= !strcmp(plan->layers[i].set[k].pass, "prune");
    if (!st && pruned && s->o->container)
        st = edgec__plan_option(plan, "prune-storage", "dense");
    if (st)
        edgec_plan_free(plan);
    else
        *out = plan;
    return st;
}

/* Reference outputs, labels and their accuracy on one data set. */
static edgec_status reference(const edgec_model *m, const edgec_dataset *d, outputs *o,
                              const edgec_array **labels, double *acc)
{
    edgec_status st = edgec__dataset_labels(d, labels);
    if (st || (st = run_outputs(m, d, o)))
        return st;
    if (*labels && (*labels)->numel < o->n)
        return edgec__fail(EDGEC_STATUS_INVALID_DATA, "%s: fewer labels than samples",
                           edgec_dataset_source(d));
    *acc = *labels ? accuracy(o, *labels) : 100.0;
    return EDGEC_STATUS_OK;
}

edgec_status edgec_auto_search(const edgec_model *model, const char *const *exclude,
                               size_t n_exclude, const edgec_auto_options *opt, edgec_plan **plan,
                               edgec_auto_result *result)
{
    search s = {.o = opt, .res = result};
    edgec_pipeline *p = NULL;
    states found = {0};
    *plan = NULL;
    memset(result, 0, sizeof *result);
    clock_gettime(CLOCK_MONOTONIC, &s.t0);
    if (!opt->calib)
        return edgec__fail(EDGEC_STATUS_USAGE,
                           "--auto needs --calib FILE: calibration inputs (with a `labels` array "
                           "for top-1) to measure each layer's sensitivity on");
    edgec_status st = edgec_model_save_buffer((edgec_model *)model, &s.onnx, &s.onnx_len);
    if (st)
        goto cleanup;
    s.bytes_float = s.onnx_len;
    /* Ratios are against the float ONNX file, as the report gives them. */
    if ((st = reference(model, opt->calib, &s.ref_calib, &s.labels_calib, &s.ref_acc_calib)) ||
        (opt->eval &&
         (st = reference(model, opt->eval, &s.ref_eval, &s.labels_eval, &s.ref_acc_eval))))
        goto cleanup;
    result->labels = s.labels_calib && (!opt->eval || s.labels_eval);
    /* The tensors, named as the passes will see them: after cleanup. */
    if ((st = edgec_pipeline_create(&p)) || (st = edgec_pipeline_set(p, "cleanup", NULL)) ||
        (st = edgec_model_load_buffer(s.onnx, s.onnx_len, "auto", NULL, &s.clean)) ||
        (st = edgec_pipeline_run(p, s.clean, NULL)))
        goto cleanup;
    finder f = {&s, NULL, exclude, n_exclude, EDGEC_STATUS_OK};
    if ((st = edgec__graph_index(s.clean->arena, s.clean->graph, &f.ix)) ||
        (st = edgec__model_weights(s.clean, find_tensor, &f)))
        goto cleanup;
    if (!s.n_t) {
        st = edgec__fail(EDGEC_STATUS_UNSUPPORTED,
                         "--auto found no float weights of %d or more elements to compress",
                         MIN_NUMEL);
        goto cleanup;
    }
    for (size_t i = 0; i < s.n_t; i++)
        make_cands(&s, &s.t[i]);
    uint64_t bytes = 0;
    score calib = {0, 0}, eval = {0, 0};
    size_t *none = calloc(s.n_t, sizeof *none);
    if (!none) {
        st = edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
        goto cleanup;
    }
    st = trial(&s, none, &s.bytes_base, &calib, NULL);
    free(none);
    if (st)
        goto cleanup;
    say(&s, "%zu tensors, %llu B float, %llu B %s before any setting; budget %.2f %s on %s",
        s.n_t, (unsigned long long)s.bytes_float, (unsigned long long)s.bytes_base,
        opt->container ? "as a container" : "as ONNX", opt->max_drop,
        s.labels_calib ? "top-1 points" : "% of changed top-1", edgec_dataset_source(opt->calib));
    if ((st = sensitivity(&s)))
        goto cleanup;
    uint64_t target = opt->target_ratio > 0
                          ? (uint64_t)floor((double)s.bytes_float / opt->target_ratio)
                          : 0;
    if ((st = remember(&s, &found, s.bytes_base)) || (st = bisect(&s, &found, target)))
        goto cleanup;
    bytes = s.bytes_base;
    for (size_t i = 0; i < found.n; i++) {
        bool same = true;
        for (size_t k = 0; k < s.n_t && same; k++)
            same = found.v[i].cur[k] == s.t[k].cur;
        if (same)
            bytes = found.v[i].bytes;
    }
    if ((st = greedy(&s, &found, target, bytes)) ||
        (st = best_state(&s, &found, &bytes, &calib, &eval)))
        goto cleanup;
    for (size_t i = 0; i < s.n_t; i++)
        result->steps += (int)s.t[i].cur;
    if (opt->eval) {
        result->has_eval = true;
        result->eval_drop = eval.drop;
    }
    result->bytes_before = s.bytes_float;
    result->bytes_after = bytes;
    result->calib_drop = calib.drop;
    result->seconds = elapsed(&s);
    result->timed_out |= s.sensitivity_cut;
    say(&s, "%llu B -> %llu B (%.2fx), calibration drop %.2f%s; %d trials in %.1f s%s",
        (unsigned long long)s.bytes_float, (unsigned long long)bytes,
        (double)s.bytes_float / (double)bytes, calib.drop, opt->eval ? "" : " (no eval data)",
        result->trials, result->seconds, result->timed_out ? " (time budget reached)" : "");
    st = make_plan(&s, plan);
cleanup:
    for (size_t i = 0; i < found.n; i++)
        free(found.v[i].cur);
    free(found.v);
    free(s.t);
    free(s.ref_calib.v);
    free(s.ref_eval.v);
    edgec_model_free(s.clean);
    edgec_pipeline_free(p);
    free(s.onnx);
    return st;
}
