/* Tensor payload encoding (docs/FORMAT.md sections 5 and 6): the raw bytes are cut into
 * units (a nibble for 4-bit types, else the element up to 32 bits), each unit into
 * byte planes, and every plane gets its own canonical Huffman code. The sparse form
 * drops the background unit (the most common one: the pruned zero, the zero-point, the
 * cluster index of 0.0) and codes the gaps between the others instead. The encoder
 * computes the exact size of each form and keeps the smallest. */
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"
#include "ir/ir.h"

#define MAX_PLANES 4
#define GAP_ESCAPE 255

typedef struct plan {
    const uint8_t *raw;
    size_t size, units;
    int planes;
    bool nibbles;
    uint8_t bg[MAX_PLANES];
    size_t n_values;
    uint64_t freq[MAX_PLANES + 1][256]; /* planes, then the gap code */
    uint8_t len[MAX_PLANES + 1][256];
} plan;

static unsigned sym(const plan *p, size_t i, int k)
{
    if (p->nibbles)
        return (p->raw[i >> 1] >> ((i & 1) * 4)) & 15;
    return p->raw[i * (size_t)p->planes + (size_t)k];
}

static bool is_bg(const plan *p, size_t i)
{
    for (int k = 0; k < p->planes; k++)
        if (sym(p, i, k) != p->bg[k])
            return false;
    return true;
}

/* Code lengths for table `t`; a table nothing uses still describes one symbol, because
 * the decoder refuses empty tables. */
static void lengths(plan *p, int t)
{
    bool any = false;
    for (int s = 0; s < 256; s++)
        any |= p->freq[t][s] != 0;
    if (!any)
        p->freq[t][0] = 1;
    edgec__huff_lengths(p->freq[t], 256, EDGEC_CODEC_MAX_LEN, p->len[t]);
}

/* Bits of table `t` and of the codes it writes. */
static uint64_t table_cost(const plan *p, int t)
{
    int lo = 255, hi = 0;
    uint64_t bits = 0;
    for (int s = 0; s < 256; s++) {
        if (p->len[t][s]) {
            lo = s < lo ? s : lo;
            hi = s;
            bits += p->freq[t][s] * p->len[t][s];
        }
    }
    return bits + 16 + 4 * (uint64_t)(hi - lo + 1);
}

static void count_gap(plan *p, size_t gap)
{
    for (; gap >= GAP_ESCAPE; gap -= GAP_ESCAPE)
        p->freq[p->planes][GAP_ESCAPE]++;
    p->freq[p->planes][gap]++;
}

/* Fills frequencies and lengths for the dense (sparse = false) or sparse form and
 * returns its size in bits. */
static uint64_t measure(plan *p, bool sparse)
{
    memset(p->freq, 0, sizeof p->freq);
    uint64_t bits = 8;
    if (!sparse) {
        for (size_t i = 0; i < p->units; i++)
            for (int k = 0; k < p->planes; k++)
                p->freq[k][sym(p, i, k)]++;
    } else {
        size_t gap = 0;
        p->n_values = 0;
        for (size_t i = 0; i < p->units; i++) {
            if (is_bg(p, i)) {
                gap++;
                continue;
            }
            count_gap(p, gap);
            gap = 0;
            p->n_values++;
            for (int k = 0; k < p->planes; k++)
                p->freq[k][sym(p, i, k)]++;
        }
        bits += 8 * (uint64_t)p->planes + 32;
        lengths(p, p->planes);
        bits += table_cost(p, p->planes);
    }
    for (int k = 0; k < p->planes; k++) {
        lengths(p, k);
        bits += table_cost(p, k);
    }
    return bits;
}

static void put_table(edgec_bitw *w, const uint8_t *len)
{
    int lo = 0, hi = 255;
    while (!len[lo])
        lo++;
    while (!len[hi])
        hi--;
    edgec__bitw_put(w, (uint32_t)lo, 8);
    edgec__bitw_put(w, (uint32_t)hi, 8);
    for (int s = lo; s <= hi; s++)
        edgec__bitw_put(w, len[s], 4);
}

