#!/usr/bin/python3
"""Self-check of make_corpus.py, independent of edgec (needs /usr/bin/python3 with python3-onnx).

usage: check_corpus.py SCRATCHDIR

- generates the corpus twice (into two different folders) and checks the bytes are identical;
- the CONTROL cases (expected exit 0) load with onnx (external data included) and pass
  onnx.checker; the base model runs-shape-checks through onnx.shape_inference;
- every malformed case is either refused by onnx (load, external-data load or checker) or, where
  onnx 1.12 is more lenient than edgec must be, the flaw the case claims is verified directly
  (wire structure, dims, file-system layout);
- tests/corpus/README.md lists every case with its expected exit code.
Prints one line per case and `corpus: N passed, M failed`; exits 1 on any failure.
"""
import hashlib
import os
import stat
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_corpus as mc  # noqa: E402

import onnx  # noqa: E402
from onnx import checker, shape_inference  # noqa: E402

failures = 0
passes = 0


def report(ok, name, why=""):
    global failures, passes
    if ok:
        passes += 1
        print("ok - %s%s" % (name, (" (" + why + ")") if why else ""))
    else:
        failures += 1
        print("not ok - %s: %s" % (name, why))


def onnx_verdict(path, folder):
    """None if onnx accepts the model (with its external data), else the reason it refuses."""
    try:
        m = onnx.load(path, load_external_data=False)
    except Exception as e:  # noqa: BLE001
        return "load: " + str(e).splitlines()[0][:80] if str(e) else "load: " + type(e).__name__
    if folder:
        d = os.path.dirname(path)
        for e in os.listdir(d):
            if stat.S_ISFIFO(os.lstat(os.path.join(d, e)).st_mode):
                return "not tried: onnx would block opening the FIFO"
    try:
        if folder:
            onnx.load_external_data_for_model(m, os.path.dirname(path))
        checker.check_model(m, full_check=True)
        if folder:
            checker.check_model(path)
    except Exception as e:  # noqa: BLE001
        return "check: " + (str(e).splitlines()[0][:80] if str(e) else type(e).__name__)
    for t in m.graph.initializer:
        try:
            a = onnx.numpy_helper.to_array(t)
            if a.size != _prod(t.dims):
                return "size mismatch"
        except Exception as e:  # noqa: BLE001
            return "to_array: " + str(e).splitlines()[0][:80]
    return None


def _prod(dims):
    n = 1
    for d in dims:
        n *= d
    return n


def top_fields(data):
    return mc.spans(data)


def init(data, i):
    """Wire fields of initializer i of the graph."""
    s = mc.find(data, mc.GRAPH + [(mc.G_INIT, i)])
    return data[s[3]:s[4]]


def dims_of(tensor_bytes):
    return [v if v < (1 << 63) else v - (1 << 64) for (f, wt, _, _, _, v) in mc.spans(tensor_bytes)
            if f == mc.T_DIMS and wt == mc.VARINT]


def raw_len(tensor_bytes):
    return [e - s for (f, wt, _, s, e, _) in mc.spans(tensor_bytes) if f == mc.T_RAW][0]


def depth_of_bomb(data, wrappers):
    """Count how many nested length-delimited levels follow the given field cycle."""
    depth, start, end, i = 0, 0, len(data), 0
    while True:
        fs = [s for s in mc.spans(data, start, end) if s[0] == wrappers[i % len(wrappers)] and s[1] == mc.LEN]
        if not fs:
            return depth
        start, end = fs[0][3], fs[0][4]
        depth += 1
        i += 1


def graph_depth(g):
    """1 + the deepest chain of GraphProto attributes (NodeProto.attribute.g) below g."""
    best = 0
    for (f, wt, _, vs, e, _) in mc.spans(g):
        if f == mc.G_NODE:
            for (f2, _, _, vs2, e2, _) in mc.spans(g, vs, e):
                if f2 == mc.N_ATTR:
                    for (f3, _, _, vs3, e3, _) in mc.spans(g, vs2, e2):
                        if f3 == mc.A_G:
                            best = max(best, graph_depth(g[vs3:e3]))
    return 1 + best


def wire_error(data):
    """Reason my strict wire decoder refuses the whole file (recursively through known messages), or None."""
    try:
        _walk(data, "model", 0)
    except mc.WireError as e:
        return str(e)
    except RecursionError:
        return "recursion"
    return None


