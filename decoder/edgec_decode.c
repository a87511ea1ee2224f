/* edgec_decode: see edgec_decode.h for the interface and the format summary, and
 * docs/FORMAT.md for the specification. Written for small code size first (it runs on
 * microcontrollers) and speed second: one bit reader, one canonical Huffman decoder,
 * every check done once where the value is read. */
#include "edgec_decode.h"

#include <string.h>

/* The fast host build inlines the per-symbol functions into the decode loop. */
#if defined(EDGEC_DECODE_FAST) && defined(__GNUC__)
#define HOT inline __attribute__((always_inline))
#else
#define HOT
#endif

#define WORD_BITS ((int)(8 * sizeof(edgec_dec_word)))
#define HEADER_SIZE 32u
#define RECORD_SIZE 28u

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint32_t edgec_dec_crc32(uint32_t crc, const void *data, size_t len)
{
    const uint8_t *p = (const uint8_t *)data;
#ifdef EDGEC_DECODE_FAST
    /* A byte at a time: the usual 1 kB table, for hosts. */
    static const uint32_t t[256] = {
    0x00000000u, 0x77073096u, 0xEE0E612Cu, 0x990951BAu, 0x076DC419u, 0x706AF48Fu,
    0xE963A535u, 0x9E6495A3u, 0x0EDB8832u, 0x79DCB8A4u, 0xE0D5E91Eu, 0x97D2D988u,
    0x09B64C2Bu, 0x7EB17CBDu, 0xE7B82D07u, 0x90BF1D91u, 0x1DB71064u, 0x6AB020F2u,
    0xF3B97148u, 0x84BE41DEu, 0x1ADAD47Du, 0x6DDDE4EBu, 0xF4D4B551u, 0x83D385C7u,
    0x136C9856u, 0x646BA8C0u, 0xFD62F97Au, 0x8A65C9ECu, 0x14015C4Fu, 0x63066CD9u,
    0xFA0F3D63u, 0x8D080DF5u, 0x3B6E20C8u, 0x4C69105Eu, 0xD56041E4u, 0xA2677172u,
    0x3C03E4D1u, 0x4B04D447u, 0xD20D85FDu, 0xA50AB56Bu, 0x35B5A8FAu, 0x42B2986Cu,
    0xDBBBC9D6u, 0xACBCF940u, 0x32D86CE3u, 0x45DF5C75u, 0xDCD60DCFu, 0xABD13D59u,
    0x26D930ACu, 0x51DE003Au, 0xC8D75180u, 0xBFD06116u, 0x21B4F4B5u, 0x56B3C423u,
    0xCFBA9599u, 0xB8BDA50Fu, 0x2802B89Eu, 0x5F058808u, 0xC60CD9B2u, 0xB10BE924u,
    0x2F6F7C87u, 0x58684C11u, 0xC1611DABu, 0xB6662D3Du, 0x76DC4190u, 0x01DB7106u,
    0x98D220BCu, 0xEFD5102Au, 0x71B18589u, 0x06B6B51Fu, 0x9FBFE4A5u, 0xE8B8D433u,
    0x7807C9A2u, 0x0F00F934u, 0x9609A88Eu, 0xE10E9818u, 0x7F6A0DBBu, 0x086D3D2Du,
    0x91646C97u, 0xE6635C01u, 0x6B6B51F4u, 0x1C6C6162u, 0x856530D8u, 0xF262004Eu,
    0x6C0695EDu, 0x1B01A57Bu, 0x8208F4C1u, 0xF50FC457u, 0x65B0D9C6u, 0x12B7E950u,
    0x8BBEB8EAu, 0xFCB9887Cu, 0x62DD1DDFu, 0x15DA2D49u, 0x8CD37CF3u, 0xFBD44C65u,
    0x4DB26158u, 0x3AB551CEu, 0xA3BC0074u, 0xD4BB30E2u, 0x4ADFA541u, 0x3DD895D7u,
    0xA4D1C46Du, 0xD3D6F4FBu, 0x4369E96Au, 0x346ED9FCu, 0xAD678846u, 0xDA60B8D0u,
    0x44042D73u, 0x33031DE5u, 0xAA0A4C5Fu, 0xDD0D7CC9u, 0x5005713Cu, 0x270241AAu,
    0xBE0B1010u, 0xC90C2086u, 0x5768B525u, 0x206F85B3u, 0xB966D409u, 0xCE61E49Fu,
    0x5EDEF90Eu, 0x29D9C998u, 0xB0D09822u, 0xC7D7A8B4u, 0x59B33D17u, 0x2EB40D81u,
    0xB7BD5C3Bu, 0xC0BA6CADu, 0xEDB88320u, 0x9ABFB3B6u, 0x03B6E20Cu, 0x74B1D29Au,
    0xEAD54739u, 0x9DD277AFu, 0x04DB2615u, 0x73DC1683u, 0xE3630B12u, 0x94643B84u,
    0x0D6D6A3Eu, 0x7A6A5AA8u, 0xE40ECF0Bu, 0x9309FF9Du, 0x0A00AE27u, 0x7D079EB1u,
    0xF00F9344u, 0x8708A3D2u, 0x1E01F268u, 0x6906C2FEu, 0xF762575Du, 0x806567CBu,
    0x196C3671u, 0x6E6B06E7u, 0xFED41B76u, 0x89D32BE0u, 0x10DA7A5Au, 0x67DD4ACCu,
    0xF9B9DF6Fu, 0x8EBEEFF9u, 0x17B7BE43u, 0x60B08ED5u, 0xD6D6A3E8u, 0xA1D1937Eu,
    0x38D8C2C4u, 0x4FDFF252u, 0xD1BB67F1u, 0xA6BC5767u, 0x3FB506DDu, 0x48B2364Bu,
    0xD80D2BDAu, 0xAF0A1B4Cu, 0x36034AF6u, 0x41047A60u, 0xDF60EFC3u, 0xA867DF55u,
    0x316E8EEFu, 0x4669BE79u, 0xCB61B38Cu, 0xBC66831Au, 0x256FD2A0u, 0x5268E236u,
    0xCC0C7795u, 0xBB0B4703u, 0x220216B9u, 0x5505262Fu, 0xC5BA3BBEu, 0xB2BD0B28u,
    0x2BB45A92u, 0x5CB36A04u, 0xC2D7FFA7u, 0xB5D0CF31u, 0x2CD99E8Bu, 0x5BDEAE1Du,
    0x9B64C2B0u, 0xEC63F226u, 0x756AA39Cu, 0x026D930Au, 0x9C0906A9u, 0xEB0E363Fu,
    0x72076785u, 0x05005713u, 0x95BF4A82u, 0xE2B87A14u, 0x7BB12BAEu, 0x0CB61B38u,
    0x92D28E9Bu, 0xE5D5BE0Du, 0x7CDCEFB7u, 0x0BDBDF21u, 0x86D3D2D4u, 0xF1D4E242u,
    0x68DDB3F8u, 0x1FDA836Eu, 0x81BE16CDu, 0xF6B9265Bu, 0x6FB077E1u, 0x18B74777u,
    0x88085AE6u, 0xFF0F6A70u, 0x66063BCAu, 0x11010B5Cu, 0x8F659EFFu, 0xF862AE69u,
    0x616BFFD3u, 0x166CCF45u, 0xA00AE278u, 0xD70DD2EEu, 0x4E048354u, 0x3903B3C2u,
    0xA7672661u, 0xD06016F7u, 0x4969474Du, 0x3E6E77DBu, 0xAED16A4Au, 0xD9D65ADCu,
    0x40DF0B66u, 0x37D83BF0u, 0xA9BCAE53u, 0xDEBB9EC5u, 0x47B2CF7Fu, 0x30B5FFE9u,
    0xBDBDF21Cu, 0xCABAC28Au, 0x53B39330u, 0x24B4A3A6u, 0xBAD03605u, 0xCDD70693u,
    0x54DE5729u, 0x23D967BFu, 0xB3667A2Eu, 0xC4614AB8u, 0x5D681B02u, 0x2A6F2B94u,
    0xB40BBE37u, 0xC30C8EA1u, 0x5A05DF1Bu, 0x2D02EF8Du
};
    crc = ~crc;
    while (len--)
        crc = (crc >> 8) ^ t[(crc ^ *p++) & 255];
#else
    /* Four bits at a time: a 64-byte table instead of 1 kB, still fast enough for the
     * compressed input rates a microcontroller sees. */
    static const uint32_t t[16] = {0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu,
                                   0x76DC4190u, 0x6B6B51F4u, 0x4DB26158u, 0x5005713Cu,
                                   0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu,
                                   0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu};
    crc = ~crc;
    while (len--) {
        crc ^= *p++;
        crc = (crc >> 4) ^ t[crc & 15];
        crc = (crc >> 4) ^ t[crc & 15];
    }
#endif
    return ~crc;
}

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

