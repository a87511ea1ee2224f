/* edgec compress MODEL [-o OUT] [passes] [options] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"

static int run(int argc, char **argv);
static void usage(FILE *out);

const cli_command cli_compress = {
    "compress",
    "shrink a model with a pipeline of passes and write the result",
    NULL,
    run,
    usage,
};

static void usage(FILE *out)
{
    fputs("Usage: edgec compress MODEL [-o OUT] [passes] [options]\n\n"
          "Reads MODEL (\"-\" reads standard input), runs the chosen passes and writes the\n"
          "result. Passes run in a fixed order (cleanup, factorization, pruning,\n"
          "clustering, quantization) whatever the order of the options. With no pass the\n"
          "model goes through unchanged (lossless: ONNX Runtime gives bit-identical\n"
          "outputs; files written by protobuf come out byte-identical).\n\n"
          "Passes and their options:\n",
          out);
    size_t n = edgec_pipeline_option_count();
    for (size_t i = 0; i < n; i++) {
        const edgec_option_info *o = edgec_pipeline_option_at(i);
        char head[96];
        snprintf(head, sizeof head, "%s--%s%s%s", o->is_pass ? "" : "  ", o->name,
                 o->arg && o->arg[0] != '[' ? " " : "", o->arg ? o->arg : "");
        fprintf(out, "  %-26s %s\n", head, o->help);
    }
    fputs("\nData:\n"
          "  --calib FILE               calibration inputs for data-aware passes (.npz keyed by\n"
          "                             input name, first axis = samples; .npy; .pb folder)\n"
          "  --eval FILE                evaluate the original and the result on FILE (same\n"
          "                             formats; an int64 `labels` array gives top-1 accuracy)\n"
          "  --eval-samples N           evaluate on the first N samples only\n"
          "  --threads N                interpreter threads for the evaluation (results do\n"
          "                             not depend on N)\n"
          "\nAutomatic compression (docs/AUTO.md):\n"
          "  --auto                     choose a setting per layer (sparsity, shared values,\n"
          "                             int8, ...) that makes the result as small as possible\n"
          "                             within --max-drop (default 1 point), measured on --calib\n"
          "                             (required) and verified on --eval when given\n"
          "  --target-ratio R           with --auto: stop once R times smaller; exit 3 if the\n"
          "                             budget does not allow it\n"
          "  --time-budget SECONDS      with --auto: search at most this long (default 600;\n"
          "                             0 = no limit); the best plan so far is used\n"
          "  --plan-out FILE            with --auto: write the chosen per-layer plan (JSON)\n"
          "  --plan FILE                apply a plan written by --plan-out: the same model,\n"
          "                             flags and --calib give the same bytes\n"
          "\nQuality gate (checked on the result in memory, before anything is written):\n"
          "  --max-drop P               fail if top-1 accuracy drops by more than P points\n"
          "                             (without labels: if top-1 changes on more than P% of\n"
          "                             samples, which bounds the drop)\n"
          "  --min-cosine C             fail if the output cosine similarity is below C\n"
          "                             A failed gate writes no model, still writes --report,\n"
          "                             says by how much it missed and exits with code 3.\n"
          "                             Without --eval, seeded synthetic inputs are used.\n"
          "\nReport:\n"
          "  --report FILE              write the report as .json, .md or .html (by extension;\n"
          "                             docs/REPORT.md); repeatable. A text summary always\n"
          "                             goes to stderr (unless -q).\n"
          "  --report-timestamp         put the time in the report (off: same run, same bytes)\n"
          "  --depfile FILE             write a make depfile: OUT depends on MODEL, its\n"
          "                             external data files, --calib and --eval data\n"
          "  --progress, --no-progress  progress bar on stderr (default: on a terminal)\n"
          "\nOutput and other options:\n"
          "  -o, --output OUT           where to write (\"-\" is standard output, refused on a\n"
          "                             terminal). Default: MODEL with .onnx replaced by\n"
          "                             .edgec.onnx, beside MODEL. The file appears whole or not\n"
          "                             at all; the input is never overwritten.\n"
          "  --exclude GLOB             keep nodes and tensors matching GLOB (name or op type)\n"
          "                             out of every pass; repeatable\n"
          "  --seed N                   seed of every random choice (default 0)\n"
          "  --external-data            put tensors of 1 kB and more into OUT.data (4096-aligned).\n"
          "                             Automatic when the input used external data or the\n"
          "                             model passes the 2 GB protobuf limit.\n"
          "  --no-external-data         keep every tensor inside the model file\n"
          "  --allow-nonfinite          keep NaN/Inf weights as they are (refused by default,\n"
          "                             exit 2 naming the tensor)\n"
          "  --huffman                  write an .edgec container instead (entropy-coded\n"
          "                             weights, docs/FORMAT.md); default OUT: MODEL.edgec.\n"
          "                             'edgec unpack' gives back the exact ONNX file\n"
          "  -q, --quiet                print nothing but errors\n",
          out);
}

/* MODEL.onnx -> MODEL.edgec.onnx; other names get ".edgec.onnx" appended. */
static char *default_output(const char *in)
{
    size_t n = strlen(in);
    const char *ext = ".onnx";
    size_t keep = n >= 5 && !strcmp(in + n - 5, ext) ? n - 5 : n;
    char *out = malloc(keep + sizeof ".edgec.onnx");
    if (!out)
        return NULL;
    memcpy(out, in, keep);
    strcpy(out + keep, ".edgec.onnx");
    return out;
}


