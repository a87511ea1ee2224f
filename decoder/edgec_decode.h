/* edgec_decode: a standalone decoder for .edgec containers, for firmware.
 *
 * C99, no malloc, no library beyond <stddef.h>/<stdint.h>/<string.h>. The caller owns
 * every byte of memory: one `edgec_dec` (about 1.6 kB, static or on the stack; 12 kB with
 * EDGEC_DECODE_FAST, below) and the buffer a tensor is decoded into. The container is
 * read through a callback at explicit
 * offsets, so it may sit in flash, in RAM, in a file or behind a bus. Each tensor is
 * decoded on its own; nothing is cached between calls except the header.
 *
 * Every length, index and code from the container is checked before use. A corrupt or
 * truncated container makes a function return a negative EDGEC_DEC_E* code; it never
 * reads or writes outside the caller's buffers. Every section carries a CRC-32 (the
 * zlib / ISO-HDLC polynomial) that is verified on the bytes actually read.
 *
 * Format (docs/FORMAT.md is the full, numbered specification; section numbers match):
 *
 *   1. All integers little-endian; offsets count from the start of the container.
 *   2. Header, 32 bytes at offset 0:
 *        0 magic "EDGC"     4 u16 version (1)   6 u16 flags (0)
 *        8 u32 n_tensors   12 u32 dir_size      16 u32 model_offset
 *       20 u32 model_size  24 u32 model_raw_size  28 u32 CRC-32 of bytes 0..27
 *   3. Directory at offset 32: n_tensors records, dir_size bytes in all, then the
 *      u32 CRC-32 of those dir_size bytes. Record (28 + 4*rank + name_len bytes):
 *        0 u16 name_len  2 u8 dtype (ONNX TensorProto.DataType)  3 u8 rank (<= 16)
 *        4 u8 encoding (0 stored, 1 dense Huffman, 2 sparse Huffman)
 *        5 u8 unit_bits (4, 8, 16 or 32)   6 u16 reserved (0)
 *        8 u32 raw_size  12 u32 splice  16 u32 payload_offset  20 u32 payload_size
 *       24 u32 payload CRC-32   28 u32 dims[rank]   then the name bytes (no NUL)
 *   4. Model section at model_offset: the ONNX model with each stored tensor's raw
 *      bytes cut out, zlib-compressed (model_size bytes), then its u32 CRC-32. The
 *      decoder does not need it; `edgec unpack` splices the tensors back in.
 *   5. Payloads: payload_size bytes at payload_offset, decoding to raw_size bytes that
 *      are exactly the tensor's ONNX raw_data.
 *   6. Huffman payloads are one bit stream, most significant bit of each byte first:
 *        u8 planes P (= unit_bits / 8, or 1 for 4-bit units)
 *        sparse only: background unit (u8 per plane), u32 n_values
 *        sparse only: the gap code table; then P code tables, one per plane
 *        code table: u8 lo, u8 hi (lo <= hi), then hi-lo+1 code lengths of 4 bits
 *          (0 = unused) for symbols lo..hi; canonical codes, at most 15 bits
 *        dense: for every unit, P codes (byte p of the unit, or the nibble)
 *        sparse: n_values times: gap codes (255 adds 255 and continues, g < 255 adds g
 *          and ends), then P codes; the gap counts background units before the value
 *        zero bits up to the byte boundary; the payload ends there exactly. */
#ifndef EDGEC_DECODE_H
#define EDGEC_DECODE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EDGEC_DEC_OK 0
#define EDGEC_DEC_EREAD (-1)    /* the read callback failed */
#define EDGEC_DEC_EFORMAT (-2)  /* not an .edgec container, or an unknown version */
#define EDGEC_DEC_ECRC (-3)     /* a section's CRC-32 does not match */
#define EDGEC_DEC_ECORRUPT (-4) /* a length, offset or code is out of range */
#define EDGEC_DEC_ERANGE (-5)   /* no such tensor, or the caller's buffer is too small */

#define EDGEC_DEC_MAX_RANK 16
#define EDGEC_DEC_MAX_PLANES 4
/* Bytes read from the container per callback. */
#ifndef EDGEC_DEC_CHUNK
#ifdef EDGEC_DECODE_FAST
#define EDGEC_DEC_CHUNK 256
#else
#define EDGEC_DEC_CHUNK 64
#endif
#endif

