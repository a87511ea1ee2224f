/* edgec compress MODEL [-o OUT] [passes] [options] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

static long long file_bytes(const char *path)
{
    struct stat sb;
    if (!strcmp(path, "-") || stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
        return -1;
    return (long long)sb.st_size;
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

static int run(int argc, char **argv)
{
    const char *in = NULL, *out = NULL, *calib_path = NULL;
    bool quiet = false;
    edgec_save_options save = {0};
    edgec_pipeline *p = NULL;
    edgec_dataset *calib = NULL;
    edgec_model *m = NULL;
    char *owned = NULL;
    int rc = 0;
    edgec_status st = edgec_pipeline_create(&p);
    if (st)
        return cli_fail(st);
    cli_args a;
    cli_args_init(&a, argc, argv);
    while (cli_args_next(&a)) {
        const edgec_option_info *po;
        if (a.positional) {
            if (in) {
                rc = cli_usage_error(&cli_compress, "unexpected argument '%s'", a.opt);
                goto cleanup;
            }
            in = a.opt;
        } else if (cli_is(&a, "-o") || cli_is(&a, "--output")) {
            if (!(out = cli_value(&a)) || !*out) {
                rc = cli_usage_error(&cli_compress, "%s needs a file name", a.opt);
                goto cleanup;
            }
        } else if (cli_is(&a, "--calib")) {
            if (!(calib_path = cli_value(&a)) || !*calib_path) {
                rc = cli_usage_error(&cli_compress, "--calib needs a data file");
                goto cleanup;
            }
        } else if (cli_is(&a, "--exclude")) {
            const char *g = cli_value(&a);
            if (!g || !*g) {
                rc = cli_usage_error(&cli_compress, "--exclude needs a pattern");
                goto cleanup;
            }
            if ((st = edgec_pipeline_exclude(p, g)))
                goto fail;
        } else if (cli_is(&a, "--seed")) {
            const char *v = cli_value(&a);
            char *end = NULL;
            unsigned long long seed = v ? strtoull(v, &end, 10) : 0;
            if (!v || !*v || *end || *v == '-') {
                rc = cli_usage_error(&cli_compress, "--seed needs a non-negative integer");
                goto cleanup;
            }
            edgec_pipeline_set_seed(p, seed);
        } else if (cli_is(&a, "--external-data")) {
            save.external = EDGEC_EXTERNAL_ALWAYS;
        } else if (cli_is(&a, "--no-external-data")) {
            save.external = EDGEC_EXTERNAL_NEVER;
        } else if (cli_is(&a, "-q") || cli_is(&a, "--quiet")) {
            quiet = true;
        } else if (a.opt[1] == '-' && (po = pipeline_option(a.opt + 2))) {
            const char *v = a.value;
            if (!v && po->arg && po->arg[0] != '[' && !(v = cli_value(&a))) {
                rc = cli_usage_error(&cli_compress, "%s needs a value: %s %s", a.opt, a.opt,
                                     po->arg);
                goto cleanup;
            }
            if ((st = edgec_pipeline_set(p, a.opt + 2, v)))
                goto fail;
        } else {
            rc = cli_usage_error(&cli_compress, "unknown option '%s'", a.opt);
            goto cleanup;
        }
    }
    if (!in) {
        rc = cli_usage_error(&cli_compress, "missing MODEL");
        goto cleanup;
    }
    if (!out) {
        if (!strcmp(in, "-")) {
            out = "-";
        } else {
            if (!(owned = default_output(in))) {
                fprintf(stderr, "edgec: out of memory\n");
                rc = 4;
                goto cleanup;
            }
            out = owned;
        }
    }
    if (calib_path) {
        if ((st = edgec_dataset_load(calib_path, &calib)))
            goto fail;
        edgec_pipeline_set_calib(p, calib);
    }
    if ((st = edgec_model_load(in, &m)) ||
        (st = edgec_pipeline_run(p, m, quiet ? NULL : stderr)) ||
        (st = edgec_model_save(m, out, &save)))
        goto fail;
    if (!quiet) {
        long long before = file_bytes(in), after = file_bytes(out);
        const char *what = edgec_pipeline_has_passes(p) ? edgec_pipeline_describe(p)
                                                        : "no passes: lossless copy";
        if (before > 0 && after >= 0)
            fprintf(stderr, "edgec: %s -> %s: %lld -> %lld bytes (%.3fx), %s\n", in, out, before,
                    after, (double)after / (double)before, what);
        else
            fprintf(stderr, "edgec: %s -> %s: %s\n", in, out, what);
    }
    goto cleanup;
fail:
    rc = cli_fail(st);
cleanup:
    edgec_model_free(m);
    edgec_dataset_free(calib);
    edgec_pipeline_free(p);
    free(owned);
    return rc;
}