static int fetch(edgec_dec *d, uint32_t off, void *buf, uint32_t len)
{
    if (!inside(d, off, len))
        return EDGEC_DEC_ECORRUPT;
    return d->read(d->user, off, buf, len) ? EDGEC_DEC_EREAD : EDGEC_DEC_OK;
}

/* Starts reading the section [off, off + len) through the bit reader. */
static int begin(edgec_dec *d, uint32_t off, uint32_t len)
{
    if (!inside(d, off, len))
        return EDGEC_DEC_ECORRUPT;
    d->in_pos = off;
    d->in_end = off + len;
    d->crc = 0;
    d->bits = 0;
    d->nbits = 0;
    d->buf_pos = d->buf_len = 0;
    return EDGEC_DEC_OK;
}

/* Tops the bit buffer up to more than WORD_BITS - 8 bits while the section has bytes;
 * bits past the section's end read as zero but are not counted in nbits. */
static int refill(edgec_dec *d)
{
    while (d->nbits <= WORD_BITS - 8) {
        if (d->buf_pos == d->buf_len) {
            uint32_t n = d->in_end - d->in_pos;
            if (!n)
                break;
            if (n > EDGEC_DEC_CHUNK)
                n = EDGEC_DEC_CHUNK;
            if (d->read(d->user, d->in_pos, d->buf, n))
                return EDGEC_DEC_EREAD;
            d->crc = edgec_dec_crc32(d->crc, d->buf, n);
            d->in_pos += n;
            d->buf_pos = 0;
            d->buf_len = n;
        }
        d->bits |= (edgec_dec_word)d->buf[d->buf_pos++] << (WORD_BITS - 8 - d->nbits);
        d->nbits += 8;
    }
    return EDGEC_DEC_OK;
}

