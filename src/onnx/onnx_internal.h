/* Internal interface of src/onnx, the only code that sees protobuf-c types. */
#ifndef EDGEC_ONNX_INTERNAL_H
#define EDGEC_ONNX_INTERNAL_H

#include <protobuf-c/protobuf-c.h>

#include "ir/ir.h"
#include "onnx.pb-c.h"

/* Checks wire bytes before protobuf-c unpacks them; see wire.c. On success writes an
 * upper estimate of the bytes the unpacked messages will take. */
edgec_status edgec__wire_scan(const uint8_t *buf, size_t len, const char *file,
                              uint64_t *mem_estimate);

/* A protobuf-c allocator that takes memory from an arena (frees are no-ops). */
void edgec__pb_allocator(edgec_arena *a, ProtobufCAllocator *out);

/* Builds the IR of an unpacked model. `m` has arena, path and dir set. */
edgec_status edgec__ir_from_proto(edgec_model *m, Onnx__ModelProto *pb);

/* Builds a ModelProto from the IR, sharing memory with it. When `ext` is not NULL,
 * tensors of at least `ext->min_bytes` are written to the external file instead. */
typedef struct edgec_ext_writer edgec_ext_writer;
edgec_status edgec__proto_from_ir(edgec_model *m, edgec_ext_writer *ext, Onnx__ModelProto **out);

#endif
