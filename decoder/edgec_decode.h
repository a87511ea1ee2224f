/* edgec_decode: a standalone decoder for .edgec containers, for firmware.
 *
 * C99, no malloc, no library beyond <stddef.h>/<stdint.h>/<string.h>. The caller owns
 * every byte of memory: one `edgec_dec` (about 1.3 kB, static or on the stack; about
 * 38 kB with EDGEC_DECODE_FAST, below) and the buffer a tensor is decoded into. The
 * container is read through a callback at explicit offsets, so it may sit in flash, in
 * RAM, in a file or behind a bus. Each tensor is decoded on its own; between calls the
 * decoder keeps only the header and its place in the directory.
 *
 * Every length, index and code from the container is checked before use. A corrupt or
 * truncated container makes a function return a negative EDGEC_DEC_E* code; it never
 * reads or writes outside the caller's buffers. Every section carries a CRC-32 (the
 * zlib / ISO-HDLC polynomial) that is verified on the bytes actually read.
 *
 * Format version 2 (docs/FORMAT.md is the full, numbered specification; section
 * numbers match):
 *
 *   1. Fixed-size integers are little-endian; "varint" is LEB128 (7 bits per byte, low
 *      group first, at most 5 bytes, value < 2^32); offsets count from the start.
 *   2. Header, 24 bytes at offset 0:
 *        0 magic "EDGC"   4 u16 version (2)   6 u16 flags (0)   8 u32 n_tensors
 *       12 u32 dir_size  16 u32 model_size   20 u32 model_raw_size
 *   3. Directory at offset 24: n_tensors records, dir_size bytes in all, then a u32
 *      CRC-32 of bytes 0 .. 24 + dir_size - 1 (header and directory). Record:
 *        u8 dtype (ONNX TensorProto.DataType)
 *        u8 form: bits 0-1 encoding (0 stored, 1 dense Huffman, 2 masked),
 *                 bits 2-3 unit (4 << u bits: 4, 8, 16, 32), bit 4 whole tensor and
 *                 bit 5 named (for unpack, section 4.3), bits 6-7 zero
 *        u8 rank (<= 16), varint dims[rank], varint raw_size, varint payload_size,
 *        u32 payload CRC-32, varint name_len (<= 65535), name bytes (no NUL)
 *   4. Model section: the last model_size + 4 bytes: raw DEFLATE (preset dictionary: a fixed
 *      text, then the directory) of the splice points and the ONNX model with the
 *      recorded tensors cut out, then its u32 CRC-32. The decoder does not need it;
 *      `edgec unpack` splices the tensors back in.
 *   5. Payloads follow the directory's CRC in directory order, without gaps, up to the
 *      model section; each decodes to raw_size bytes, exactly the tensor's raw_data.
 *   6. Huffman payloads are read as a bit stream, most significant bit of each byte first.
 *      A unit is a nibble (low first) or unit_bits / 8 bytes; P planes: 1 for nibbles,
 *      else unit_bits / 8.
 *        masked only: u8 bg (plane 0 of the background unit; its other planes are zero),
 *          varint line length L (divides the unit count); then a bit per unit, 1 = not the
 *          background, range-coded (LZMA's coder: range 0xFFFFFFFF, code = 4 bytes, one
 *          12-bit probability from 2048, moving >> 5; code must end at 0) in line order:
 *          unit j, j + L, j + 2L, ... for j = 0 .. L - 1; never for 4-bit units
 *        P code tables: u8 lo, u8 hi (lo <= hi), then for symbols lo..hi a code length
 *          (0 = unused, 1..15): '0' repeats the previous one, '1' + 4 bits gives it;
 *          canonical codes, as in DEFLATE
 *        codes: dense, P per unit (byte p of the unit, or the nibble); masked, P per unit
 *          whose mask bit is 1, in storage order
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

#define EDGEC_DEC_VERSION 2
#define EDGEC_DEC_MAX_RANK 16
#define EDGEC_DEC_MAX_PLANES 4
/* Bytes read from the container per callback. */
#ifndef EDGEC_DEC_CHUNK
#ifdef EDGEC_DECODE_FAST
#define EDGEC_DEC_CHUNK 4096
#else
#define EDGEC_DEC_CHUNK 64
#endif
#endif