/* Writes the form that `measure` last prepared. */
static edgec_status emit(plan *p, bool sparse, edgec_payload *out)
{
    uint16_t code[MAX_PLANES + 1][256];
    edgec_bitw w = {0};
    int gt = p->planes;
    for (int t = 0; t <= p->planes; t++)
        edgec__huff_codes(p->len[t], 256, code[t]);
    edgec__bitw_put(&w, (uint32_t)p->planes, 8);
    if (sparse) {
        for (int k = 0; k < p->planes; k++)
            edgec__bitw_put(&w, p->bg[k], 8);
        for (int b = 0; b < 32; b += 8)
            edgec__bitw_put(&w, (uint32_t)(p->n_values >> b) & 0xff, 8);
        put_table(&w, p->len[gt]);
    }
    for (int k = 0; k < p->planes; k++)
        put_table(&w, p->len[k]);
    size_t gap = 0;
    for (size_t i = 0; i < p->units; i++) {
        if (sparse) {
            if (is_bg(p, i)) {
                gap++;
                continue;
            }
            for (; gap >= GAP_ESCAPE; gap -= GAP_ESCAPE)
                edgec__bitw_put(&w, code[gt][GAP_ESCAPE], p->len[gt][GAP_ESCAPE]);
            edgec__bitw_put(&w, code[gt][gap], p->len[gt][gap]);
            gap = 0;
        }
        for (int k = 0; k < p->planes; k++) {
            unsigned s = sym(p, i, k);
            edgec__bitw_put(&w, code[k][s], p->len[k][s]);
        }
    }
    edgec_status st = edgec__bitw_finish(&w);
    if (st)
        return st;
    out->encoding = sparse ? EDGEC_ENC_SPARSE : EDGEC_ENC_DENSE;
    out->data = w.data;
    out->size = w.len;
    return EDGEC_STATUS_OK;
}

/* The most common unit for one-plane data; zero for wider units, where the common
 * value of pruned and padded tensors is zero anyway. */
static void pick_background(plan *p)
{
    memset(p->bg, 0, sizeof p->bg);
    if (p->planes != 1)
        return;
    uint64_t f[256] = {0};
    for (size_t i = 0; i < p->units; i++)
        f[sym(p, i, 0)]++;
    for (int s = 1; s < 256; s++)
        if (f[s] > f[p->bg[0]])
            p->bg[0] = (uint8_t)s;
}

edgec_status edgec__encode_tensor(const uint8_t *raw, size_t size, int32_t dtype,
                                  edgec_payload *out)
{
    *out = (edgec_payload){EDGEC_ENC_STORED, 8, NULL, 0};
    int bits = edgec__dtype(dtype)->bits;
    int unit = bits == 4 ? 4 : bits == 16 ? 16 : bits >= 32 ? 32 : 8;
    if (unit > 8 && size % (size_t)(unit / 8))
        unit = 8;
    out->unit_bits = (uint8_t)unit;
    plan *p = calloc(1, sizeof *p);
    if (!p)
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
    p->raw = raw;
    p->size = size;
    p->nibbles = unit == 4;
    p->planes = p->nibbles ? 1 : unit / 8;
    p->units = p->nibbles ? size * 2 : size / (size_t)p->planes;
    edgec_status st = EDGEC_STATUS_OK;
    uint64_t dense = size ? (measure(p, false) + 7) / 8 : UINT64_MAX;
    pick_background(p);
    uint64_t sparse = size ? (measure(p, true) + 7) / 8 : UINT64_MAX;
    if (sparse < dense && sparse < size) {
        st = emit(p, true, out); /* measure(sparse) ran last: its tables are current */
    } else if (dense < size) {
        measure(p, false);
        st = emit(p, false, out);
    } else if (size) {
        if (!(out->data = malloc(size)))
            st = edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
        else
            memcpy(out->data, raw, out->size = size);
    }
    free(p);
    return st;
}