/* Reads n (1..16) bits, most significant first. */
static int get(edgec_dec *d, int n, uint32_t *v)
{
    int rc = refill(d);
    if (rc)
        return rc;
    if (n > d->nbits)
        return EDGEC_DEC_ECORRUPT;
    *v = (uint32_t)(d->bits >> (WORD_BITS - n));
    d->bits <<= n;
    d->nbits -= n;
    return EDGEC_DEC_OK;
}

/* Reads a code table (section 6 of the format) for symbols below `limit`. */
static int read_code(edgec_dec *d, edgec_dec_code *c, uint32_t limit)
{
    uint8_t len[256];
    uint16_t offs[16];
    uint32_t lo, hi, v;
    int rc, left = 1;
    if ((rc = get(d, 8, &lo)) || (rc = get(d, 8, &hi)))
        return rc;
    if (hi < lo || hi >= limit)
        return EDGEC_DEC_ECORRUPT;
    memset(c->count, 0, sizeof c->count);
    for (uint32_t s = lo; s <= hi; s++) {
        if ((rc = get(d, 4, &v)))
            return rc;
        len[s] = (uint8_t)v;
        c->count[v]++;
    }
    /* Over-subscribed codes are corrupt; incomplete ones are caught when decoding. */
    for (int n = 1; n < 16; n++) {
        left = 2 * left - c->count[n];
        if (left < 0)
            return EDGEC_DEC_ECORRUPT;
    }
    if (left == 1 << 15)
        return EDGEC_DEC_ECORRUPT; /* no symbol at all */
    offs[1] = 0;
    for (int n = 1; n < 15; n++)
        offs[n + 1] = (uint16_t)(offs[n] + c->count[n]);
    for (uint32_t s = lo; s <= hi; s++)
        if (len[s])
            c->symbol[offs[len[s]]++] = (uint8_t)s;
#ifdef EDGEC_DECODE_FAST
    /* Every code of up to FAST_BITS bits owns the table entries that start with it. */
    memset(c->fast, 0, sizeof c->fast);
    uint32_t code = 0, index = 0;
    for (int n = 1; n <= EDGEC_DEC_FAST_BITS && n < 16; n++, code <<= 1)
        for (uint32_t k = 0; k < c->count[n]; k++, code++) {
            uint32_t span = 1u << (EDGEC_DEC_FAST_BITS - n), e = code * span;
            while (span--)
                c->fast[e++] = (uint16_t)(n << 8 | c->symbol[index]);
            index++;
        }
#endif
    return EDGEC_DEC_OK;
}

