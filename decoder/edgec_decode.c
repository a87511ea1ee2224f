/* edgec_decode: see edgec_decode.h for the interface and the format summary, and
 * docs/FORMAT.md for the specification. Written for small code size first (it runs on
 * microcontrollers) and speed second: one bit reader, one canonical Huffman decoder, one
 * binary range decoder, every check done once where the value is read. The host build
 * (EDGEC_DECODE_FAST) adds lookup tables and wider reads on the same paths. */
#include "edgec_decode.h"

#include <string.h>

/* The fast host build inlines the per-symbol functions into the decode loops. */
#if defined(EDGEC_DECODE_FAST) && defined(__GNUC__)
#define HOT inline __attribute__((always_inline))
#define LOOP __attribute__((noinline)) /* a hot loop gets the registers to itself */
#else
#define HOT
#define LOOP
#endif

#define WORD_BITS ((int)(8 * sizeof(edgec_dec_word)))
#define HEADER_SIZE 24u
#define TOP (1u << 24) /* the range coder shifts in a byte below this */
#define SHIFT 5         /* the mask's probability moves 1/32 of the way per bit */

/* Decodes one bit of the mask (section 6.6) with the locals range, code and prob. */
#define RC_BIT(bit)                                                                    \
    do {                                                                               \
        uint32_t bound_ = (range >> 12) * prob;                                        \
        if (!((bit) = code >= bound_)) {                                               \
            range = bound_;                                                            \
            prob += (4096 - prob) >> SHIFT;                                            \
        } else {                                                                       \
            code -= bound_;                                                            \
            range -= bound_;                                                           \
            prob -= prob >> SHIFT;                                                     \
        }                                                                              \
    } while (0)

uint32_t edgec_dec_crc32(uint32_t crc, const void *data, size_t len)
{
    /* Four bits at a time: a 64-byte table instead of 1 kB, fast enough for the
     * compressed input rates a microcontroller sees. Hosts use slice-by-8 on sections. */
    static const uint32_t t[16] = {0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu,
                                   0x76DC4190u, 0x6B6B51F4u, 0x4DB26158u, 0x5005713Cu,
                                   0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu,
                                   0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu};
    const uint8_t *p = (const uint8_t *)data;
    crc = ~crc;
    while (len--) {
        crc ^= *p++;
        crc = (crc >> 4) ^ t[crc & 15];
        crc = (crc >> 4) ^ t[crc & 15];
    }
    return ~crc;
}

#ifdef EDGEC_DECODE_FAST
static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Eight bytes, the first one on top. */
static HOT uint64_t be64(const uint8_t *p)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t w;
    memcpy(&w, p, 8);
    return __builtin_bswap64(w);
#else
    uint64_t w = 0;
    for (int k = 0; k < 8; k++)
        w = w << 8 | p[k];
    return w;
#endif
}

/* The index of the lowest set bit of x (not 0). */
static HOT uint32_t lowest_bit(uint64_t x)
{
#if defined(__GNUC__)
    return (uint32_t)__builtin_ctzll(x);
#else
    uint32_t n = 0;
    while (!(x & 1)) {
        x >>= 1;
        n++;
    }
    return n;
#endif
}

static void crc_init(edgec_dec *d)
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        d->crc_table[0][n] = c;
    }
    for (uint32_t n = 0; n < 256; n++)
        for (int k = 1; k < 8; k++)
            d->crc_table[k][n] = (d->crc_table[k - 1][n] >> 8) ^
                                 d->crc_table[0][d->crc_table[k - 1][n] & 255];
}

/* The same CRC-32, eight bytes per step. */
static uint32_t crc_update(const edgec_dec *d, uint32_t crc, const uint8_t *p, uint32_t len)
{
    const uint32_t(*t)[256] = d->crc_table;
    crc = ~crc;
    for (; len >= 8; p += 8, len -= 8) {
        uint32_t a = crc ^ le32(p), b = le32(p + 4);
        crc = t[7][a & 255] ^ t[6][(a >> 8) & 255] ^ t[5][(a >> 16) & 255] ^ t[4][a >> 24] ^
              t[3][b & 255] ^ t[2][(b >> 8) & 255] ^ t[1][(b >> 16) & 255] ^ t[0][b >> 24];
    }
    while (len--)
        crc = (crc >> 8) ^ t[0][(crc ^ *p++) & 255];
    return ~crc;
}
#define CRC(d, crc, p, n) crc_update(d, crc, p, n)
#else
#define CRC(d, crc, p, n) edgec_dec_crc32(crc, p, n)
#endif

