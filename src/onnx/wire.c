/* A pre-scan of protobuf wire bytes, driven by protobuf-c's descriptors.
 *
 * protobuf-c unpacks recursively on the C stack and allocates as it goes, so a hostile
 * file could exhaust the stack (deep nesting) or memory (millions of empty messages,
 * each a struct much larger than its two wire bytes). This scan walks the same bytes
 * iteratively first: it checks every tag, varint, length and wire type, bounds the
 * nesting depth and estimates the memory the unpacked tree will need. Only input that
 * passes is given to protobuf-c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx/onnx_internal.h"

typedef struct frame {
    const ProtobufCMessageDescriptor *desc;
    size_t end;
    const char *field; /* the field that holds this message, for messages */
} frame;

/* Reads a varint at buf[*pos..end); false when truncated or longer than 10 bytes. */
static bool read_varint(const uint8_t *buf, size_t *pos, size_t end, uint64_t *out)
{
    uint64_t v = 0;
    for (int i = 0; i < 10; i++) {
        if (*pos >= end)
            return false;
        uint8_t b = buf[(*pos)++];
        if (i == 9 && b > 1)
            return false; /* would not fit in 64 bits */
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

static bool is_varint_type(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_BOOL:
    case PROTOBUF_C_TYPE_ENUM:
        return true;
    default:
        return false;
    }
}

static int fixed_width(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_FLOAT:
        return 4;
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    default:
        return 0;
    }
}

static const char *wire_name(unsigned wt)
{
    static const char *const names[8] = {"varint", "64-bit", "length-delimited", "group start",
                                         "group end", "32-bit", "invalid (6)", "invalid (7)"};
    return names[wt & 7];
}

static bool span_add(edgec_wire_spans *s, size_t off, size_t len)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        edgec_wire_span *v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return false;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = (edgec_wire_span){off, len};
    return true;
}

