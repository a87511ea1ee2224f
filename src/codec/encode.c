/* Tensor payload encoding (docs/FORMAT.md sections 5 and 6): the raw bytes are cut into
 * units (a nibble for 4-bit types, else the element up to 32 bits), each unit into byte
 * planes, and every plane gets its own canonical Huffman code. The masked form drops the
 * background unit (the most common one: the pruned zero, the zero-point, the cluster
 * index of 0.0) and range-codes a bit per unit saying where the others are, walking the
 * tensor along the axis that clusters them best (a pruned input feature is a column of
 * zeros). The encoder computes the exact size of each form and keeps the smallest. */
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"
#include "ir/ir.h"

#define MAX_PLANES 4
#define PROB_BITS 12 /* the range coder's probabilities are 12-bit fractions */
#define PROB_SHIFT 5 /* and move 1/32 of the way to each coded bit */

typedef struct plan {
    const uint8_t *raw;
    size_t size, units;
    int planes;
    bool nibbles;
    uint8_t bg; /* plane 0 of the background unit; its other planes are zero */
    uint64_t freq[MAX_PLANES][256];
    uint8_t len[MAX_PLANES][256];
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
        if (sym(p, i, k) != (k ? 0u : p->bg))
            return false;
    return true;
}

/* Code lengths for plane `t`; a plane nothing uses still describes one symbol, because
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

/* Bits of plane t's table (6.4: lo, hi, then '0' for a repeated length or '1' and four
 * bits) and of the codes it writes. */
static uint64_t table_cost(const plan *p, int t)
{
    int lo = 255, hi = 0;
    uint64_t bits = 16;
    for (int s = 0; s < 256; s++) {
        if (p->len[t][s]) {
            lo = s < lo ? s : lo;
            hi = s;
            bits += p->freq[t][s] * p->len[t][s];
        }
    }
    for (int s = lo, prev = 0; s <= hi; prev = p->len[t][s++])
        bits += p->len[t][s] == prev ? 1 : 5;
    return bits;
}

/* Counts the planes of every unit (dense) or of the units off the background (masked)
 * and returns the bits of the tables and codes. */
static uint64_t measure(plan *p, bool masked)
{
    uint64_t bits = 0;
    memset(p->freq, 0, sizeof p->freq);
    for (size_t i = 0; i < p->units; i++)
        if (!masked || !is_bg(p, i))
            for (int k = 0; k < p->planes; k++)
                p->freq[k][sym(p, i, k)]++;
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
    for (int s = lo, prev = 0; s <= hi; prev = len[s++]) {
        if (len[s] == prev)
            edgec__bitw_put(w, 0, 1);
        else
            edgec__bitw_put(w, 0x10u | len[s], 5);
    }
}

/* LZMA's range encoder over one adaptive bit (section 6.6). */
typedef struct rc_enc {
    uint64_t low;
    uint32_t range, prob;
    uint8_t cache;
    uint64_t pending; /* bytes held back for a carry: the cache and 0xFF bytes */
    uint64_t written; /* bytes out so far, including the dropped leading zero */
    edgec_bitw *w;    /* NULL: only count */
} rc_enc;

static void rc_out(rc_enc *e, uint32_t byte)
{
    /* The first byte is always zero (the coded value is below 1) and is not stored. */
    if (e->written++ && e->w)
        edgec__bitw_put(e->w, byte, 8);
}

static void rc_shift_low(rc_enc *e)
{
    if ((uint32_t)e->low < 0xFF000000u || (e->low >> 32) != 0) {
        uint32_t carry = (uint32_t)(e->low >> 32), byte = e->cache;
        do {
            rc_out(e, (byte + carry) & 0xFF);
            byte = 0xFF;
        } while (--e->pending);
        e->cache = (uint8_t)(e->low >> 24);
    }
    e->pending++;
    e->low = (e->low & 0x00FFFFFFu) << 8;
}

static void rc_bit(rc_enc *e, unsigned bit)
{
    uint32_t bound = (e->range >> PROB_BITS) * e->prob;
    if (!bit) {
        e->range = bound;
        e->prob += ((1u << PROB_BITS) - e->prob) >> PROB_SHIFT;
    } else {
        e->low += bound;
        e->range -= bound;
        e->prob -= e->prob >> PROB_SHIFT;
    }
    while (e->range < (1u << 24)) {
        e->range <<= 8;
        rc_shift_low(e);
    }
}

/* Range-codes the mask in line order (unit j, j + line, ... for each j < line) and
 * returns the bytes it takes, writing them to w unless w is NULL. */
static uint64_t code_mask(const plan *p, size_t line, edgec_bitw *w)
{
    rc_enc e = {0, 0xFFFFFFFFu, 1u << (PROB_BITS - 1), 0, 1, 0, w};
    for (size_t j = 0; j < line; j++)
        for (size_t i = j; i < p->units; i += line)
            rc_bit(&e, !is_bg(p, i));
    for (int k = 0; k < 5; k++)
        rc_shift_low(&e);
    return e.written - 1;
}

static size_t varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static void put_varint(edgec_bitw *w, uint64_t v)
{
    for (; v >= 0x80; v >>= 7)
        edgec__bitw_put(w, (uint32_t)(v & 0x7f) | 0x80, 8);
    edgec__bitw_put(w, (uint32_t)v, 8);
}

/* The line lengths worth trying: the whole tensor (storage order), and for every split
 * of the dims the trailing ones, so that the mask runs down a column. */