int edgec_dec_mem_read(void *user, uint32_t offset, void *buf, uint32_t len)
{
    const edgec_dec_mem *m = (const edgec_dec_mem *)user;
    if (offset > m->size || len > m->size - offset)
        return -1;
    memcpy(buf, m->data + offset, len);
    return 0;
}

/* Whether [off, off + len) lies inside the container. */
static int inside(const edgec_dec *d, uint32_t off, uint32_t len)
{
    return off <= d->size && len <= d->size - off;
}

/* The first error of a section is kept in d->err; reads after it give zeros, and the
 * loops, all bounded by sizes already checked, stop at the next test. */
static int corrupt(const edgec_dec *d)
{
    return d->err ? d->err : EDGEC_DEC_ECORRUPT;
}

/* Starts reading the section [off, off + len) through the bit reader. */
static void begin(edgec_dec *d, uint32_t off, uint32_t len)
{
    d->in_pos = off;
    d->in_end = off + len;
    d->crc = 0;
    d->bits = 0;
    d->nbits = 0;
    d->buf_pos = d->buf_len = 0;
    d->err = inside(d, off, len) ? EDGEC_DEC_OK : EDGEC_DEC_ECORRUPT;
}

/* Tops the bit buffer up to more than WORD_BITS - 8 bits while the section has bytes;
 * bits past the section's end read as zero but are not counted in nbits. */
static void refill(edgec_dec *d)
{
    while (d->nbits <= WORD_BITS - 8) {
        if (d->buf_pos == d->buf_len) {
            uint32_t n = d->in_end - d->in_pos;
            if (!n || d->err)
                return;
            if (n > EDGEC_DEC_CHUNK)
                n = EDGEC_DEC_CHUNK;
            if (d->read(d->user, d->in_pos, d->buf, n)) {
                d->err = EDGEC_DEC_EREAD;
                return;
            }
            d->crc = CRC(d, d->crc, d->buf, n);
            d->in_pos += n;
            d->buf_pos = 0;
            d->buf_len = n;
        }
#ifdef EDGEC_DECODE_FAST
        /* Eight bytes at once: the whole bytes that fit are counted; the bits of a
         * partly fitting byte are the same ones the next refill adds again. */
        if (d->buf_len - d->buf_pos >= 8) {
            d->bits |= be64(d->buf + d->buf_pos) >> d->nbits;
            d->buf_pos += (uint32_t)(WORD_BITS - d->nbits) >> 3;
            d->nbits += (WORD_BITS - d->nbits) & ~7;
            continue;
        }
#endif
        d->bits |= (edgec_dec_word)d->buf[d->buf_pos++] << (WORD_BITS - 8 - d->nbits);
        d->nbits += 8;
    }
}

/* Reads n (1..16) bits, most significant first. */
static uint32_t get(edgec_dec *d, int n)
{
    uint32_t v;
#ifdef EDGEC_DECODE_FAST
    if (d->nbits < n) /* the host build refills only when it must */
#endif
        refill(d);
    if (n > d->nbits) {
        d->err = corrupt(d);
        return 0;
    }
    v = (uint32_t)(d->bits >> (WORD_BITS - n));
    d->bits <<= n;
    d->nbits -= n;
    return v;
}

/* Offset in the container of the next whole byte of the section. */
static uint32_t tell(const edgec_dec *d)
{
    return d->in_pos - (d->buf_len - d->buf_pos) - (uint32_t)d->nbits / 8;
}

