/* The pipeline: settings from the command line (or a library caller), validated up
 * front, run in a fixed order, and recorded in the model. */
#include <fnmatch.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "edgec/runtime.h"
#include "passes/pass.h"
#include "report/report.h"

#define MAX_SETTINGS 64
#define MAX_EXCLUDES 64

typedef struct setting {
    const char *name;  /* a pass or a pass option */
    char *value;       /* NULL when given without a value */
    const edgec_pass *pass; /* set when the setting enables a pass */
} setting;

/* A pass's value for one weight tensor (a plan's per-layer choice). */
typedef struct layer_setting {
    char *tensor;
    const edgec_pass *pass;
    char *value; /* "off" keeps the pass away from the tensor */
    bool used;   /* a pass found the tensor during the last run */
} layer_setting;

struct edgec_pipeline {
    setting settings[MAX_SETTINGS];
    size_t n_settings;
    layer_setting *layers;
    size_t n_layers, cap_layers;
    char *excludes[MAX_EXCLUDES];
    size_t n_excludes;
    const edgec_dataset *calib;
    uint64_t seed;
    char *described;
};

/* The options table, derived from the passes on first use. */
static edgec_option_info options[256];
static size_t n_options;

static void build_options(void)
{
    if (n_options)
        return;
    for (size_t i = 0; i < edgec__n_passes; i++) {
        const edgec_pass *p = edgec__passes[i];
        options[n_options++] = (edgec_option_info){p->name, p->arg, p->help, true};
        for (const edgec_pass_option *o = p->options; o && o->name; o++) {
            /* Passes may share an option (--no-equalize for --int8 and --int4): list it once. */
            bool seen = false;
            for (size_t k = 0; k < n_options && !seen; k++)
                seen = !strcmp(options[k].name, o->name);
            if (!seen)
                options[n_options++] = (edgec_option_info){o->name, o->arg, o->help, false};
        }
    }
}

/* Whether pass `p` declares option `name`. */
static bool declares(const edgec_pass *p, const char *name)
{
    for (const edgec_pass_option *o = p->options; o && o->name; o++)
        if (!strcmp(o->name, name))
            return true;
    return false;
}

size_t edgec_pipeline_option_count(void)
{
    build_options();
    return n_options;
}

const edgec_option_info *edgec_pipeline_option_at(size_t i)
{
    build_options();
    return i < n_options ? &options[i] : NULL;
}

edgec_status edgec_pipeline_create(edgec_pipeline **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? EDGEC_STATUS_OK : edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
}

void edgec_pipeline_free(edgec_pipeline *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_settings; i++)
        free(p->settings[i].value);
    for (size_t i = 0; i < p->n_excludes; i++)
        free(p->excludes[i]);
    edgec_pipeline_clear_layers(p);
    free(p->layers);
    free(p->described);
    free(p);
}

/* The pass `name` enables, or the pass whose option `name` is, with `*opt` set. */
static const edgec_pass *lookup(const char *name, const edgec_pass_option **opt)
{
    *opt = NULL;
    for (size_t i = 0; i < edgec__n_passes; i++) {
        const edgec_pass *p = edgec__passes[i];
        if (!strcmp(p->name, name))
            return p;
        for (const edgec_pass_option *o = p->options; o && o->name; o++) {
            if (!strcmp(o->name, name)) {
                *opt = o;
                return p;
            }
        }
    }
    return NULL;
}

