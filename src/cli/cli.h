/* Shared pieces of the command-line front end. The CLI is a client of include/edgec only. */
#ifndef EDGEC_CLI_H
#define EDGEC_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "edgec/edgec.h"

/* One subcommand: its name, a one-line summary, its usage text and its entry point.
 * `run` gets the arguments after the subcommand name and returns the exit code. */
typedef struct cli_command {
    const char *name;
    const char *summary;
    const char *usage; /* static usage text, or NULL when `print_usage` builds it */
    int (*run)(int argc, char **argv);
    void (*print_usage)(FILE *out);
} cli_command;

/* Prints the command's usage text. */
void cli_print_usage(const cli_command *cmd, FILE *out);

extern const cli_command cli_info;
extern const cli_command cli_compress;
extern const cli_command cli_run;
extern const cli_command cli_eval;
extern const cli_command cli_unpack;
extern const cli_command cli_emit_c;

/* Whether the file at `path` starts like an .edgec container (never for "-"). */
bool cli_is_container(const char *path);

/* Loads an ONNX model, or the model an .edgec container holds (read-only commands: info,
 * run, eval). */
edgec_status cli_load_model(const char *path, edgec_model **out);

/* Prints "edgec: <message>" for a usage error and returns exit code 1. */
int cli_usage_error(const cli_command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints the library's message for a failed status and returns its exit code. */
int cli_fail(edgec_status st);

/* A minimal option scanner: long options with "=VALUE" or a separate value, short ones
 * with a separate value; "--" ends options. */
typedef struct cli_args {
    int argc, i;
    char **argv;
    const char *opt;   /* the option as written, e.g. "-o" or "--json" */
    const char *value; /* the attached "=VALUE" part, if any */
    bool positional;   /* the current argument is not an option */
    bool only_positional;
} cli_args;

void cli_args_init(cli_args *a, int argc, char **argv);
/* Advances to the next argument; false at the end. */
bool cli_args_next(cli_args *a);
/* True when the current option is `name`. */
bool cli_is(const cli_args *a, const char *name);
/* The option's value (attached, or the next argument); NULL when missing. */
const char *cli_value(cli_args *a);

/* The --input-shape NAME:D0xD1... values of one command line. */
#define CLI_MAX_SHAPES 64
typedef struct cli_shapes {
    edgec_input_shape shapes[CLI_MAX_SHAPES];
    char bufs[CLI_MAX_SHAPES][256];
    size_t n;
} cli_shapes;

/* Parses one --input-shape value; prints a usage error for `cmd` and returns 1 when it
 * is missing or malformed, 0 otherwise. */
int cli_shapes_add(cli_shapes *s, const cli_command *cmd, const char *value);

#endif