/* Reads a code table (section 6.4) for symbols below `limit`. */
static int read_code(edgec_dec *d, edgec_dec_code *c, uint32_t limit)
{
    uint8_t len[256];
    uint16_t offs[16];
    uint32_t lo = get(d, 8), hi = get(d, 8), prev = 0, total = 0;
    int left = 1;
    if (hi < lo || hi >= limit)
        return EDGEC_DEC_ECORRUPT;
    memset(c->count, 0, sizeof c->count);
    for (uint32_t s = lo; s <= hi; s++) {
        /* '0' repeats the previous length, '1' and 4 bits give a new one. */
        if (get(d, 1))
            prev = get(d, 4);
        len[s] = (uint8_t)prev;
        c->count[prev]++;
    }
    /* Over-subscribed codes are corrupt; incomplete ones are caught when decoding. */
    for (int n = 1; n < 16; n++) {
        offs[n] = (uint16_t)total;
        total += c->count[n];
        left = 2 * left - c->count[n];
        if (left < 0)
            return EDGEC_DEC_ECORRUPT;
    }
    if (d->err || !total) /* no symbol at all */
        return corrupt(d);
    for (uint32_t s = lo; s <= hi; s++)
        if (len[s])
            c->symbol[offs[len[s]]++] = (uint8_t)s;
#ifdef EDGEC_DECODE_FAST
    /* Every code of up to fast_bits bits owns the table entries that start with it; the
     * table is no wider than the longest code, so that small codes build quickly. */
    uint32_t code = 0, index = 0, fb = 15;
    while (!c->count[fb])
        fb--;
    fb = fb < d->fast_cap ? fb : d->fast_cap;
    c->fast_bits = (uint8_t)fb;
    memset(c->fast, 0, sizeof c->fast[0] << c->fast_bits);
    for (uint32_t n = 1; n <= c->fast_bits; n++, code <<= 1)
        for (uint32_t k = 0; k < c->count[n]; k++, code++) {
            uint32_t span = 1u << (c->fast_bits - n), e = code * span;
            uint16_t entry = (uint16_t)(n << 8 | c->symbol[index++]);
            while (span--)
                c->fast[e++] = entry;
        }
#endif
    return EDGEC_DEC_OK;
}

/* Decodes one symbol: canonical codes of each length are consecutive integers, so the
 * first `n` bits are a code of length n when they fall among that length's codes. */
static HOT uint32_t decode(edgec_dec *d, const edgec_dec_code *c)
{
#ifdef EDGEC_DECODE_FAST
    /* 16 buffered bits hold any code: refill only below that. */
    if (d->nbits < 16)
        refill(d);
    uint32_t e = c->fast[d->bits >> (WORD_BITS - c->fast_bits)];
    if (e && (int)(e >> 8) <= d->nbits) {
        d->bits <<= e >> 8;
        d->nbits -= (int)(e >> 8);
        return e & 255;
    }
#else
    refill(d);
#endif
    uint32_t peek = (uint32_t)(d->bits >> (WORD_BITS - 16)), first = 0, index = 0;
    for (int n = 1; n < 16 && n <= d->nbits; n++) {
        uint32_t code = peek >> (16 - n), count = c->count[n];
        if (code - first < count) {
            d->bits <<= n;
            d->nbits -= n;
            return c->symbol[index + code - first];
        }
        index += count;
        first = (first + count) << 1;
    }
    d->err = corrupt(d);
    return 0;
}

/* A varint (section 1) of at most 32 bits. */
static uint32_t varint(edgec_dec *d)
{
    uint32_t x = 0, b;
    for (int s = 0;; s += 7) {
        b = get(d, 8);
        x |= (b & 127) << s;
        if (b < 128)
            return x;
        if (s == 28) {
            d->err = corrupt(d); /* more than 32 bits */
            return 0;
        }
    }
}

/* A u32, least significant byte first. */
static uint32_t le32_bits(edgec_dec *d)
{
    uint32_t v = 0;
    for (int s = 0; s < 32; s += 8)
        v |= get(d, 8) << s;
    return v;
}

