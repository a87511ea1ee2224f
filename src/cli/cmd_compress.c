/* edgec compress MODEL [-o OUT] [options] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"

static int run(int argc, char **argv);

const cli_command cli_compress = {
    "compress",
    "shrink a model with a pipeline of passes and write the result",
    "Usage: edgec compress MODEL [-o OUT] [options]\n\n"
    "Reads MODEL (\"-\" reads standard input), runs the chosen passes and writes the\n"
    "result. With no pass options the model goes through unchanged (lossless: ONNX\n"
    "Runtime gives bit-identical outputs; files written by protobuf come out\n"
    "byte-identical).\n\n"
    "Output:\n"
    "  -o, --output OUT    where to write (\"-\" is standard output, refused on a\n"
    "                      terminal). Default: MODEL with .onnx replaced by\n"
    "                      .edgec.onnx, beside MODEL. The file appears whole or not at\n"
    "                      all; the input is never overwritten.\n"
    "  --external-data     put tensors of 1 kB and more into OUT.data (4096-aligned).\n"
    "                      Automatic when the input used external data or the model\n"
    "                      passes the 2 GB protobuf limit.\n"
    "  --no-external-data  keep every tensor inside the model file\n"
    "  -q, --quiet         print nothing but errors\n",
    run,
};

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

static int run(int argc, char **argv)
{
    const char *in = NULL, *out = NULL;
    bool quiet = false;
    edgec_save_options save = {0};
    cli_args a;
    cli_args_init(&a, argc, argv);
    while (cli_args_next(&a)) {
        if (a.positional) {
            if (in)
                return cli_usage_error(&cli_compress, "unexpected argument '%s'", a.opt);
            in = a.opt;
        } else if (cli_is(&a, "-o") || cli_is(&a, "--output")) {
            if (!(out = cli_value(&a)) || !*out)
                return cli_usage_error(&cli_compress, "%s needs a file name", a.opt);
        } else if (cli_is(&a, "--external-data")) {
            save.external = EDGEC_EXTERNAL_ALWAYS;
        } else if (cli_is(&a, "--no-external-data")) {
            save.external = EDGEC_EXTERNAL_NEVER;
        } else if (cli_is(&a, "-q") || cli_is(&a, "--quiet")) {
            quiet = true;
        } else {
            return cli_usage_error(&cli_compress, "unknown option '%s'", a.opt);
        }
    }
    if (!in)
        return cli_usage_error(&cli_compress, "missing MODEL");
    char *owned = NULL;
    if (!out) {
        if (!strcmp(in, "-")) {
            out = "-";
        } else {
            if (!(owned = default_output(in))) {
                fprintf(stderr, "edgec: out of memory\n");
                return 4;
            }
            out = owned;
        }
    }
    edgec_model *m = NULL;
    edgec_status st = edgec_model_load(in, &m);
    if (!st)
        st = edgec_model_save(m, out, &save);
    edgec_model_free(m);
    int rc = 0;
    if (st) {
        rc = cli_fail(st);
    } else if (!quiet) {
        long long before = file_bytes(in), after = file_bytes(out);
        if (before > 0 && after >= 0)
            fprintf(stderr, "edgec: %s -> %s: %lld -> %lld bytes (%.3fx), no passes: lossless copy\n",
                    in, out, before, after, (double)after / (double)before);
        else
            fprintf(stderr, "edgec: %s -> %s: no passes: lossless copy\n", in, out);
    }
    free(owned);
    return rc;
}