edgec_status edgec_pipeline_set(edgec_pipeline *p, const char *name, const char *value)
{
    const edgec_pass_option *opt;
    const edgec_pass *pass = lookup(name, &opt);
    if (!pass)
        return edgec__fail(EDGEC_STATUS_USAGE, "unknown option '--%s'", name);
    const char *arg = opt ? opt->arg : pass->arg;
    if (!arg && value)
        return edgec__fail(EDGEC_STATUS_USAGE, "option '--%s' takes no value", name);
    if (!opt && pass->arg_required && !value)
        return edgec__fail(EDGEC_STATUS_USAGE, "option '--%s' needs a value: --%s %s", name,
                           name, pass->arg);
    if (opt && arg && !value)
        return edgec__fail(EDGEC_STATUS_USAGE, "option '--%s' needs a value: --%s %s", name,
                           name, arg);
    if (!opt && pass->check) {
        edgec_status st = pass->check(value);
        if (st)
            return st;
    }
    /* A secondary option declared as "a|b|c" takes one of those words: refuse anything
     * else now, before a model is read, rather than when its pass runs. */
    if (opt && arg && value && strchr(arg, '|') && !strpbrk(arg, "[ ")) {
        bool known = false;
        for (const char *alt = arg; *alt && !known;) {
            size_t len = strcspn(alt, "|");
            known = strlen(value) == len && !strncmp(alt, value, len);
            alt += len + (alt[len] == '|');
        }
        if (!known)
            return edgec__fail(EDGEC_STATUS_USAGE, "option '--%s' takes %s, not '%s'", name, arg,
                               value);
    }
    for (size_t i = 0; i < p->n_settings; i++) {
        if (!strcmp(p->settings[i].name, name))
            return edgec__fail(EDGEC_STATUS_USAGE, "option '--%s' is given twice", name);
    }
    if (p->n_settings == MAX_SETTINGS)
        return edgec__fail(EDGEC_STATUS_USAGE, "too many options");
    char *v = value ? strdup(value) : NULL;
    if (value && !v)
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
    p->settings[p->n_settings++] = (setting){opt ? opt->name : pass->name, v, opt ? NULL : pass};
    free(p->described);
    p->described = NULL;
    return EDGEC_STATUS_OK;
}

edgec_status edgec_pipeline_set_layer(edgec_pipeline *p, const char *tensor, const char *name,
                                      const char *value)
{
    const edgec_pass_option *opt;
    const edgec_pass *pass = lookup(name, &opt);
    if (!pass || opt)
        return edgec__fail(EDGEC_STATUS_USAGE, "unknown pass '%s' in a layer setting", name);
    if (!pass->layer_values)
        return edgec__fail(EDGEC_STATUS_USAGE, "--%s has no per-layer setting", name);
    if (!tensor || !*tensor)
        return edgec__fail(EDGEC_STATUS_USAGE, "a layer setting of --%s names no tensor", name);
    /* Passes whose value is optional (int8, int4) take "on" for their default. */
    if (value && !pass->arg_required && !strcmp(value, "on"))
        value = NULL;
    bool off = value && !strcmp(value, "off");
    if (!off && !pass->arg && value)
        return edgec__fail(EDGEC_STATUS_USAGE, "--%s for '%s' takes on or off, not '%s'", name,
                           tensor, value);
    if (!off && pass->arg_required && !value)
        return edgec__fail(EDGEC_STATUS_USAGE, "--%s for '%s' needs a value", name, tensor);
    if (!off && pass->check) {
        edgec_status st = pass->check(value);
        if (st) {
            char pre[300];
            snprintf(pre, sizeof pre, "tensor '%.256s': ", tensor);
            edgec__fail_prefix(pre);
            return st;
        }
    }
    for (size_t i = 0; i < p->n_layers; i++)
        if (p->layers[i].pass == pass && !strcmp(p->layers[i].tensor, tensor))
            return edgec__fail(EDGEC_STATUS_USAGE, "--%s is set twice for tensor '%s'", name,
                               tensor);
    if (p->n_layers == p->cap_layers) {
        size_t cap = p->cap_layers ? 2 * p->cap_layers : 16;
        layer_setting *v = realloc(p->layers, cap * sizeof *v);
        if (!v)
            return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
        p->layers = v;
        p->cap_layers = cap;
    }
    layer_setting ls = {strdup(tensor), pass, value ? strdup(value) : NULL, false};
    if (!ls.tensor || (value && !ls.value)) {
        free(ls.tensor);
        free(ls.value);
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
    }
    p->layers[p->n_layers++] = ls;
    free(p->described);
    p->described = NULL;
    return EDGEC_STATUS_OK;
}

void edgec_pipeline_clear_layers(edgec_pipeline *p)
{
    for (size_t i = 0; i < p->n_layers; i++) {
        free(p->layers[i].tensor);
        free(p->layers[i].value);
    }
    p->n_layers = 0;
    free(p->described);
    p->described = NULL;
}

