/* edgec info MODEL [--json] */
#include <stdio.h>

#include "cli/cli.h"

static int run(int argc, char **argv);

const cli_command cli_info = {
    "info",
    "describe a model: ops, parameters, bytes per tensor, where weights live",
    "Usage: edgec info MODEL [--json]\n\n"
    "Describes MODEL (\"-\" reads standard input): IR version, opsets, producer, inputs and\n"
    "outputs with shapes, op histogram, parameters and bytes by data type, the largest\n"
    "weight tensors and where they live (initializer, Constant node, subgraph), external\n"
    "data files and metadata.\n\n"
    "Options:\n"
    "  --json    machine-readable output\n",
    run,
    NULL,
};

static int run(int argc, char **argv)
{
    const char *path = NULL;
    edgec_info_format fmt = EDGEC_INFO_TEXT;
    cli_args a;
    cli_args_init(&a, argc, argv);
    while (cli_args_next(&a)) {
        if (a.positional) {
            if (path)
                return cli_usage_error(&cli_info, "unexpected argument '%s'", a.opt);
            path = a.opt;
        } else if (cli_is(&a, "--json")) {
            fmt = EDGEC_INFO_JSON;
        } else {
            return cli_usage_error(&cli_info, "unknown option '%s'", a.opt);
        }
    }
    if (!path)
        return cli_usage_error(&cli_info, "missing MODEL");
    edgec_model *m = NULL;
    edgec_status st = cli_load_model(path, &m);
    if (!st)
        st = edgec_model_print_info(m, stdout, fmt);
    edgec_model_free(m);
    return st ? cli_fail(st) : 0;
}