/* Reads `len` bytes at `offset` into `buf`; returns 0 on success. The decoder never asks
 * for bytes past the size given to edgec_dec_open. */
typedef int (*edgec_dec_read_fn)(void *user, uint32_t offset, void *buf, uint32_t len);

/* What the directory says about one tensor. */
typedef struct edgec_dec_tensor {
    uint32_t index;
    uint8_t dtype; /* ONNX TensorProto.DataType, e.g. 1 float, 2 uint8, 3 int8, 22 int4 */
    uint8_t rank;
    uint8_t encoding;
    uint8_t unit_bits;
    uint32_t dims[EDGEC_DEC_MAX_RANK];
    uint32_t raw_size;      /* bytes the tensor decodes to */
    uint32_t splice;        /* where its bytes go in the model section */
    uint32_t payload_offset, payload_size, payload_crc;
    uint32_t name_offset;   /* the name's bytes in the container (read with the callback) */
    uint16_t name_len;
} edgec_dec_tensor;

/* EDGEC_DECODE_FAST (define it for every file that includes this header, e.g. on the host)
 * adds a lookup table per code, decoding codes of up to EDGEC_DEC_FAST_BITS bits in one
 * step, and a byte-wise CRC-32 table: several times faster, for about 10 kB more RAM per
 * `edgec_dec` and 1 kB more .rodata. Without it (the firmware default) codes are decoded
 * one length at a time. Both give the same results on every input. */
#ifdef EDGEC_DECODE_FAST
#ifndef EDGEC_DEC_FAST_BITS
#define EDGEC_DEC_FAST_BITS 10
#endif
typedef uint64_t edgec_dec_word; /* the bit reader's buffer: fewer refills */
#else
typedef uint32_t edgec_dec_word;
#endif

/* One canonical Huffman code: how many codes of each length and the symbols in code
 * order. */
typedef struct edgec_dec_code {
    uint16_t count[16];
    uint8_t symbol[256];
#ifdef EDGEC_DECODE_FAST
    /* Indexed by the next EDGEC_DEC_FAST_BITS bits: code length << 8 | symbol, or 0
     * when the code is longer (or unassigned). */
    uint16_t fast[1u << EDGEC_DEC_FAST_BITS];
#endif
} edgec_dec_code;

/* Decoder state; treat as opaque. */
typedef struct edgec_dec {
    edgec_dec_read_fn read;
    void *user;
    uint32_t size, n_tensors, dir_size;
    uint32_t model_offset, model_size, model_raw_size;
    /* bit reader over one section */
    uint32_t in_pos, in_end, crc;
    edgec_dec_word bits;
    int nbits;
    uint32_t buf_pos, buf_len;
    uint8_t buf[EDGEC_DEC_CHUNK];
    edgec_dec_code code[EDGEC_DEC_MAX_PLANES + 1];
} edgec_dec;

/* Reads and checks the header and the directory (its CRC and every record's bounds) of
 * a container of `size` bytes. */
int edgec_dec_open(edgec_dec *d, edgec_dec_read_fn read, void *user, uint32_t size);

/* Number of tensors in the container. */
uint32_t edgec_dec_count(const edgec_dec *d);

/* Directory entry `index` (0-based). */
int edgec_dec_info(edgec_dec *d, uint32_t index, edgec_dec_tensor *out);

/* Index of the tensor named `name` (a NUL-terminated string); ERANGE when none. */
int edgec_dec_find(edgec_dec *d, const char *name, uint32_t *index);

/* Decodes tensor `index` into out[0..raw_size), verifying its CRC-32. `out_size` must be
 * at least raw_size. On error the buffer's contents are unspecified. */
int edgec_dec_tensor_read(edgec_dec *d, uint32_t index, void *out, uint32_t out_size);

/* CRC-32 (zlib polynomial) of `len` bytes, continuing from `crc` (0 to start). */
uint32_t edgec_dec_crc32(uint32_t crc, const void *data, size_t len);

/* A read callback over a container in memory: `user` points to an edgec_dec_mem. */
typedef struct edgec_dec_mem {
    const uint8_t *data;
    uint32_t size;
} edgec_dec_mem;
int edgec_dec_mem_read(void *user, uint32_t offset, void *buf, uint32_t len);

#ifdef __cplusplus
}
#endif
#endif
