/* edgec emit-c MODEL.edgec -o model.c [--symbol NAME] */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static int run(int argc, char **argv);

const cli_command cli_emit_c = {
    "emit-c",
    "write an .edgec container as C source and header for firmware",
    "Usage: edgec emit-c MODEL.edgec -o model.c [--symbol NAME]\n\n"
    "Checks the container (every CRC, every tensor) and writes model.c with the blob as\n"
    "a 16-byte aligned 'const unsigned char NAME[]' and 'NAME_len', and model.h declaring\n"
    "them and listing the tensors. Decode with decoder/edgec_decode.h. The files compile\n"
    "cleanly with -Wall -Wextra -Werror as C99 or later.\n\n"
    "Options:\n"
    "  -o, --output FILE.c   the C source; the header goes beside it as FILE.h\n"
    "  --symbol NAME         the array's name (a C identifier). Default: from FILE,\n"
    "                        e.g. 'model' for model.c\n",
    run,
    NULL,
};

/* "dir/my-model.c" -> "my_model": the file's base name as an identifier. */
static char *default_symbol(const char *c_path)
{
    const char *base = strrchr(c_path, '/') ? strrchr(c_path, '/') + 1 : c_path;
    size_t n = strcspn(base, ".");
    char *s = malloc(n + 2);
    if (!s)
        return NULL;
    size_t k = 0;
    if (!n || isdigit((unsigned char)base[0]))
        s[k++] = '_';
    for (size_t i = 0; i < n; i++)
        s[k++] = isalnum((unsigned char)base[i]) ? base[i] : '_';
    s[k] = '\0';
    return s;
}

static int run(int argc, char **argv)
{
    const char *in = NULL, *c_path = NULL, *symbol = NULL;
    char *h_path = NULL, *owned_symbol = NULL;
    void *blob = NULL;
    size_t size = 0;
    int rc = 0;
    cli_args a;
    cli_args_init(&a, argc, argv);
    while (cli_args_next(&a)) {
        if (a.positional) {
            if (in)
                return cli_usage_error(&cli_emit_c, "unexpected argument '%s'", a.opt);
            in = a.opt;
        } else if (cli_is(&a, "-o") || cli_is(&a, "--output")) {
            if (!(c_path = cli_value(&a)) || !*c_path)
                return cli_usage_error(&cli_emit_c, "%s needs a file name", a.opt);
        } else if (cli_is(&a, "--symbol")) {
            if (!(symbol = cli_value(&a)) || !*symbol)
                return cli_usage_error(&cli_emit_c, "--symbol needs a C identifier");
        } else {
            return cli_usage_error(&cli_emit_c, "unknown option '%s'", a.opt);
        }
    }
    if (!in)
        return cli_usage_error(&cli_emit_c, "missing MODEL.edgec");
    if (!c_path || !strcmp(c_path, "-"))
        return cli_usage_error(&cli_emit_c, "give the C file to write: -o model.c");
    size_t n = strlen(c_path), keep = n >= 2 && !strcmp(c_path + n - 2, ".c") ? n - 2 : n;
    if (!(h_path = malloc(keep + 3)) || (!symbol && !(symbol = owned_symbol = default_symbol(c_path)))) {
        fprintf(stderr, "edgec: out of memory\n");
        rc = 4;
        goto cleanup;
    }
    memcpy(h_path, c_path, keep);
    strcpy(h_path + keep, ".h");
    edgec_status st = edgec_container_read(in, &blob, &size);
    if (!st)
        st = edgec_container_emit_c(blob, size, symbol, c_path, h_path);
    if (st)
        rc = cli_fail(st);
cleanup:
    free(blob);
    free(h_path);
    free(owned_symbol);
    return rc;
}