/* Decodes one symbol: canonical codes of each length are consecutive integers, so the
 * first `n` bits are a code of length n when they fall among that length's codes. */
static HOT int decode(edgec_dec *d, const edgec_dec_code *c, uint32_t *sym)
{
#ifdef EDGEC_DECODE_FAST
    /* 16 buffered bits hold any code: refill only below that, a few bytes at a time. */
    int rc = d->nbits < 16 ? refill(d) : EDGEC_DEC_OK;
    if (rc)
        return rc;
    uint32_t e = c->fast[d->bits >> (WORD_BITS - EDGEC_DEC_FAST_BITS)];
    if (e && (int)(e >> 8) <= d->nbits) {
        *sym = e & 255;
        d->bits <<= e >> 8;
        d->nbits -= (int)(e >> 8);
        return EDGEC_DEC_OK;
    }
#else
    int rc = refill(d);
    if (rc)
        return rc;
#endif
    uint32_t peek = (uint32_t)(d->bits >> (WORD_BITS - 16)), first = 0, index = 0;
    for (int n = 1; n < 16; n++) {
        uint32_t code = peek >> (16 - n), count = c->count[n];
        if (code - first < count) {
            if (n > d->nbits)
                break;
            *sym = c->symbol[index + code - first];
            d->bits <<= n;
            d->nbits -= n;
            return EDGEC_DEC_OK;
        }
        index += count;
        first = (first + count) << 1;
    }
    return EDGEC_DEC_ECORRUPT;
}

/* CRC-32 of [off, off + len), read in chunks. */
static int section_crc(edgec_dec *d, uint32_t off, uint32_t len, uint32_t *crc)
{
    int rc = begin(d, off, len);
    while (!rc && d->in_pos < d->in_end) {
        d->nbits = 0;
        d->buf_pos = d->buf_len;
        rc = refill(d);
    }
    *crc = d->crc;
    return rc;
}

/* Reads the directory record at *pos, checks it against the directory's and the
 * container's bounds, and moves *pos past it. */
static int parse(edgec_dec *d, uint32_t *pos, uint32_t index, edgec_dec_tensor *t)
{
    uint8_t r[RECORD_SIZE + 4 * EDGEC_DEC_MAX_RANK];
    uint32_t end = HEADER_SIZE + d->dir_size;
    int rc;
    if (end - *pos < RECORD_SIZE)
        return EDGEC_DEC_ECORRUPT;
    if ((rc = fetch(d, *pos, r, RECORD_SIZE)))
        return rc;
    uint32_t rank = r[3], dims = 4 * rank, name_len = (uint32_t)r[0] | (uint32_t)r[1] << 8;
    if (rank > EDGEC_DEC_MAX_RANK || end - *pos - RECORD_SIZE < dims + name_len)
        return EDGEC_DEC_ECORRUPT;
    if ((rc = fetch(d, *pos + RECORD_SIZE, r + RECORD_SIZE, dims)))
        return rc;
    t->index = index;
    t->dtype = r[2];
    t->rank = (uint8_t)rank;
    t->encoding = r[4];
    t->unit_bits = r[5];
    t->raw_size = le32(r + 8);
    t->splice = le32(r + 12);
    t->payload_offset = le32(r + 16);
    t->payload_size = le32(r + 20);
    t->payload_crc = le32(r + 24);
    for (uint32_t k = 0; k < rank; k++)
        t->dims[k] = le32(r + RECORD_SIZE + 4 * k);
    t->name_offset = *pos + RECORD_SIZE + dims;
    t->name_len = (uint16_t)name_len;
    *pos = t->name_offset + name_len;
    /* unit_bits / 4 must be 1, 2, 4 or 8: bits 1, 2, 4 and 8 of 0x116. */
    if (t->encoding > 2 || (r[6] | r[7]) || (t->unit_bits & 3) || t->unit_bits > 32 ||
        !(0x116u >> (t->unit_bits >> 2) & 1) ||
        !inside(d, t->payload_offset, t->payload_size))
        return EDGEC_DEC_ECORRUPT;
    return EDGEC_DEC_OK;
}

