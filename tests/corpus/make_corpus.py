#!/usr/bin/python3
"""Generate a deterministic corpus of malformed ONNX models for edgec's robustness tests.

usage: make_corpus.py OUTDIR            write every case + OUTDIR/MANIFEST.tsv
       make_corpus.py --valid FILE      write only the valid base model (Gemm + Relu) to FILE
       make_corpus.py --readme          print the case table used in tests/corpus/README.md

Needs /usr/bin/python3 (Debian's python3-onnx and numpy), only to build the valid base models;
every malformation is made with the small protobuf wire encoder/decoder below, because the
onnx/protobuf Python API refuses to write most of them.

Layout of OUTDIR:
  <case>.onnx              one file per case that needs no neighbours
  <case>/model.onnx        one folder per external-data case (model + data file/symlink/FIFO)
  outside.bin, outside_dir/ data that lies OUTSIDE every case folder (targets of escapes)
  MANIFEST.tsv             name, path (relative to OUTDIR), expected exit code, names an error
                           message may use instead of the model's file name, sha256, description
The same script version always writes the same bytes, whatever OUTDIR is.
"""
import gzip
import hashlib
import os
import random
import shutil
import struct
import sys

# --------------------------------------------------------------------------------------------
# protobuf wire format: encoder
# --------------------------------------------------------------------------------------------
VARINT, I64, LEN, SGROUP, EGROUP, I32 = 0, 1, 2, 3, 4, 5


def varint(n):
    """Canonical varint; negative numbers as 64-bit two's complement (10 bytes)."""
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def overlong_varint(n, size):
    """Non-canonical varint of exactly `size` bytes (padding with 0x80 continuation bytes)."""
    v = varint(n)
    assert len(v) <= size
    body = bytearray(v[:-1]) + bytes([v[-1] | 0x80])
    while len(body) < size - 1:
        body.append(0x80)
    body.append(0x00)
    return bytes(body)


def tag(field, wt):
    return varint((field << 3) | wt)


def f_varint(field, v):
    return tag(field, VARINT) + varint(v)


def f_len(field, payload):
    if isinstance(payload, str):
        payload = payload.encode()
    return tag(field, LEN) + varint(len(payload)) + payload


def nest(inner, fields_inner_to_outer, levels):
    """Wrap `inner` (a message's content) `levels` times in length-delimited fields, cycling
    through fields_inner_to_outer. Linear time: lengths are computed inside-out, headers are
    then emitted outside-in."""
    headers = []
    cur = len(inner)
    for i in range(levels):
        h = tag(fields_inner_to_outer[i % len(fields_inner_to_outer)], LEN) + varint(cur)
        headers.append(h)
        cur += len(h)
    headers.reverse()
    return b"".join(headers) + inner


# --------------------------------------------------------------------------------------------
# protobuf wire format: strict decoder (spans) and path editing
# --------------------------------------------------------------------------------------------
class WireError(Exception):
    pass


def read_varint(buf, pos, end):
    n = shift = 0
    start = pos
    while True:
        if pos >= end:
            raise WireError("varint runs past end at %d" % start)
        b = buf[pos]
        pos += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return n, pos
        if pos - start >= 10:
            raise WireError("varint longer than 10 bytes at %d" % start)


def spans(buf, start=0, end=None):
    """Fields of one message: list of (field, wiretype, tag_start, value_start, end, value).
    value is the int for varints, else None (payload is buf[value_start:end])."""
    end = len(buf) if end is None else end
    out = []
    pos = start
    while pos < end:
        ts = pos
        key, pos = read_varint(buf, pos, end)
        field, wt = key >> 3, key & 7
        if field == 0:
            raise WireError("field number 0 at %d" % ts)
        if wt == VARINT:
            v, pos2 = read_varint(buf, pos, end)
            out.append((field, wt, ts, pos, pos2, v))
            pos = pos2
        elif wt == I64 or wt == I32:
            n = 8 if wt == I64 else 4
            if pos + n > end:
                raise WireError("fixed field past end at %d" % ts)
            out.append((field, wt, ts, pos, pos + n, None))
            pos += n
        elif wt == LEN:
            ln, vs = read_varint(buf, pos, end)
            if vs + ln > end:
                raise WireError("length-delimited field past end at %d" % ts)
            out.append((field, wt, ts, vs, vs + ln, None))
            pos = vs + ln
        else:
            raise WireError("wire type %d at %d" % (wt, ts))
    return out


def find(buf, path):
    """Absolute span (field, wt, tag_start, value_start, end, value) of a nested field.
    path: [(field, index), ...], each step descends into a length-delimited message."""
    start, end = 0, len(buf)
    sp = None
    for field, idx in path:
        matches = [s for s in spans(buf, start, end) if s[0] == field]
        sp = matches[idx]
        start, end = sp[3], sp[4]
    return sp


def edit(buf, path, fn):
    """Return buf with the message at `path` replaced by fn(old_content_bytes); every
    enclosing length prefix is re-encoded. An empty path edits the whole buffer."""
    if not path:
        return fn(bytes(buf))
    (field, idx), rest = path[0], path[1:]
    fs = [s for s in spans(buf) if s[0] == field]
    s = fs[idx]
    assert s[1] == LEN, "can only descend into length-delimited fields"
    new_payload = edit(buf[s[3]:s[4]], rest, fn)
    return buf[:s[2]] + f_len(field, new_payload) + buf[s[4]:]


def replace_field(buf, path, new_bytes):
    """Replace the whole encoded field (tag + value) at path by new_bytes (raw)."""
    parent, (field, idx) = path[:-1], path[-1]

    def fn(content):
        s = [x for x in spans(content) if x[0] == field][idx]
        return content[:s[2]] + new_bytes + content[s[4]:]
    return edit(buf, parent, fn)


def remove_fields(buf, path, field):
    """Remove every occurrence of `field` from the message at path."""
    def fn(content):
        out = bytearray()
        pos = 0
        for s in spans(content):
            if s[0] == field:
                out += content[pos:s[2]]
                pos = s[4]
        out += content[pos:]
        return bytes(out)
    return edit(buf, path, fn)


def append_fields(buf, path, raw):
    return edit(buf, path, lambda c: c + raw)


# ONNX field numbers (onnx.proto, IR 10) used below.
M_IR, M_GRAPH, M_OPSET = 1, 7, 8
G_NODE, G_NAME, G_INIT, G_INPUT, G_OUTPUT = 1, 2, 5, 11, 12
N_INPUT, N_OUTPUT, N_OPTYPE, N_ATTR = 1, 2, 4, 5
A_NAME, A_F, A_G, A_TYPE = 1, 2, 6, 20
T_DIMS, T_DTYPE, T_FLOAT, T_INT64, T_NAME, T_RAW = 1, 2, 4, 7, 8, 9
VI_NAME, VI_TYPE = 1, 2
TP_TENSOR, TP_SEQUENCE = 1, 4
TPT_ELEM = 1
SEQ_ELEM = 1

GRAPH = [(M_GRAPH, 0)]
GEMM = GRAPH + [(G_NODE, 0)]
W = GRAPH + [(G_INIT, 0)]          # W: FLOAT [8, 4], raw_data (128 bytes)
B = GRAPH + [(G_INIT, 1)]          # B: FLOAT [4], float_data (packed)
SHAPE = GRAPH + [(G_INIT, 2)]      # S: INT64 [2], int64_data, unused by the graph

# --------------------------------------------------------------------------------------------
# valid base models (onnx.helper)
# --------------------------------------------------------------------------------------------
IN_DIM, OUT_DIM = 8, 4


