/* The host side of the .edgec container: bit writer, canonical Huffman code
 * construction, tensor payload encoding and the scan that finds tensor bytes in a
 * serialized ONNX model. Decoding is decoder/edgec_decode.c, shared with firmware, so
 * that the host and the device read the container with the same code.
 *
 * The byte-level format is docs/FORMAT.md, summarized in decoder/edgec_decode.h. */
#ifndef EDGEC_CODEC_H
#define EDGEC_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/common.h"

#define EDGEC_CODEC_MAX_LEN 15  /* longest Huffman code, in bits */
#define EDGEC_CODEC_MAX_RANK 16 /* the decoder's limit; other tensors stay in the model */

enum edgec_codec_encoding {
    EDGEC_ENC_STORED = 0,
    EDGEC_ENC_DENSE = 1,
    EDGEC_ENC_MASKED = 2
};

/* A growing buffer written most significant bit first. */
typedef struct edgec_bitw {
    uint8_t *data;
    size_t len, cap;
    uint64_t acc;
    int n;    /* bits waiting in acc */
    bool oom; /* an allocation failed; everything after is dropped */
} edgec_bitw;

/* Appends the low `n` (0..32) bits of `v`. */
void edgec__bitw_put(edgec_bitw *w, uint32_t v, int n);
/* Pads with zero bits to a byte boundary; NO_MEMORY if any append failed. The caller
 * owns (and frees) w->data afterwards. */
edgec_status edgec__bitw_finish(edgec_bitw *w);

/* Code lengths (0 for symbols that never occur, else 1..max_len) of a Huffman code for
 * `n` (<= 256) symbols with these frequencies. A single used symbol gets length 1.
 * Ties break by symbol value, so the result depends on the frequencies only. */
void edgec__huff_lengths(const uint64_t *freq, int n, int max_len, uint8_t *len);
/* Canonical codes for the lengths: shorter codes first, then by symbol. */
void edgec__huff_codes(const uint8_t *len, int n, uint16_t *code);

/* One tensor's payload (section 5-6 of the format), malloc'ed. */
typedef struct edgec_payload {
    uint8_t encoding;  /* enum edgec_codec_encoding */
    uint8_t unit_bits; /* 4, 8, 16 or 32 */
    uint8_t *data;
    size_t size;
} edgec_payload;

/* Encodes the raw bytes of a tensor of ONNX type `dtype` and these dims with the
 * smallest of the stored, dense and masked encodings. */
edgec_status edgec__encode_tensor(const uint8_t *raw, size_t size, int32_t dtype,
                                  const uint32_t *dims, int rank, edgec_payload *out);

/* A tensor whose raw_data sits at buf[off, off + len) of a serialized ModelProto. The
 * TensorProto itself is buf[body, end), and its length prefix starts at `head`. */
typedef struct edgec_wire_tensor {
    size_t off, len;
    size_t head, body, end;
    const uint8_t *name; /* inside the buffer, not NUL-terminated */
    size_t name_len;
    bool own_name; /* the name is the TensorProto's, not its Constant node's output */
    int32_t dtype;
    int rank;
    uint32_t dims[EDGEC_CODEC_MAX_RANK];
} edgec_wire_tensor;

/* Lists, in file order, every tensor with raw_data in the serialized model: in graph
 * initializers, sparse initializers, node attributes (Constant values take the node's
 * output name when the tensor has none), subgraphs, training graphs and functions. The
 * array is malloc'ed. Tensors the decoder cannot describe (rank over 16, dims over 32
 * bits, names over 64 kB) are left out and stay in the model section. */
edgec_status edgec__wire_tensors(const uint8_t *buf, size_t len, edgec_wire_tensor **out,
                                 size_t *count);

#endif
