/* Plan files: the per-layer choices of --auto as JSON (docs/AUTO.md), written by
 * --plan-out and read back by --plan. Only the settings matter when a plan is applied; the
 * measured figures are there for people and tools reading it. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "auto/auto_int.h"
#include "common/json.h"
#include "common/json_read.h"
#include "common/outfile.h"

#define MAX_PLAN_BYTES (64u << 20)

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

edgec_status edgec__plan_add_layer(edgec_plan *plan, const char *tensor, const char *op,
                                   int64_t numel, edgec_plan_layer **out)
{
    edgec_plan_layer *v = realloc(plan->layers, (plan->n_layers + 1) * sizeof *v);
    if (!v)
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
    plan->layers = v;
    edgec_plan_layer *l = &v[plan->n_layers];
    *l = (edgec_plan_layer){.tensor = strdup(tensor), .op = dup_or_null(op), .numel = numel,
                            .error = -1};
    if (!l->tensor || (op && !l->op)) {
        free(l->tensor);
        free(l->op);
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
    }
    plan->n_layers++;
    *out = l;
    return EDGEC_STATUS_OK;
}

/* Appends {name, value} to a fixed array of settings. */
static edgec_status add_setting(edgec_plan_setting *v, size_t *n, const char *what,
                                const char *name, const char *value)
{
    if (*n == EDGEC_PLAN_MAX_SETTINGS)
        return edgec__fail(EDGEC_STATUS_INVALID_DATA, "more than %d settings for %s",
                           EDGEC_PLAN_MAX_SETTINGS, what);
    edgec_plan_setting s = {strdup(name), dup_or_null(value)};
    if (!s.pass || (value && !s.value)) {
        free(s.pass);
        free(s.value);
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
    }
    v[(*n)++] = s;
    return EDGEC_STATUS_OK;
}

edgec_status edgec__plan_layer_set(edgec_plan_layer *l, const char *pass, const char *value)
{
    return add_setting(l->set, &l->n_set, l->tensor, pass, value);
}

edgec_status edgec__plan_option(edgec_plan *plan, const char *name, const char *value)
{
    return add_setting(plan->options, &plan->n_options, "the plan's options", name, value);
}

void edgec_plan_free(edgec_plan *plan)
{
    if (!plan)
        return;
    for (size_t i = 0; i < plan->n_layers; i++) {
        edgec_plan_layer *l = &plan->layers[i];
        for (size_t k = 0; k < l->n_set; k++) {
            free(l->set[k].pass);
            free(l->set[k].value);
        }
        free(l->tensor);
        free(l->op);
    }
    for (size_t k = 0; k < plan->n_options; k++) {
        free(plan->options[k].pass);
        free(plan->options[k].value);
    }
    free(plan->layers);
    free(plan);
}

bool edgec_plan_needs_calib(const edgec_plan *plan)
{
    return plan->calib;
}

bool edgec_plan_container(const edgec_plan *plan)
{
    return plan->container;
}

edgec_status edgec_plan_apply(const edgec_plan *plan, edgec_pipeline *p)
{
    for (size_t i = 0; i < plan->n_layers; i++) {
        const edgec_plan_layer *l = &plan->layers[i];
        for (size_t k = 0; k < l->n_set; k++) {
            edgec_status st = edgec_pipeline_set_layer(p, l->tensor, l->set[k].pass,
                                                       l->set[k].value);
            if (st)
                return st;
        }
    }
    for (size_t k = 0; k < plan->n_options; k++) {
        edgec_status st = edgec_pipeline_set(p, plan->options[k].pass, plan->options[k].value);
        if (st)
            return st;
    }
    return EDGEC_STATUS_OK;
}

/* ---- writing --------------------------------------------------------------------------- */

