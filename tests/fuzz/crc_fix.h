/* Rewrites the CRC-32s of an .edgec container (docs/FORMAT.md version 2, sections 2-5) so
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

static inline uint64_t crcfix_varint(const uint8_t *b, size_t *pos, size_t end)
{
    uint64_t v = 0;
    for (int s = 0; s < 35 && *pos < end; s += 7) {
        uint8_t c = b[(*pos)++];
        v |= (uint64_t)(c & 0x7f) << s;
        if (!(c & 0x80))
            break;
    }
    return v;
}

/* Format version 2: a 24-byte header, variable-length records (payload CRCs inside them,
 * payloads back to back after the directory's CRC), one CRC over header and directory,
 * and the model section's CRC in the last four bytes. */
static inline void crcfix_container(uint8_t *b, size_t size)
{
    if (size < 24)
        return;
    uint32_t n = crcfix_u32(b + 8), dir_size = crcfix_u32(b + 12), model_size = crcfix_u32(b + 16);
    if (crcfix_in(24, (uint64_t)dir_size + 4, size)) {
        size_t pos = 24, end = 24 + (size_t)dir_size;
        uint64_t payload = (uint64_t)end + 4;
        /* Payload CRCs live in the directory records, so they go first. */
        for (uint32_t i = 0; i < n && end - pos >= 3; i++) {
            uint32_t rank = b[pos + 2];
            pos += 3;
            for (uint32_t k = 0; k < rank; k++)
                crcfix_varint(b, &pos, end);
            crcfix_varint(b, &pos, end); /* raw_size */
            uint64_t ps = crcfix_varint(b, &pos, end);
            if (end - pos < 4)
                break;
            if (crcfix_in(payload, ps, size))
                crcfix_put(b + pos, edgec_dec_crc32(0, b + payload, (size_t)ps));
            pos += 4;
            uint64_t name_len = crcfix_varint(b, &pos, end);
            if (name_len > end - pos)
                break;
            pos += (size_t)name_len;
            payload += ps;
        }
        crcfix_put(b + end, edgec_dec_crc32(0, b, end));
    }
    if (size >= 4 && crcfix_in(size - 4 - (uint64_t)model_size, model_size, size) &&
        (uint64_t)model_size + 4 <= size)
        crcfix_put(b + size - 4, edgec_dec_crc32(0, b + size - 4 - model_size, model_size));
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