# which length-delimited fields are sub-messages, per message type (enough for the base model)
MSG = {
    "model": {7: "graph", 8: "opset"},
    "graph": {1: "node", 5: "tensor", 11: "vi", 12: "vi", 13: "vi"},
    "node": {5: "attr"},
    "attr": {5: "tensor", 6: "graph"},
    "tensor": {13: "entry"},
    "vi": {2: "type"},
    "type": {1: "ttype", 4: "seq"},
    "ttype": {2: "shape"},
    "seq": {1: "type"},
    "shape": {1: "dim"},
    "dim": {}, "opset": {}, "entry": {},
}
# scalar fields with a required wire type (a mismatch is an error for protobuf-c)
SCALAR_WT = {
    "model": {1: 0}, "tensor": {2: 0, 8: 2, 9: 2}, "node": {1: 2, 2: 2, 3: 2, 4: 2},
}


def _walk(data, kind, depth):
    if depth > 2000:
        raise RecursionError
    for (f, wt, ts, vs, e, v) in mc.spans(data):
        if f > (1 << 29) - 1:
            raise mc.WireError("field number %d is above 2^29-1" % f)
        if kind == "tensor" and f == mc.T_DIMS and wt not in (mc.VARINT, mc.LEN):
            raise mc.WireError("tensor dims with wire type %d" % wt)
        want = SCALAR_WT.get(kind, {}).get(f)
        if want is not None and wt != want:
            raise mc.WireError("%s field %d has wire type %d" % (kind, f, wt))
        sub = MSG[kind].get(f)
        if sub:
            if wt != mc.LEN:
                raise mc.WireError("%s field %d (message) has wire type %d" % (kind, f, wt))
            _walk(data[vs:e], sub, depth + 1)
        if kind == "tensor" and f in (mc.T_DIMS, mc.T_INT64) and wt == mc.LEN:   # packed varints
            p = vs
            while p < e:
                _, p = mc.read_varint(data, p, e)
        if kind == "tensor" and f == mc.T_FLOAT and wt == mc.LEN and (e - vs) % 4:
            raise mc.WireError("packed float_data of %d bytes" % (e - vs))