static size_t line_candidates(const plan *p, const uint32_t *dims, int rank, size_t *out)
{
    size_t n = 0, numel = 1;
    out[n++] = p->units;
    for (int k = 0; k < rank; k++) {
        if (dims[k] && numel > SIZE_MAX / dims[k])
            return n; /* dims that do not match the bytes: storage order only */
        numel *= dims[k];
    }
    if (!numel || p->units % numel)
        return n;
    for (int split = rank - 1; split >= 1; split--) {
        size_t line = p->units / numel;
        for (int k = split; k < rank; k++)
            line *= dims[k];
        bool dup = false;
        for (size_t c = 0; c < n; c++)
            dup |= out[c] == line;
        if (line && line < p->units && p->units % line == 0 && !dup)
            out[n++] = line;
    }
    return n;
}

/* Writes the codes of every unit (dense) or of the units off the background. */
static void put_codes(const plan *p, bool masked, edgec_bitw *w)
{
    uint16_t code[MAX_PLANES][256];
    for (int k = 0; k < p->planes; k++) {
        edgec__huff_codes(p->len[k], 256, code[k]);
        put_table(w, p->len[k]);
    }
    for (size_t i = 0; i < p->units; i++) {
        if (masked && is_bg(p, i))
            continue;
        for (int k = 0; k < p->planes; k++) {
            unsigned s = sym(p, i, k);
            edgec__bitw_put(w, code[k][s], p->len[k][s]);
        }
    }
}

/* The most common value for one-plane data; zero for wider units, where the common
 * value of pruned and padded tensors is zero anyway. */
static void pick_background(plan *p)
{
    p->bg = 0;
    if (p->planes != 1)
        return;
    uint64_t f[256] = {0};
    for (size_t i = 0; i < p->units; i++)
        f[sym(p, i, 0)]++;
    for (int s = 1; s < 256; s++)
        if (f[s] > f[p->bg])
            p->bg = (uint8_t)s;
}

/* Picks the background and says whether the masked form may be used: for units wider
 * than a byte, or when at least half of the units are the background. Its decoder
 * spends a range-coder step on every unit; for one-byte units that is a few times a
 * table-driven Huffman code's time per byte, and on denser tensors the few bytes it
 * saves do not pay for it (host decode >= 200 MB/s). */
static bool sparse_enough(plan *p)
{
    size_t n = 0;
    pick_background(p);
    for (size_t i = 0; i < p->units; i++)
        n += is_bg(p, i);
    return p->planes > 1 || 2 * n >= p->units;
}

/* The smallest payload of the raw bytes cut into `unit`-bit units. */
static edgec_status encode_units(const uint8_t *raw, size_t size, int unit,
                                 const uint32_t *dims, int rank, edgec_payload *out)
{
    *out = (edgec_payload){EDGEC_ENC_STORED, (uint8_t)unit, NULL, 0};
    plan *p = calloc(1, sizeof *p);
    if (!p)
        return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
    p->raw = raw;
    p->size = size;
    p->nibbles = unit == 4;
    p->planes = p->nibbles ? 1 : unit / 8;
    p->units = p->nibbles ? size * 2 : size / (size_t)p->planes;
    edgec_status st = EDGEC_STATUS_OK;
    edgec_bitw w = {0};
    uint64_t dense = size ? (measure(p, false) + 7) / 8 : UINT64_MAX, masked = UINT64_MAX;
    size_t lines[EDGEC_CODEC_MAX_RANK + 1], best_line = 0;
    if (size && !p->nibbles && sparse_enough(p)) {
        /* Masked: background byte, line length, the mask, then tables and codes. */
        size_t n = line_candidates(p, dims, rank, lines);
        uint64_t mask_bytes = UINT64_MAX;
        for (size_t c = 0; c < n; c++) {
            uint64_t b = code_mask(p, lines[c], NULL) + varint_len(lines[c]);
            if (b < mask_bytes) {
                mask_bytes = b;
                best_line = lines[c];
            }
        }
        masked = 1 + mask_bytes + (measure(p, true) + 7) / 8;
    }
    if (masked < dense && masked < size) {
        /* measure(masked) ran last: its code lengths are current. */
        edgec__bitw_put(&w, p->bg, 8);
        put_varint(&w, best_line);
        code_mask(p, best_line, &w);
        put_codes(p, true, &w);
        out->encoding = EDGEC_ENC_MASKED;
    } else if (dense < size) {
        measure(p, false);
        put_codes(p, false, &w);
        out->encoding = EDGEC_ENC_DENSE;
    } else if (size) {
        if (!(w.data = malloc(size)))
            st = edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
        else
            memcpy(w.data, raw, w.len = size);
    }
    if (!st && out->encoding != EDGEC_ENC_STORED)
        st = edgec__bitw_finish(&w);
    if (!st) {
        out->data = w.data;
        out->size = w.len;
    } else {
        free(w.data);
    }
    free(p);
    return st;
}

edgec_status edgec__encode_tensor(const uint8_t *raw, size_t size, int32_t dtype,
                                  const uint32_t *dims, int rank, edgec_payload *out)
{
    int bits = edgec__dtype(dtype)->bits;
    int unit = bits == 4 ? 4 : bits == 16 ? 16 : bits >= 32 ? 32 : 8;
    if (unit > 8 && size % (size_t)(unit / 8))
        unit = 8;
    edgec_status st = encode_units(raw, size, unit, dims, rank, out);
    /* 4-bit data is also tried a byte (two values) at a time: the masked form, which
     * 4-bit units do not have, then skips runs of zeros, such as pruned channels. */
    if (!st && unit == 4 && out->encoding != EDGEC_ENC_STORED) {
        edgec_payload bytes;
        if ((st = encode_units(raw, size, 8, dims, rank, &bytes)))
            return st;
        if (bytes.size < out->size) {
            free(out->data);
            *out = bytes;
        } else {
            free(bytes.data);
        }
    }
    return st;
}