/* Parses directory record d->at from the bit reader, which is at its first byte. */
static int parse(edgec_dec *d, edgec_dec_tensor *t)
{
    uint32_t form;
    t->index = d->at;
    t->dtype = (uint8_t)get(d, 8);
    t->form = (uint8_t)(form = get(d, 8));
    t->encoding = form & 3;
    t->unit_bits = (uint8_t)(4u << (form >> 2 & 3));
    t->rank = (uint8_t)get(d, 8);
    if (t->encoding == 3 || form >> 6 || t->rank > EDGEC_DEC_MAX_RANK)
        return corrupt(d);
    for (uint32_t k = 0; k < t->rank; k++)
        t->dims[k] = varint(d);
    t->raw_size = varint(d);
    t->payload_size = varint(d);
    t->payload_crc = le32_bits(d);
    form = varint(d);
    t->name_len = (uint16_t)form;
    t->name_offset = tell(d);
    t->payload_offset = d->at_payload;
    if (d->err || form > 0xffffu ||
        t->payload_size > d->model_offset - t->payload_offset)
        return corrupt(d);
    /* The name is read too, so that opening covers it with the directory's CRC. */
    while (form-- && !d->err)
        get(d, 8);
    return d->err;
}

/* Parses records d->at .. index from the bit reader, which is at record d->at, keeping
 * the place of the last one. */
static int walk(edgec_dec *d, uint32_t index, edgec_dec_tensor *t)
{
    int rc;
    while (!(rc = parse(d, t)) && d->at != index) {
        d->at++;
        d->at_pos = tell(d);
        d->at_payload = t->payload_offset + t->payload_size;
    }
    return rc;
}

/* Parses record `index`: on from the cached place when it is not past `index`, else
 * from the first record. */
static int seek(edgec_dec *d, uint32_t index, edgec_dec_tensor *t)
{
    uint32_t end = HEADER_SIZE + d->dir_size;
    if (index >= d->n_tensors)
        return EDGEC_DEC_ERANGE;
    if (index < d->at) {
        d->at = 0;
        d->at_pos = HEADER_SIZE;
        d->at_payload = end + 4;
    }
    begin(d, d->at_pos, end - d->at_pos);
    return walk(d, index, t);
}

int edgec_dec_open(edgec_dec *d, edgec_dec_read_fn read, void *user, uint32_t size)
{
    uint32_t end;
    edgec_dec_tensor t;
    int rc;
    memset(d, 0, sizeof *d);
    d->read = read;
    d->user = user;
    d->size = size;
#ifdef EDGEC_DECODE_FAST
    crc_init(d);
#endif
    /* Header, directory and their CRC are read in one pass of the bit reader. */
    begin(d, 0, HEADER_SIZE);
    if (le32_bits(d) != 0x43474445u || le32_bits(d) != EDGEC_DEC_VERSION) /* "EDGC", flags 0 */
        return d->err == EDGEC_DEC_EREAD ? EDGEC_DEC_EREAD : EDGEC_DEC_EFORMAT;
    d->n_tensors = le32_bits(d);
    d->dir_size = le32_bits(d);
    d->model_size = le32_bits(d);
    d->model_raw_size = le32_bits(d);
    end = HEADER_SIZE + d->dir_size;
    /* Then payloads, and the model section with its CRC at the very end. */
    if (d->err || !inside(d, end, 8) || d->dir_size > end || d->model_size > size - end - 8)
        return corrupt(d);
    d->model_offset = size - 4 - d->model_size;
    d->in_end = end + 4;
    d->at_pos = HEADER_SIZE;
    d->at_payload = end + 4;
    /* Every record must be well-formed; together they fill the directory and their
     * payloads fill the space up to the model section. */
    t.payload_offset = end + 4;
    t.payload_size = 0;
    if (d->n_tensors && (rc = walk(d, d->n_tensors - 1, &t)))
        return rc;
    if (tell(d) != end || t.payload_offset + t.payload_size != d->model_offset)
        return EDGEC_DEC_ECORRUPT;
    /* Running the CRC itself through the CRC leaves CRC-32's constant residue. */
    le32_bits(d);
    return d->err ? d->err : d->crc == 0x2144DF1Cu ? EDGEC_DEC_OK : EDGEC_DEC_ECRC;
}

