/* The compression report object: snapshots, evaluation, gate, sizes; writing it out in
 * the format a path asks for; the make depfile; the progress hook. */
#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "common/outfile.h"
#include "report/report.h"

static char *dup_or_null(const char *s, bool *failed)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *failed = true;
    return d;
}

edgec_status edgec_report_format_of(const char *path, edgec_report_format *out)
{
    const char *dot = strrchr(path, '.');
    if (dot && strchr(dot, '/'))
        dot = NULL;
    if (dot && !strcasecmp(dot, ".json"))
        *out = EDGEC_REPORT_JSON;
    else if (dot && (!strcasecmp(dot, ".md") || !strcasecmp(dot, ".markdown")))
        *out = EDGEC_REPORT_MARKDOWN;
    else if (dot && (!strcasecmp(dot, ".html") || !strcasecmp(dot, ".htm")))
        *out = EDGEC_REPORT_HTML;
    else
        return edgec__fail(EDGEC_STATUS_USAGE,
                           "%s: a report file must end in .json, .md or .html to say its format",
                           path);
    return EDGEC_STATUS_OK;
}

edgec_status edgec_report_create(const edgec_model *model, const char *input_path,
                                 bool count_macs, edgec_report **out)
{
    edgec_status st = EDGEC_STATUS_OK;
    bool failed = false;
    edgec_report *r = calloc(1, sizeof *r);
    *out = NULL;
    if (!r)
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
    r->input_bytes = r->output_bytes = r->container_bytes = r->serialized_bytes = -1;
    r->count_macs = count_macs;
    r->started = time(NULL);
    r->input_path = dup_or_null(input_path ? input_path : model->path, &failed);
    if (model->n_files && (r->input_files = calloc(model->n_files, sizeof *r->input_files))) {
        for (size_t i = 0; i < model->n_files; i++)
            r->input_files[r->n_input_files++] = dup_or_null(model->files[i].path, &failed);
    } else if (model->n_files) {
        failed = true;
    }
    if (failed) {
        st = edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
        goto cleanup;
    }
    if ((st = edgec__snapshot_take(model, count_macs, &r->before)))
        goto cleanup;
    /* Until a result is recorded, the table shows the original alone. */
    if ((st = edgec__report_match(&r->before, &r->after, &r->rows, &r->n_rows)))
        goto cleanup;
    *out = r;
    return EDGEC_STATUS_OK;
cleanup:
    edgec_report_free(r);
    return st;
}

edgec_status edgec_report_set_passes(edgec_report *r, const char *options,
                                     const char *const *names, const char *const *values,
                                     size_t n)
{
    bool failed = false;
    free(r->options);
    r->options = dup_or_null(options ? options : "", &failed);
    for (size_t i = 0; i < r->n_passes; i++) {
        free(r->passes[i]);
        free(r->pass_values[i]);
    }
    free(r->passes);
    free(r->pass_values);
    r->n_passes = 0;
    r->passes = calloc(n + 1, sizeof *r->passes);
    r->pass_values = calloc(n + 1, sizeof *r->pass_values);
    if (!r->passes || !r->pass_values)
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
    for (size_t i = 0; i < n; i++) {
        r->passes[i] = dup_or_null(names[i], &failed);
        r->pass_values[i] = dup_or_null(values ? values[i] : NULL, &failed);
        r->n_passes++;
    }
    return failed ? edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory") : EDGEC_STATUS_OK;
}

edgec_status edgec_report_set_result(edgec_report *r, const edgec_model *model)
{
    edgec_snapshot after;
    edgec_rrow *rows = NULL;
    size_t n_rows = 0;
    edgec_status st = edgec__snapshot_take(model, r->count_macs, &after);
    if (st)
        return st;
    if ((st = edgec__report_match(&r->before, &after, &rows, &n_rows))) {
        edgec__snapshot_free(&after);
        return st;
    }
    edgec__report_rows_free(r->rows, r->n_rows);
    edgec__snapshot_free(&r->after);
    r->after = after;
    r->rows = rows;
    r->n_rows = n_rows;
    r->has_after = true;
    return EDGEC_STATUS_OK;
}

edgec_status edgec_report_set_eval(edgec_report *r, const edgec_eval_result *res,
                                   const char *data_path)
{
    bool failed = false;
    free(r->data_path);
    r->data_path = dup_or_null(data_path, &failed);
    r->eval = *res;
    r->has_eval = true;
    return failed ? edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory") : EDGEC_STATUS_OK;
}

