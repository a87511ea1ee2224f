/* The standalone firmware decoder (decoder/edgec_decode.c).
 *
 * The input is a container; three inputs in four have their CRC-32s rewritten first
 * (crc_fix.h) so that mutations reach the directory, code tables and bit streams rather
 * than stopping at a checksum. Every tensor the directory lists is looked up by index
 * and by name and decoded into a buffer of exactly its raw_size (heap, so that ASan sees
 * a write past it); a one-byte-short buffer must be refused. Any return code is fine;
 * reading or writing outside the buffers, or a hang, is a finding. */
#include <string.h>

#include "crc_fix.h"
#include "edgec_decode.h"
#include "fuzz.h"

/* The decoder's read callback, checking the promise that it never asks past the size. */
static int bounded_read(void *user, uint32_t offset, void *buf, uint32_t len)
{
    const edgec_dec_mem *m = user;
    FUZZ_CHECK((uint64_t)offset + len <= m->size, "read of %u bytes at %u past %u", len, offset,
               m->size);
    return edgec_dec_mem_read(user, offset, buf, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > UINT32_MAX)
        return 0;
    uint8_t *b = crcfix_copy(data, size);
    if (!b)
        return 0;
    edgec_dec_mem mem = {b, (uint32_t)size};
    static edgec_dec d; /* about 2 kB: static, as on a device */
    int rc = edgec_dec_open(&d, bounded_read, &mem, (uint32_t)size);
    FUZZ_CHECK(rc <= 0, "open returned %d", rc);
    uint32_t n = rc ? 0 : edgec_dec_count(&d);
    for (uint32_t i = 0; i < n && i < 64; i++) {
        edgec_dec_tensor t;
        if (edgec_dec_info(&d, i, &t))
            continue;
        FUZZ_CHECK(t.rank <= EDGEC_DEC_MAX_RANK, "rank %u", t.rank);
        FUZZ_CHECK((uint64_t)t.name_offset + t.name_len <= size, "name outside the container");
        char name[256];
        if (t.name_len < sizeof name) {
            memcpy(name, b + t.name_offset, t.name_len);
            name[t.name_len] = '\0';
            uint32_t idx;
            if (!memchr(name, 0, t.name_len) && edgec_dec_find(&d, name, &idx) == 0)
                FUZZ_CHECK(idx <= i, "find gave %u for the name of tensor %u", idx, i);
        }
        if (t.raw_size > (1u << 22))
            continue; /* bigger than the fuzzer's memory budget allows */
        uint8_t *out = malloc(t.raw_size ? t.raw_size : 1);
        if (!out)
            continue;
        if (t.raw_size)
            FUZZ_CHECK(edgec_dec_tensor_read(&d, i, out, t.raw_size - 1) < 0,
                       "a buffer one byte short was accepted");
        edgec_dec_tensor_read(&d, i, out, t.raw_size);
        free(out);
    }
    free(b);
    return 0;
}