/* Parses the first `count` directory records, leaving the last in *t and the offset
 * after it in *pos: records vary in length, so every lookup walks from the first. */
static int walk(edgec_dec *d, uint32_t count, edgec_dec_tensor *t, uint32_t *pos)
{
    *pos = HEADER_SIZE;
    for (uint32_t i = 0; i < count; i++) {
        int rc = parse(d, pos, i, t);
        if (rc)
            return rc;
    }
    return EDGEC_DEC_OK;
}

int edgec_dec_open(edgec_dec *d, edgec_dec_read_fn read, void *user, uint32_t size)
{
    uint8_t h[HEADER_SIZE + 4];
    uint32_t crc;
    edgec_dec_tensor t;
    int rc;
    memset(d, 0, sizeof *d);
    d->read = read;
    d->user = user;
    d->size = size;
    if ((rc = fetch(d, 0, h, HEADER_SIZE)))
        return rc == EDGEC_DEC_ECORRUPT ? EDGEC_DEC_EFORMAT : rc;
    if (le32(h) != 0x43474445u || le32(h + 4) != 1) /* "EDGC", version 1, flags 0 */
        return EDGEC_DEC_EFORMAT;
    if (edgec_dec_crc32(0, h, 28) != le32(h + 28))
        return EDGEC_DEC_ECRC;
    d->n_tensors = le32(h + 8);
    d->dir_size = le32(h + 12);
    d->model_offset = le32(h + 16);
    d->model_size = le32(h + 20);
    d->model_raw_size = le32(h + 24);
    if (!inside(d, HEADER_SIZE, d->dir_size) || !inside(d, HEADER_SIZE + d->dir_size, 4) ||
        !inside(d, d->model_offset, d->model_size) ||
        !inside(d, d->model_offset + d->model_size, 4))
        return EDGEC_DEC_ECORRUPT;
    if ((rc = section_crc(d, HEADER_SIZE, d->dir_size, &crc)) ||
        (rc = fetch(d, HEADER_SIZE + d->dir_size, h, 4)))
        return rc;
    if (crc != le32(h))
        return EDGEC_DEC_ECRC;
    /* Every record must be well-formed, and together they must fill the directory. */
    uint32_t pos;
    if ((rc = walk(d, d->n_tensors, &t, &pos)))
        return rc;
    return pos == HEADER_SIZE + d->dir_size ? EDGEC_DEC_OK : EDGEC_DEC_ECORRUPT;
}

uint32_t edgec_dec_count(const edgec_dec *d)
{
    return d->n_tensors;
}

int edgec_dec_info(edgec_dec *d, uint32_t index, edgec_dec_tensor *out)
{
    uint32_t pos;
    return index < d->n_tensors ? walk(d, index + 1, out, &pos) : EDGEC_DEC_ERANGE;
}

