/* Rewrites the CRC-32s of an .edgec container (decoder/edgec_decode.h, section 2-5) so
 * that mutated inputs get past the checksums and reach the parsing and decoding code.
 * Only fields that lie inside the buffer are touched; everything else stays as mutated. */
#ifndef EDGEC_FUZZ_CRC_FIX_H
#define EDGEC_FUZZ_CRC_FIX_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edgec_decode.h"

static inline uint32_t crcfix_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void crcfix_put(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* True when [off, off + len) lies inside a buffer of `size` bytes. */
static inline int crcfix_in(uint64_t off, uint64_t len, size_t size)
{
    return off <= size && len <= size - off;
}

static inline void crcfix_container(uint8_t *b, size_t size)
{
    if (size < 32)
        return;
    uint32_t n = crcfix_u32(b + 8), dir_size = crcfix_u32(b + 12);
    uint32_t model_off = crcfix_u32(b + 16), model_size = crcfix_u32(b + 20);
    /* Payload CRCs live in the directory records, so they go first. */
    if (crcfix_in(32, dir_size, size)) {
        uint64_t pos = 32, end = 32 + (uint64_t)dir_size;
        for (uint32_t i = 0; i < n && pos + 28 <= end; i++) {
            uint8_t *r = b + pos;
            uint64_t rec = 28 + 4 * (uint64_t)r[3] + ((uint64_t)r[0] | (uint64_t)r[1] << 8);
            uint32_t po = crcfix_u32(r + 16), ps = crcfix_u32(r + 20);
            if (crcfix_in(po, ps, size))
                crcfix_put(r + 24, edgec_dec_crc32(0, b + po, ps));
            pos += rec;
        }
        if (crcfix_in(32 + (uint64_t)dir_size, 4, size))
            crcfix_put(b + 32 + dir_size, edgec_dec_crc32(0, b + 32, dir_size));
    }
    if (crcfix_in(model_off, (uint64_t)model_size + 4, size))
        crcfix_put(b + model_off + model_size, edgec_dec_crc32(0, b + model_off, model_size));
    crcfix_put(b + 28, edgec_dec_crc32(0, b, 28));
}

/* A malloc'ed copy of the input for a container harness: CRCs fixed up three times in
 * four (chosen by the size, which mutations change often), so that both the checksum
 * paths and the code behind them are reached. NULL when out of memory. */
static inline uint8_t *crcfix_copy(const uint8_t *data, size_t size)
{
    uint8_t *b = malloc(size ? size : 1);
    if (!b)
        return NULL;
    memcpy(b, data, size);
    if (size % 4 != 3)
        crcfix_container(b, size);
    return b;
}

#endif
