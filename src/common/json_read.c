/* The JSON reader: recursive descent bounded by EDGEC_JSON_MAX_DEPTH. */
#include "common/json_read.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

typedef struct parser {
    const char *s;
    size_t len, pos;
    const char *name;
} parser;

static edgec_status bad(parser *p, const char *what)
{
    return edgec__fail(EDGEC_STATUS_INVALID_DATA, "%s: invalid JSON at byte %zu: %s", p->name,
                       p->pos, what);
}

static void skip_ws(parser *p)
{
    while (p->pos < p->len && strchr(" \t\r\n", p->s[p->pos]) && p->s[p->pos])
        p->pos++;
}

static bool literal(parser *p, const char *word)
{
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n))
        return false;
    p->pos += n;
    return true;
}

static int hex4(parser *p)
{
    if (p->len - p->pos < 4)
        return -1;
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p->s[p->pos++];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= c - '0';
        else if (c >= 'a' && c <= 'f')
            v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v |= c - 'A' + 10;
        else
            return -1;
    }
    return v;
}

static size_t put_utf8(char *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* A string at p->pos (on the opening quote) into a malloc'ed copy. Escapes never make
 * the text longer than its source, so the source length bounds the buffer. */
static edgec_status string(parser *p, char **out)
{
    p->pos++;
    size_t start = p->pos;
    while (p->pos < p->len && p->s[p->pos] != '"')
        p->pos += p->s[p->pos] == '\\' ? 2 : 1;
    if (p->pos >= p->len)
        return bad(p, "unterminated string");
    size_t end = p->pos;
    char *o = malloc(end - start + 1);
    if (!o)
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
    size_t n = 0;
    p->pos = start;
    while (p->pos < end) {
        unsigned char c = (unsigned char)p->s[p->pos++];
        if (c < 0x20) {
            free(o);
            return bad(p, "control character in a string");
        }
        if (c != '\\') {
            o[n++] = (char)c;
            continue;
        }
        char e = p->s[p->pos++];
        const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
        const char *hit = e ? strchr(from, e) : NULL;
        if (hit) {
            o[n++] = to[hit - from];
            continue;
        }
        int cp = e == 'u' ? hex4(p) : -1;
        if (cp >= 0xD800 && cp < 0xDC00 && p->pos + 6 <= end && p->s[p->pos] == '\\' &&
            p->s[p->pos + 1] == 'u') {
            p->pos += 2;
            int lo = hex4(p);
            cp = lo >= 0xDC00 && lo < 0xE000 ? 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00) : -1;
        } else if (cp >= 0xD800 && cp < 0xE000) {
            cp = -1;
        }
        if (cp <= 0) {
            free(o);
            return bad(p, cp == 0 ? "\\u0000 in a string" : "bad escape in a string");
        }
        n += put_utf8(o + n, (uint32_t)cp);
    }
    o[n] = '\0';
    p->pos = end + 1;
    *out = o;
    return EDGEC_STATUS_OK;
}

static edgec_status number(parser *p, double *out)
{
    size_t i = p->pos;
    if (i < p->len && p->s[i] == '-')
        i++;
    if (i >= p->len || p->s[i] < '0' || p->s[i] > '9')
        return bad(p, "expected a value");
    if (p->s[i] == '0')
        i++;
    else
        while (i < p->len && p->s[i] >= '0' && p->s[i] <= '9')
            i++;
    if (i < p->len && p->s[i] == '.') {
        if (++i >= p->len || p->s[i] < '0' || p->s[i] > '9')
            return bad(p, "digits must follow a decimal point");
        while (i < p->len && p->s[i] >= '0' && p->s[i] <= '9')
            i++;
    }
    if (i < p->len && (p->s[i] == 'e' || p->s[i] == 'E')) {
        i++;
        if (i < p->len && (p->s[i] == '+' || p->s[i] == '-'))
            i++;
        if (i >= p->len || p->s[i] < '0' || p->s[i] > '9')
            return bad(p, "digits must follow an exponent");
        while (i < p->len && p->s[i] >= '0' && p->s[i] <= '9')
            i++;
    }
    char buf[64];
    if (i - p->pos >= sizeof buf)
        return bad(p, "number too long");
    memcpy(buf, p->s + p->pos, i - p->pos);
    buf[i - p->pos] = '\0';
    *out = strtod(buf, NULL);
    if (!isfinite(*out))
        return bad(p, "number out of range");
    p->pos = i;
    return EDGEC_STATUS_OK;
}