int edgec_dec_find(edgec_dec *d, const char *name, uint32_t *index)
{
    size_t len = strlen(name);
    uint32_t pos = HEADER_SIZE;
    edgec_dec_tensor t;
    for (uint32_t i = 0; i < d->n_tensors; i++) {
        int rc = parse(d, &pos, i, &t);
        if (rc)
            return rc;
        if (t.name_len != len)
            continue;
        /* Byte by byte: names are short, and this keeps the code small. */
        uint32_t k = 0;
        uint8_t ch;
        while (k < len) {
            if ((rc = fetch(d, t.name_offset + k, &ch, 1)))
                return rc;
            if (ch != (uint8_t)name[k])
                break;
            k++;
        }
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

static int huffman(edgec_dec *restrict d, const edgec_dec_tensor *t, uint8_t *restrict out)
{
    int nibbles = t->unit_bits == 4, sparse = t->encoding == 2, rc;
    uint32_t planes = nibbles ? 1 : t->unit_bits / 8u, limit = nibbles ? 16 : 256;
    uint32_t units, v, bg[EDGEC_DEC_MAX_PLANES], n_values = 0;
    if (t->raw_size % planes)
        return EDGEC_DEC_ECORRUPT;
    units = nibbles ? t->raw_size * 2u : t->raw_size / planes;
    if (nibbles && t->raw_size > 0x7fffffffu)
        return EDGEC_DEC_ECORRUPT;
    if ((rc = get(d, 8, &v)))
        return rc;
    if (v != planes)
        return EDGEC_DEC_ECORRUPT;
    if (sparse) {
        /* The background unit's planes, then the u32 n_values, least significant byte
         * first: P + 4 bytes. */
        for (uint32_t p = 0; p < planes + 4; p++) {
            if ((rc = get(d, 8, &v)))
                return rc;
            if (p >= planes)
                n_values |= v << 8 * (p - planes);
            else if ((bg[p] = v) >= limit)
                return EDGEC_DEC_ECORRUPT;
        }
        if (n_values > units)
            return EDGEC_DEC_ECORRUPT;
        if ((rc = read_code(d, &d->code[planes], 256)))
            return rc;
    }
    for (uint32_t p = 0; p < planes; p++)
        if ((rc = read_code(d, &d->code[p], limit)))
            return rc;
    /* Dense data is sparse data in which every unit is a value with no gap. */
    if (!sparse)
        n_values = units;
    else if (nibbles) /* background everywhere first, then the values where the gaps put them */
        memset(out, (int)(bg[0] | bg[0] << 4), t->raw_size);
    else
        for (uint32_t i = 0; i < t->raw_size; i++)
            out[i] = (uint8_t)bg[i % planes];
    uint32_t pos = 0;
    for (uint32_t k = 0; k < n_values; k++) {
        uint32_t gap = 0;
        if (sparse)
            do {
                if ((rc = decode(d, &d->code[planes], &v)))
                    return rc;
                gap += v;
                if (gap >= units - pos)
                    return EDGEC_DEC_ECORRUPT;
            } while (v == 255);
        pos += gap;
        for (uint32_t p = 0; p < planes; p++) {
            if ((rc = decode(d, &d->code[p], &v)))
                return rc;
            put(out, pos, planes, p, nibbles, v);
        }
        pos++;
    }
    return EDGEC_DEC_OK;
}

int edgec_dec_tensor_read(edgec_dec *d, uint32_t index, void *out, uint32_t out_size)
{
    edgec_dec_tensor t;
    int rc = edgec_dec_info(d, index, &t);
    if (rc)
        return rc;
    if (t.raw_size > out_size)
        return EDGEC_DEC_ERANGE;
    if (t.encoding == 0) {
        if (t.payload_size != t.raw_size)
            return EDGEC_DEC_ECORRUPT;
        if ((rc = fetch(d, t.payload_offset, out, t.raw_size)))
            return rc;
        return edgec_dec_crc32(0, out, t.raw_size) == t.payload_crc ? EDGEC_DEC_OK
                                                                    : EDGEC_DEC_ECRC;
    }
    if ((rc = begin(d, t.payload_offset, t.payload_size)) ||
        (rc = huffman(d, &t, (uint8_t *)out)))
        return rc;
    /* The stream must end in its last byte, padded with zero bits. */
    if (d->in_pos != d->in_end || d->buf_pos != d->buf_len || d->nbits >= 8 || d->bits)
        return EDGEC_DEC_ECORRUPT;
    return d->crc == t.payload_crc ? EDGEC_DEC_OK : EDGEC_DEC_ECRC;
}
