#include <math.h>
#include <string.h>

#include "common/json.h"

void edgec__json_init(edgec_json *j, FILE *out, bool pretty)
{
    memset(j, 0, sizeof *j);
    j->out = out;
    j->pretty = pretty;
}

static void put_escaped(FILE *out, const char *s, size_t n)
{
    fputc('"', out);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"':
            fputs("\\\"", out);
            break;
        case '\\':
            fputs("\\\\", out);
            break;
        case '\n':
            fputs("\\n", out);
            break;
        case '\r':
            fputs("\\r", out);
            break;
        case '\t':
            fputs("\\t", out);
            break;
        default:
            if (c < 0x20 || c == 0x7f)
                fprintf(out, "\\u%04x", c);
            else
                fputc(c, out);
        }
    }
    fputc('"', out);
}

/* Writes the separator and key that precede every value. */
static void prefix(edgec_json *j, const char *key)
{
    if (j->need_comma[j->depth])
        fputc(',', j->out);
    if (j->pretty && j->depth > 0) {
        fputc('\n', j->out);
        for (int i = 0; i < j->depth; i++)
            fputs("  ", j->out);
    }
    j->need_comma[j->depth] = true;
    if (key) {
        put_escaped(j->out, key, strlen(key));
        fputs(j->pretty ? ": " : ":", j->out);
    }
}

static void open_(edgec_json *j, const char *key, char c)
{
    prefix(j, key);
    fputc(c, j->out);
    if (j->depth < 63)
        j->depth++;
    j->need_comma[j->depth] = false;
}

static void close_(edgec_json *j, char c)
{
    bool had = j->need_comma[j->depth];
    if (j->depth > 0)
        j->depth--;
    if (j->pretty && had) {
        fputc('\n', j->out);
        for (int i = 0; i < j->depth; i++)
            fputs("  ", j->out);
    }
    fputc(c, j->out);
    if (j->depth == 0 && j->pretty)
        fputc('\n', j->out);
}

void edgec__json_begin_object(edgec_json *j, const char *key)
{
    open_(j, key, '{');
}
void edgec__json_end_object(edgec_json *j)
{
    close_(j, '}');
}
void edgec__json_begin_array(edgec_json *j, const char *key)
{
    open_(j, key, '[');
}
void edgec__json_end_array(edgec_json *j)
{
    close_(j, ']');
}
void edgec__json_strn(edgec_json *j, const char *key, const char *value, size_t n)
{
    prefix(j, key);
    put_escaped(j->out, value, n);
}
void edgec__json_str(edgec_json *j, const char *key, const char *value)
{
    edgec__json_strn(j, key, value, strlen(value));
}
void edgec__json_int(edgec_json *j, const char *key, int64_t value)
{
    prefix(j, key);
    fprintf(j->out, "%lld", (long long)value);
}
void edgec__json_uint(edgec_json *j, const char *key, uint64_t value)
{
    prefix(j, key);
    fprintf(j->out, "%llu", (unsigned long long)value);
}
void edgec__json_num(edgec_json *j, const char *key, double value)
{
    prefix(j, key);
    if (!isfinite(value))
        fputs("null", j->out); /* JSON has no NaN or infinity */
    else
        fprintf(j->out, "%.17g", value);
}
void edgec__json_bool(edgec_json *j, const char *key, bool value)
{
    prefix(j, key);
    fputs(value ? "true" : "false", j->out);
}
void edgec__json_null(edgec_json *j, const char *key)
{
    prefix(j, key);
    fputs("null", j->out);
}