edgec_status edgec_pipeline_exclude(edgec_pipeline *p, const char *pattern)
{
    if (p->n_excludes == MAX_EXCLUDES)
        return edgec__fail(EDGEC_STATUS_USAGE, "too many --exclude patterns (at most %d)",
                           MAX_EXCLUDES);
    if (!(p->excludes[p->n_excludes] = strdup(pattern)))
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
    p->n_excludes++;
    free(p->described);
    p->described = NULL;
    return EDGEC_STATUS_OK;
}

void edgec_pipeline_set_calib(edgec_pipeline *p, const edgec_dataset *calib)
{
    p->calib = calib;
}

void edgec_pipeline_set_seed(edgec_pipeline *p, uint64_t seed)
{
    p->seed = seed;
    free(p->described);
    p->described = NULL;
}

bool edgec_pipeline_has_passes(const edgec_pipeline *p)
{
    for (size_t i = 0; i < p->n_settings; i++)
        if (p->settings[i].pass)
            return true;
    return p->n_layers > 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char *edgec_pipeline_describe(edgec_pipeline *p)
{
    if (p->described)
        return p->described;
    /* Sorted, so the same settings in another order describe the same way. */
    char **items = calloc(MAX_SETTINGS + MAX_EXCLUDES + 1 + p->n_layers, sizeof *items);
    size_t n = 0, len = 1;
    if (!items)
        return "";
    for (size_t i = 0; i < p->n_settings; i++) {
        const setting *s = &p->settings[i];
        size_t l = strlen(s->name) + (s->value ? strlen(s->value) : 0) + 4;
        if (!(items[n] = malloc(l)))
            goto fail;
        snprintf(items[n], l, "--%s%s%s", s->name, s->value ? "=" : "", s->value ? s->value : "");
        len += strlen(items[n++]) + 1;
    }
    for (size_t i = 0; i < p->n_excludes; i++) {
        size_t l = strlen(p->excludes[i]) + 16;
        if (!(items[n] = malloc(l)))
            goto fail;
        snprintf(items[n], l, "--exclude=%s", p->excludes[i]);
        len += strlen(items[n++]) + 1;
    }
    for (size_t i = 0; i < p->n_layers; i++) {
        const layer_setting *ls = &p->layers[i];
        size_t l = strlen(ls->pass->name) + strlen(ls->tensor) +
                   (ls->value ? strlen(ls->value) : 0) + 5;
        if (!(items[n] = malloc(l)))
            goto fail;
        snprintf(items[n], l, "--%s@%s%s%s", ls->pass->name, ls->tensor, ls->value ? "=" : "",
                 ls->value ? ls->value : "");
        len += strlen(items[n++]) + 1;
    }
    if (p->seed) {
        if (!(items[n] = malloc(32)))
            goto fail;
        snprintf(items[n], 32, "--seed=%llu", (unsigned long long)p->seed);
        len += strlen(items[n++]) + 1;
    }
    qsort(items, n, sizeof *items, cmp_str);
    if (!(p->described = malloc(len)))
        goto fail;
    p->described[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (i)
            strcat(p->described, " ");
        strcat(p->described, items[i]);
    }
fail:
    for (size_t i = 0; i < n; i++)
        free(items[i]);
    free(items);
    return p->described ? p->described : "";
}

const char *edgec__pass_option(const edgec_pass_ctx *ctx, const char *name)
{
    const edgec_pipeline *p = ctx->pipeline;
    for (size_t i = 0; i < p->n_settings; i++)
        if (!strcmp(p->settings[i].name, name))
            return p->settings[i].value ? p->settings[i].value : "";
    return NULL;
}

/* Whether pass `name` is enabled for the whole model (not only by layer settings). */
static bool enabled_globally(const edgec_pipeline *p, const char *name)
{
    for (size_t i = 0; i < p->n_settings; i++)
        if (p->settings[i].pass && !strcmp(p->settings[i].name, name))
            return true;
    return false;
}

bool edgec__pass_enabled(const edgec_pass_ctx *ctx, const char *name)
{
    const edgec_pipeline *p = ctx->pipeline;
    if (enabled_globally(p, name))
        return true;
    for (size_t i = 0; i < p->n_layers; i++)
        if (!strcmp(p->layers[i].pass->name, name))
            return true;
    return false;
}

/* The layer setting of `pass` for `tensor`, or for the tensor --svd factored it from. */
static const layer_setting *find_layer(const edgec_pipeline *p, const edgec_pass *pass,
                                       const char *tensor)
{
    static const char *const derived[] = {"_lowrank_a", "_lowrank_b"};
    if (!tensor)
        return NULL;
    size_t len = strlen(tensor);
    for (size_t d = 0; d <= sizeof derived / sizeof *derived; d++) {
        size_t base = len;
        if (d) {
            size_t sl = strlen(derived[d - 1]);
            if (len <= sl || strcmp(tensor + len - sl, derived[d - 1]))
                continue;
            base = len - sl;
        }
        for (size_t i = 0; i < p->n_layers; i++)
            if (p->layers[i].pass == pass && strlen(p->layers[i].tensor) == base &&
                !strncmp(p->layers[i].tensor, tensor, base)) {
                /* The pipeline is const for passes; this flag is its only run state. */
                ((layer_setting *)&p->layers[i])->used = true;
                return &p->layers[i];
            }
    }
    return NULL;
}

static bool has_layers(const edgec_pipeline *p, const edgec_pass *pass)
{
    for (size_t i = 0; i < p->n_layers; i++)
        if (p->layers[i].pass == pass)
            return true;
    return false;
}

const char *edgec__pass_arg(const edgec_pass_ctx *ctx, const char *tensor)
{
    const layer_setting *ls = find_layer(ctx->pipeline, ctx->pass, tensor);
    return ls ? ls->value : ctx->arg;
}

bool edgec__pass_excluded(const edgec_pass_ctx *ctx, const edgec_node *node, const char *tensor)
{
    const edgec_pipeline *p = ctx->pipeline;
    if (tensor && has_layers(p, ctx->pass)) {
        const layer_setting *ls = find_layer(p, ctx->pass, tensor);
        if (ls ? ls->value && !strcmp(ls->value, "off") : !enabled_globally(p, ctx->pass->name))
            return true;
    }
    for (size_t i = 0; i < p->n_excludes; i++) {
        const char *g = p->excludes[i];
        if ((node && *node->name && !fnmatch(g, node->name, 0)) ||
            (node && !fnmatch(g, node->op_type, 0)) || (tensor && !fnmatch(g, tensor, 0)))
            return true;
    }
    return false;
}

void edgec__pass_log(const edgec_pass_ctx *ctx, const char *fmt, ...)
{
    if (!ctx->log)
        return;
    va_list ap;
    fprintf(ctx->log, "edgec: %s: ", ctx->pass->name);
    va_start(ap, fmt);
    vfprintf(ctx->log, fmt, ap);
    va_end(ap);
    fputc('\n', ctx->log);
}

edgec_status edgec__parse_double(const char *s, const char *what, double lo, double hi,
                                 bool lo_open, bool hi_open, double *out)
{
    char *end;
    if (!s || !*s)
        return edgec__fail(EDGEC_STATUS_USAGE, "%s needs a number", what);
    double v = strtod(s, &end);
    if (*end || !isfinite(v) || (lo_open ? v <= lo : v < lo) || (hi_open ? v >= hi : v > hi))
        return edgec__fail(EDGEC_STATUS_USAGE, "%s must be a number in %c%g, %g%c, not '%s'", what,
                           lo_open ? '(' : '[', lo, hi, hi_open ? ')' : ']', s);
    *out = v;
    return EDGEC_STATUS_OK;
}

/* Passes in run order; ties keep the table's order. */
static int cmp_order(const void *a, const void *b)
{
    const setting *x = *(const setting *const *)a, *y = *(const setting *const *)b;
    if (x->pass->order != y->pass->order)
        return x->pass->order < y->pass->order ? -1 : 1;
    size_t ix = 0, iy = 0;
    for (size_t i = 0; i < edgec__n_passes; i++) {
        if (edgec__passes[i] == x->pass)
            ix = i;
        if (edgec__passes[i] == y->pass)
            iy = i;
    }
    return ix < iy ? -1 : ix > iy;
}

bool edgec_pipeline_pass_at(const edgec_pipeline *p, size_t i, const char **name,
                            const char **value)
{
    const setting *run[MAX_SETTINGS];
    size_t n = 0;
    for (size_t k = 0; k < p->n_settings; k++)
        if (p->settings[k].pass)
            run[n++] = &p->settings[k];
    if (i >= n)
        return false;
    qsort(run, n, sizeof *run, cmp_order);
    *name = run[i]->name;
    *value = run[i]->value;
    return true;
}

edgec_status edgec_pipeline_run(edgec_pipeline *p, edgec_model *model, FILE *log)
{
    edgec__error_clear();
    const setting *run[MAX_SETTINGS];
    size_t n = 0;
    for (size_t i = 0; i < p->n_settings; i++)
        if (p->settings[i].pass)
            run[n++] = &p->settings[i];
    /* A pass with layer settings only runs for the tensors that have one. */
    setting by_layer[MAX_SETTINGS];
    size_t n_by_layer = 0;
    for (size_t i = 0; i < p->n_layers && n < MAX_SETTINGS; i++) {
        bool listed = false;
        for (size_t k = 0; k < n && !listed; k++)
            listed = run[k]->pass == p->layers[i].pass;
        if (!listed) {
            by_layer[n_by_layer] = (setting){p->layers[i].pass->name, NULL, p->layers[i].pass};
            run[n++] = &by_layer[n_by_layer++];
        }
    }
    if (!n)
        return EDGEC_STATUS_OK;
    for (size_t i = 0; i < p->n_layers; i++)
        p->layers[i].used = false;
    /* Options without their pass would silently do nothing: say so instead. */
    for (size_t i = 0; i < p->n_settings; i++) {
        if (p->settings[i].pass)
            continue;
        const edgec_pass_option *opt;
        const edgec_pass *owner = lookup(p->settings[i].name, &opt);
        bool on = !strcmp(p->settings[i].name, "no-cleanup");
        for (size_t k = 0; k < n; k++)
            on |= run[k]->pass == owner || declares(run[k]->pass, p->settings[i].name);
        if (!on)
            return edgec__fail(EDGEC_STATUS_USAGE, "option '--%s' needs '--%s'",
                               p->settings[i].name, owner->name);
    }
    /* Cleanup runs first whenever any pass runs, unless --no-cleanup. */
    const edgec_pass_option *copt;
    const edgec_pass *cleanup = lookup("cleanup", &copt);
    bool want_cleanup = cleanup && !copt;
    for (size_t i = 0; i < p->n_settings; i++)
        want_cleanup &= strcmp(p->settings[i].name, "no-cleanup") != 0;
    for (size_t k = 0; k < n; k++)
        want_cleanup &= run[k]->pass != cleanup;
    setting implicit_cleanup = {"cleanup", NULL, cleanup};
    if (want_cleanup && n < MAX_SETTINGS)
        run[n++] = &implicit_cleanup;
    qsort(run, n, sizeof *run, cmp_order);
    for (size_t i = 0; i < n; i++) {
        edgec_pass_ctx ctx = {model, run[i]->pass, run[i]->value, p->calib, p->seed, p, log};
        edgec__progress(run[i]->pass->name, (int64_t)i, (int64_t)n);
        edgec_status st = run[i]->pass->run(&ctx);
        if (st) {
            char pre[128];
            snprintf(pre, sizeof pre, "%s: %s: ", model->path, run[i]->pass->name);
            if (strncmp(edgec_error_message(), model->path, strlen(model->path)))
                edgec__fail_prefix(pre);
            return st;
        }
    }
    /* A layer setting no pass met names a tensor this model lacks (a plan made for
     * another model, or a typo): silently ignoring it would hide that. */
    for (size_t i = 0; i < p->n_layers; i++)
        if (!p->layers[i].used)
            return edgec__fail(EDGEC_STATUS_INVALID_DATA,
                               "%s: --%s setting for tensor '%s': the model has no such weight "
                               "that --%s works on",
                               model->path, p->layers[i].pass->name, p->layers[i].tensor,
                               p->layers[i].pass->name);
    edgec_status st = edgec__model_set_meta(model, "edgec.version", edgec_version());
    if (!st)
        st = edgec__model_set_meta(model, "edgec.options", edgec_pipeline_describe(p));
    return st;
}

edgec_status edgec__collect(edgec_model *m, const edgec_dataset *data, const char *const *names,
                            size_t n_names, int64_t max_samples, edgec_collect_fn fn, void *ctx)
{
    edgec_graph *g = m->graph;
    edgec_value_info *saved = g->outputs;
    size_t n_saved = g->n_outputs;
    edgec_session *s = NULL;
    edgec_array **outs = NULL;
    const edgec_array **inputs = NULL, **picked = NULL;
    edgec_array **slices = NULL;
    size_t n_in = 0, n_out = 0;
    edgec_status st = EDGEC_STATUS_OK;
    /* The values become extra graph outputs for the duration of the runs. */
    edgec_value_info *vi = edgec__arena_calloc(m->arena, n_saved + n_names, sizeof *vi);
    if (!vi)
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
    if (n_saved)
        memcpy(vi, saved, n_saved * sizeof *vi);
    for (size_t i = 0; i < n_names; i++)
        vi[n_saved + i] = (edgec_value_info){.name = names[i], .rank = -1, .dirty = true};
    g->outputs = vi;
    g->n_outputs = n_saved + n_names;
    if ((st = edgec_session_create(m, NULL, &s)))
        goto cleanup;
    n_in = edgec_session_input_count(s);
    n_out = edgec_session_output_count(s);
    int64_t samples = 0;
    if ((st = edgec_dataset_samples(data, &samples)))
        goto cleanup;
    if (max_samples > 0 && samples > max_samples)
        samples = max_samples;
    outs = calloc(n_out, sizeof *outs);
    inputs = calloc(n_in + 1, sizeof *inputs);
    slices = calloc(n_in + 1, sizeof *slices);
    picked = calloc(n_names + 1, sizeof *picked);
    if (!outs || !inputs || !slices || !picked) {
        st = edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
        goto cleanup;
    }
    for (int64_t k = 0; k < samples && !st; k++) {
        for (size_t i = 0; i < n_in && !st; i++) {
            edgec_value_desc d;
            if ((st = edgec_session_input(s, i, &d)))
                break;
            const edgec_array *a = edgec_dataset_find(data, d.name);
            if (!a && n_in == 1 && edgec_dataset_count(data) >= 1)
                a = edgec_dataset_at(data, 0);
            if (!a) {
                st = edgec__fail(EDGEC_STATUS_INVALID_DATA, "%s: no array named '%s' (a model input)",
                                 edgec_dataset_source(data), d.name);
                break;
            }
            edgec_array_free(slices[i]);
            slices[i] = NULL;
            if (!(st = edgec_array_slice(a, k, 1, &slices[i])) &&
                !(st = edgec_array_set_name(slices[i], d.name)))
                inputs[i] = slices[i];
        }
        if (!st)
            st = edgec_session_run(s, inputs, n_in, outs, n_out);
        for (size_t i = 0; !st && i < n_names; i++) {
            if (outs[n_saved + i]->type != EDGEC_ELEM_FLOAT)
                st = edgec__fail(EDGEC_STATUS_UNSUPPORTED,
                                 "value '%s' is not float32; calibration needs float values",
                                 names[i]);
            picked[i] = outs[n_saved + i];
        }
        if (!st)
            st = fn(k, picked, ctx);
        edgec__progress("calibrating", k + 1, samples);
        for (size_t i = 0; i < n_out; i++) {
            edgec_array_free(outs[i]);
            outs[i] = NULL;
        }
    }
cleanup:
    g->outputs = saved;
    g->n_outputs = n_saved;
    for (size_t i = 0; slices && i < n_in; i++)
        edgec_array_free(slices[i]);
    edgec_session_free(s);
    free(outs);
    free(inputs);
    free(picked);
    free(slices);
    return st;
}