def w_values():
    return [((i * 37) % 17 - 8) / 8.0 for i in range(IN_DIM * OUT_DIM)]


def w_bytes():
    return struct.pack("<%df" % (IN_DIM * OUT_DIM), *w_values())


def base_model_proto(w_external=None):
    """Gemm(X[1,8], W[8,4], B[4]) -> Relu -> Y[1,4]. W as raw_data, or as external data
    with the given (location, offset, length) entries when w_external is a list of pairs."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.array(w_values(), dtype=np.float32).reshape(IN_DIM, OUT_DIM), "W")
    if w_external is not None:
        w.ClearField("raw_data")
        w.data_location = TensorProto.EXTERNAL
        for k, v in w_external:
            e = w.external_data.add()
            e.key, e.value = k, v
    b = helper.make_tensor("B", TensorProto.FLOAT, [OUT_DIM], [0.5, -0.25, 0.125, 0.0])
    s = helper.make_tensor("S", TensorProto.INT64, [2], [1, OUT_DIM])
    nodes = [
        helper.make_node("Gemm", ["X", "W", "B"], ["H"], name="gemm0", alpha=1.0, beta=1.0, transB=0),
        helper.make_node("Relu", ["H"], ["Y"], name="relu0"),
    ]
    graph = helper.make_graph(
        nodes, "gemm_relu",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, IN_DIM])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, OUT_DIM])],
        initializer=[w, b, s])
    m = helper.make_model(graph, producer_name="edgec-corpus", opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    return m


def base_model():
    return base_model_proto().SerializeToString()


def nested_if_model(depth):
    """Main graph + `depth` nested If subgraph levels (then_branch nests, else_branch is a leaf)."""
    from onnx import TensorProto, helper

    def leaf(name):
        return helper.make_graph([helper.make_node("Identity", ["X"], [name + "_y"])], name, [],
                                 [helper.make_tensor_value_info(name + "_y", TensorProto.FLOAT, [1])])

    g = leaf("level%d" % depth)
    for k in range(depth - 1, 0, -1):
        g = helper.make_graph(
            [helper.make_node("If", ["C"], ["level%d_y" % k], then_branch=g, else_branch=leaf("else%d" % k))],
            "level%d" % k, [], [helper.make_tensor_value_info("level%d_y" % k, TensorProto.FLOAT, [1])])
    main = helper.make_graph(
        [helper.make_node("If", ["C"], ["Y"], name="if0", then_branch=g, else_branch=leaf("else0"))],
        "nested_if",
        [helper.make_tensor_value_info("C", TensorProto.BOOL, []),
         helper.make_tensor_value_info("X", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1])])
    m = helper.make_model(main, producer_name="edgec-corpus", opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    return m.SerializeToString()


# --------------------------------------------------------------------------------------------
# the cases
# --------------------------------------------------------------------------------------------
class Case:
    """One corpus entry. `info_expect` is the exit code of `edgec info` when it differs from
    compress's (a model with NaN weights is described, but not compressed). `verify(path)`
    checks the claimed flaw directly, for check_corpus.py, where onnx 1.12 accepts the file."""

    def __init__(self, name, desc, data=None, folder=None, expect=2, alt=(), info_expect=None,
                 verify=None):
        self.name, self.desc, self.data, self.folder = name, desc, data, folder
        self.expect, self.alt = expect, tuple(alt)
        self.info_expect = expect if info_expect is None else info_expect
        self.verify = verify

    @property
    def path(self):
        return self.name + "/model.onnx" if self.folder else self.name + ".onnx"


def flat_cases():
    base = base_model()
    C = []

    def add(name, desc, data, expect=2):
        C.append(Case(name, desc, data=bytes(data), expect=expect))

    add("ok_base", "CONTROL: the valid Gemm+Relu base model every case is derived from", base, expect=0)
    add("ok_if_nested_8", "CONTROL: valid model with If subgraphs nested 8 deep (under the 32 limit)",
        nested_if_model(8), expect=0)

    # ---- whole-file garbage ----
    add("empty", "0-byte file", b"")
    for n, seed in ((1, 1), (16, 2), (256, 3), (4096, 4), (65536, 5)):
        add("random_%d" % n, "%d random bytes (random.Random(%d))" % (n, seed), random.Random(seed).randbytes(n))
    add("all_zeros_4096", "4096 zero bytes (field number 0)", bytes(4096))
    add("text_format", "protobuf text format instead of binary",
        b'ir_version: 8\nopset_import { domain: "" version: 13 }\ngraph { name: "g" }\n')
    add("gzip_compressed", "the base model gzip-compressed", gzip.compress(base, 9, mtime=0))
    add("trailing_garbage", "base model followed by one 0xff byte (tag varint cut by EOF)", base + b"\xff")
    add("no_graph", "well-formed protobuf, ModelProto without a graph",
        f_varint(M_IR, 8) + f_len(M_OPSET, f_len(1, "") + f_varint(2, 13)))

    # ---- truncations of the base model, each strictly inside a top-level field ----
    g = find(base, GRAPH)
    gemm = find(base, GEMM)
    alpha = find(base, GEMM + [(N_ATTR, 0), (A_F, 0)])
    wname = find(base, W + [(T_NAME, 0)])
    wraw = find(base, W + [(T_RAW, 0)])
    bfloat = find(base, B + [(T_FLOAT, 0)])
    out0 = find(base, GRAPH + [(G_OUTPUT, 0)])
    opset = find(base, [(M_OPSET, 0)])
    assert g[3] - g[2] == 3, "graph length prefix should be a 2-byte varint"
    assert wraw[3] - wraw[2] == 3, "W.raw_data length prefix should be a 2-byte varint"
    truncs = [
        ("after_first_tag", 1, "ir_version tag without its value"),
        ("graph_tag_only", g[2] + 1, "ModelProto.graph tag, no length"),
        ("mid_graph_length", g[2] + 2, "inside the 2-byte varint length of ModelProto.graph"),
        ("graph_start", g[3] + 1, "one byte into the graph payload"),
        ("mid_node", (gemm[2] + gemm[4]) // 2, "middle of the Gemm NodeProto"),
        ("mid_float_attr", alpha[3] + 2, "middle of the fixed32 value of Gemm's alpha"),
        ("mid_initializer_name", wname[3] + 1, "inside initializer W's name"),
        ("mid_raw_data_length", wraw[2] + 2, "inside the 2-byte varint length of W.raw_data"),
        ("mid_raw_data", wraw[3] + 64, "64 bytes into W.raw_data (128 bytes)"),
        ("mid_packed_float_data", bfloat[3] + 6, "inside B's packed float_data"),
        ("mid_graph_output", (out0[2] + out0[4]) // 2, "middle of the graph output ValueInfoProto"),
        ("mid_opset_import", opset[3] + 1, "inside ModelProto.opset_import"),
        ("half", len(base) // 2, "half of the file"),
        ("last_byte_missing", len(base) - 1, "everything but the last byte"),
    ]
    top = spans(base)
    for name, off, desc in truncs:
        assert any(s[2] < off < s[4] for s in top), "truncation %s at %d is on a field boundary" % (name, off)
        add("trunc_" + name, "base model truncated to %d of %d bytes: %s" % (off, len(base), desc), base[:off])

    # ---- wire types ----
    add("wt_graph_as_varint", "ModelProto.graph (field 7) encoded as a varint",
        replace_field(base, GRAPH, f_varint(M_GRAPH, 1)))
    add("wt_ir_version_as_bytes", "ModelProto.ir_version (field 1) encoded as length-delimited",
        replace_field(base, [(M_IR, 0)], f_len(M_IR, b"\x08")))
    add("wt_node_input_as_varint", "Gemm NodeProto.input[0] (string) encoded as a varint",
        replace_field(base, GEMM + [(N_INPUT, 0)], f_varint(N_INPUT, 5)))
    add("wt_dims_as_fixed64", "W TensorProto.dims[0] (int64) encoded as fixed64",
        replace_field(base, W + [(T_DIMS, 0)], tag(T_DIMS, I64) + struct.pack("<q", IN_DIM)))
    add("wt_data_type_as_fixed32", "W TensorProto.data_type encoded as fixed32",
        replace_field(base, W + [(T_DTYPE, 0)], tag(T_DTYPE, I32) + struct.pack("<i", 1)))
    add("wt_invalid_6", "a field with wire type 6 before the graph", tag(15, 6) + base)
    add("wt_invalid_7", "a field with wire type 7 before the graph", tag(15, 7) + base)
    add("wt_group_unterminated", "start-group (wire type 3) that is never closed", tag(15, SGROUP) + base)
    add("wt_stray_end_group", "end-group (wire type 4) without a start-group", tag(15, EGROUP) + base)
    add("tag_field_zero", "a field with number 0", b"\x00\x00" + base)
    add("tag_field_number_too_big", "a field number of 2^29 (max is 2^29-1)", f_varint(1 << 29, 0) + base)
    add("tag_overlong", "ir_version tag encoded as an 11-byte varint",
        replace_field(base, [(M_IR, 0)], overlong_varint((M_IR << 3) | VARINT, 11) + varint(8)))

    # ---- varints and length prefixes ----
    add("varint_overlong_value", "ir_version value encoded as an 11-byte varint",
        replace_field(base, [(M_IR, 0)], tag(M_IR, VARINT) + overlong_varint(8, 11)))
    add("varint_overlong_length", "ModelProto.graph length prefix as an 11-byte varint",
        base[:g[2]] + tag(M_GRAPH, LEN) + overlong_varint(g[4] - g[3], 11) + base[g[3]:])
    add("varint_unterminated", "base model + ir_version tag + 5 continuation bytes up to EOF",
        base + tag(M_IR, VARINT) + b"\xff" * 5)
    add("len_graph_past_eof", "ModelProto.graph length 1000 bytes past EOF",
        base[:g[2]] + tag(M_GRAPH, LEN) + varint(g[4] - g[3] + 1000) + base[g[3]:])
    add("len_raw_data_past_parent", "W.raw_data length runs past the end of its TensorProto",
        edit(base, W, lambda c: c.replace(tag(T_RAW, LEN) + varint(128), tag(T_RAW, LEN) + varint(1 << 20), 1)))
    add("len_huge_2pow63", "ModelProto.graph length 2^63-1 (allocation must be checked)",
        base[:g[2]] + tag(M_GRAPH, LEN) + varint((1 << 63) - 1) + base[g[3]:])
    add("len_huge_2pow64m1", "ModelProto.graph length 2^64-1 (-1 if read as signed)",
        base[:g[2]] + tag(M_GRAPH, LEN) + varint((1 << 64) - 1) + base[g[3]:])
    add("len_u32_wrap", "ModelProto.graph length 2^32 + the real length (right if truncated to 32 bits)",
        base[:g[2]] + tag(M_GRAPH, LEN) + varint((1 << 32) + g[4] - g[3]) + base[g[3]:])

    # ---- tensors ----
    def set_dims(dims, path=W):
        def fn(c):
            c = remove_fields(c, [], T_DIMS)
            return b"".join(f_varint(T_DIMS, d) for d in dims) + c
        return edit(base, path, fn)

    def set_raw(raw):
        return replace_field(base, W + [(T_RAW, 0)], f_len(T_RAW, raw))

    def set_dtype(dt):
        return replace_field(base, W + [(T_DTYPE, 0)], f_varint(T_DTYPE, dt))

    add("tensor_negative_dim", "initializer W with dims [-8, 4]", set_dims([-8, 4]))
    add("tensor_dims_product_overflow", "W dims [2^32, 2^32]: product overflows int64", set_dims([1 << 32, 1 << 32]))
    add("tensor_dims_int64max", "W dims [2^63-1, 2]: product overflows int64", set_dims([(1 << 63) - 1, 2]))
    add("tensor_bytes_overflow", "W dims [2^62]: element count fits int64, x4 bytes does not", set_dims([1 << 62]))
    add("tensor_huge_dims_small_data", "W dims [2^40] (4 TiB of float) with 128 bytes of raw_data",
        set_dims([1 << 40]))
    add("tensor_raw_data_short", "W [8,4] float with 124 bytes of raw_data (needs 128)", set_raw(w_bytes()[:124]))
    add("tensor_raw_data_long", "W [8,4] float with 132 bytes of raw_data (needs 128)", set_raw(w_bytes() + b"\0" * 4))
    add("tensor_float_data_short", "B [4] float with 3 float_data values",
        replace_field(base, B + [(T_FLOAT, 0)], f_len(T_FLOAT, struct.pack("<3f", 1, 2, 3))))
    add("tensor_float_data_long", "B [4] float with 5 float_data values",
        replace_field(base, B + [(T_FLOAT, 0)], f_len(T_FLOAT, struct.pack("<5f", 1, 2, 3, 4, 5))))
    add("tensor_int64_data_short", "initializer S [2] int64 with 1 int64_data value",
        replace_field(base, SHAPE + [(T_INT64, 0)], f_len(T_INT64, varint(1))))
    add("tensor_unknown_data_type_99", "W data_type 99", set_dtype(99))
    add("tensor_data_type_undefined", "W data_type 0 (UNDEFINED) with raw_data", set_dtype(0))
    add("tensor_rank_40", "W with 40 dims of 1 (rank limit is 32) and 4 bytes of raw_data",
        edit(set_dims([1] * 40), W + [(T_RAW, 0)], lambda c: c[:4]))
    add("tensor_packed_dims_bad_varint", "W dims as a packed field whose last varint is cut",
        edit(base, W, lambda c: f_len(T_DIMS, varint(IN_DIM) + b"\x84") + remove_fields(c, [], T_DIMS)))
    add("tensor_uint64_data_for_uint8", "S as UINT8 [2] with its values in uint64_data (a field for UINT32/UINT64)",
        edit(base, SHAPE, lambda c: remove_fields(remove_fields(c, [], T_DTYPE), [], T_INT64)
             + f_varint(T_DTYPE, 2) + f_len(11, varint(1) + varint(4))))
    add("tensor_float_data_for_double", "S as DOUBLE [2] with its values in float_data (8 bytes short)",
        edit(base, SHAPE, lambda c: remove_fields(remove_fields(c, [], T_DTYPE), [], T_INT64)
             + f_varint(T_DTYPE, 11) + f_len(T_FLOAT, struct.pack("<2f", 1, 4))))
    add("tensor_packed_float_bad_length", "B packed float_data of 15 bytes (not a multiple of 4)",
        replace_field(base, B + [(T_FLOAT, 0)], f_len(T_FLOAT, struct.pack("<4f", 1, 2, 3, 4)[:15])))

    # ---- nesting ----
    add("if_nested_40", "If subgraphs nested 40 deep (limit is 32)", nested_if_model(40))

    leaf_type = f_len(TP_TENSOR, f_varint(TPT_ELEM, 1))
    bomb_type = nest(leaf_type, [SEQ_ELEM, TP_SEQUENCE], 2 * 100000)   # 100000 TypeProtos
    vi = f_len(VI_NAME, "X") + f_len(VI_TYPE, bomb_type)
    add("bomb_typeproto_sequence", "graph input type: 100000 nested TypeProto.sequence_type (C stack)",
        edit(base, GRAPH, lambda c: remove_fields(c, [], G_INPUT) + f_len(G_INPUT, vi)))

    bomb_graph = nest(f_len(G_NAME, "g"), [A_G, N_ATTR, G_NODE], 3 * 100000)  # 100000 GraphProtos
    add("bomb_attribute_graph", "100000 nested GraphProto > NodeProto > AttributeProto.g (C stack)",
        f_varint(M_IR, 8) + f_len(M_GRAPH, bomb_graph) + f_len(M_OPSET, f_len(1, "") + f_varint(2, 13)))
    return C


# ---- external data: one folder per case; W (128 bytes) lives outside model.onnx ----
OUTSIDE = "outside.bin"          # OUTDIR/outside.bin: a perfectly good copy of W's bytes
OUTSIDE_DIR = "outside_dir"      # OUTDIR/outside_dir/weights.bin: ditto


def ext_cases():
    wb = w_bytes()
    C = []

    def add(name, desc, entries, files=(), expect=2, alt=()):
        """entries: external_data (key, value) pairs for W. files: (relpath, kind, arg) to create
        in the case folder: kind 'file' (bytes), 'symlink' (target), 'fifo', 'dir'."""
        C.append(Case(name, desc, folder=(entries, files), expect=expect, alt=alt))

    good = ("weights.bin", "file", wb)
    add("ok_external", "CONTROL: W in weights.bin at offset 16 (16 bytes of padding first)",
        [("location", "weights.bin"), ("offset", "16"), ("length", "128")],
        [("weights.bin", "file", b"\x7f" * 16 + wb)], expect=0)
    add("ok_external_subdir", "CONTROL: W in data/w.bin, no offset/length keys",
        [("location", "data/w.bin")], [("data", "dir", None), ("data/w.bin", "file", wb)], expect=0)

    add("ext_abs_etc_passwd", "location '/etc/passwd' (absolute)", [("location", "/etc/passwd")],
        alt=["/etc/passwd"])
    add("ext_abs_dev_zero", "location '/dev/zero' (absolute; would 'work' if followed)",
        [("location", "/dev/zero"), ("offset", "0"), ("length", "128")], alt=["/dev/zero"])
    add("ext_dotdot", "location '../outside.bin' (escapes the folder; target is valid data)",
        [("location", "../" + OUTSIDE)], alt=[OUTSIDE])
    add("ext_dotdot_nested", "location 'sub/../../outside.bin' (escapes after normalisation)",
        [("location", "sub/../../" + OUTSIDE)], [("sub", "dir", None)], alt=[OUTSIDE])
    add("ext_symlink_outside", "weights.bin is a symlink to ../outside.bin (valid data outside)",
        [("location", "weights.bin")], [("weights.bin", "symlink", "../" + OUTSIDE)], alt=["weights.bin"])
    add("ext_symlink_dev_zero", "weights.bin is a symlink to /dev/zero",
        [("location", "weights.bin"), ("length", "128")], [("weights.bin", "symlink", "/dev/zero")],
        alt=["weights.bin"])
    add("ext_symlinked_dir_outside", "location 'sub/weights.bin' where sub -> ../outside_dir",
        [("location", "sub/weights.bin")], [("sub", "symlink", "../" + OUTSIDE_DIR)], alt=["weights.bin"])
    add("ext_symlink_loop", "weights.bin is a symlink to itself (ELOOP)",
        [("location", "weights.bin")], [("weights.bin", "symlink", "weights.bin")], alt=["weights.bin"])
    add("ext_fifo", "weights.bin is a FIFO with no writer (opening it blocks: must not hang)",
        [("location", "weights.bin"), ("length", "128")], [("weights.bin", "fifo", None)], alt=["weights.bin"])
    add("ext_directory", "weights.bin is a directory", [("location", "weights.bin")],
        [("weights.bin", "dir", None)], alt=["weights.bin"])
    add("ext_empty_location", "location '' (the model's folder itself)", [("location", "")], [good])
    add("ext_missing_file", "location 'weights.bin' does not exist (invalid model: exit 2, not 4)",
        [("location", "weights.bin")], alt=["weights.bin"])
    add("ext_past_eof", "offset 64 + length 128 past the end of a 128-byte file",
        [("location", "weights.bin"), ("offset", "64"), ("length", "128")], [good], alt=["weights.bin"])
    add("ext_file_too_short", "no offset/length; weights.bin holds 64 of the 128 bytes W needs",
        [("location", "weights.bin")], [("weights.bin", "file", wb[:64])], alt=["weights.bin"])
    add("ext_length_mismatch", "length '64' but W [8,4] float needs 128 (file holds 128)",
        [("location", "weights.bin"), ("length", "64")], [good], alt=["weights.bin"])
    add("ext_negative_offset", "offset '-16'",
        [("location", "weights.bin"), ("offset", "-16"), ("length", "128")], [good], alt=["weights.bin"])
    add("ext_negative_length", "length '-128'",
        [("location", "weights.bin"), ("length", "-128")], [good], alt=["weights.bin"])
    add("ext_nonnumeric_offset", "offset 'abc'",
        [("location", "weights.bin"), ("offset", "abc")], [good], alt=["weights.bin"])
    add("ext_offset_trailing_garbage", "offset '0x' (strtoll without an end check reads 0)",
        [("location", "weights.bin"), ("offset", "0x")], [good], alt=["weights.bin"])
    add("ext_offset_overflow", "offset 2^63-1 with length 128 (offset + length overflows)",
        [("location", "weights.bin"), ("offset", str((1 << 63) - 1)), ("length", "128")], [good],
        alt=["weights.bin"])
    add("ext_offset_out_of_range", "offset '99999999999999999999999' (does not fit int64)",
        [("location", "weights.bin"), ("offset", "9" * 23)], [good], alt=["weights.bin"])
    add("ext_duplicate_location", "two 'location' keys, both naming valid files inside the folder",
        [("location", "weights.bin"), ("location", "other.bin")], [good, ("other.bin", "file", wb)],
        alt=["weights.bin", "other.bin"])
    add("ext_duplicate_offset", "two 'offset' keys ('0' and '16')",
        [("location", "weights.bin"), ("offset", "0"), ("offset", "16")], [("weights.bin", "file", wb + wb[:16])],
        alt=["weights.bin"])
    add("ext_no_location", "data_location EXTERNAL with offset/length but no 'location'",
        [("offset", "0"), ("length", "128")], [good])
    add("ext_location_embedded_nul", "location 'weights.bin\\0../../etc/passwd' (NUL inside the string)",
        [("location", "weights.bin\0../../etc/passwd")], [good], alt=["weights.bin"])

    # added with the fuzzing work: more controls, and escapes from Constant nodes and subgraphs
    def loc_is(pred):
        def check(p):
            import onnx
            m = onnx.load(p, load_external_data=False)
            locs = [e.value for t in _all_tensors(m.graph) for e in t.external_data if e.key == "location"]
            return bool(locs) and all(pred(x) for x in locs)
        return check

    def vadd(name, desc, entries, files=(), expect=2, alt=(), verify=None, **opts):
        C.append(Case(name, desc, folder=(entries, files, opts), expect=expect, alt=alt, verify=verify))

    vadd("ok_external_via_symlinked_folder", "CONTROL: the case folder is a symlink to the real folder holding "
         "model.onnx and weights.bin", [("location", "weights.bin")], [good], expect=0, via_symlink=True)
    vadd("ok_external_dot_slash", "CONTROL: location './weights.bin'", [("location", "./weights.bin")], [good],
         expect=0)
    vadd("ext_dotdot_only", "location '..' (the parent folder)", [("location", "..")], [good],
         verify=loc_is(lambda x: x == ".."))
    vadd("ext_abs_dotdot", "location '/../outside.bin' (absolute)", [("location", "/../" + OUTSIDE)],
         alt=["/../" + OUTSIDE], verify=loc_is(lambda x: x.startswith("/")))
    vadd("ext_offset_past_eof", "offset 1000 without length, file of 128 bytes",
         [("location", "weights.bin"), ("offset", "1000")], [good], alt=["weights.bin"],
         verify=loc_is(lambda x: x == "weights.bin"))
    vadd("ext_length_huge", "length 2^62 (file of 128 bytes)",
         [("location", "weights.bin"), ("length", str(1 << 62))], [good], alt=["weights.bin"],
         verify=loc_is(lambda x: x == "weights.bin"))
    vadd("ext_symlink_chain_outside", "weights.bin -> link2.bin -> ../outside.bin (two symlinks)",
         [("location", "weights.bin")], [("link2.bin", "symlink", "../" + OUTSIDE), ("weights.bin", "symlink", "link2.bin")],
         alt=["weights.bin"], verify=loc_is(lambda x: x == "weights.bin"))
    vadd("ext_symlinked_folder_dotdot", "the case folder is a symlink; location '../outside.bin' still escapes",
         [("location", "../" + OUTSIDE)], via_symlink=True, alt=[OUTSIDE], verify=loc_is(lambda x: x.startswith("../")))
    vadd("ext_constant_dotdot", "a Constant node's value tensor has location '../outside.bin' (valid bytes there)",
         [], model=_ext_constant_model("../" + OUTSIDE), alt=[OUTSIDE], verify=loc_is(lambda x: x.startswith("../")))
    vadd("ext_subgraph_dotdot", "an initializer inside an If branch has location '../outside.bin'",
         [], model=_ext_subgraph_model("../" + OUTSIDE), alt=[OUTSIDE], verify=loc_is(lambda x: x.startswith("../")))
    vadd("ext_subgraph_abs", "an initializer inside an If branch has location '/dev/zero'",
         [], model=_ext_subgraph_model("/dev/zero"), alt=["/dev/zero"], verify=loc_is(lambda x: x == "/dev/zero"))
    return C


def _all_tensors(g):
    """Every TensorProto of graph g: initializers, attribute tensors, subgraphs (recursively)."""
    out = list(g.initializer)
    for n in g.node:
        for a in n.attribute:
            if a.HasField("t"):
                out.append(a.t)
            if a.HasField("g"):
                out += _all_tensors(a.g)
    return out


def _external(t, loc, length):
    from onnx import TensorProto
    t.ClearField("float_data")
    t.ClearField("raw_data")
    t.data_location = TensorProto.EXTERNAL
    for k, v in (("location", loc), ("offset", "0"), ("length", str(length))):
        e = t.external_data.add()
        e.key, e.value = k, v
    return t


def _ext_constant_model(loc):
    """Base model whose B comes from a Constant node with 16 bytes of external data."""
    from onnx import TensorProto, helper
    m = base_model_proto()
    del m.graph.initializer[1]
    t = _external(helper.make_tensor("Bv", TensorProto.FLOAT, [OUT_DIM], [0.0] * OUT_DIM), loc, 16)
    m.graph.node.insert(0, helper.make_node("Constant", [], ["B"], name="constB", value=t))
    return m.SerializeToString()


def _ext_subgraph_model(loc):
    """Gemm then If; the then_branch adds an initializer held in external data."""
    from onnx import TensorProto, helper
    m = base_model_proto()
    g = m.graph
    tw = _external(helper.make_tensor("tw", TensorProto.FLOAT, [1, OUT_DIM], [0.0] * OUT_DIM), loc, 16)
    then_g = helper.make_graph([helper.make_node("Add", ["H", "tw"], ["t_y"], name="t_add")], "then", [],
                               [helper.make_tensor_value_info("t_y", TensorProto.FLOAT, [1, OUT_DIM])], initializer=[tw])
    else_g = helper.make_graph([helper.make_node("Identity", ["H"], ["e_y"], name="e_id")], "else", [],
                               [helper.make_tensor_value_info("e_y", TensorProto.FLOAT, [1, OUT_DIM])])
    del g.node[1]
    g.node.append(helper.make_node("If", ["cond"], ["Y"], name="if0", then_branch=then_g, else_branch=else_g))
    g.initializer.append(helper.make_tensor("cond", TensorProto.BOOL, [], [True]))
    return m.SerializeToString()


# ---- graph validity: every value defined once, every input defined, no cycle ----
def gemm_relu_model(nodes=None, inputs=None, outputs=None, extra_inits=(), drop_inits=()):
    """The base model's pieces, with nodes/inputs/outputs/initializers replaced as given."""
    from onnx import TensorProto, helper

    m = base_model_proto()
    g = m.graph
    if nodes is not None:
        del g.node[:]
        g.node.extend(nodes)
    if inputs is not None:
        del g.input[:]
        g.input.extend(helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, IN_DIM]) for n in inputs)
    if outputs is not None:
        del g.output[:]
        g.output.extend(helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, OUT_DIM]) for n in outputs)
    keep = [t for t in g.initializer if t.name not in drop_inits]
    del g.initializer[:]
    g.initializer.extend(keep + list(extra_inits))
    return m


