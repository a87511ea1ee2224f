/* Bit writer and canonical Huffman code construction for the container encoder. */
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"

void edgec__bitw_put(edgec_bitw *w, uint32_t v, int n)
{
    if (w->oom || n <= 0)
        return;
    w->acc = (w->acc << n) | (v & (uint32_t)(((uint64_t)1 << n) - 1));
    w->n += n;
    while (w->n >= 8) {
        if (w->len == w->cap) {
            size_t cap = w->cap ? w->cap * 2 : 256;
            uint8_t *d = cap > w->cap ? realloc(w->data, cap) : NULL;
            if (!d) {
                w->oom = true;
                return;
            }
            w->data = d;
            w->cap = cap;
        }
        w->n -= 8;
        w->data[w->len++] = (uint8_t)(w->acc >> w->n);
    }
}

edgec_status edgec__bitw_finish(edgec_bitw *w)
{
    if (w->n)
        edgec__bitw_put(w, 0, 8 - w->n);
    if (w->oom) {
        free(w->data);
        w->data = NULL;
        w->len = 0;
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
    }
    return EDGEC_STATUS_OK;
}

/* Plain Huffman tree depths for the used symbols, by repeatedly merging the two
 * lightest nodes (lowest index first on ties, so the result is deterministic). With at
 * most 256 leaves the quadratic search is cheaper than a heap's bookkeeping. */
static int tree_depths(const uint64_t *freq, int n, uint8_t *len)
{
    uint64_t w[511];
    int parent[511], alive[511], leaf_of[256], nodes = 0, live = 0, maxd = 0;
    for (int s = 0; s < n; s++) {
        len[s] = 0;
        if (freq[s]) {
            leaf_of[nodes] = s;
            w[nodes] = freq[s];
            parent[nodes] = -1;
            alive[nodes++] = 1;
            live++;
        }
    }
    int leaves = nodes;
    if (leaves == 1) {
        len[leaf_of[0]] = 1;
        return 1;
    }
    while (live > 1) {
        int a = -1, b = -1;
        for (int i = 0; i < nodes; i++) {
            if (!alive[i])
                continue;
            if (a < 0 || w[i] < w[a]) {
                b = a;
                a = i;
            } else if (b < 0 || w[i] < w[b]) {
                b = i;
            }
        }
        alive[a] = alive[b] = 0;
        w[nodes] = w[a] + w[b];
        parent[nodes] = -1;
        alive[nodes] = 1;
        parent[a] = parent[b] = nodes++;
        live--;
    }
    for (int i = 0; i < leaves; i++) {
        int d = 0;
        for (int k = i; parent[k] >= 0; k = parent[k])
            d++;
        len[leaf_of[i]] = (uint8_t)d;
        if (d > maxd)
            maxd = d;
    }
    return maxd;
}

void edgec__huff_lengths(const uint64_t *freq, int n, int max_len, uint8_t *len)
{
    uint64_t f[256];
    memcpy(f, freq, (size_t)n * sizeof *f);
    /* Too deep a tree: flatten the distribution (keeping every used symbol) and try
     * again. Each round halves the spread, so this ends within 64 rounds. */
    while (tree_depths(f, n, len) > max_len)
        for (int s = 0; s < n; s++)
            if (f[s])
                f[s] = (f[s] >> 1) | 1;
}

void edgec__huff_codes(const uint8_t *len, int n, uint16_t *code)
{
    uint32_t next = 0;
    for (int l = 1; l <= EDGEC_CODEC_MAX_LEN; l++) {
        for (int s = 0; s < n; s++)
            if (len[s] == l)
                code[s] = (uint16_t)next++;
        next <<= 1;
    }
    for (int s = 0; s < n; s++)
        if (!len[s])
            code[s] = 0;
}
