/* edgec eval REF.onnx [CAND.onnx] [--data FILE] [--samples N] [--json] [--seed N] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "edgec/data.h"
#include "edgec/runtime.h"

static int run(int argc, char **argv);

const cli_command cli_eval = {
    "eval",
    "measure accuracy, and a candidate's fidelity to a reference, with the interpreter",
    "Usage: edgec eval REF.onnx [CAND.onnx] [--data FILE] [options]\n\n"
    "Runs REF (and CAND) one sample at a time on FILE (.npz keyed by input name with an\n"
    "optional int64 `labels` array, .npy for a one-input model, or a folder of input_N.pb\n"
    "files). With labels, prints the top-1 accuracy (argmax of the first output) of each\n"
    "model; with CAND, the fidelity of CAND's first output to REF's over all samples:\n"
    "cosine similarity, SQNR in dB, max abs error and top-1 agreement. Without --data,\n"
    "seeded synthetic inputs are used (standard normal floats, small integers) and the\n"
    "output says so.\n\n"
    "Options:\n"
    "  --data FILE            evaluation data\n"
    "  --samples N            use the first N samples (default: all; 32 when synthetic)\n"
    "  --seed N               seed of synthetic inputs (default 0)\n"
    "  --json                 machine-readable output on stdout:\n"
    "                         {\"samples\":N,\"synthetic\":false,\"reference\":{\"top1\":..},\n"
    "                          \"candidate\":{\"top1\":..},\"top1_drop\":..,\"fidelity\":{\"cosine\":..,\n"
    "                          \"sqnr_db\":..,\"max_abs_err\":..,\"top1_agreement\":..}}\n"
    "                         top1, top1_drop and top1_agreement are percentages (points);\n"
    "                         top1 is null without labels; an infinite SQNR (identical\n"
    "                         outputs) is null\n"
    "  --input-shape NAME:D0xD1...  fix the shape of input NAME (repeatable)\n"
    "  --threads N            worker threads for kernels (default 1; results identical)\n",
    run,
    NULL,
};


static bool parse_u64(const char *s, unsigned long long hi, unsigned long long *out)
{
    char *end;
    if (!*s || *s == '-')
        return false;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || v > hi)
        return false;
    *out = v;
    return true;
}

static void json_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.17g", v);
    else
        fputs("null", f);
}

static void print_json(const edgec_eval_result *r)
{
    printf("{\"samples\":%lld,\"synthetic\":%s,\"reference\":{\"top1\":", (long long)r->samples,
           r->synthetic ? "true" : "false");
    if (r->has_labels)
        json_num(stdout, r->ref_top1);
    else
        fputs("null", stdout);
    fputs("}", stdout);
    if (r->has_candidate) {
        fputs(",\"candidate\":{\"top1\":", stdout);
        if (r->has_labels)
            json_num(stdout, r->cand_top1);
        else
            fputs("null", stdout);
        fputs("},\"top1_drop\":", stdout);
        if (r->has_labels)
            json_num(stdout, r->top1_drop);
        else
            fputs("null", stdout);
        fputs(",\"fidelity\":{\"cosine\":", stdout);
        json_num(stdout, r->cosine);
        fputs(",\"sqnr_db\":", stdout);
        json_num(stdout, r->sqnr_db);
        fputs(",\"max_abs_err\":", stdout);
        json_num(stdout, r->max_abs_err);
        fputs(",\"top1_agreement\":", stdout);
        json_num(stdout, r->top1_agreement);
        fputs("}", stdout);
    }
    fputs("}\n", stdout);
}

static void print_text(const edgec_eval_result *r, const char *data, unsigned long long seed)
{
    if (r->synthetic)
        printf("samples:          %lld synthetic (seeded inputs, seed %llu; no --data given)\n",
               (long long)r->samples, seed);
    else
        printf("samples:          %lld from %s\n", (long long)r->samples, data);
    if (r->has_labels)
        printf("reference top-1:  %.2f%%\n", r->ref_top1);
    else
        printf("reference top-1:  n/a (no labels)\n");
    if (!r->has_candidate)
        return;
    if (r->has_labels)
        printf("candidate top-1:  %.2f%% (drop %.2f points)\n", r->cand_top1, r->top1_drop);
    else
        printf("candidate top-1:  n/a (no labels)\n");
    printf("cosine:           %.6f\n", r->cosine);
    if (isfinite(r->sqnr_db))
        printf("SQNR:             %.2f dB\n", r->sqnr_db);
    else
        printf("SQNR:             inf (outputs identical)\n");
    printf("max abs error:    %.6g\n", r->max_abs_err);
    printf("top-1 agreement:  %.2f%%\n", r->top1_agreement);
}

static int run(int argc, char **argv)
{
    const char *ref_path = NULL, *cand_path = NULL, *data_path = NULL;
    unsigned long long samples = 0, seed = 0, threads = 1;
    bool json = false;
    static cli_shapes shapes; /* large: kept off the stack */
    cli_args a;
    cli_args_init(&a, argc, argv);
    while (cli_args_next(&a)) {
        const char *v;
        if (a.positional) {
            if (!ref_path)
                ref_path = a.opt;
            else if (!cand_path)
                cand_path = a.opt;
            else
                return cli_usage_error(&cli_eval, "unexpected argument '%s'", a.opt);
        } else if (cli_is(&a, "--data")) {
            if (!(data_path = cli_value(&a)))
                return cli_usage_error(&cli_eval, "--data needs a file");
        } else if (cli_is(&a, "--samples")) {
            if (!(v = cli_value(&a)) || !parse_u64(v, 1ull << 40, &samples) || !samples)
                return cli_usage_error(&cli_eval, "--samples needs a positive count");
        } else if (cli_is(&a, "--seed")) {
            if (!(v = cli_value(&a)) || !parse_u64(v, ~0ull, &seed))
                return cli_usage_error(&cli_eval, "--seed needs a non-negative integer");
        } else if (cli_is(&a, "--threads")) {
            if (!(v = cli_value(&a)) || !parse_u64(v, 256, &threads) || !threads)
                return cli_usage_error(&cli_eval, "--threads needs a count from 1 to 256");
        } else if (cli_is(&a, "--json")) {
            json = true;
        } else if (cli_is(&a, "--input-shape")) {
            if (cli_shapes_add(&shapes, &cli_eval, cli_value(&a)))
                return 1;
        } else {
            return cli_usage_error(&cli_eval, "unknown option '%s'", a.opt);
        }
    }
    if (!ref_path)
        return cli_usage_error(&cli_eval, "missing REF model");

    edgec_model *ref = NULL, *cand = NULL;
    edgec_dataset *data = NULL;
    edgec_eval_result res;
    edgec_eval_options opt = {(int64_t)samples, seed, (int)threads, shapes.shapes, shapes.n};
    edgec_status st;
    if ((st = cli_load_model(ref_path, &ref)) ||
        (cand_path && (st = cli_load_model(cand_path, &cand))) ||
        (data_path && (st = edgec_dataset_load(data_path, &data))) ||
        (st = edgec_evaluate(ref, cand, data, &opt, &res)))
        goto cleanup;
    if (json)
        print_json(&res);
    else
        print_text(&res, data_path, seed);
    if (res.synthetic)
        fprintf(stderr, "edgec: no --data given: evaluated on %lld seeded synthetic samples\n",
                (long long)res.samples);
cleanup:
    edgec_dataset_free(data);
    edgec_model_free(cand);
    edgec_model_free(ref);
    return st ? cli_fail(st) : 0;
}
