#!/usr/bin/python3
"""Helpers for tests/interop/interp.sh (edgec's interpreter against ONNX Runtime).

    interp_util.py inputs MODEL SEED OUT.npz
        Seeded synthetic inputs for MODEL, the same arrays ort_run.js --seed SEED makes
        (ortlib.js syntheticInputs: mulberry32, symbolic dims -> 1, floats uniform in
        [-1, 1) on a 24-bit grid, integers in [0, 4), bools 0/1, one stream over the
        inputs in model order), written as .npz keyed by input name. Prints a one-line
        summary of the control (integer/bool) inputs, if any.

    interp_util.py compare ORT.json EDGEC.npz [--tol T]
        Compares every output of ort_run.js's JSON with edgec run's .npz (same names,
        dtypes and shapes). Float outputs: relative error = max |edgec - ort| divided by
        max |ort| (0 when both are all zeros; NaN/Inf must sit at the same places); other
        dtypes must be equal. Prints `worst REL` and one `NAME REL` per output; exit 0 when every output
        is within T (default 1e-4), 1 when not, 2 on a structural mismatch.

    interp_util.py top1 ORT.json DATA.npz EVAL.json
        ONNX Runtime's top-1 (argmax of the first output against DATA's `labels`) against
        `edgec eval --json`'s reference.top1 on the same data: exit 0 when the numbers of
        correct samples are equal, 1 when not.
"""

import base64
import json
import math
import sys

import numpy as np

M32 = 0xFFFFFFFF

ORT_DTYPES = {
    "float32": np.float32, "float64": np.float64, "float16": np.float16,
    "int8": np.int8, "int16": np.int16, "int32": np.int32, "int64": np.int64,
    "uint8": np.uint8, "uint16": np.uint16, "uint32": np.uint32, "uint64": np.uint64,
    "bool": np.bool_,
}


def mulberry32(seed):
    """ortlib.js mulberry32, in unsigned 32-bit arithmetic (JS's int32 wraps the same way)."""
    a = seed & M32

    def nxt():
        nonlocal a
        a = (a + 0x6D2B79F5) & M32
        t = a
        t = ((t ^ (t >> 15)) * (t | 1)) & M32
        t = (t ^ ((t + (((t ^ (t >> 7)) * (t | 61)) & M32)) & M32)) & M32
        return (t ^ (t >> 14)) & M32

    return nxt


def model_inputs(path):
    """(name, numpy dtype, dims) of the model's real inputs (not initializers), in order."""
    import onnx
    from onnx import TensorProto

    m = onnx.load(path, load_external_data=False)
    inits = {t.name for t in m.graph.initializer} | {s.values.name for s in m.graph.sparse_initializer}
    types = {TensorProto.FLOAT: np.float32, TensorProto.DOUBLE: np.float64, TensorProto.INT64: np.int64,
             TensorProto.INT32: np.int32, TensorProto.INT16: np.int16, TensorProto.INT8: np.int8,
             TensorProto.UINT8: np.uint8, TensorProto.UINT16: np.uint16, TensorProto.UINT32: np.uint32,
             TensorProto.UINT64: np.uint64, TensorProto.BOOL: np.bool_}
    out = []
    for v in m.graph.input:
        if v.name in inits:
            continue
        tt = v.type.tensor_type
        if tt.elem_type not in types:
            raise SystemExit("input %s: element type %d has no synthetic generator" % (v.name, tt.elem_type))
        dims = [d.dim_value if d.HasField("dim_value") and d.dim_value >= 0 else 1 for d in tt.shape.dim]
        out.append((v.name, types[tt.elem_type], dims))
    return out


def cmd_inputs(model, seed, out):
    rnd = mulberry32(int(seed))
    arrays = {}
    control = []
    for name, dt, dims in model_inputs(model):
        n = int(np.prod(dims)) if dims else 1
        if dt in (np.float32, np.float64):
            vals = [(rnd() >> 8) / 8388608 - 1 for _ in range(n)]
        elif dt is np.bool_:
            vals = [rnd() & 1 for _ in range(n)]
        else:
            vals = [rnd() & 3 for _ in range(n)]
        a = np.array(vals, dtype=dt).reshape(dims)
        arrays[name] = a
        if dt not in (np.float32, np.float64):
            control.append("%s=%s" % (name, a.tolist()))
    np.savez(out, **arrays)
    if control:
        print(" ".join(control))
    return 0