static void free_kids(edgec_jval *v)
{
    for (size_t i = 0; i < v->n_kids; i++) {
        free_kids(&v->kids[i]);
        free(v->kids[i].key);
        free(v->kids[i].str);
    }
    free(v->kids);
}

static edgec_status value(parser *p, edgec_jval *v, int depth);

/* The elements of an array or the members of an object, after the opening bracket. */
static edgec_status container(parser *p, edgec_jval *v, int depth, bool object)
{
    size_t cap = 0;
    char close = object ? '}' : ']';
    p->pos++;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == close) {
        p->pos++;
        return EDGEC_STATUS_OK;
    }
    for (;;) {
        if (v->n_kids == cap) {
            cap = cap ? 2 * cap : 8;
            edgec_jval *k = realloc(v->kids, cap * sizeof *k);
            if (!k)
                return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
            v->kids = k;
        }
        edgec_jval *kid = &v->kids[v->n_kids++];
        *kid = (edgec_jval){0};
        skip_ws(p);
        edgec_status st;
        if (object) {
            if (p->pos >= p->len || p->s[p->pos] != '"')
                return bad(p, "expected a member name");
            if ((st = string(p, &kid->key)))
                return st;
            for (size_t i = 0; i + 1 < v->n_kids; i++)
                if (!strcmp(v->kids[i].key, kid->key))
                    return bad(p, "duplicate member name");
            skip_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != ':')
                return bad(p, "expected ':'");
            p->pos++;
        }
        if ((st = value(p, kid, depth + 1)))
            return st;
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->len && p->s[p->pos] == close) {
            p->pos++;
            return EDGEC_STATUS_OK;
        }
        return bad(p, object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static edgec_status value(parser *p, edgec_jval *v, int depth)
{
    if (depth >= EDGEC_JSON_MAX_DEPTH)
        return bad(p, "nested too deeply");
    skip_ws(p);
    if (p->pos >= p->len)
        return bad(p, "unexpected end");
    char c = p->s[p->pos];
    if (c == '{' || c == '[') {
        v->type = c == '{' ? EDGEC_JOBJ : EDGEC_JARR;
        return container(p, v, depth, c == '{');
    }
    if (c == '"') {
        v->type = EDGEC_JSTR;
        return string(p, &v->str);
    }
    if (literal(p, "true") || literal(p, "false")) {
        v->type = EDGEC_JBOOL;
        v->b = c == 't';
        return EDGEC_STATUS_OK;
    }
    if (literal(p, "null")) {
        v->type = EDGEC_JNULL;
        return EDGEC_STATUS_OK;
    }
    v->type = EDGEC_JNUM;
    return number(p, &v->num);
}

edgec_status edgec__json_parse(const char *text, size_t len, const char *name, edgec_jval **out)
{
    parser p = {text, len, 0, name};
    edgec_jval *v = calloc(1, sizeof *v);
    *out = NULL;
    if (!v)
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
    edgec_status st = value(&p, v, 0);
    if (!st) {
        skip_ws(&p);
        if (p.pos != len)
            st = bad(&p, "text after the value");
    }
    if (st) {
        edgec__json_free(v);
        return st;
    }
    *out = v;
    return EDGEC_STATUS_OK;
}

void edgec__json_free(edgec_jval *v)
{
    if (!v)
        return;
    free_kids(v);
    free(v->key);
    free(v->str);
    free(v);
}

const edgec_jval *edgec__json_get(const edgec_jval *v, const char *key)
{
    if (!v || v->type != EDGEC_JOBJ)
        return NULL;
    for (size_t i = 0; i < v->n_kids; i++)
        if (!strcmp(v->kids[i].key, key))
            return &v->kids[i];
    return NULL;
}
