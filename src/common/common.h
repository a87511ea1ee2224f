/* Internal helpers every part of edgec uses: failure messages, checked arithmetic,
 * the arena allocator. */
#ifndef EDGEC_COMMON_H
#define EDGEC_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edgec/status.h"

#if defined(__GNUC__)
#define EDGEC_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define EDGEC_PRINTF(a, b)
#endif

/* Records a detailed message for `edgec_error_message()` and returns `s`, so that a
 * failure is one line: `return edgec__fail(EDGEC_STATUS_IO, "%s: ...", path);`. */
edgec_status edgec__fail(edgec_status s, const char *fmt, ...) EDGEC_PRINTF(2, 3);

/* Prepends context (e.g. "node 'conv1': ") to the current message. */
edgec_status edgec__fail_prefix(const char *prefix);

void edgec__error_clear(void);

/* Checked arithmetic: return false on overflow, never wrap. */
static inline bool edgec__mul_size(size_t a, size_t b, size_t *out)
{
    return !__builtin_mul_overflow(a, b, out);
}
static inline bool edgec__add_size(size_t a, size_t b, size_t *out)
{
    return !__builtin_add_overflow(a, b, out);
}
static inline bool edgec__mul_i64(int64_t a, int64_t b, int64_t *out)
{
    return !__builtin_mul_overflow(a, b, out);
}

/* Arena: every allocation of a model lives here and is released at once. Passes never
 * free single nodes or tensors; they drop references and the arena reclaims all. */
typedef struct edgec_arena edgec_arena;

edgec_arena *edgec__arena_new(void);
void edgec__arena_free(edgec_arena *a);
/* 16-byte aligned, uninitialised; NULL when out of memory. */
void *edgec__arena_alloc(edgec_arena *a, size_t n);
/* Zeroed `n * size` bytes; NULL on overflow or out of memory. */
void *edgec__arena_calloc(edgec_arena *a, size_t n, size_t size);
char *edgec__arena_strdup(edgec_arena *a, const char *s);
/* Bytes currently held by the arena, for memory reports. */
size_t edgec__arena_size(const edgec_arena *a);
/* Gives the memory of a large allocation (over 16 kB, which gets a block of its own) back
 * to the system at once, for the data of a tensor a pass has replaced, which would
 * otherwise stay until the model is freed. `p` must not be used afterwards. Any other
 * pointer (a small allocation, NULL, memory from elsewhere) is ignored, so callers may
 * pass a tensor's data without knowing where it came from. This is not a way to free
 * nodes or tensors one by one: their memory stays in the arena. */
void edgec__arena_release(edgec_arena *a, void *p);

#endif