def _model_of(path):
    import onnx
    return onnx.load(path, load_external_data=False)


def _producers(g):
    names = [o for n in g.node for o in n.output if o] + [t.name for t in g.initializer]
    return names


def graph_cases():
    from onnx import TensorProto, helper

    def node(op, ins, outs, name, **kw):
        return helper.make_node(op, ins, outs, name=name, **kw)

    gemm = node("Gemm", ["X", "W", "B"], ["H"], "gemm0", alpha=1.0, beta=1.0, transB=0)
    relu = node("Relu", ["H"], ["Y"], "relu0")
    C = []

    def add(name, desc, m, verify, alt=()):
        C.append(Case(name, desc, data=m.SerializeToString(), alt=alt,
                      verify=lambda p, v=verify: v(_model_of(p).graph)))

    add("graph_dup_node_output", "two nodes produce 'H' (gemm0 and dup0)",
        gemm_relu_model([gemm, node("Relu", ["X"], ["H"], "dup0"), relu]),
        lambda g: _producers(g).count("H") == 2, alt=["dup0", "gemm0"])
    add("graph_dup_initializer", "two initializers named 'W'",
        gemm_relu_model(extra_inits=[helper.make_tensor("W", TensorProto.FLOAT, [1], [0.0])]),
        lambda g: [t.name for t in g.initializer].count("W") == 2, alt=["W"])
    add("graph_node_writes_initializer", "node relu1 writes 'B', which is an initializer",
        gemm_relu_model([gemm, relu, node("Relu", ["Y"], ["B"], "relu1")]),
        lambda g: _producers(g).count("B") == 2, alt=["relu1", "B"])
    add("graph_node_writes_graph_input", "node relu0 writes 'X', the graph input",
        gemm_relu_model([gemm, relu, node("Relu", ["Y"], ["X"], "relu1")]),
        lambda g: "X" in _producers(g) and "X" in [i.name for i in g.input], alt=["relu1", "X"])
    add("graph_dup_graph_input", "graph input 'X' declared twice",
        gemm_relu_model(inputs=["X", "X"]), lambda g: [i.name for i in g.input].count("X") == 2, alt=["X"])
    add("graph_self_loop", "relu0 reads its own output 'Y'",
        gemm_relu_model([gemm, node("Relu", ["Y"], ["Y"], "relu0")]),
        lambda g: any(set(n.input) & set(n.output) for n in g.node), alt=["relu0"])
    add("graph_cycle_two", "gemm0 reads relu0's output and relu0 reads gemm0's (cycle of 2)",
        gemm_relu_model([node("Gemm", ["Y", "W", "B"], ["H"], "gemm0"), node("Relu", ["H"], ["Y"], "relu0")],
                        outputs=["Y"]),
        lambda g: True, alt=["gemm0", "relu0"])
    add("graph_cycle_three", "three Relu nodes in a ring feeding a Gemm (cycle of 3)",
        gemm_relu_model([node("Relu", ["c"], ["a"], "ra"), node("Relu", ["a"], ["b"], "rb"),
                         node("Relu", ["b"], ["c"], "rc"), node("Gemm", ["X", "W", "B"], ["H"], "gemm0"),
                         node("Add", ["H", "c"], ["Y"], "add0")]),
        lambda g: True, alt=["ra", "rb", "rc"])
    add("graph_undefined_input", "gemm0 reads 'X2', which nothing defines",
        gemm_relu_model([node("Gemm", ["X2", "W", "B"], ["H"], "gemm0"), relu]),
        lambda g: "X2" not in _producers(g) + [i.name for i in g.input], alt=["gemm0", "X2"])
    add("graph_undefined_weight", "gemm0 reads initializer 'W' that was removed",
        gemm_relu_model(drop_inits=["W"]),
        lambda g: "W" not in _producers(g), alt=["gemm0", "W"])
    add("graph_undefined_output", "graph output 'Z' is produced by no node",
        gemm_relu_model(outputs=["Z"]), lambda g: "Z" not in _producers(g), alt=["Z"])
    add("graph_no_op_type", "node 'relu0' has an empty op_type",
        gemm_relu_model([gemm, node("", ["H"], ["Y"], "relu0")]),
        lambda g: any(not n.op_type for n in g.node), alt=["relu0"])

    def if_model(then_nodes, then_out):
        then_g = helper.make_graph(then_nodes, "then", [],
                                   [helper.make_tensor_value_info(then_out, TensorProto.FLOAT, [1, OUT_DIM])])
        else_g = helper.make_graph([node("Identity", ["H"], ["e_y"], "else_id")], "else", [],
                                   [helper.make_tensor_value_info("e_y", TensorProto.FLOAT, [1, OUT_DIM])])
        return gemm_relu_model(
            [gemm, node("If", ["cond"], ["Y"], "if0", then_branch=then_g, else_branch=else_g)],
            extra_inits=[helper.make_tensor("cond", TensorProto.BOOL, [], [True])])

    def sub(g):
        return [a.g for n in g.node for a in n.attribute if a.name == "then_branch"][0]

    add("subgraph_undefined_input", "then_branch of if0 reads 'nowhere', defined neither inside nor outside",
        if_model([node("Relu", ["nowhere"], ["t_y"], "t_relu")], "t_y"),
        lambda g: "nowhere" not in _producers(g) + _producers(sub(g)), alt=["t_relu", "nowhere"])
    add("subgraph_cycle", "then_branch of if0 holds a cycle of two nodes",
        if_model([node("Add", ["H", "t_b"], ["t_a"], "t_add"), node("Relu", ["t_a"], ["t_b"], "t_relu")], "t_b"),
        lambda g: len(sub(g).node) == 2, alt=["t_add", "t_relu"])
    add("subgraph_dup_output", "two nodes of then_branch produce 't_y'",
        if_model([node("Relu", ["H"], ["t_y"], "t_r1"), node("Relu", ["H"], ["t_y"], "t_r2")], "t_y"),
        lambda g: _producers(sub(g)).count("t_y") == 2, alt=["t_r1", "t_r2"])
    return C


