/* edgec's entry point: dispatches to a subcommand from the table below. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const cli_command *const commands[] = {
    &cli_compress,
    &cli_info,
    &cli_run,
    &cli_eval,
    &cli_unpack,
    &cli_emit_c,
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static const cli_command *find(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (!strcmp(commands[i]->name, name))
            return commands[i];
    return NULL;
}

static void print_help(FILE *out)
{
    fprintf(out,
            "edgec %s - compress ONNX models for edge devices and measure what it cost\n\n"
            "Usage: edgec COMMAND [OPTIONS]\n\nCommands:\n",
            edgec_version());
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(out, "\nGeneral options:\n"
                 "  -h, --help     show this help ('edgec help COMMAND' for one command)\n"
                 "  --version      print the version\n\n"
                 "Exit codes: 0 ok, 1 usage, 2 invalid input, 3 quality gate not met,\n"
                 "4 I/O error, 5 unsupported model feature.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_help(stderr);
        return 1;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
        printf("edgec %s\n", edgec_version());
        return 0;
    }
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        print_help(stdout);
        return 0;
    }
    if (!strcmp(cmd, "help")) {
        if (argc < 3) {
            print_help(stdout);
            return 0;
        }
        const cli_command *c = find(argv[2]);
        if (!c)
            return cli_usage_error(NULL, "unknown command '%s'", argv[2]);
        cli_print_usage(c, stdout);
        return 0;
    }
    const cli_command *c = find(cmd);
    if (!c)
        return cli_usage_error(NULL, "unknown command '%s'", cmd);
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--"))
            break;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            cli_print_usage(c, stdout);
            return 0;
        }
    }
    return c->run(argc - 2, argv + 2);
}