static void render(const void *arg, FILE *out)
{
    const edgec_plan *plan = arg;
    edgec_json j;
    edgec__json_init(&j, out, true);
    edgec__json_begin_object(&j, NULL);
    edgec__json_str(&j, "format", "edgec-plan");
    edgec__json_int(&j, "version", EDGEC_PLAN_VERSION);
    edgec__json_str(&j, "edgec", edgec_version());
    edgec__json_bool(&j, "calib", plan->calib);
    edgec__json_bool(&j, "container", plan->container);
    edgec__json_num(&j, "max_drop", plan->max_drop);
    if (plan->has_result) {
        const edgec_auto_result *r = &plan->result;
        edgec__json_begin_object(&j, "search");
        edgec__json_uint(&j, "bytes_before", r->bytes_before);
        edgec__json_uint(&j, "bytes_after", r->bytes_after);
        edgec__json_num(&j, "ratio", r->bytes_after ? (double)r->bytes_before / (double)r->bytes_after : 0);
        edgec__json_str(&j, "drop_unit", r->labels ? "top-1 points" : "percent of top-1 changed");
        edgec__json_num(&j, "calib_drop", r->calib_drop);
        if (r->has_eval)
            edgec__json_num(&j, "eval_drop", r->eval_drop);
        else
            edgec__json_null(&j, "eval_drop");
        edgec__json_int(&j, "trials", r->trials);
        edgec__json_int(&j, "steps", r->steps);
        edgec__json_int(&j, "backoffs", r->backoffs);
        edgec__json_bool(&j, "timed_out", r->timed_out);
        edgec__json_end_object(&j);
    }
    edgec__json_begin_object(&j, "options");
    for (size_t k = 0; k < plan->n_options; k++)
        edgec__json_str(&j, plan->options[k].pass, plan->options[k].value ? plan->options[k].value : "");
    edgec__json_end_object(&j);
    edgec__json_begin_array(&j, "layers");
    for (size_t i = 0; i < plan->n_layers; i++) {
        const edgec_plan_layer *l = &plan->layers[i];
        edgec__json_begin_object(&j, NULL);
        edgec__json_str(&j, "tensor", l->tensor);
        if (l->op)
            edgec__json_str(&j, "op", l->op);
        edgec__json_int(&j, "elements", l->numel);
        edgec__json_begin_object(&j, "passes");
        for (size_t k = 0; k < l->n_set; k++)
            edgec__json_str(&j, l->set[k].pass, l->set[k].value ? l->set[k].value : "on");
        edgec__json_end_object(&j);
        edgec__json_int(&j, "bytes_saved", l->bytes_saved);
        if (l->error >= 0)
            edgec__json_num(&j, "error", l->error);
        edgec__json_end_object(&j);
    }
    edgec__json_end_array(&j);
    edgec__json_end_object(&j);
    fputc('\n', out);
}

edgec_status edgec_plan_save(const edgec_plan *plan, const char *path)
{
    return edgec__outfile_render(path, render, plan);
}

/* ---- reading --------------------------------------------------------------------------- */

static edgec_status read_all(const char *path, char **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct stat sb;
    *buf = NULL;
    if (!f)
        return edgec__fail(EDGEC_STATUS_IO, "%s: cannot open the plan", path);
    if (fstat(fileno(f), &sb) || !S_ISREG(sb.st_mode) || sb.st_size > MAX_PLAN_BYTES) {
        fclose(f);
        return edgec__fail(EDGEC_STATUS_INVALID_DATA, "%s: not a regular file of at most %u MiB",
                           path, MAX_PLAN_BYTES >> 20);
    }
    *len = (size_t)sb.st_size;
    if (!(*buf = malloc(*len + 1))) {
        fclose(f);
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
    }
    size_t got = fread(*buf, 1, *len, f);
    fclose(f);
    if (got != *len) {
        free(*buf);
        *buf = NULL;
        return edgec__fail(EDGEC_STATUS_IO, "%s: read error", path);
    }
    return EDGEC_STATUS_OK;
}

static edgec_status bad_plan(const char *path, const char *what, size_t layer)
{
    if (layer == (size_t)-1)
        return edgec__fail(EDGEC_STATUS_INVALID_DATA, "%s: not an edgec plan: %s", path, what);
    return edgec__fail(EDGEC_STATUS_INVALID_DATA, "%s: layer %zu: %s", path, layer, what);
}

