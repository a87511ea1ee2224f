/* Internal interface of src/onnx, the only code that sees protobuf-c types. */
#ifndef EDGEC_ONNX_INTERNAL_H
#define EDGEC_ONNX_INTERNAL_H

#include <protobuf-c/protobuf-c.h>

#include "ir/ir.h"
#include "onnx.pb-c.h"

/* Where the long bytes fields (tensor raw_data) lie in the wire bytes, in wire order.
 * protobuf-c copies bytes fields out in that order, which lets the loader give back the
 * file pages of each one it has copied while it unpacks the rest (see model.c). */
typedef struct edgec_wire_span {
    size_t off, len;
} edgec_wire_span;
typedef struct edgec_wire_spans {
    size_t min_len;     /* shorter fields are not listed */
    edgec_wire_span *v; /* malloc'ed; the caller frees it */
    size_t n, cap;
} edgec_wire_spans;

/* Checks wire bytes before protobuf-c unpacks them; see wire.c. On success writes an
 * upper estimate of the bytes the unpacked messages will take, and, when `spans` is not
 * NULL, appends the bytes fields of at least spans->min_len bytes to it. */
edgec_status edgec__wire_scan(const uint8_t *buf, size_t len, const char *file,
                              uint64_t *mem_estimate, edgec_wire_spans *spans);

/* A protobuf-c allocator that takes memory from an arena (frees are no-ops). */
void edgec__pb_allocator(edgec_arena *a, ProtobufCAllocator *out);

/* Builds the IR of an unpacked model. `m` has arena, path and dir set. */
edgec_status edgec__ir_from_proto(edgec_model *m, Onnx__ModelProto *pb);

/* Builds a ModelProto from the IR, sharing memory with it. When `ext` is not NULL,
 * tensors of at least `ext->min_bytes` are written to the external file instead. */
typedef struct edgec_ext_writer edgec_ext_writer;
edgec_status edgec__proto_from_ir(edgec_model *m, edgec_ext_writer *ext, Onnx__ModelProto **out);

#endif
