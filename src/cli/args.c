#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

int cli_usage_error(const cli_command *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "edgec: %s%s", cmd ? cmd->name : "", cmd ? ": " : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'edgec help%s%s' for usage.\n", cmd ? " " : "", cmd ? cmd->name : "");
    return 1;
}

int cli_fail(edgec_status st)
{
    const char *msg = edgec_error_message();
    fprintf(stderr, "edgec: %s\n", *msg ? msg : edgec_status_message(st));
    return edgec_status_exit_code(st);
}

void cli_args_init(cli_args *a, int argc, char **argv)
{
    memset(a, 0, sizeof *a);
    a->argc = argc;
    a->argv = argv;
    a->i = -1;
}

bool cli_args_next(cli_args *a)
{
    static char optbuf[256];
    if (++a->i >= a->argc)
        return false;
    const char *s = a->argv[a->i];
    a->value = NULL;
    a->opt = s;
    a->positional = a->only_positional || s[0] != '-' || !strcmp(s, "-");
    if (!a->only_positional && !strcmp(s, "--")) {
        a->only_positional = true;
        return cli_args_next(a);
    }
    if (!a->positional && s[1] == '-') {
        const char *eq = strchr(s, '=');
        if (eq && (size_t)(eq - s) < sizeof optbuf) {
            memcpy(optbuf, s, (size_t)(eq - s));
            optbuf[eq - s] = '\0';
            a->opt = optbuf;
            a->value = eq + 1;
        }
    }
    return true;
}

bool cli_is(const cli_args *a, const char *name)
{
    return !a->positional && !strcmp(a->opt, name);
}

const char *cli_value(cli_args *a)
{
    if (a->value)
        return a->value;
    if (a->i + 1 >= a->argc)
        return NULL;
    return a->argv[++a->i];
}

void cli_print_usage(const cli_command *cmd, FILE *out)
{
    if (cmd->print_usage)
        cmd->print_usage(out);
    else
        fputs(cmd->usage, out);
}

int cli_shapes_add(cli_shapes *s, const cli_command *cmd, const char *value)
{
    if (!value)
        return cli_usage_error(cmd, "--input-shape needs NAME:DIMS");
    if (s->n == CLI_MAX_SHAPES)
        return cli_usage_error(cmd, "too many --input-shape options");
    if (edgec_input_shape_parse(value, s->bufs[s->n], sizeof s->bufs[s->n], &s->shapes[s->n]))
        return cli_usage_error(cmd, "%s", edgec_error_message());
    s->n++;
    return 0;
}

bool cli_is_container(const char *path)
{
    unsigned char head[8];
    if (!strcmp(path, "-"))
        return false;
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    return edgec_container_detect(head, n);
}

edgec_status cli_load_model(const char *path, edgec_model **out)
{
    return cli_is_container(path) ? edgec_container_load(path, out) : edgec_model_load(path, out);
}
