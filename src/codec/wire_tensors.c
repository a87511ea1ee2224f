/* Finds the raw_data of every tensor in a serialized ONNX model by walking the protobuf
 * wire format. The container cuts exactly these bytes out of the file and splices them
 * back in on unpack, so the round trip is byte-exact whatever the writer did, and no
 * protobuf-c types are needed here. */
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"

/* The messages that can hold tensors, and which of their fields lead to one. */
typedef enum kind { MODEL, GRAPH, NODE, ATTR, SPARSE, TENSOR, FUNCTION, TRAINING, NONE } kind;

static kind child(kind k, uint32_t field)
{
    switch (k) {
    case MODEL:
        return field == 7 ? GRAPH : field == 20 ? TRAINING : field == 25 ? FUNCTION : NONE;
    case GRAPH:
        return field == 1 ? NODE : field == 5 ? TENSOR : field == 15 ? SPARSE : NONE;
    case NODE:
        return field == 5 ? ATTR : NONE;
    case ATTR:
        return field == 5 || field == 10     ? TENSOR
               : field == 6 || field == 11   ? GRAPH
               : field == 22 || field == 23 ? SPARSE
                                             : NONE;
    case SPARSE:
        return field == 1 || field == 2 ? TENSOR : NONE;
    case FUNCTION:
        return field == 7 ? NODE : NONE;
    case TRAINING:
        return field == 1 || field == 2 ? GRAPH : NONE;
    default:
        return NONE;
    }
}

typedef struct scan {
    const uint8_t *buf;
    edgec_wire_tensor *list;
    size_t n, cap;
} scan;

/* One field: its number, wire type, and its value (varints) or extent (bytes). */
typedef struct field {
    uint32_t num;
    int wt;
    uint64_t v;
    size_t head; /* where the length prefix of a length-delimited field starts */
    size_t off, len;
} field;

static bool varint(const uint8_t *b, size_t *pos, size_t end, uint64_t *v)
{
    *v = 0;
    for (int i = 0; i < 10 && *pos < end; i++) {
        uint8_t c = b[(*pos)++];
        *v |= (uint64_t)(c & 0x7f) << (7 * i);
        if (!(c & 0x80))
            return true;
    }
    return false;
}

static bool next_field(const uint8_t *b, size_t *pos, size_t end, field *f)
{
    uint64_t tag;
    if (!varint(b, pos, end, &tag) || tag >> 35)
        return false;
    f->num = (uint32_t)(tag >> 3);
    f->wt = (int)(tag & 7);
    switch (f->wt) {
    case 0:
        return varint(b, pos, end, &f->v);
    case 1:
    case 5: {
        size_t w = f->wt == 1 ? 8 : 4;
        if (end - *pos < w)
            return false;
        *pos += w;
        return true;
    }
    case 2:
        f->head = *pos;
        if (!varint(b, pos, end, &f->v) || f->v > end - *pos)
            return false;
        f->off = *pos;
        f->len = (size_t)f->v;
        *pos += f->len;
        return true;
    default:
        return false;
    }
}

static edgec_status bad(size_t pos)
{
    return edgec__fail(EDGEC_STATUS_INVALID_MODEL, "malformed protobuf at byte %zu", pos);
}

/* A TensorProto: keeps it when it has raw_data the decoder can describe. */
static edgec_status tensor(scan *s, size_t head, size_t pos, size_t end,
                           const uint8_t *fallback, size_t fallback_len)
{
    edgec_wire_tensor t = {
        .head = head, .body = pos, .end = end, .name = fallback, .name_len = fallback_len};
    int raws = 0;
    bool ok = true;
    field f;
    while (pos < end) {
        if (!next_field(s->buf, &pos, end, &f))
            return bad(pos);
        if (f.num == 1 && f.wt == 0) {
            if (t.rank == EDGEC_CODEC_MAX_RANK || f.v > UINT32_MAX)
                ok = false;
            else
                t.dims[t.rank++] = (uint32_t)f.v;
        } else if (f.num == 1 && f.wt == 2) {
            size_t p = f.off;
            uint64_t d;
            while (p < f.off + f.len) {
                if (!varint(s->buf, &p, f.off + f.len, &d))
                    return bad(p);
                if (t.rank == EDGEC_CODEC_MAX_RANK || d > UINT32_MAX)
                    ok = false;
                else
                    t.dims[t.rank++] = (uint32_t)d;
            }
        } else if (f.num == 2 && f.wt == 0) {
            t.dtype = (int32_t)f.v;
        } else if (f.num == 8 && f.wt == 2 && f.len) {
            t.name = s->buf + f.off;
            t.name_len = f.len;
            t.own_name = true;
        } else if (f.num == 9 && f.wt == 2) {
            t.off = f.off;
            t.len = f.len;
            raws++;
        } else if (f.num == 14 && f.wt == 0 && f.v != 0) {
            ok = false; /* external data: nothing inline to take */
        }
    }
    if (!ok || raws != 1 || !t.len || t.name_len > 0xffff || t.dtype < 0 || t.dtype > 255 ||
        t.len > UINT32_MAX)
        return EDGEC_STATUS_OK;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        edgec_wire_tensor *l = realloc(s->list, cap * sizeof *l);
        if (!l)
            return edgec__fail(EDGEC_STATUS_NO_MEMORY, "out of memory");
        s->list = l;
        s->cap = cap;
    }
    s->list[s->n++] = t;
    return EDGEC_STATUS_OK;
}

static edgec_status walk(scan *s, kind k, size_t head, size_t pos, size_t end, int depth,
                         const uint8_t *name, size_t name_len)
{
    field f;
    if (depth > 200)
        return edgec__fail(EDGEC_STATUS_LIMIT, "model nested more than 200 levels deep");
    if (k == TENSOR)
        return tensor(s, head, pos, end, name, name_len);
    if (k == NODE) {
        /* A Constant's value tensor is usually unnamed; its output names it. */
        const uint8_t *out = NULL, *op = NULL;
        size_t out_len = 0, op_len = 0;
        for (size_t p = pos; p < end;) {
            if (!next_field(s->buf, &p, end, &f))
                return bad(p);
            if (f.num == 2 && f.wt == 2 && !out)
                out = s->buf + f.off, out_len = f.len;
            if (f.num == 4 && f.wt == 2)
                op = s->buf + f.off, op_len = f.len;
        }
        bool constant = op && op_len == 8 && !memcmp(op, "Constant", 8);
        name = constant ? out : NULL;
        name_len = constant ? out_len : 0;
    }
    while (pos < end) {
        if (!next_field(s->buf, &pos, end, &f))
            return bad(pos);
        kind c = f.wt == 2 ? child(k, f.num) : NONE;
        if (c == NONE)
            continue;
        edgec_status st = walk(s, c, f.head, f.off, f.off + f.len, depth + 1,
                               k == NODE || k == ATTR ? name : NULL,
                               k == NODE || k == ATTR ? name_len : 0);
        if (st)
            return st;
    }
    return EDGEC_STATUS_OK;
}

edgec_status edgec__wire_tensors(const uint8_t *buf, size_t len, edgec_wire_tensor **out,
                                 size_t *count)
{
    scan s = {buf, NULL, 0, 0};
    edgec_status st = walk(&s, MODEL, 0, 0, len, 0, NULL, 0);
    if (st) {
        free(s.list);
        s.list = NULL;
        s.n = 0;
    }
    *out = s.list;
    *count = s.n;
    return st;
}