/* Size of a regular file, or -1. */
static int64_t file_size(const char *path, time_t *mtime)
{
    struct stat sb;
    if (!path || !strcmp(path, "-") || stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
        return -1;
    if (mtime)
        *mtime = sb.st_mtime;
    return (int64_t)sb.st_size;
}

void edgec_report_set_output(edgec_report *r, const char *output_path, bool written,
                             edgec_external_mode external, const char *container_path,
                             int64_t serialized_bytes)
{
    bool failed = false;
    free(r->output_path);
    free(r->container_path);
    free(r->output_data_path);
    r->output_path = dup_or_null(output_path, &failed);
    r->container_path = dup_or_null(container_path, &failed);
    r->output_data_path = NULL;
    r->serialized_bytes = serialized_bytes;
    r->input_bytes = 0;
    for (size_t i = 0; i < r->n_input_files; i++) {
        int64_t n = file_size(r->input_files[i], NULL);
        r->input_bytes = n < 0 || r->input_bytes < 0 ? -1 : r->input_bytes + n;
    }
    if (!r->n_input_files)
        r->input_bytes = -1; /* read from standard input */
    r->output_bytes = written ? file_size(output_path, NULL) : -1;
    r->container_bytes = written && container_path ? file_size(container_path, NULL) : -1;
    if (serialized_bytes < 0 && written && !container_path)
        r->serialized_bytes = r->output_bytes;
    /* The save writes OUTPUT.data when asked to, when the input had external data, or
     * past the 2 GB limit; a data file older than this run is someone else's. */
    char data[4096];
    time_t mtime = 0;
    int64_t n;
    if (written && r->output_bytes >= 0 && external != EDGEC_EXTERNAL_NEVER && !container_path &&
        (size_t)snprintf(data, sizeof data, "%s.data", output_path) < sizeof data &&
        (n = file_size(data, &mtime)) >= 0 &&
        (external == EDGEC_EXTERNAL_ALWAYS || r->n_input_files > 1 || mtime >= r->started)) {
        r->output_data_path = dup_or_null(data, &failed);
        r->output_data_bytes = n;
        r->output_bytes += n;
    }
}

edgec_status edgec_report_set_timestamp(edgec_report *r, const char *timestamp)
{
    bool failed = false;
    free(r->timestamp);
    r->timestamp = dup_or_null(timestamp, &failed);
    return failed ? edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory") : EDGEC_STATUS_OK;
}

static bool gate_set(double v)
{
    return v >= 0 && isfinite(v);
}

edgec_status edgec_report_check_gate(edgec_report *r, const edgec_gate *gate)
{
    bool want_drop = gate_set(gate->max_drop), want_cos = gate_set(gate->min_cosine);
    free(r->gate_message);
    r->gate_message = NULL;
    r->n_checks = 0;
    r->gate_checked = want_drop || want_cos;
    r->gate_passed = true;
    if (!r->gate_checked)
        return EDGEC_STATUS_OK;
    if (!r->has_eval || !r->eval.has_candidate)
        return edgec__fail(EDGEC_STATUS_USAGE, "a quality gate needs an evaluation of the result");
    char msg[1024] = "";
    size_t used = 0;
    const edgec_eval_result *e = &r->eval;
    if (want_drop) {
        edgec_gate_check *c = &r->checks[r->n_checks++];
        c->name = "max_drop";
        c->limit = gate->max_drop;
        /* Without labels, the share of samples whose top-1 changed bounds the drop. */
        c->by_agreement = !e->has_labels;
        c->value = e->has_labels ? e->top1_drop : 100.0 - e->top1_agreement;
        c->margin = c->limit - c->value;
        c->passed = c->value <= c->limit;
        if (!c->passed && e->has_labels)
            used += (size_t)snprintf(msg + used, sizeof msg - used,
                                     "top-1 dropped %.2f points (%.2f%% -> %.2f%%), %.2f more "
                                     "than --max-drop %g allows",
                                     c->value, e->ref_top1, e->cand_top1, -c->margin, c->limit);
        else if (!c->passed)
            used += (size_t)snprintf(msg + used, sizeof msg - used,
                                     "top-1 changed on %.2f%% of samples (no labels, so this "
                                     "bounds the drop), %.2f points more than --max-drop %g "
                                     "allows",
                                     c->value, -c->margin, c->limit);
    }
    if (want_cos && used < sizeof msg) {
        edgec_gate_check *c = &r->checks[r->n_checks++];
        c->name = "min_cosine";
        c->limit = gate->min_cosine;
        c->value = e->cosine;
        c->margin = isfinite(e->cosine) ? e->cosine - c->limit : -INFINITY;
        c->passed = c->value >= c->limit; /* NaN fails */
        if (!c->passed)
            used += (size_t)snprintf(msg + used, sizeof msg - used,
                                     "%soutput cosine similarity %.6f is %.6f below --min-cosine %g",
                                     used ? "; " : "", c->value, -c->margin, c->limit);
    }
    for (size_t i = 0; i < r->n_checks; i++)
        r->gate_passed &= r->checks[i].passed;
    if (r->gate_passed)
        return EDGEC_STATUS_OK;
    r->gate_message = strdup(msg);
    return edgec__fail(EDGEC_STATUS_GATE, "quality gate not met: %s", msg);
}

const char *edgec_report_gate_message(const edgec_report *r)
{
    return r && r->gate_checked && !r->gate_passed ? r->gate_message : NULL;
}

edgec_status edgec_report_print(const edgec_report *r, FILE *out, edgec_report_format fmt)
{
    switch (fmt) {
    case EDGEC_REPORT_JSON: edgec__report_json(r, out); break;
    case EDGEC_REPORT_MARKDOWN: edgec__report_markdown(r, out); break;
    case EDGEC_REPORT_HTML: edgec__report_html(r, out); break;
    default: edgec__report_text(r, out); break;
    }
    if (fflush(out) != 0 || ferror(out))
        return edgec__fail(EDGEC_STATUS_IO, "writing the report failed");
    return EDGEC_STATUS_OK;
}

typedef struct report_job {
    const edgec_report *r;
    edgec_report_format fmt;
} report_job;

static void render_report(const void *arg, FILE *out)
{
    const report_job *j = arg;
    edgec_report_print(j->r, out, j->fmt);
}

edgec_status edgec_report_write(const edgec_report *r, const char *path)
{
    report_job j = {r, EDGEC_REPORT_TEXT};
    edgec_status st = edgec_report_format_of(path, &j.fmt);
    return st ? st : edgec__outfile_render(path, render_report, &j);
}

void edgec_report_free(edgec_report *r)
{
    if (!r)
        return;
    edgec__report_rows_free(r->rows, r->n_rows);
    edgec__snapshot_free(&r->before);
    edgec__snapshot_free(&r->after);
    for (size_t i = 0; i < r->n_passes; i++) {
        free(r->passes[i]);
        free(r->pass_values[i]);
    }
    for (size_t i = 0; i < r->n_input_files; i++)
        free(r->input_files[i]);
    free(r->input_files);
    free(r->passes);
    free(r->pass_values);
    free(r->input_path);
    free(r->output_path);
    free(r->output_data_path);
    free(r->container_path);
    free(r->data_path);
    free(r->options);
    free(r->timestamp);
    free(r->gate_message);
    free(r);
}

/* ---- depfile ------------------------------------------------------------------------- */

/* A path as make reads it in a rule: spaces, '#', ':' and '$' escaped. */
static void put_make_path(FILE *out, const char *p)
{
    for (; *p; p++) {
        if (*p == ' ' || *p == '#' || *p == ':' || *p == '\\')
            fputc('\\', out);
        if (*p == '$')
            fputc('$', out);
        fputc(*p, out);
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Folder data sets are their .pb files, in name order. */
static void put_folder(FILE *out, const char *dir)
{
    DIR *d = opendir(dir);
    char **names = NULL;
    size_t n = 0, cap = 0;
    if (!d)
        return;
    for (struct dirent *e; (e = readdir(d));) {
        size_t l = strlen(e->d_name);
        if (l < 4 || strcmp(e->d_name + l - 3, ".pb"))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nn = realloc(names, cap * sizeof *nn);
            if (!nn)
                break;
            names = nn;
        }
        if (!(names[n] = strdup(e->d_name)))
            break;
        n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_str);
    size_t dl = strlen(dir);
    for (size_t i = 0; i < n; i++) {
        fputs(" \\\n  ", out);
        put_make_path(out, dir);
        if (dl && dir[dl - 1] != '/')
            fputc('/', out);
        put_make_path(out, names[i]);
        free(names[i]);
    }
    free(names);
}

typedef struct depfile_job {
    const char *target;
    const edgec_model *model;
    const char *const *data;
    size_t n_data;
} depfile_job;

static void render_depfile(const void *arg, FILE *out)
{
    const depfile_job *j = arg;
    put_make_path(out, j->target);
    fputc(':', out);
    /* files[0] is the model file itself when it was read from one (not stdin). */
    for (size_t i = 0; i < j->model->n_files; i++) {
        fputs(" \\\n  ", out);
        put_make_path(out, j->model->files[i].path);
    }
    for (size_t i = 0; i < j->n_data; i++) {
        struct stat sb;
        if (!j->data[i])
            continue;
        if (stat(j->data[i], &sb) == 0 && S_ISDIR(sb.st_mode)) {
            put_folder(out, j->data[i]);
            continue;
        }
        fputs(" \\\n  ", out);
        put_make_path(out, j->data[i]);
    }
    fputc('\n', out);
}

edgec_status edgec_depfile_write(const char *path, const char *target, const edgec_model *model,
                                 const char *const *data_paths, size_t n_data)
{
    depfile_job j = {target, model, data_paths, n_data};
    return edgec__outfile_render(path, render_depfile, &j);
}

/* ---- progress ------------------------------------------------------------------------ */

static _Thread_local edgec_progress_fn progress_fn;
static _Thread_local void *progress_user;

void edgec_progress_set(edgec_progress_fn fn, void *user)
{
    progress_fn = fn;
    progress_user = user;
}

void edgec__progress(const char *stage, int64_t done, int64_t total)
{
    if (progress_fn)
        progress_fn(progress_user, stage, done, total);
}
