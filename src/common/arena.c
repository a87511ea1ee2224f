/* A bump allocator made of a list of blocks. Small requests share blocks; large ones
 * (model weights) get a block of their own so that no block wastes much tail space, and
 * so that one can be given back early (edgec__arena_release) when a pass replaces the
 * tensor that held it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

#define ARENA_ALIGN 16
#define ARENA_BLOCK (64 * 1024)

typedef struct block {
    struct block *next, *prev; /* prev: large blocks only */
    size_t used, cap;
    _Alignas(ARENA_ALIGN) unsigned char data[];
} block;

struct edgec_arena {
    block *head;  /* block that small allocations come from */
    block *large; /* blocks holding one large allocation each */
    size_t total;
    /* The large blocks by address of their data, for release: an open-addressing table
     * (linear probing, at most half full), so that a release costs O(1) however many
     * weights the model has. */
    block **index;
    size_t index_cap, index_n;
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
    free(a->index);
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
    b->next = b->prev = NULL;
    b->used = 0;
    b->cap = cap;
    return b;
}

static size_t slot_of(const edgec_arena *a, const void *p)
{
    uint64_t h = (uint64_t)(uintptr_t)p * 0x9e3779b97f4a7c15ull;
    return (size_t)(h >> 32) & (a->index_cap - 1);
}

static void index_put(edgec_arena *a, block *b)
{
    size_t i = slot_of(a, b->data);
    while (a->index[i])
        i = (i + 1) & (a->index_cap - 1);
    a->index[i] = b;
    a->index_n++;
}

/* Room for one more large block in the index; false when out of memory. */
static bool index_reserve(edgec_arena *a)
{
    if (2 * (a->index_n + 1) <= a->index_cap)
        return true;
    size_t cap = a->index_cap ? a->index_cap * 2 : 64;
    block **old = a->index;
    size_t old_cap = a->index_cap;
    if (!(a->index = calloc(cap, sizeof *a->index))) {
        a->index = old;
        return false;
    }
    a->index_cap = cap;
    a->index_n = 0;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i])
            index_put(a, old[i]);
    free(old);
    return true;
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
        block *b = index_reserve(a) ? new_block(rounded) : NULL;
        if (!b)
            return NULL;
        b->used = rounded;
        b->next = a->large;
        if (a->large)
            a->large->prev = b;
        a->large = b;
        a->total += rounded;
        index_put(a, b);
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

void edgec__arena_release(edgec_arena *a, void *p)
{
    if (!a || !p || !a->index_n)
        return;
    size_t i = slot_of(a, p);
    while (a->index[i] && a->index[i]->data != (unsigned char *)p)
        i = (i + 1) & (a->index_cap - 1);
    block *b = a->index[i];
    if (!b)
        return;
    /* Backward-shift deletion keeps every later entry of the probe run reachable. */
    size_t hole = i;
    for (size_t j = (i + 1) & (a->index_cap - 1); a->index[j]; j = (j + 1) & (a->index_cap - 1)) {
        size_t home = slot_of(a, a->index[j]->data);
        /* Entry j may fill the hole unless its home lies cyclically in (hole, j]. */
        bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!stays) {
            a->index[hole] = a->index[j];
            hole = j;
        }
    }
    a->index[hole] = NULL;
    a->index_n--;
    if (b->prev)
        b->prev->next = b->next;
    else
        a->large = b->next;
    if (b->next)
        b->next->prev = b->prev;
    a->total -= b->cap;
    free(b);
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