def ort_outputs(path):
    with open(path) as f:
        doc = json.load(f)
    res = []
    for o in doc["outputs"]:
        dt = ORT_DTYPES.get(o["dtype"])
        if dt is None:
            raise SystemExit("output %s: ONNX Runtime dtype %s not comparable" % (o["name"], o["dtype"]))
        a = np.frombuffer(base64.b64decode(o["data"]), dtype=dt).reshape(o["dims"])
        res.append((o["name"], a))
    return res


def rel_error(got, ref):
    """max |got - ref| / max |ref| over the finite values (NaN/Inf must match exactly).

    No absolute floor beyond "the reference is all zeros": some test models have tiny
    outputs (the randomly initialized MobileNetV2's logits are ~1e-9), and a floor such as
    1e-6 would let any error of their size pass."""
    g = got.astype(np.float64)
    r = ref.astype(np.float64)
    fin = np.isfinite(r)
    if not np.array_equal(fin, np.isfinite(g)) or not np.array_equal(g[~fin], r[~fin], equal_nan=True):
        return math.inf
    if not fin.any():
        return 0.0
    diff = float(np.max(np.abs(g[fin] - r[fin])))
    scale = float(np.max(np.abs(r[fin])))
    if scale == 0.0:
        return 0.0 if diff == 0.0 else math.inf
    return diff / scale


def cmd_compare(ort_json, edgec_npz, tol):
    ref = ort_outputs(ort_json)
    got = np.load(edgec_npz)
    worst = 0.0
    lines = []
    bad = False
    for name, r in ref:
        if name not in got.files:
            print("worst inf")
            print("%s missing from edgec's outputs (has: %s)" % (name, ", ".join(got.files) or "none"))
            return 2
        g = got[name]
        if g.dtype != r.dtype or g.shape != r.shape:
            print("worst inf")
            print("%s: edgec %s%s, ONNX Runtime %s%s" % (name, g.dtype, list(g.shape), r.dtype, list(r.shape)))
            return 2
        if np.issubdtype(r.dtype, np.floating):
            e = rel_error(g, r)
        else:
            n = int(np.count_nonzero(g != r))
            e = 0.0 if n == 0 else math.inf
        worst = max(worst, e)
        bad = bad or not e <= tol
        lines.append("%s %.3g" % (name, e))
    extra = sorted(set(got.files) - {n for n, _ in ref})
    if extra:
        print("worst inf")
        print("edgec wrote outputs ONNX Runtime does not have: %s" % ", ".join(extra))
        return 2
    print("worst %.3g" % worst)
    print("\n".join(lines))
    return 1 if bad else 0


def cmd_top1(ort_json, data, eval_json):
    logits = ort_outputs(ort_json)[0][1]
    labels = np.load(data)["labels"]
    n = labels.shape[0]
    if logits.ndim != 2 or logits.shape[0] != n:
        print("ONNX Runtime's first output %s does not match %d labels" % (list(logits.shape), n))
        return 2
    ort_correct = int(np.count_nonzero(np.argmax(logits, axis=1) == labels))
    with open(eval_json) as f:
        ev = json.load(f)
    top1 = ev["reference"]["top1"]
    samples = ev["samples"]
    if samples != n or top1 is None:
        print("edgec eval: samples %s, top1 %s (expected %d samples with labels)" % (samples, top1, n))
        return 2
    edgec_correct = round(top1 * n / 100)
    if abs(100.0 * edgec_correct / n - top1) > 1e-9:
        print("edgec eval top1 %r is not a whole number of samples out of %d" % (top1, n))
        return 2
    print("ONNX Runtime %d/%d (%.2f%%), edgec eval %d/%d (%.2f%%)"
          % (ort_correct, n, 100.0 * ort_correct / n, edgec_correct, n, top1))
    return 0 if ort_correct == edgec_correct else 1


def main(argv):
    if len(argv) >= 5 and argv[1] == "inputs":
        return cmd_inputs(argv[2], argv[3], argv[4])
    if len(argv) in (4, 6) and argv[1] == "compare":
        tol = 1e-4
        if len(argv) == 6:
            if argv[4] != "--tol":
                raise SystemExit(__doc__)
            tol = float(argv[5])
        return cmd_compare(argv[2], argv[3], tol)
    if len(argv) == 5 and argv[1] == "top1":
        return cmd_top1(argv[2], argv[3], argv[4])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