# ---- non-finite weights: refused by compress (exit 2, naming the tensor), described by info ----
def nonfinite_cases():
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    base = base_model()
    C = []

    def add(name, desc, data, tensor, check, folder=None):
        C.append(Case(name, desc, data=bytes(data) if data is not None else None, folder=folder,
                      info_expect=0, alt=[tensor], verify=check))

    def w_with(values):
        raw = struct.pack("<%df" % len(values), *values)
        return replace_field(base, W + [(T_RAW, 0)], f_len(T_RAW, raw))

    def w_has(pred):
        def check(p):
            m = _model_of(p)
            w = [t for t in m.graph.initializer if t.name == "W"][0]
            if w.data_location == TensorProto.EXTERNAL:
                import onnx
                m = onnx.load(p)
                w = [t for t in m.graph.initializer if t.name == "W"][0]
            return bool(pred(numpy_helper.to_array(w)))
        return check

    wv = w_values()
    nan_bits = struct.unpack("<f", struct.pack("<I", 0x7fc00000))[0]
    add("nonfinite_w_nan", "W[5] is NaN (raw_data)", w_with(wv[:5] + [nan_bits] + wv[6:]), "W",
        w_has(lambda a: np.isnan(a).sum() == 1))
    add("nonfinite_w_posinf", "W[0] is +Inf (raw_data)", w_with([float("inf")] + wv[1:]), "W",
        w_has(lambda a: np.isposinf(a).sum() == 1))
    add("nonfinite_w_neginf", "W[31] is -Inf (raw_data)", w_with(wv[:31] + [float("-inf")]), "W",
        w_has(lambda a: np.isneginf(a).sum() == 1))
    snan = bytearray(w_bytes())
    snan[8:12] = struct.pack("<I", 0x7f800001)   # signalling NaN with the smallest payload
    add("nonfinite_w_snan", "W[2] is a signalling NaN (0x7f800001)",
        replace_field(base, W + [(T_RAW, 0)], f_len(T_RAW, bytes(snan))), "W",
        w_has(lambda a: np.isnan(a).sum() == 1))
    add("nonfinite_b_float_data", "B (float_data) holds NaN",
        replace_field(base, B + [(T_FLOAT, 0)], f_len(T_FLOAT, struct.pack("<4f", 0.5, float("nan"), 0.1, 0))),
        "B", lambda p: bool(np.isnan(numpy_helper.to_array(_model_of(p).graph.initializer[1])).any()))

    def with_extra(t):
        m = base_model_proto()
        m.graph.initializer.append(t)
        return m.SerializeToString()

    def init_nonfinite(name, dtype_check=None):
        def check(p):
            t = [x for x in _model_of(p).graph.initializer if x.name == name][0]
            return dtype_check(t) if dtype_check else not np.isfinite(numpy_helper.to_array(t).astype(np.float64)).all()
        return check

    add("nonfinite_float16_nan", "unused FLOAT16 initializer 'H16' holds NaN (0x7e00)",
        with_extra(helper.make_tensor("H16", TensorProto.FLOAT16, [2], struct.pack("<2H", 0x3c00, 0x7e00), raw=True)), "H16",
        init_nonfinite("H16"))
    add("nonfinite_float16_inf", "unused FLOAT16 initializer 'H16' holds -Inf (0xfc00)",
        with_extra(helper.make_tensor("H16", TensorProto.FLOAT16, [2], struct.pack("<2H", 0xfc00, 0x3c00), raw=True)), "H16",
        init_nonfinite("H16"))
    bf = helper.make_tensor("BF", TensorProto.BFLOAT16, [2], struct.pack("<2H", 0x3f80, 0x7f80), raw=True)
    add("nonfinite_bfloat16_inf", "unused BFLOAT16 initializer 'BF' holds +Inf (0x7f80)", with_extra(bf), "BF",
        init_nonfinite("BF", lambda t: t.raw_data[2:] == b"\x80\x7f"))
    add("nonfinite_double_nan", "unused DOUBLE initializer 'D' holds NaN",
        with_extra(helper.make_tensor("D", TensorProto.DOUBLE, [2], [1.0, float("nan")])), "D",
        init_nonfinite("D"))
    c64 = helper.make_tensor("Z", TensorProto.COMPLEX64, [2], [complex(1, 0), complex(0, float("inf"))])
    add("nonfinite_complex64_inf", "unused COMPLEX64 initializer 'Z' has an infinite imaginary part",
        with_extra(c64), "Z", lambda p: not all(map(np.isfinite, [x for x in _model_of(p).graph.initializer if x.name == "Z"][0].float_data)))

    def const_model(cnode):
        m = base_model_proto()
        g = m.graph
        del g.initializer[1]   # B comes from the Constant node instead
        g.node.insert(0, cnode)
        return m.SerializeToString()

    add("nonfinite_constant_tensor", "Constant node 'constB' (value tensor) holds +Inf",
        const_model(helper.make_node("Constant", [], ["B"], name="constB",
                                     value=helper.make_tensor("Bv", TensorProto.FLOAT, [4], [0, float("inf"), 0, 0]))),
        "constB", lambda p: not np.isfinite(numpy_helper.to_array(_model_of(p).graph.node[0].attribute[0].t)).all())
    add("nonfinite_constant_value_floats", "Constant node 'constB' (value_floats) holds NaN",
        const_model(helper.make_node("Constant", [], ["B"], name="constB", value_floats=[0, 0, float("nan"), 0])),
        "constB", lambda p: not np.isfinite(list(_model_of(p).graph.node[0].attribute[0].floats)).all())

    then_c = helper.make_node("Constant", [], ["t_w"], name="t_const",
                              value=helper.make_tensor("t_wv", TensorProto.FLOAT, [1, OUT_DIM], [1, 2, float("nan"), 4]))
    then_g = helper.make_graph([then_c, helper.make_node("Add", ["H", "t_w"], ["t_y"], name="t_add")], "then", [],
                               [helper.make_tensor_value_info("t_y", TensorProto.FLOAT, [1, OUT_DIM])])
    else_g = helper.make_graph([helper.make_node("Identity", ["H"], ["e_y"], name="e_id")], "else", [],
                               [helper.make_tensor_value_info("e_y", TensorProto.FLOAT, [1, OUT_DIM])])
    sm = gemm_relu_model(
        [helper.make_node("Gemm", ["X", "W", "B"], ["H"], name="gemm0"),
         helper.make_node("If", ["cond"], ["Y"], name="if0", then_branch=then_g, else_branch=else_g)],
        extra_inits=[helper.make_tensor("cond", TensorProto.BOOL, [], [True])])
    add("nonfinite_subgraph_constant", "a Constant in If then_branch holds NaN (weights in subgraphs)",
        sm.SerializeToString(), "t_w",
        lambda p: not np.isfinite(numpy_helper.to_array(
            [a for a in _model_of(p).graph.node[1].attribute if a.name == "then_branch"][0].g.node[0].attribute[0].t)).all())

    sp = helper.make_sparse_tensor(helper.make_tensor("SP", TensorProto.FLOAT, [2], [1.0, float("-inf")]),
                                   helper.make_tensor("SP_i", TensorProto.INT64, [2], [0, 5]), [2, 4])
    m = base_model_proto()
    m.graph.sparse_initializer.append(sp)
    add("nonfinite_sparse_values", "sparse initializer 'SP' has -Inf among its values", m.SerializeToString(), "SP",
        lambda p: not np.isfinite(list(_model_of(p).graph.sparse_initializer[0].values.float_data)).all())

    bad = struct.pack("<32f", *(wv[:7] + [float("nan")] + wv[8:]))
    C.append(Case("nonfinite_external", "W in external data weights.bin holds NaN",
                  folder=([("location", "weights.bin")], [("weights.bin", "file", bad)]),
                  info_expect=0, alt=["W"], verify=w_has(lambda a: np.isnan(a).sum() == 1)))
    C.append(Case("ok_finite_extremes", "CONTROL: W holds FLT_MAX, -FLT_MAX, denormals and -0.0 (all finite)",
                  data=w_with([3.4028234663852886e38, -3.4028234663852886e38, 1e-45, -0.0] + wv[4:]), expect=0))
    return C