/* The form byte of a directory record (section 3). */
#define EDGEC_DEC_FORM_WHOLE 0x10 /* the whole TensorProto is rebuilt (section 4.3) */
#define EDGEC_DEC_FORM_NAMED 0x20 /* ... and it carries the record's name */

/* Reads `len` bytes at `offset` into `buf`; returns 0 on success. The decoder never asks
 * for bytes past the size given to edgec_dec_open. */
typedef int (*edgec_dec_read_fn)(void *user, uint32_t offset, void *buf, uint32_t len);

/* What the directory says about one tensor. */
typedef struct edgec_dec_tensor {
    uint32_t index;
    uint8_t dtype; /* ONNX TensorProto.DataType, e.g. 1 float, 2 uint8, 3 int8, 22 int4 */
    uint8_t rank;
    uint8_t encoding;  /* 0 stored, 1 dense Huffman, 2 masked */
    uint8_t unit_bits; /* 4, 8, 16 or 32 */
    uint8_t form;      /* the record's form byte: EDGEC_DEC_FORM_* bits and the above */
    uint32_t dims[EDGEC_DEC_MAX_RANK];
    uint32_t raw_size;      /* bytes the tensor decodes to */
    uint32_t payload_offset, payload_size, payload_crc;
    uint32_t name_offset;   /* the name's bytes in the container (read with the callback) */
    uint16_t name_len;
} edgec_dec_tensor;

/* EDGEC_DECODE_FAST (define it for every file that includes this header, e.g. on the host;
 * libedgec is built with it) adds a lookup table per code, decoding codes of up to
 * EDGEC_DEC_FAST_BITS bits in one step, a 64-bit bit buffer, bigger reads and a
 * slice-by-8 CRC-32: several times faster, for about 37 kB more RAM per `edgec_dec`.
 * Without it (the firmware default) codes are decoded one length at a time. Both accept
 * and refuse the same containers and decode them to the same bytes. */
#ifdef EDGEC_DECODE_FAST
#ifndef EDGEC_DEC_FAST_BITS
#define EDGEC_DEC_FAST_BITS 11
#endif
#define EDGEC_DEC_PAIR_BITS 12 /* two 4-bit codes per lookup */
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
    uint8_t fast_bits; /* the table's width: the longest code, at most FAST_BITS */
#endif
} edgec_dec_code;

/* Decoder state; treat as opaque. */
typedef struct edgec_dec {
    edgec_dec_read_fn read;
    void *user;
    uint32_t size, n_tensors, dir_size;
    uint32_t model_offset, model_size, model_raw_size;
    /* Where directory record `at` and its payload start: lookups walk on from here, or
     * from the first record when going back. */
    uint32_t at, at_pos, at_payload;
    /* bit reader over one section */
    uint32_t in_pos, in_end, crc;
    edgec_dec_word bits;
    int nbits;
    int err; /* the first error in the section being read */
    uint32_t buf_pos, buf_len;
    uint8_t buf[EDGEC_DEC_CHUNK];
    edgec_dec_code code[EDGEC_DEC_MAX_PLANES];
#ifdef EDGEC_DECODE_FAST
    uint32_t crc_table[8][256]; /* slice-by-8, filled by edgec_dec_open */
    uint16_t pair[1u << EDGEC_DEC_PAIR_BITS];
    uint32_t fast_cap; /* the widest lookup table the current tensor gets */
#endif
} edgec_dec;

/* Reads and checks the header and the directory (its CRC and every record's bounds) of
 * a container of `size` bytes. */
int edgec_dec_open(edgec_dec *d, edgec_dec_read_fn read, void *user, uint32_t size);

/* Number of tensors in the container. */
uint32_t edgec_dec_count(const edgec_dec *d);

/* Directory entry `index` (0-based). Walking the indices in order costs one record each. */
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