static edgec_status read_layer(const char *path, const edgec_jval *v, size_t i, edgec_plan *plan)
{
    const edgec_jval *t = edgec__json_get(v, "tensor"), *op = edgec__json_get(v, "op"),
                     *ps = edgec__json_get(v, "passes"), *n = edgec__json_get(v, "elements");
    if (v->type != EDGEC_JOBJ || !t || t->type != EDGEC_JSTR || !*t->str)
        return bad_plan(path, "needs a \"tensor\" name", i);
    if (!ps || ps->type != EDGEC_JOBJ)
        return bad_plan(path, "needs a \"passes\" object", i);
    edgec_plan_layer *l;
    edgec_status st = edgec__plan_add_layer(plan, t->str, op && op->type == EDGEC_JSTR ? op->str : NULL,
                                            n && n->type == EDGEC_JNUM ? (int64_t)n->num : 0, &l);
    for (size_t k = 0; !st && k < ps->n_kids; k++) {
        const edgec_jval *s = &ps->kids[k];
        if (s->type != EDGEC_JSTR)
            return edgec__fail(EDGEC_STATUS_INVALID_DATA,
                               "%s: layer %zu ('%s'): the value of \"%s\" must be a string", path,
                               i, t->str, s->key);
        st = edgec__plan_layer_set(l, s->key, s->str);
    }
    const edgec_jval *e = edgec__json_get(v, "error"), *b = edgec__json_get(v, "bytes_saved");
    if (!st && e && e->type == EDGEC_JNUM)
        l->error = e->num;
    if (!st && b && b->type == EDGEC_JNUM)
        l->bytes_saved = (int64_t)b->num;
    return st;
}

edgec_status edgec_plan_load(const char *path, edgec_plan **out)
{
    char *buf = NULL;
    size_t len = 0;
    edgec_jval *root = NULL;
    edgec_plan *plan = NULL;
    *out = NULL;
    edgec_status st = read_all(path, &buf, &len);
    if (st || (st = edgec__json_parse(buf, len, path, &root)))
        goto cleanup;
    const edgec_jval *fmt = edgec__json_get(root, "format"), *ver = edgec__json_get(root, "version"),
                     *layers = edgec__json_get(root, "layers");
    if (!fmt || fmt->type != EDGEC_JSTR || strcmp(fmt->str, "edgec-plan")) {
        st = bad_plan(path, "\"format\" must be \"edgec-plan\"", (size_t)-1);
        goto cleanup;
    }
    if (!ver || ver->type != EDGEC_JNUM || ver->num != EDGEC_PLAN_VERSION) {
        st = bad_plan(path, "unknown \"version\" (this edgec reads version 1)", (size_t)-1);
        goto cleanup;
    }
    if (!layers || layers->type != EDGEC_JARR) {
        st = bad_plan(path, "needs a \"layers\" array", (size_t)-1);
        goto cleanup;
    }
    if (!(plan = calloc(1, sizeof *plan))) {
        st = edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
        goto cleanup;
    }
    const edgec_jval *cal = edgec__json_get(root, "calib"), *con = edgec__json_get(root, "container"),
                     *md = edgec__json_get(root, "max_drop");
    plan->calib = cal && cal->type == EDGEC_JBOOL && cal->b;
    plan->container = con && con->type == EDGEC_JBOOL && con->b;
    plan->max_drop = md && md->type == EDGEC_JNUM ? md->num : 0;
    for (size_t i = 0; i < layers->n_kids && !st; i++)
        st = read_layer(path, &layers->kids[i], i, plan);
    const edgec_jval *opts = edgec__json_get(root, "options");
    if (!st && opts && opts->type != EDGEC_JOBJ)
        st = bad_plan(path, "\"options\" must be an object", (size_t)-1);
    for (size_t k = 0; !st && opts && k < opts->n_kids; k++) {
        const edgec_jval *o = &opts->kids[k];
        if (o->type != EDGEC_JSTR)
            st = bad_plan(path, "option values must be strings", (size_t)-1);
        else
            st = edgec__plan_option(plan, o->key, *o->str ? o->str : NULL);
    }
    /* Settings are checked now, so that a bad plan fails before any model is read. */
    edgec_pipeline *probe = NULL;
    if (!st && !(st = edgec_pipeline_create(&probe)) && (st = edgec_plan_apply(plan, probe))) {
        st = EDGEC_STATUS_INVALID_DATA;
        char pre[512];
        snprintf(pre, sizeof pre, "%.400s: ", path);
        edgec__fail_prefix(pre);
    }
    edgec_pipeline_free(probe);
cleanup:
    if (st)
        edgec_plan_free(plan);
    else
        *out = plan;
    edgec__json_free(root);
    free(buf);
    return st;
}