# ---- limits, each at the limit (CONTROL) and one past it ----
def limit_cases():
    from onnx import TensorProto, helper

    base = base_model()
    C = []

    def add(name, desc, data, expect=2, verify=None):
        C.append(Case(name, desc, data=bytes(data), expect=expect, verify=verify))

    def with_rank(rank):
        m = base_model_proto()
        m.graph.initializer.append(helper.make_tensor("R", TensorProto.FLOAT, [1] * rank, [0.5]))
        return m.SerializeToString()

    def vi_rank(rank):
        m = base_model_proto()
        m.graph.value_info.append(helper.make_tensor_value_info("unused_v", TensorProto.FLOAT, [1] * rank))
        return m.SerializeToString()

    def rank_of(name):
        return lambda p: [len(t.dims) for t in _model_of(p).graph.initializer if t.name == name][0]

    add("ok_limit_rank_32", "CONTROL: unused initializer R of rank 32 (the limit)", with_rank(32), expect=0)
    add("limit_rank_33", "unused initializer R of rank 33 (one past the limit of 32)", with_rank(33),
        verify=lambda p: rank_of("R")(p) == 33)
    add("ok_limit_value_info_rank_32", "CONTROL: value_info of rank 32", vi_rank(32), expect=0)
    add("limit_value_info_rank_33", "value_info of rank 33 (one past the limit)", vi_rank(33),
        verify=lambda p: len(_model_of(p).graph.value_info[0].type.tensor_type.shape.dim) == 33)
    add("ok_limit_if_nested_32", "CONTROL: If subgraphs nested 32 deep (the limit)", nested_if_model(32), expect=0)
    add("limit_if_nested_33", "If subgraphs nested 33 deep (one past the limit)", nested_if_model(33))

    def proto_depth(k, shape):
        # ModelProto (depth 0) > graph (1) > value_info (2) > TypeProto (3), then k
        # sequence levels of 2 messages each, then the tensor type (4 + 2k) and its shape.
        tt = f_varint(TPT_ELEM, 1) + (f_len(2, b"") if shape else b"")
        leaf = f_len(TP_TENSOR, tt)
        t = nest(leaf, [SEQ_ELEM, TP_SEQUENCE], 2 * k)
        vi = f_len(VI_NAME, "seq_info") + f_len(VI_TYPE, t)
        return edit(base, GRAPH, lambda c: c + f_len(13, vi))

    add("ok_limit_proto_depth_160", "CONTROL: value_info type nested 160 messages deep (the limit)",
        proto_depth(78, False), expect=0)
    add("limit_proto_depth_161", "value_info type nested 161 messages deep (one past the limit)",
        proto_depth(78, True))

    def set_w_dims(dims, dtype=None):
        def fn(c):
            c = remove_fields(c, [], T_DIMS)
            if dtype is not None:
                c = remove_fields(c, [], T_DTYPE) + f_varint(T_DTYPE, dtype)
            return b"".join(f_varint(T_DIMS, d) for d in dims) + c
        return edit(base, W, fn)

    add("limit_elements_one_past", "W dims [33] with 32 floats of raw_data (one element more than present)",
        set_w_dims([33]))
    add("limit_elements_int64max", "W UINT8 dims [7, 1317624576693539401]: exactly 2^63-1 elements, 128 bytes present",
        set_w_dims([7, 1317624576693539401], dtype=2))
    add("limit_elements_2pow63", "W UINT8 dims [2, 2^62]: 2^63 elements, one past int64",
        set_w_dims([2, 1 << 62], dtype=2))
    add("limit_string_count_one_past", "STRING initializer with dims [3] and 2 strings",
        with_extra_string())
    sp_ok = helper.make_sparse_tensor(helper.make_tensor("SP", TensorProto.FLOAT, [2], [1.0, 2.0]),
                                      helper.make_tensor("SP_i", TensorProto.INT64, [2], [0, 7]), [2, 4])
    sp_bad = helper.make_sparse_tensor(helper.make_tensor("SP", TensorProto.FLOAT, [2], [1.0, 2.0]),
                                       helper.make_tensor("SP_i", TensorProto.INT64, [2], [0, 8]), [2, 4])
    for nm, sp, exp, d in (("ok_limit_sparse_index_7", sp_ok, 0, "CONTROL: sparse initializer [2,4] with last index 7 (the limit)"),
                           ("limit_sparse_index_8", sp_bad, 2, "sparse initializer [2,4] with index 8 (one past the end)")):
        m = base_model_proto()
        m.graph.sparse_initializer.append(sp)
        add(nm, d, m.SerializeToString(), expect=exp,
            verify=None if exp == 0 else lambda p: list(_model_of(p).graph.sparse_initializer[0].indices.int64_data) == [0, 8])
    return C


