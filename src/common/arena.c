/* A bump allocator made of a list of blocks. Small requests share blocks; large ones
 * (model weights) get a block of their own so that no block wastes much tail space. */
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

#define ARENA_ALIGN 16
#define ARENA_BLOCK (64 * 1024)

typedef struct block {
    struct block *next;
    size_t used, cap;
    _Alignas(ARENA_ALIGN) unsigned char data[];
} block;

struct edgec_arena {
    block *head;  /* block that small allocations come from */
    block *large; /* blocks holding one large allocation each */
    size_t total;
};

edgec_arena *edgec__arena_new(void)
{
    return calloc(1, sizeof(edgec_arena));
}

static void free_list(block *b)
{
    while (b) {
        block *next = b->next;
        free(b);
        b = next;
    }
}

void edgec__arena_free(edgec_arena *a)
{
    if (!a)
        return;
    free_list(a->head);
    free_list(a->large);
    free(a);
}

static block *new_block(size_t cap)
{
    size_t bytes;
    if (!edgec__add_size(sizeof(block), cap, &bytes))
        return NULL;
    block *b = malloc(bytes);
    if (!b)
        return NULL;
    b->next = NULL;
    b->used = 0;
    b->cap = cap;
    return b;
}

void *edgec__arena_alloc(edgec_arena *a, size_t n)
{
    if (n == 0)
        n = 1;
    size_t rounded;
    if (!edgec__add_size(n, ARENA_ALIGN - 1, &rounded))
        return NULL;
    rounded &= ~(size_t)(ARENA_ALIGN - 1);
    if (rounded > ARENA_BLOCK / 4) {
        block *b = new_block(rounded);
        if (!b)
            return NULL;
        b->used = rounded;
        b->next = a->large;
        a->large = b;
        a->total += rounded;
        return b->data;
    }
    if (!a->head || a->head->cap - a->head->used < rounded) {
        block *b = new_block(ARENA_BLOCK);
        if (!b)
            return NULL;
        b->next = a->head;
        a->head = b;
        a->total += ARENA_BLOCK;
    }
    void *p = a->head->data + a->head->used;
    a->head->used += rounded;
    return p;
}

void *edgec__arena_calloc(edgec_arena *a, size_t n, size_t size)
{
    size_t bytes;
    if (!edgec__mul_size(n, size, &bytes))
        return NULL;
    void *p = edgec__arena_alloc(a, bytes);
    if (p)
        memset(p, 0, bytes);
    return p;
}

char *edgec__arena_strdup(edgec_arena *a, const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = edgec__arena_alloc(a, n);
    if (p)
        memcpy(p, s, n);
    return p;
}

size_t edgec__arena_size(const edgec_arena *a)
{
    return a->total;
}