/* Whether pipeline option `name` takes a value as the next argument (options whose
 * value is optional take one only as --name=VALUE). */
static const edgec_option_info *pipeline_option(const char *name)
{
    size_t n = edgec_pipeline_option_count();
    for (size_t i = 0; i < n; i++)
        if (!strcmp(edgec_pipeline_option_at(i)->name, name))
            return edgec_pipeline_option_at(i);
    return NULL;
}

/* ---- progress bar ---------------------------------------------------------------------- */

/* A one-line bar on stderr, redrawn only when the shown figure changes, erased before
 * anything else is printed. */
typedef struct progress_bar {
    bool drawn;
    int last;             /* permille last drawn, -1 for none */
    char stage[40];
} progress_bar;

static void bar_clear(progress_bar *b)
{
    if (b->drawn)
        fputs("\r\033[K", stderr);
    b->drawn = false;
    b->last = -1;
    b->stage[0] = '\0';
}

static void bar_draw(void *user, const char *stage, int64_t done, int64_t total)
{
    progress_bar *b = user;
    int permille = total > 0 ? (int)(done * 1000 / total) : 0;
    if (!strcmp(b->stage, stage) && permille == b->last)
        return;
    snprintf(b->stage, sizeof b->stage, "%s", stage);
    b->last = permille;
    char bar[31];
    int fill = permille * 30 / 1000;
    for (int i = 0; i < 30; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[30] = '\0';
    fprintf(stderr, "\r\033[Kedgec: %-12s [%s] %lld/%lld", stage, bar, (long long)done,
            (long long)total);
    fflush(stderr);
    b->drawn = true;
}

/* ---- the command ----------------------------------------------------------------------- */

#define MAX_REPORTS 8

typedef struct job {
    const char *in, *out, *calib_path, *eval_path, *depfile_path;
    const char *plan_path, *plan_out;
    bool auto_mode, eval_is_calib, target_missed;
    double target_ratio, time_budget;
    const char *excludes[64];
    size_t n_excludes;
    edgec_plan *plan;
    edgec_auto_result auto_res;
    const char *reports[MAX_REPORTS];
    size_t n_reports;
    bool quiet, allow_nonfinite, huffman, report_timestamp;
    int progress; /* 1 on, 0 off, -1 on a terminal only */
    edgec_gate gate;
    unsigned long long eval_samples, threads, seed;
    edgec_save_options save;
    edgec_pipeline *p;
    edgec_dataset *calib, *evalset;
    edgec_model *m, *ref;
    edgec_report *report;
    char *owned;
    progress_bar bar;
} job;

static bool parse_u64(const char *s, unsigned long long lo, unsigned long long hi,
                      unsigned long long *out)
{
    char *end = NULL;
    if (!s || !*s || *s == '-')
        return false;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static bool parse_num(const char *s, double lo, double hi, double *out)
{
    char *end = NULL;
    if (!s || !*s)
        return false;
    double v = strtod(s, &end);
    if (*end || !isfinite(v) || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* --auto and --plan go with some options and not others: say so before any work. */
static int check_auto(job *j)
{
    if (j->auto_mode && j->plan_path)
        return cli_usage_error(&cli_compress, "--auto searches a plan; --plan applies one: use one");
    if (!j->auto_mode) {
        const char *only = j->plan_out ? "--plan-out" : j->target_ratio ? "--target-ratio"
                           : j->time_budget >= 0 ? "--time-budget" : NULL;
        if (only)
            return cli_usage_error(&cli_compress, "%s goes with --auto", only);
        return 0;
    }
    if (!j->calib_path)
        return cli_usage_error(&cli_compress,
                               "--auto needs --calib FILE: inputs (with `labels` for top-1) to "
                               "measure each layer's sensitivity on");
    if (edgec_pipeline_has_passes(j->p))
        return cli_usage_error(&cli_compress,
                               "--auto chooses the passes itself: drop the pass options (or edit "
                               "a plan from --plan-out and apply it with --plan)");
    if (j->gate.max_drop < 0)
        j->gate.max_drop = 1.0;
    if (j->time_budget < 0)
        j->time_budget = 600;
    return 0;
}

/* Reads the command line into `j`; returns an exit code, 0 to go on. */
static int parse(job *j, int argc, char **argv)
{
    edgec_status st;
    int rc;
    cli_args a;
    cli_args_init(&a, argc, argv);
    while (cli_args_next(&a)) {
        const edgec_option_info *po;
        const char *v;
        if (a.positional) {
            if (j->in)
                return cli_usage_error(&cli_compress, "unexpected argument '%s'", a.opt);
            j->in = a.opt;
        } else if (cli_is(&a, "-o") || cli_is(&a, "--output")) {
            if (!(j->out = cli_value(&a)) || !*j->out)
                return cli_usage_error(&cli_compress, "%s needs a file name", a.opt);
        } else if (cli_is(&a, "--calib")) {
            if (!(j->calib_path = cli_value(&a)) || !*j->calib_path)
                return cli_usage_error(&cli_compress, "--calib needs a data file");
        } else if (cli_is(&a, "--eval")) {
            if (!(j->eval_path = cli_value(&a)) || !*j->eval_path)
                return cli_usage_error(&cli_compress, "--eval needs a data file");
        } else if (cli_is(&a, "--eval-samples")) {
            if (!parse_u64(cli_value(&a), 1, 1ull << 40, &j->eval_samples))
                return cli_usage_error(&cli_compress, "--eval-samples needs a positive count");
        } else if (cli_is(&a, "--threads")) {
            if (!parse_u64(cli_value(&a), 1, 256, &j->threads))
                return cli_usage_error(&cli_compress, "--threads needs a count from 1 to 256");
        } else if (cli_is(&a, "--max-drop")) {
            if (!parse_num(v = cli_value(&a), 0, 100, &j->gate.max_drop))
                return cli_usage_error(&cli_compress,
                                       "--max-drop needs top-1 percentage points in [0, 100], "
                                       "not '%s'",
                                       v ? v : "");
        } else if (cli_is(&a, "--min-cosine")) {
            if (!parse_num(v = cli_value(&a), 0, 1, &j->gate.min_cosine))
                return cli_usage_error(&cli_compress,
                                       "--min-cosine needs a cosine similarity in [0, 1], not '%s'",
                                       v ? v : "");
        } else if (cli_is(&a, "--report")) {
            edgec_report_format fmt;
            if (!(v = cli_value(&a)) || !*v)
                return cli_usage_error(&cli_compress, "--report needs a file (.json, .md or .html)");
            if (edgec_report_format_of(v, &fmt))
                return cli_usage_error(&cli_compress, "%s", edgec_error_message());
            if (j->n_reports == MAX_REPORTS)
                return cli_usage_error(&cli_compress, "at most %d --report files", MAX_REPORTS);
            j->reports[j->n_reports++] = v;
        } else if (cli_is(&a, "--report-timestamp")) {
            j->report_timestamp = true;
        } else if (cli_is(&a, "--depfile")) {
            if (!(j->depfile_path = cli_value(&a)) || !*j->depfile_path)
                return cli_usage_error(&cli_compress, "--depfile needs a file name");
        } else if (cli_is(&a, "--progress")) {
            j->progress = 1;
        } else if (cli_is(&a, "--no-progress")) {
            j->progress = 0;
        } else if (cli_is(&a, "--exclude")) {
            const char *g = cli_value(&a);
            if (!g || !*g)
                return cli_usage_error(&cli_compress, "--exclude needs a pattern");
            if ((st = edgec_pipeline_exclude(j->p, g)))
                return cli_fail(st);
            j->excludes[j->n_excludes++] = g; /* the pipeline refuses more than 64 */
        } else if (cli_is(&a, "--seed")) {
            if (!parse_u64(cli_value(&a), 0, ~0ull, &j->seed))
                return cli_usage_error(&cli_compress, "--seed needs a non-negative integer");
            edgec_pipeline_set_seed(j->p, j->seed);
        } else if (cli_is(&a, "--external-data")) {
            j->save.external = EDGEC_EXTERNAL_ALWAYS;
        } else if (cli_is(&a, "--no-external-data")) {
            j->save.external = EDGEC_EXTERNAL_NEVER;
        } else if (cli_is(&a, "--allow-nonfinite")) {
            j->allow_nonfinite = true;
        } else if (cli_is(&a, "--auto")) {
            j->auto_mode = true;
        } else if (cli_is(&a, "--plan")) {
            if (!(j->plan_path = cli_value(&a)) || !*j->plan_path)
                return cli_usage_error(&cli_compress, "--plan needs a plan file");
        } else if (cli_is(&a, "--plan-out")) {
            if (!(j->plan_out = cli_value(&a)) || !*j->plan_out)
                return cli_usage_error(&cli_compress, "--plan-out needs a file name");
        } else if (cli_is(&a, "--target-ratio")) {
            if (!parse_num(v = cli_value(&a), 1, 1e9, &j->target_ratio))
                return cli_usage_error(&cli_compress, "--target-ratio needs a ratio >= 1, not '%s'",
                                       v ? v : "");
        } else if (cli_is(&a, "--time-budget")) {
            if (!parse_num(v = cli_value(&a), 0, 1e7, &j->time_budget))
                return cli_usage_error(&cli_compress,
                                       "--time-budget needs seconds (0 = no limit), not '%s'",
                                       v ? v : "");
        } else if (cli_is(&a, "--huffman")) {
            j->huffman = true;
        } else if (cli_is(&a, "-q") || cli_is(&a, "--quiet")) {
            j->quiet = true;
        } else if (a.opt[1] == '-' && (po = pipeline_option(a.opt + 2))) {
            v = a.value;
            if (!v && po->arg && po->arg[0] != '[' && !(v = cli_value(&a)))
                return cli_usage_error(&cli_compress, "%s needs a value: %s %s", a.opt, a.opt,
                                       po->arg);
            if ((st = edgec_pipeline_set(j->p, a.opt + 2, v)))
                return cli_fail(st);
        } else {
            return cli_usage_error(&cli_compress, "unknown option '%s'", a.opt);
        }
    }
    if (!j->in)
        return cli_usage_error(&cli_compress, "missing MODEL");
    if (cli_is_container(j->in))
        return cli_usage_error(&cli_compress,
                               "%s is an .edgec container: 'edgec unpack %s -o MODEL.onnx' gives "
                               "the ONNX file to compress",
                               j->in, j->in);
    if ((rc = check_auto(j)))
        return rc;
    if (!j->out) {
        if (!strcmp(j->in, "-")) {
            j->out = "-";
        } else {
            if (!(j->owned = default_output(j->in))) {
                fprintf(stderr, "edgec: out of memory\n");
                return 4;
            }
            j->out = j->owned;
        }
    }
    /* --huffman: the container keeps every tensor inline and is named MODEL.edgec. */
    if (j->huffman && j->save.external == EDGEC_EXTERNAL_ALWAYS)
        return cli_usage_error(&cli_compress, "--huffman keeps tensors inline: drop --external-data");
    if (j->huffman && j->owned && j->out == j->owned)
        j->owned[strlen(j->owned) - strlen(".onnx")] = '\0';
    if (j->depfile_path && !strcmp(j->out, "-"))
        return cli_usage_error(&cli_compress, "--depfile needs an output file, not standard output");
    return 0;
}

/* The original model, kept for the evaluation: read again from its file, or copied
 * before the passes run when it came from standard input. */
static edgec_status load_reference(job *j)
{
    if (strcmp(j->in, "-"))
        return edgec_model_load(j->in, &j->ref);
    void *buf = NULL;
    size_t len = 0;
    edgec_status st = edgec_model_save_buffer(j->m, &buf, &len);
    if (!st)
        st = edgec_model_load_buffer(buf, len, "-", NULL, &j->ref);
    free(buf);
    return st;
}

/* The serialized ONNX size of the result, for a model that was not written as ONNX. */
static long long serialized_size(edgec_model *m)
{
    void *buf = NULL;
    size_t len = 0;
    long long n = edgec_model_save_buffer(m, &buf, &len) ? -1 : (long long)len;
    free(buf);
    return n;
}

/* Runs the --auto search on the loaded model and adds its plan to the pipeline. Without
 * --eval, the gate is then checked on the calibration data. */
static edgec_status search_plan(job *j)
{
    edgec_auto_options o = {
        .max_drop = j->gate.max_drop,
        .target_ratio = j->target_ratio,
        .time_budget = j->time_budget,
        .container = j->huffman,
        .calib = j->calib,
        .eval = j->evalset,
        .seed = j->seed,
        .log = j->quiet ? NULL : stderr,
    };
    edgec_status st = edgec_auto_search(j->m, j->excludes, j->n_excludes, &o, &j->plan,
                                        &j->auto_res);
    bar_clear(&j->bar);
    if (st || (st = edgec_plan_apply(j->plan, j->p)))
        return st;
    if (!j->evalset) {
        j->eval_path = j->calib_path;
        j->evalset = j->calib;
        j->eval_is_calib = true;
    }
    return EDGEC_STATUS_OK;
}

/* Loads, compresses, evaluates and gates; saves only when the gate passes. */
static edgec_status compress(job *j, bool *gate_failed)
{
    bool gated = j->gate.max_drop >= 0 || j->gate.min_cosine >= 0;
    bool evaluate = j->eval_path || gated;
    bool has_passes = edgec_pipeline_has_passes(j->p);
    edgec_status st;
    *gate_failed = false;
    if (j->calib_path) {
        if ((st = edgec_dataset_load(j->calib_path, &j->calib)))
            return st;
        edgec_pipeline_set_calib(j->p, j->calib);
    }
    if (j->eval_path && (st = edgec_dataset_load(j->eval_path, &j->evalset)))
        return st;
    if (j->plan) {
        if ((st = edgec_plan_apply(j->plan, j->p)))
            return st;
        if (edgec_plan_container(j->plan) && !j->huffman && !j->quiet)
            fprintf(stderr, "edgec: note: %s was searched for the .edgec container; without "
                            "--huffman its sizes differ\n",
                    j->plan_path);
    }
    if ((st = edgec_model_load(j->in, &j->m)) ||
        (!j->allow_nonfinite && (st = edgec_model_check_finite(j->m))))
        return st;
    if (j->auto_mode && (st = search_plan(j)))
        return st;
    if (evaluate && (st = load_reference(j)))
        return st;
    /* The report diffs a snapshot taken now with the result; MACs cost a run of the
     * interpreter, so a lossless copy counts them only for a report file. */
    if ((!j->quiet || j->n_reports || evaluate) &&
        (st = edgec_report_create(j->m, j->in, has_passes || j->n_reports > 0, &j->report)))
        return st;
    if ((st = edgec_pipeline_run(j->p, j->m, j->quiet ? NULL : stderr)))
        return st;
    bar_clear(&j->bar);
    if (j->report) {
        const char *names[64], *values[64];
        size_t n = 0;
        while (n < 64 && edgec_pipeline_pass_at(j->p, n, &names[n], &values[n]))
            n++;
        if ((st = edgec_report_set_passes(j->report, edgec_pipeline_describe(j->p), names,
                                          values, n)) ||
            (st = edgec_report_set_result(j->report, j->m)))
            return st;
        if (j->report_timestamp) {
            char ts[32];
            time_t now = time(NULL);
            struct tm tm;
            strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
            if ((st = edgec_report_set_timestamp(j->report, ts)))
                return st;
        }
    }
    if (evaluate) {
        /* The result is evaluated in memory: nothing is written before the gate passes. */
        edgec_eval_result res;
        edgec_eval_options opt = {(int64_t)j->eval_samples, j->seed, (int)j->threads, NULL, 0};
        st = edgec_evaluate(j->ref, j->m, j->evalset, &opt, &res);
        bar_clear(&j->bar);
        if (st || (st = edgec_report_set_eval(j->report, &res, j->eval_path)))
            return st;
        if (res.synthetic && !j->quiet)
            fprintf(stderr, "edgec: no --eval data: fidelity measured on %lld seeded synthetic "
                            "samples\n",
                    (long long)res.samples);
        if ((st = edgec_report_check_gate(j->report, &j->gate))) {
            if (st != EDGEC_STATUS_GATE)
                return st;
            *gate_failed = true;
        }
    }
    /* --target-ratio is a promise like the gate: missing it writes nothing. */
    if (j->auto_mode && j->target_ratio > 0 && j->auto_res.bytes_after &&
        (double)j->auto_res.bytes_before / (double)j->auto_res.bytes_after < j->target_ratio) {
        j->target_missed = true;
        *gate_failed = true;
    }
    if (!*gate_failed && (st = j->huffman ? edgec_container_save(j->m, j->out)
                                          : edgec_model_save(j->m, j->out, &j->save)))
        return st;
    /* Sizes are what landed on disk, read back after writing. */
    if (j->report)
        edgec_report_set_output(j->report, j->out, !*gate_failed, j->save.external,
                                j->huffman ? j->out : NULL,
                                *gate_failed || j->huffman ? serialized_size(j->m) : -1);
    return EDGEC_STATUS_OK;
}

static int run(int argc, char **argv)
{
    job j = {.progress = -1, .gate = {-1, -1}, .threads = 1, .time_budget = -1};
    bool gate_failed = false;
    int rc = 0;
    edgec_status st = edgec_pipeline_create(&j.p);
    if (st)
        return cli_fail(st);
    j.bar.last = -1;
    if ((rc = parse(&j, argc, argv)))
        goto cleanup;
    /* A plan is read before the model, so that a bad one costs nothing. */
    if (j.plan_path) {
        if ((st = edgec_plan_load(j.plan_path, &j.plan))) {
            rc = cli_fail(st);
            goto cleanup;
        }
        if (edgec_plan_needs_calib(j.plan) && !j.calib_path) {
            rc = cli_usage_error(&cli_compress,
                                 "%s was searched with calibration data, which its pruning needs "
                                 "again: add the same --calib FILE",
                                 j.plan_path);
            goto cleanup;
        }
    }
    if (j.progress == 1 || (j.progress < 0 && !j.quiet && isatty(STDERR_FILENO)))
        edgec_progress_set(bar_draw, &j.bar);
    st = compress(&j, &gate_failed);
    bar_clear(&j.bar);
    edgec_progress_set(NULL, NULL);
    if (st) {
        rc = cli_fail(st);
        goto cleanup;
    }
    /* The report is written whether or not the gate passed: it says why. */
    for (size_t i = 0; i < j.n_reports; i++) {
        if ((st = edgec_report_write(j.report, j.reports[i]))) {
            rc = cli_fail(st);
            goto cleanup;
        }
    }
    if (j.plan_out && j.plan && (st = edgec_plan_save(j.plan, j.plan_out))) {
        rc = cli_fail(st);
        goto cleanup;
    }
    if (!j.quiet && j.report)
        edgec_report_print(j.report, stderr, EDGEC_REPORT_TEXT);
    if (j.eval_is_calib && !j.quiet)
        fprintf(stderr, "edgec: no --eval data: the --auto budget was checked on the calibration "
                        "data %s, which the search also used\n",
                j.calib_path);
    if (gate_failed && j.target_missed) {
        fprintf(stderr, "edgec: --target-ratio %g not reached within the budget: %.2fx; %s was "
                        "not written\n",
                j.target_ratio,
                (double)j.auto_res.bytes_before / (double)j.auto_res.bytes_after, j.out);
        rc = 3;
        goto cleanup;
    }
    if (gate_failed) {
        fprintf(stderr, "edgec: quality gate not met: %s; %s was not written\n",
                edgec_report_gate_message(j.report), j.out);
        rc = 3;
        goto cleanup;
    }
    if (j.depfile_path) {
        const char *data[2];
        size_t n = 0;
        if (j.calib_path)
            data[n++] = j.calib_path;
        if (j.eval_path)
            data[n++] = j.eval_path;
        if ((st = edgec_depfile_write(j.depfile_path, j.out, j.m, data, n)))
            rc = cli_fail(st);
    }
cleanup:
    edgec_report_free(j.report);
    edgec_model_free(j.ref);
    edgec_model_free(j.m);
    edgec_plan_free(j.plan);
    edgec_dataset_free(j.eval_is_calib ? NULL : j.evalset);
    edgec_dataset_free(j.calib);
    edgec_pipeline_free(j.p);
    free(j.owned);
    return rc;
}