def with_extra_string():
    from onnx import TensorProto, helper
    m = base_model_proto()
    t = helper.make_tensor("STR", TensorProto.STRING, [2], [b"a", b"b"])
    t.dims[0] = 3
    m.graph.initializer.append(t)
    return m.SerializeToString()


# ---- truncations and byte flips of the real sample models (models/*.onnx) ----
MODELS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "models")


def _raw_spans(buf):
    """(start, end) of every initializer's raw_data payload: flipping those bytes only
    changes a weight, so flips are drawn from the other (structural) bytes."""
    g = find(buf, GRAPH)
    out = []
    for sp in spans(buf, g[3], g[4]):
        if sp[0] == G_INIT:
            out += [(x[3], x[4]) for x in spans(buf, sp[3], sp[4]) if x[0] == T_RAW]
    return out


def _protobuf_refuses(data):
    import onnx
    try:
        onnx.ModelProto.FromString(bytes(data))
    except Exception:  # noqa: BLE001
        return True
    return False


def real_model_cases():
    C = []
    for short, fname in (("mlp", "digits_mlp.onnx"), ("cnn", "digits_cnn.onnx")):
        with open(os.path.join(MODELS, fname), "rb") as f:
            data = f.read()
        top = spans(data)
        rng = random.Random("trunc-" + short)
        made = 0
        while made < 10:
            off = rng.randrange(1, len(data))
            if not any(sp[2] < off < sp[4] for sp in top):
                continue
            C.append(Case("real_trunc_%s_%d" % (short, off),
                          "models/%s truncated to %d of %d bytes" % (fname, off, len(data)), data=data[:off]))
            made += 1
        raw = _raw_spans(data)
        structural = [i for i in range(len(data)) if not any(a <= i < b for a, b in raw)] if len(raw) < 64 else None
        rng = random.Random("flip-" + short)
        made = 0
        while made < 10:
            pos = rng.choice(structural)
            bit = 1 << rng.randrange(8)
            flipped = bytearray(data)
            flipped[pos] ^= bit
            # keep only flips that break the wire format (protobuf refuses them): a flip that
            # still parses may well be a valid model
            if not _protobuf_refuses(flipped):
                continue
            C.append(Case("real_flip_%s_%d_%02x" % (short, pos, bit),
                          "models/%s with byte %d xor 0x%02x (protobuf refuses it)" % (fname, pos, bit),
                          data=bytes(flipped)))
            made += 1
    return C