def intent(c, outdir):
    """Direct check that case c has the flaw it claims (used where onnx 1.12 is lenient)."""
    p = os.path.join(outdir, c.path)
    d = os.path.dirname(p)
    data = open(p, "rb").read() if not stat.S_ISFIFO(os.lstat(p).st_mode) else b""
    n = c.name
    if c.verify:
        return c.verify(p)
    if c.folder:
        m = onnx.load(p, load_external_data=False)
        w = [t for t in m.graph.initializer if t.name == "W"][0]
        kv = [(e.key, e.value) for e in w.external_data]
        keys = [k for k, _ in kv]
        loc = dict(kv).get("location")
        wpath = os.path.join(d, "weights.bin")
        checks = {
            "ext_abs_etc_passwd": lambda: loc == "/etc/passwd",
            "ext_abs_dev_zero": lambda: loc == "/dev/zero",
            "ext_dotdot": lambda: loc.startswith("../") and os.path.isfile(os.path.join(d, loc)),
            "ext_dotdot_nested": lambda: ".." in loc and os.path.isfile(os.path.join(d, loc))
            and not os.path.realpath(os.path.join(d, loc)).startswith(os.path.realpath(d) + "/"),
            "ext_symlink_outside": lambda: os.path.islink(wpath)
            and not os.path.realpath(wpath).startswith(os.path.realpath(d) + "/")
            and os.path.getsize(wpath) == 128,
            "ext_symlink_dev_zero": lambda: os.path.realpath(wpath) == "/dev/zero",
            "ext_symlinked_dir_outside": lambda: os.path.islink(os.path.join(d, "sub"))
            and os.path.isfile(os.path.join(d, loc))
            and not os.path.realpath(os.path.join(d, loc)).startswith(os.path.realpath(d) + "/"),
            "ext_symlink_loop": lambda: os.path.islink(wpath) and os.readlink(wpath) == "weights.bin",
            "ext_fifo": lambda: stat.S_ISFIFO(os.lstat(wpath).st_mode),
            "ext_directory": lambda: os.path.isdir(wpath) and not os.path.islink(wpath),
            "ext_empty_location": lambda: loc == "",
            "ext_missing_file": lambda: not os.path.lexists(wpath),
            "ext_duplicate_location": lambda: keys.count("location") == 2
            and all(os.path.getsize(os.path.join(d, v)) == 128 for k, v in kv if k == "location"),
            "ext_duplicate_offset": lambda: keys.count("offset") == 2,
            "ext_no_location": lambda: "location" not in keys and w.data_location == onnx.TensorProto.EXTERNAL,
            "ext_location_embedded_nul": lambda: "\0" in loc and os.path.isfile(os.path.join(d, loc.split("\0")[0])),
            "ext_offset_trailing_garbage": lambda: dict(kv).get("offset") == "0x",
            "ext_nonnumeric_offset": lambda: dict(kv).get("offset") == "abc",
            "ext_negative_offset": lambda: dict(kv).get("offset", "").startswith("-"),
            "ext_negative_length": lambda: dict(kv).get("length", "").startswith("-"),
            "ext_offset_overflow": lambda: int(dict(kv)["offset"]) + int(dict(kv)["length"]) > (1 << 63) - 1,
            "ext_offset_out_of_range": lambda: int(dict(kv)["offset"]) > (1 << 63) - 1,
            "ext_length_mismatch": lambda: int(dict(kv)["length"]) != 128 and os.path.getsize(wpath) >= 128,
            "ext_past_eof": lambda: int(dict(kv).get("offset", 0)) + int(dict(kv).get("length", 0)) > os.path.getsize(wpath),
            "ext_file_too_short": lambda: os.path.getsize(wpath) < 128,
        }
        f = checks.get(n)
        return f() if f else None
    if n == "no_graph":
        return all(s[0] != mc.M_GRAPH for s in top_fields(data))
    if n in ("if_nested_40", "ok_limit_if_nested_32", "limit_if_nested_33"):
        g = mc.find(data, mc.GRAPH)
        return graph_depth(data[g[3]:g[4]]) - 1 == int(n.rsplit("_", 1)[1])
    if n in ("ok_limit_proto_depth_160", "limit_proto_depth_161"):
        # ModelProto 0 > graph 1 > value_info 2 > TypeProto 3, 2 levels per sequence, tensor, shape
        t = mc.find(data, mc.GRAPH + [(13, 0), (mc.VI_TYPE, 0)])
        chain = depth_of_bomb(data[t[3]:t[4]], [mc.TP_SEQUENCE, mc.SEQ_ELEM])
        inner = data[t[3]:t[4]]
        for _ in range(chain):
            s = [x for x in mc.spans(inner) if x[1] == mc.LEN][0]
            inner = inner[s[3]:s[4]]
        tt = [x for x in mc.spans(inner) if x[0] == mc.TP_TENSOR][0]
        has_shape = any(x[0] == 2 for x in mc.spans(inner, tt[3], tt[4]))
        return 3 + chain + 1 + (1 if has_shape else 0) == int(n.rsplit("_", 1)[1])
    if n == "bomb_typeproto_sequence":
        vi = mc.find(data, mc.GRAPH + [(mc.G_INPUT, 0), (mc.VI_TYPE, 0)])
        return depth_of_bomb(data[vi[3]:vi[4]], [mc.TP_SEQUENCE, mc.SEQ_ELEM]) // 2 + 1 >= 100000
    if n == "bomb_attribute_graph":
        g = mc.find(data, mc.GRAPH)
        return depth_of_bomb(data[g[3]:g[4]], [mc.G_NODE, mc.N_ATTR, mc.A_G]) // 3 + 1 >= 100000
    if n.startswith("tensor_"):
        t = init(data, 0)
        dims = dims_of(t)
        want = {
            "tensor_negative_dim": lambda: any(x < 0 for x in dims),
            "tensor_dims_product_overflow": lambda: _prod(dims) > (1 << 63) - 1,
            "tensor_dims_int64max": lambda: _prod(dims) > (1 << 63) - 1,
            "tensor_bytes_overflow": lambda: _prod(dims) <= (1 << 63) - 1 and _prod(dims) * 4 >= (1 << 64),
            "tensor_huge_dims_small_data": lambda: _prod(dims) * 4 > raw_len(t),
            "tensor_raw_data_short": lambda: raw_len(t) < _prod(dims) * 4,
            "tensor_raw_data_long": lambda: raw_len(t) > _prod(dims) * 4,
            "tensor_rank_40": lambda: len(dims) == 40,
            "tensor_unknown_data_type_99": lambda: [v for (f, _, _, _, _, v) in mc.spans(t) if f == mc.T_DTYPE] == [99],
            "tensor_data_type_undefined": lambda: [v for (f, _, _, _, _, v) in mc.spans(t) if f == mc.T_DTYPE] == [0],
            "tensor_uint64_data_for_uint8": lambda: [v for (f, _, _, _, _, v) in mc.spans(init(data, 2))
                                                     if f == mc.T_DTYPE] == [2]
            and any(f == 11 for (f, *_r) in mc.spans(init(data, 2))),
            "tensor_float_data_for_double": lambda: [v for (f, _, _, _, _, v) in mc.spans(init(data, 2))
                                                     if f == mc.T_DTYPE] == [11]
            and any(f == mc.T_FLOAT for (f, *_r) in mc.spans(init(data, 2))),
        }.get(n)
        return want() if want else None
    return None