edgec_status edgec__wire_scan(const uint8_t *buf, size_t len, const char *file,
                              uint64_t *mem_estimate, edgec_wire_spans *spans)
{
    frame stack[EDGEC_MAX_PROTO_DEPTH + 1];
    int top = 0;
    size_t pos = 0;
    uint64_t mem = onnx__model_proto__descriptor.sizeof_message;
    stack[0] = (frame){&onnx__model_proto__descriptor, len, "ModelProto"};

    for (;;) {
        while (top >= 0 && pos == stack[top].end)
            top--;
        if (top < 0)
            break;
        const frame *f = &stack[top];
        size_t field_start = pos;
        uint64_t tag;
        if (!read_varint(buf, &pos, f->end, &tag))
            return edgec__fail(EDGEC_STATUS_INVALID_MODEL,
                               "%s: not a valid ONNX model: truncated or overlong field tag at "
                               "byte %zu (inside %s)",
                               file, field_start, f->field);
        uint64_t num = tag >> 3;
        unsigned wt = (unsigned)(tag & 7);
        if (num == 0 || num > 536870911u)
            return edgec__fail(EDGEC_STATUS_INVALID_MODEL,
                               "%s: not a valid ONNX model: field number %llu at byte %zu "
                               "(inside %s)",
                               file, (unsigned long long)num, field_start, f->field);
        const ProtobufCFieldDescriptor *fd =
            protobuf_c_message_descriptor_get_field(f->desc, (unsigned)num);
        bool ok_type = true;
        uint64_t v;
        switch (wt) {
        case 0:
            if (!read_varint(buf, &pos, f->end, &v))
                return edgec__fail(EDGEC_STATUS_INVALID_MODEL,
                                   "%s: not a valid ONNX model: truncated or overlong varint at "
                                   "byte %zu (%s.%s)",
                                   file, pos, f->desc->name, fd ? fd->name : "unknown field");
            ok_type = !fd || is_varint_type(fd->type);
            mem += 8;
            break;
        case 1:
        case 5: {
            size_t w = wt == 1 ? 8 : 4;
            if (f->end - pos < w)
                return edgec__fail(EDGEC_STATUS_INVALID_MODEL,
                                   "%s: not a valid ONNX model: truncated %zu-byte value at byte "
                                   "%zu (inside %s)",
                                   file, w, pos, f->field);
            pos += w;
            ok_type = !fd || (size_t)fixed_width(fd->type) == w;
            mem += 8;
            break;
        }
        case 2: {
            if (!read_varint(buf, &pos, f->end, &v) || v > f->end - pos)
                return edgec__fail(EDGEC_STATUS_INVALID_MODEL,
                                   "%s: not a valid ONNX model: length at byte %zu runs past the "
                                   "end of its message (%s.%s)",
                                   file, field_start, f->desc->name,
                                   fd ? fd->name : "unknown field");
            size_t body = pos;
            pos += (size_t)v;
            if (!fd) {
                mem += sizeof(ProtobufCMessageUnknownField) + v;
            } else if (fd->type == PROTOBUF_C_TYPE_MESSAGE) {
                if (top + 1 > EDGEC_MAX_PROTO_DEPTH)
                    return edgec__fail(EDGEC_STATUS_LIMIT,
                                       "%s: messages nested deeper than %d levels at byte %zu "
                                       "(%s.%s); refusing to parse",
                                       file, EDGEC_MAX_PROTO_DEPTH, field_start, f->desc->name,
                                       fd->name);
                const ProtobufCMessageDescriptor *sub = fd->descriptor;
                mem += sub->sizeof_message + 8;
                /* Descend: the parent resumes at `pos` once the child ends. */
                stack[++top] = (frame){sub, pos, fd->name};
                pos = body;
            } else if (fd->type == PROTOBUF_C_TYPE_STRING || fd->type == PROTOBUF_C_TYPE_BYTES) {
                /* protobuf-c hands strings over NUL-terminated: an embedded NUL would
                 * silently cut a name or an external data path short. */
                if (fd->type == PROTOBUF_C_TYPE_STRING && memchr(buf + body, 0, (size_t)v))
                    return edgec__fail(EDGEC_STATUS_INVALID_MODEL,
                                       "%s: not a valid ONNX model: string field %s.%s at byte "
                                       "%zu contains a NUL byte",
                                       file, f->desc->name, fd->name, field_start);
                mem += v + 16;
                if (spans && fd->type == PROTOBUF_C_TYPE_BYTES && v >= spans->min_len &&
                    !span_add(spans, body, (size_t)v))
                    return edgec__fail(EDGEC_STATUS_NO_MEMORY, "%s: out of memory", file);
            } else if (fd->label == PROTOBUF_C_LABEL_REPEATED &&
                       (is_varint_type(fd->type) || fixed_width(fd->type))) {
                /* Packed repeated scalars: at most 8 bytes of storage per wire byte. */
                mem += v * 8;
            } else {
                ok_type = false;
            }
            break;
        }
        default:
            return edgec__fail(EDGEC_STATUS_INVALID_MODEL,
                               "%s: not a valid ONNX model: %s wire type at byte %zu (%s.%s)",
                               file, wire_name(wt), field_start, f->desc->name,
                               fd ? fd->name : "unknown field");
        }
        if (!ok_type)
            return edgec__fail(EDGEC_STATUS_INVALID_MODEL,
                               "%s: not a valid ONNX model: field %s.%s at byte %zu has wire "
                               "type %s, which does not match its declared type",
                               file, f->desc->name, fd->name, field_start, wire_name(wt));
        if (pos > f->end)
            return edgec__fail(EDGEC_STATUS_INVALID_MODEL,
                               "%s: not a valid ONNX model: field at byte %zu runs past the end "
                               "of %s",
                               file, field_start, f->field);
    }
    *mem_estimate = mem;
    return EDGEC_STATUS_OK;
}