uint32_t edgec_dec_count(const edgec_dec *d)
{
    return d->n_tensors;
}

int edgec_dec_info(edgec_dec *d, uint32_t index, edgec_dec_tensor *out)
{
    return seek(d, index, out);
}

int edgec_dec_find(edgec_dec *d, const char *name, uint32_t *index)
{
    size_t len = strlen(name), k;
    edgec_dec_tensor t;
    for (uint32_t i = 0; i < d->n_tensors; i++) {
        int rc = seek(d, i, &t);
        if (rc)
            return rc;
        if (t.name_len != len)
            continue;
        /* Through the bit reader, which is bounded to the name. */
        begin(d, t.name_offset, t.name_len);
        for (k = 0; k < len && get(d, 8) == (uint8_t)name[k];)
            k++;
        if (d->err)
            return d->err;
        if (k == len) {
            *index = i;
            return EDGEC_DEC_OK;
        }
    }
    return EDGEC_DEC_ERANGE;
}

/* Writes symbol `s` as plane p of unit i. */
static HOT void put(uint8_t *out, uint32_t i, uint32_t planes, uint32_t p, int nibbles, uint32_t s)
{
    if (nibbles) {
        uint8_t *b = out + (i >> 1);
        *b = (uint8_t)((i & 1) ? (*b & 0x0f) | s << 4 : (*b & 0xf0) | s);
    } else {
        out[i * planes + p] = (uint8_t)s;
    }
}

#ifndef EDGEC_DECODE_FAST
/* Section 6.6: the range-coded mask, in line order. Plane 0 of every unit gets the
 * background's, flipped in its lowest bit for the units that are not the background: a
 * mark that the value pass then replaces. */
static int mask(edgec_dec *d, uint8_t *out, uint32_t units, uint32_t planes, uint32_t line,
                uint32_t bg)
{
    uint32_t range = 0xFFFFFFFFu, code = 0, prob = 2048, pos = 0;
    for (int k = 0; k < 4; k++)
        code = code << 8 | get(d, 8);
    for (uint32_t k = 0; k < units; k++) {
        uint32_t bit;
        RC_BIT(bit);
        out[pos * planes] = (uint8_t)(bg ^ bit);
        while (range < TOP) {
            range <<= 8;
            code = code << 8 | get(d, 8);
        }
        /* Down the line, or to the top of the next one (without overflow). */
        pos = pos >= units - line ? pos - (units - line - 1) : pos + line;
    }
    /* The encoder's final bytes leave exactly zero: anything else is damage. */
    return d->err || code ? corrupt(d) : EDGEC_DEC_OK;
}
#endif

#ifdef EDGEC_DECODE_FAST
/* The host build's hot loops keep the bit reader in locals and take eight bytes at a
 * time from the chunk; anything unusual (a long code, the chunk's end, an error) goes
 * through the shared functions above, so both builds accept and refuse alike. */
#define LOAD() (bits = d->bits, nbits = d->nbits)
#define SAVE() (d->bits = bits, d->nbits = nbits)
#define FILL()                                                                         \
    do {                                                                               \
        if (d->buf_len - d->buf_pos >= 8) {                                            \
            bits |= be64(d->buf + d->buf_pos) >> nbits;                                \
            d->buf_pos += (uint32_t)(64 - nbits) >> 3;                                 \
            nbits += (64 - nbits) & ~7;                                                \
        } else {                                                                       \
            SAVE();                                                                    \
            refill(d);                                                                 \
            LOAD();                                                                    \
        }                                                                              \
    } while (0)

/* mask() with the walk unrolled: `lines` lines of `inner` units `stride` units apart,
 * the lines `step` units apart. Positions are 64-bit, so that the walk cannot wrap. The
 * writer masks only tensors that are mostly background, so the branch on the decision
 * is mostly predicted. */
