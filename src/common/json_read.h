/* A small strict JSON reader for the files edgec reads back (plans): RFC 8259 values
 * into a tree, with a nesting limit so that hostile input cannot exhaust the stack, and
 * errors that give the byte offset. */
#ifndef EDGEC_JSON_READ_H
#define EDGEC_JSON_READ_H

#include <stdbool.h>
#include <stddef.h>

#include "edgec/status.h"

#define EDGEC_JSON_MAX_DEPTH 64 /* nested arrays and objects */

typedef enum edgec_jtype {
    EDGEC_JNULL,
    EDGEC_JBOOL,
    EDGEC_JNUM,
    EDGEC_JSTR,
    EDGEC_JARR,
    EDGEC_JOBJ
} edgec_jtype;

typedef struct edgec_jval edgec_jval;
struct edgec_jval {
    edgec_jtype type;
    char *key;        /* member name inside an object, else NULL */
    bool b;
    double num;
    char *str;        /* NUL-terminated UTF-8; strings with a NUL escape are refused */
    edgec_jval *kids; /* array elements or object members, in file order */
    size_t n_kids;
};

/* Parses `len` bytes; `name` is used in messages. On INVALID_DATA the message gives the
 * byte offset. The tree is freed with edgec__json_free. */
edgec_status edgec__json_parse(const char *text, size_t len, const char *name, edgec_jval **out);

/* Frees a tree; accepts NULL. */
void edgec__json_free(edgec_jval *v);

/* The member `key` of object `v`, or NULL (also when `v` is not an object). */
const edgec_jval *edgec__json_get(const edgec_jval *v, const char *key);

#endif
