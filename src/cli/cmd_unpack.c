/* edgec unpack MODEL.edgec [-o OUT.onnx] */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static int run(int argc, char **argv);

const cli_command cli_unpack = {
    "unpack",
    "turn an .edgec container back into the exact ONNX file it was made from",
    "Usage: edgec unpack MODEL.edgec [-o OUT.onnx]\n\n"
    "Checks every CRC of the container, decodes every tensor and writes the ONNX file\n"
    "that 'edgec compress' writes for the same model and passes without --huffman,\n"
    "byte for byte.\n\n"
    "Options:\n"
    "  -o, --output OUT   where to write (\"-\" is standard output). Default: MODEL with\n"
    "                     .edgec replaced by .onnx, beside it; never the input itself.\n",
    run,
    NULL,
};

/* X.edgec -> X.onnx; other names get ".onnx" appended. */
static char *default_output(const char *in)
{
    size_t n = strlen(in), keep = n >= 6 && !strcmp(in + n - 6, ".edgec") ? n - 6 : n;
    char *out = malloc(keep + sizeof ".onnx");
    if (out) {
        memcpy(out, in, keep);
        strcpy(out + keep, ".onnx");
    }
    return out;
}

static int run(int argc, char **argv)
{
    const char *in = NULL, *out = NULL;
    char *owned = NULL;
    cli_args a;
    cli_args_init(&a, argc, argv);
    while (cli_args_next(&a)) {
        if (a.positional) {
            if (in)
                return cli_usage_error(&cli_unpack, "unexpected argument '%s'", a.opt);
            in = a.opt;
        } else if (cli_is(&a, "-o") || cli_is(&a, "--output")) {
            if (!(out = cli_value(&a)) || !*out)
                return cli_usage_error(&cli_unpack, "%s needs a file name", a.opt);
        } else {
            return cli_usage_error(&cli_unpack, "unknown option '%s'", a.opt);
        }
    }
    if (!in)
        return cli_usage_error(&cli_unpack, "missing MODEL.edgec");
    if (!out && !(out = owned = default_output(in))) {
        fprintf(stderr, "edgec: out of memory\n");
        return 4;
    }
    edgec_status st = edgec_container_unpack_file(in, out);
    free(owned);
    return st ? cli_fail(st) : 0;
}