static HOT int mask_walk(edgec_dec *d, uint8_t *out, uint32_t planes, uint32_t bg,
                         uint32_t lines, uint32_t inner, uint64_t stride, uint64_t step)
{
    uint32_t range = 0xFFFFFFFFu, code = 0, prob = 2048;
    uint64_t bits;
    int nbits;
    for (int k = 0; k < 4; k++)
        code = code << 8 | get(d, 8);
    LOAD();
    for (uint32_t j = 0; j < lines; j++) {
        uint8_t *o = out + j * step * planes;
        for (uint32_t i = 0; i < inner; i++, o += stride * planes) {
            uint32_t bit;
            RC_BIT(bit);
            *o = (uint8_t)(bg ^ bit);
            while (range < TOP) {
                if (nbits < 8)
                    FILL();
                if (nbits < 8) {
                    d->err = corrupt(d);
                    return d->err;
                }
                range <<= 8;
                code = code << 8 | (uint32_t)(bits >> 56);
                bits <<= 8;
                nbits -= 8;
            }
        }
    }
    SAVE();
    return d->err || code ? corrupt(d) : EDGEC_DEC_OK;
}

static LOOP int mask_bytes(edgec_dec *d, uint8_t *out, uint32_t bg, uint32_t lines,
                           uint32_t inner, uint64_t stride, uint64_t step)
{
    return mask_walk(d, out, 1, bg, lines, inner, stride, step);
}

static LOOP int mask_units(edgec_dec *d, uint8_t *out, uint32_t planes, uint32_t bg,
                           uint32_t lines, uint32_t inner, uint64_t stride, uint64_t step)
{
    return mask_walk(d, out, planes, bg, lines, inner, stride, step);
}

static int mask_fast(edgec_dec *d, uint8_t *out, uint32_t units, uint32_t planes,
                     uint32_t line, uint32_t bg)
{
    /* Storage order is one line of every unit; else `line` lines down the columns. */
    uint32_t lines = line == units ? 1 : line, inner = line == units ? units : units / line;
    uint64_t stride = line == units ? 1 : line, step = line == units ? 0 : 1;
    if (planes == 1)
        return mask_bytes(d, out, bg, lines, inner, stride, step);
    return mask_units(d, out, planes, bg, lines, inner, stride, step);
}

/* Decodes one symbol of code c with the locals' bit buffer, or 256 after an error. */
#define SYMBOL(c, s)                                                                   \
    do {                                                                               \
        uint32_t e_;                                                                   \
        if (nbits < 16)                                                                \
            FILL();                                                                    \
        e_ = (c)->fast[bits >> (64 - (c)->fast_bits)];                                 \
        if (e_ && (int)(e_ >> 8) <= nbits) {                                           \
            bits <<= e_ >> 8;                                                          \
            nbits -= (int)(e_ >> 8);                                                   \
            s = e_ & 255;                                                              \
        } else {                                                                       \
            SAVE();                                                                    \
            s = decode(d, c);                                                          \
            LOAD();                                                                    \
            if (d->err)                                                                \
                return d->err;                                                         \
        }                                                                              \
    } while (0)

/* The value pass for P planes (a constant after inlining), masked or not. */
static HOT int values(edgec_dec *restrict d, uint8_t *restrict out, uint32_t units,
                      uint32_t planes, int masked, uint32_t bg)
{
    uint64_t bits;
    int nbits;
    uint32_t flat = 0;
    /* A plane whose 256 symbols all have 8-bit codes (the low bytes of floats) holds
     * its bytes as they are: canonical codes of one length count up from 0. */
    for (uint32_t p = 0; p < planes; p++)
        flat |= (d->code[p].count[8] == 256) << p;
    LOAD();
    for (uint32_t i = 0; i < units; i++, out += planes) {
        if (masked && *out == bg) {
            for (uint32_t p = 1; p < planes; p++)
                out[p] = 0;
            continue;
        }
        for (uint32_t p = 0; p < planes; p++) {
            uint32_t s;
            if ((flat >> p & 1) && nbits < 8)
                FILL();
            if ((flat >> p & 1) && nbits >= 8) {
                s = (uint32_t)(bits >> 56);
                bits <<= 8;
                nbits -= 8;
            } else {
                SYMBOL(&d->code[p], s);
            }
            out[p] = (uint8_t)s;
        }
    }
    SAVE();
    return d->err;
}

/* One-plane masked values: eight units at a time, a bit per marked unit found without
 * a branch per unit. */
