/* A minimal streaming JSON writer for reports: it tracks commas and escapes strings,
 * and prints numbers so that the same value always gives the same text. */
#ifndef EDGEC_JSON_H
#define EDGEC_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct edgec_json {
    FILE *out;
    int depth;
    bool need_comma[64];
    bool pretty;
} edgec_json;

void edgec__json_init(edgec_json *j, FILE *out, bool pretty);
void edgec__json_begin_object(edgec_json *j, const char *key);
void edgec__json_end_object(edgec_json *j);
void edgec__json_begin_array(edgec_json *j, const char *key);
void edgec__json_end_array(edgec_json *j);
/* `key` is NULL inside arrays. */
void edgec__json_str(edgec_json *j, const char *key, const char *value);
void edgec__json_strn(edgec_json *j, const char *key, const char *value, size_t n);
void edgec__json_int(edgec_json *j, const char *key, int64_t value);
void edgec__json_uint(edgec_json *j, const char *key, uint64_t value);
void edgec__json_num(edgec_json *j, const char *key, double value);
void edgec__json_bool(edgec_json *j, const char *key, bool value);
void edgec__json_null(edgec_json *j, const char *key);

#endif