def all_cases():
    return flat_cases() + ext_cases() + graph_cases() + nonfinite_cases() + limit_cases() + \
        real_model_cases()


# --------------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------------
def sha256_file(p):
    with open(p, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def write_case(outdir, c):
    if not c.folder:
        with open(os.path.join(outdir, c.path), "wb") as f:
            f.write(c.data)
        return
    entries, files = c.folder[:2]
    opts = c.folder[2] if len(c.folder) > 2 else {}
    d = os.path.join(outdir, c.name)
    if opts.get("via_symlink"):
        # the case folder is a symlink to the real folder beside it
        os.mkdir(d + ".real")
        os.symlink(c.name + ".real", d)
    else:
        os.mkdir(d)
    with open(os.path.join(d, "model.onnx"), "wb") as f:
        f.write(opts["model"] if "model" in opts else base_model_proto(w_external=entries).SerializeToString())
    for rel, kind, arg in files:
        p = os.path.join(d, rel)
        if kind == "file":
            with open(p, "wb") as f:
                f.write(arg)
        elif kind == "symlink":
            os.symlink(arg, p)
        elif kind == "fifo":
            os.mkfifo(p)
        elif kind == "dir":
            os.mkdir(p)
        else:
            raise ValueError(kind)


def generate(outdir):
    if os.path.lexists(outdir):
        shutil.rmtree(outdir)
    os.makedirs(outdir)
    wb = w_bytes()
    with open(os.path.join(outdir, OUTSIDE), "wb") as f:
        f.write(wb)
    os.mkdir(os.path.join(outdir, OUTSIDE_DIR))
    with open(os.path.join(outdir, OUTSIDE_DIR, "weights.bin"), "wb") as f:
        f.write(wb)
    cases = all_cases()
    names = [c.name for c in cases]
    assert len(set(names)) == len(names), "duplicate case names"
    rows = []
    for c in cases:
        write_case(outdir, c)
        for field in (c.name, c.desc) + c.alt:
            assert "\t" not in field and "\n" not in field
        rows.append("\t".join([c.name, c.path, str(c.expect), str(c.info_expect), ",".join(c.alt) or "-",
                               sha256_file(os.path.join(outdir, c.path)), c.desc]))
    with open(os.path.join(outdir, "MANIFEST.tsv"), "w") as f:
        f.write("# name\tpath\texpected_exit\tinfo_exit\talt_names\tsha256\tdescription\n")
        f.write("\n".join(rows) + "\n")
    return cases


def readme_table():
    lines = ["| case | path | exit | what is wrong |", "| --- | --- | --- | --- |"]
    for c in all_cases():
        desc = c.desc.replace("|", "\\|")
        lines.append("| `%s` | `%s` | %d | %s |" % (c.name, c.path, c.expect, desc))
    return "\n".join(lines)


def main(argv):
    if len(argv) == 3 and argv[1] == "--valid":
        with open(argv[2], "wb") as f:
            f.write(base_model())
        return 0
    if len(argv) == 2 and argv[1] == "--readme":
        print(readme_table())
        return 0
    if len(argv) != 2 or argv[1].startswith("-"):
        sys.stderr.write(__doc__)
        return 1
    cases = generate(argv[1])
    bad = sum(1 for c in cases if c.expect != 0)
    print("make_corpus: %d cases (%d malformed, %d controls) in %s" % (len(cases), bad, len(cases) - bad, argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