static LOOP int values_masked1(edgec_dec *restrict d, uint8_t *restrict out, uint32_t units,
                               uint32_t bg)
{
    const edgec_dec_code *c = &d->code[0];
    const uint64_t low7 = 0x7F7F7F7F7F7F7F7Full, bg8 = 0x0101010101010101ull * bg;
    uint64_t bits;
    int nbits;
    uint32_t i = 0, s;
    LOAD();
    for (; units - i >= 8; i += 8) {
        uint64_t w, x, marks;
        memcpy(&w, out + i, 8);
        x = w ^ bg8; /* nonzero bytes: the marked units; their top bits: */
        marks = (((x & low7) + low7) | x) & ~low7;
        while (marks) {
            uint32_t k = lowest_bit(marks) >> 3;
            marks &= marks - 1;
            SYMBOL(c, s);
            out[i + k] = (uint8_t)s;
        }
    }
    for (; i < units; i++) {
        if (out[i] == bg)
            continue;
        SYMBOL(c, s);
        out[i] = (uint8_t)s;
    }
    SAVE();
    return d->err;
}

static LOOP int values1(edgec_dec *d, uint8_t *out, uint32_t units)
{
    return values(d, out, units, 1, 0, 0);
}

static LOOP int values2(edgec_dec *d, uint8_t *out, uint32_t units, int masked, uint32_t bg)
{
    return values(d, out, units, 2, masked, bg);
}

static LOOP int values4(edgec_dec *d, uint8_t *out, uint32_t units, int masked, uint32_t bg)
{
    return values(d, out, units, 4, masked, bg);
}

/* Dense 4-bit units: two codes per byte, the low nibble first. */
static LOOP int values_nibbles(edgec_dec *restrict d, uint8_t *restrict out, uint32_t size)
{
    const edgec_dec_code *c = &d->code[0];
    uint64_t bits;
    int nbits;
    uint32_t i = 0, lo, hi;
    /* Big tensors first fill a table of code pairs, a whole byte per lookup: indexed by
     * the next EDGEC_DEC_PAIR_BITS bits, the two codes' length << 8 | the byte, or 0 when the two
     * codes take more bits. */
    if (size >= 1024) {
        /* Every pair of codes that fits owns the entries that start with it. */
        uint32_t code1 = 0, idx1 = 0;
        memset(d->pair, 0, sizeof d->pair);
        for (uint32_t n1 = 1; n1 < EDGEC_DEC_PAIR_BITS; n1++, code1 <<= 1)
            for (uint32_t k1 = 0; k1 < c->count[n1]; k1++, code1++, idx1++) {
                uint32_t code2 = 0, idx2 = 0;
                for (uint32_t n2 = 1; n1 + n2 <= EDGEC_DEC_PAIR_BITS; n2++, code2 <<= 1)
                    for (uint32_t k2 = 0; k2 < c->count[n2]; k2++, code2++, idx2++) {
                        uint32_t rest = EDGEC_DEC_PAIR_BITS - n1 - n2, e = (code1 << n2 | code2) << rest;
                        uint16_t v = (uint16_t)((n1 + n2) << 8 | c->symbol[idx1] |
                                                c->symbol[idx2] << 4);
                        for (uint32_t f = 0; f < 1u << rest; f++)
                            d->pair[e + f] = v;
                    }
            }
        LOAD();
        for (; i < size; i++) {
            uint32_t e;
            if (nbits < 16)
                FILL();
            e = d->pair[bits >> (64 - EDGEC_DEC_PAIR_BITS)];
            if (e && (int)(e >> 8) <= nbits) {
                bits <<= e >> 8;
                nbits -= (int)(e >> 8);
                out[i] = (uint8_t)e;
            } else { /* longer codes, or the stream's end: code by code */
                SYMBOL(c, lo);
                SYMBOL(c, hi);
                out[i] = (uint8_t)(lo | hi << 4);
            }
        }
        SAVE();
        return d->err;
    }
    LOAD();
    for (; i < size; i++) {
        SYMBOL(c, lo);
        SYMBOL(c, hi);
        out[i] = (uint8_t)(lo | hi << 4);
    }
    SAVE();
    return d->err;
}
#endif