def main(argv):
    if len(argv) != 2:
        sys.stderr.write(__doc__)
        return 1
    scratch = argv[1]
    a, b = os.path.join(scratch, "corpus_a"), os.path.join(scratch, "corpus_b")
    cases = mc.generate(a)
    mc.generate(b)
    ma = open(os.path.join(a, "MANIFEST.tsv")).read()
    mb = open(os.path.join(b, "MANIFEST.tsv")).read()
    report(ma == mb, "deterministic: two runs into different folders give identical manifests/sha256")
    bad = [c for c in cases if c.expect != 0]
    report(len(bad) >= 160, "at least 160 malformed cases", "%d" % len(bad))

    readme = open(os.path.join(HERE, "README.md")).read()
    missing = [c.name for c in cases if "| `%s` | `%s` | %d |" % (c.name, c.path, c.expect) not in readme]
    report(not missing, "README.md lists every case with path and exit code",
           "missing: " + ", ".join(missing) if missing else "")

    base = mc.base_model()
    m = onnx.load_from_string(base)
    try:
        checker.check_model(m, full_check=True)
        shape_inference.infer_shapes(m, strict_mode=True)
        report(True, "base model passes onnx.checker (full_check)")
    except Exception as e:  # noqa: BLE001
        report(False, "base model passes onnx.checker (full_check)", str(e))

    lenient = []
    for c in cases:
        p = os.path.join(a, c.path)
        verdict = onnx_verdict(p, bool(c.folder))
        if c.expect == 0:
            if verdict is not None and "Error parsing" in verdict and intent(c, a):
                # python protobuf stops at 100 nested messages; edgec's limit is 160
                report(True, c.name, "onnx refuses (python protobuf recursion limit 100); depth verified directly")
                continue
            report(verdict is None, c.name, "onnx accepts" if verdict is None else "onnx refuses: " + verdict)
            continue
        werr = None if c.folder else wire_error(open(p, "rb").read())
        try:
            ok = intent(c, a)
        except Exception as e:  # noqa: BLE001
            ok = False
            verdict = (verdict or "") + "; intent check raised " + repr(e)
        if c.folder and not ok:
            report(False, c.name, "the intended flaw could not be verified")
            continue
        if ok is False:
            report(False, c.name, "the intended flaw could not be verified")
            continue
        how = "flaw verified directly; " if ok else ""
        if c.folder:
            lenient.append(c.name) if verdict is None else None
            report(True, c.name, how + ("onnx 1.12 ACCEPTS it" if verdict is None
                                        else "onnx 1.12 fails it too: " + verdict))
        elif verdict is not None:
            report(True, c.name, how + "onnx refuses: " + verdict + ("; wire: " + werr if werr else ""))
        elif werr:
            lenient.append(c.name)
            report(True, c.name, how + "onnx 1.12 ACCEPTS it, but the wire format is invalid: " + werr)
        elif ok:
            lenient.append(c.name)
            report(True, c.name, how + "onnx 1.12 ACCEPTS it")
        else:
            report(False, c.name, "onnx accepts it and the flaw could not be verified")
    print("# onnx 1.12 accepts (edgec must still refuse): " + " ".join(lenient))
    print("corpus: %d passed, %d failed" % (passes, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