static int huffman(edgec_dec *restrict d, const edgec_dec_tensor *t, uint8_t *restrict out)
{
    int nibbles = t->unit_bits == 4, masked = t->encoding == 2, rc;
    uint32_t planes = nibbles ? 1 : t->unit_bits / 8u, limit = nibbles ? 16 : 256;
    uint32_t units, bg = 0, line = 0, p;
    if (t->raw_size % planes)
        return EDGEC_DEC_ECORRUPT;
    units = nibbles ? t->raw_size * 2u : t->raw_size / planes;
    if (masked) {
        /* Plane 0 of the background unit (its other planes are zero), the line length,
         * then the mask, byte-aligned. */
        bg = get(d, 8);
        line = varint(d);
        if (d->err || nibbles || !line || units % line)
            return corrupt(d);
#ifdef EDGEC_DECODE_FAST
        rc = mask_fast(d, out, units, planes, line, bg);
#else
        rc = mask(d, out, units, planes, line, bg);
#endif
        if (rc)
            return rc;
    }
#ifdef EDGEC_DECODE_FAST
    /* Lookup tables no wider than the tensor needs: a small tensor does not pay for
     * filling 2^FAST_BITS entries per plane. */
    for (d->fast_cap = 8; d->fast_cap < EDGEC_DEC_FAST_BITS && units >> d->fast_cap; d->fast_cap++)
        ;
#endif
    for (p = 0; p < planes; p++)
        if ((rc = read_code(d, &d->code[p], limit)))
            return rc;
#ifdef EDGEC_DECODE_FAST
    /* One copy of the loop per unit width, with the width a constant. */
    if (nibbles)
        return values_nibbles(d, out, t->raw_size);
    if (planes == 1)
        return masked ? values_masked1(d, out, units, bg) : values1(d, out, units);
    return planes == 2 ? values2(d, out, units, masked, bg) : values4(d, out, units, masked, bg);
#endif
    /* Dense data is masked data in which every unit is coded. */
    for (uint32_t i = 0; i < units && !d->err; i++) {
        int coded = !masked || out[i * planes] != bg;
        for (p = 0; p < planes; p++)
            put(out, i, planes, p, nibbles, coded ? decode(d, &d->code[p]) : p ? 0 : bg);
    }
    return d->err;
}

int edgec_dec_tensor_read(edgec_dec *d, uint32_t index, void *out, uint32_t out_size)
{
    edgec_dec_tensor t;
    int rc = seek(d, index, &t);
    if (rc)
        return rc;
    if (t.raw_size > out_size)
        return EDGEC_DEC_ERANGE;
    if (t.encoding == 0 && t.payload_size != t.raw_size)
        return EDGEC_DEC_ECORRUPT;
#ifdef EDGEC_DECODE_FAST
    if (t.encoding == 0) {
        if (!inside(d, t.payload_offset, t.raw_size))
            return EDGEC_DEC_ECORRUPT;
        if (d->read(d->user, t.payload_offset, out, t.raw_size))
            return EDGEC_DEC_EREAD;
        return CRC(d, 0, (const uint8_t *)out, t.raw_size) == t.payload_crc ? EDGEC_DEC_OK
                                                                            : EDGEC_DEC_ECRC;
    }
#endif
    begin(d, t.payload_offset, t.payload_size);
    if (t.encoding == 0) /* stored: byte by byte, which keeps the code small */
        for (uint32_t i = 0; i < t.raw_size; i++)
            ((uint8_t *)out)[i] = (uint8_t)get(d, 8);
    else if ((rc = huffman(d, &t, (uint8_t *)out)))
        return rc;
    if (d->err)
        return d->err;
    /* The stream must end in its last byte, padded with zero bits: a refill would find
     * any byte left over. */
    refill(d);
    if (d->nbits >= 8 || d->bits)
        return EDGEC_DEC_ECORRUPT;
    return d->crc == t.payload_crc ? EDGEC_DEC_OK : EDGEC_DEC_ECRC;
}
