#!/usr/bin/python3
"""Seed inputs for the fuzz harnesses, and the fixed model of the transform harness.

usage: make_seeds.py OUTDIR          write OUTDIR/<harness>/<seed> for every harness
       make_seeds.py --model FILE    write only transform_model.onnx (the fixed model)

Seeds are small valid inputs that show libFuzzer the formats' structure; tests/fuzz/run.sh
uses them to start a campaign, and the corpus saved in tests/fuzz/corpus/<harness>/ is a
minimized merge of seeds and what the campaigns found. Deterministic: the same bytes every run.
Needs /usr/bin/python3 with numpy and python3-onnx.
"""
import io
import os
import struct
import sys
import zipfile

import numpy as np
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "corpus"))
import make_corpus as mc  # noqa: E402


def model(nodes, inputs, outputs, inits=(), opset=13, ir=8, **kw):
    g = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(inits), **kw)
    m = helper.make_model(g, producer_name="edgec-fuzz-seed", opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = ir
    return m


def vi(name, dt=TensorProto.FLOAT, shape=(1, 4)):
    return helper.make_tensor_value_info(name, dt, list(shape) if shape is not None else None)


def transform_model():
    """Conv + BN + ReLU + depthwise Conv + residual Add + Flatten + Gemm + MatMul on a
    Constant + If whose branches hold Constant weights: the weight kinds passes must find."""
    rng = np.random.default_rng(0)

    def t(name, *shape, scale=0.5):
        return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name)

    inits = [
        t("Wc0", 4, 1, 3, 3), t("Bc0", 4, scale=0.1),
        numpy_helper.from_array(np.array([1.0, 0.9, 1.1, 0.8], np.float32), "bn_s"),
        numpy_helper.from_array(np.array([0.0, 0.1, -0.1, 0.05], np.float32), "bn_b"),
        numpy_helper.from_array(np.array([0.01, -0.02, 0.0, 0.03], np.float32), "bn_m"),
        numpy_helper.from_array(np.array([1.0, 0.5, 2.0, 1.5], np.float32), "bn_v"),
        t("Wdw", 4, 1, 3, 3), t("Bdw", 4, scale=0.1),
        t("Wg", 16, 144, scale=0.1), t("Bg", 16, scale=0.1),
        t("Bm", 8, scale=0.1),
        numpy_helper.from_array(np.array(True), "C"),
    ]
    cw = helper.make_node("Constant", [], ["cw"], name="const_w",
                          value=numpy_helper.from_array((rng.standard_normal((16, 8)) * 0.3).astype(np.float32), "cw_v"))

    def branch(name):
        w = helper.make_node("Constant", [], [name + "_w"], name=name + "_const",
                             value=numpy_helper.from_array((rng.standard_normal((8, 4)) * 0.3).astype(np.float32), name + "_wv"))
        mm = helper.make_node("MatMul", ["y0", name + "_w"], [name + "_y"], name=name + "_mm")
        return helper.make_graph([w, mm], name, [], [vi(name + "_y", shape=(1, 4))])

    nodes = [
        helper.make_node("Conv", ["X", "Wc0", "Bc0"], ["c0"], name="conv0", pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c0", "bn_s", "bn_b", "bn_m", "bn_v"], ["b0"], name="bn0"),
        helper.make_node("Relu", ["b0"], ["r0"], name="relu0"),
        helper.make_node("Conv", ["r0", "Wdw", "Bdw"], ["d0"], name="dw0", pads=[1, 1, 1, 1], group=4),
        helper.make_node("Add", ["d0", "r0"], ["a0"], name="res0"),
        helper.make_node("Flatten", ["a0"], ["f0"], name="flat0"),
        helper.make_node("Gemm", ["f0", "Wg", "Bg"], ["g0"], name="gemm0", transB=1),
        helper.make_node("Relu", ["g0"], ["r1"], name="relu1"),
        cw,
        helper.make_node("MatMul", ["r1", "cw"], ["m0"], name="mm0"),
        helper.make_node("Add", ["m0", "Bm"], ["y0"], name="bias0"),
        helper.make_node("If", ["C"], ["Y"], name="if0", then_branch=branch("then"), else_branch=branch("else")),
    ]
    return model(nodes, [vi("X", shape=(1, 1, 6, 6))], [vi("Y", shape=(1, 4))], inits)


def onnx_seeds():
    out = {"base": mc.base_model(), "nested_if_3": mc.nested_if_model(3),
           "transform": transform_model().SerializeToString()}
    # typed data fields of many types, sparse initializer, metadata, value_info
    inits = [
        helper.make_tensor("f16", TensorProto.FLOAT16, [2], [15360, 16384]),
        helper.make_tensor("i8", TensorProto.INT8, [3], [-1, 0, 1]),
        helper.make_tensor("u64", TensorProto.UINT64, [2], [1, 2]),
        helper.make_tensor("u32", TensorProto.UINT32, [2], [1, 2]),
        helper.make_tensor("d", TensorProto.DOUBLE, [2], [1.5, -2.0]),
        helper.make_tensor("b", TensorProto.BOOL, [2], [True, False]),
        helper.make_tensor("s", TensorProto.STRING, [2], [b"a", b"bc"]),
        helper.make_tensor("c64", TensorProto.COMPLEX64, [1], [complex(1.0, 2.0)]),
        helper.make_tensor("bf", TensorProto.BFLOAT16, [1], [16256]),
    ]
    sp = helper.make_sparse_tensor(helper.make_tensor("sv", TensorProto.FLOAT, [2], [1.0, 2.0]),
                                   helper.make_tensor("si", TensorProto.INT64, [2], [0, 3]), [2, 2])
    m = model([helper.make_node("Identity", ["X"], ["Y"], name="id")], [vi("X")], [vi("Y")], inits,
              sparse_initializer=[sp], value_info=[vi("Z", shape=("n", 3))])
    helper.set_model_props(m, {"k": "v"})
    out["types"] = m.SerializeToString()
    # Constant forms and attribute kinds
    nodes = [
        helper.make_node("Constant", [], ["c1"], value_floats=[1.0, 2.0, 3.0, 4.0]),
        helper.make_node("Constant", [], ["c2"], value_ints=[1, 4]),
        helper.make_node("Constant", [], ["c3"], value_float=2.0),
        helper.make_node("Reshape", ["c1", "c2"], ["r"], name="reshape"),
        helper.make_node("Mul", ["X", "r"], ["m"], name="mul"),
        helper.make_node("Mul", ["m", "c3"], ["Y"], name="mul2"),
    ]
    out["constants"] = model(nodes, [vi("X")], [vi("Y")]).SerializeToString()
    loop_body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"]), helper.make_node("Add", ["v_in", "one"], ["v_out"])],
        "body", [vi("i", TensorProto.INT64, ()), vi("cond_in", TensorProto.BOOL, ()), vi("v_in")],
        [vi("cond_out", TensorProto.BOOL, ()), vi("v_out")],
        initializer=[numpy_helper.from_array(np.ones((1, 4), np.float32), "one")])
    nodes = [helper.make_node("Loop", ["N", "", "X"], ["Y"], name="loop", body=loop_body)]
    out["loop"] = model(nodes, [vi("X"), vi("N", TensorProto.INT64, ())], [vi("Y")]).SerializeToString()
    return out


def npy_bytes(a, version=None):
    b = io.BytesIO()
    if version is None:
        np.save(b, a, allow_pickle=False)
    else:
        np.lib.format.write_array(b, a, version=version, allow_pickle=False)
    return b.getvalue()


def npy_seeds():
    out = {}
    for dt in ("f4", "f8", "f2", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "b1"):
        out["dtype_" + dt] = npy_bytes((np.arange(6) % 3).astype(dt).reshape(2, 3))
    out["scalar"] = npy_bytes(np.float32(1.5))
    out["empty"] = npy_bytes(np.zeros((0, 3), np.float32))
    out["rank4"] = npy_bytes(np.ones((1, 2, 1, 2), np.float32))
    out["v2"] = npy_bytes(np.ones((2,), np.float32), version=(2, 0))
    out["v3"] = npy_bytes(np.ones((2,), np.float32), version=(3, 0))
    out["fortran"] = npy_bytes(np.asfortranarray(np.ones((2, 3), np.float32)))
    out["bigendian"] = npy_bytes(np.ones((2,), ">f4"))
    return out


def npz_bytes(arrays, compressed):
    b = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(b, **arrays)
    return b.getvalue()


def npz_seeds():
    x = (np.arange(8, dtype=np.float32) / 8).reshape(2, 4)
    labels = np.array([0, 1], np.int64)
    out = {
        "stored": npz_bytes({"X": x, "labels": labels}, False),
        "deflated": npz_bytes({"X": x, "labels": labels}, True),
        "one": npz_bytes({"input": np.ones((1, 2), np.float16)}, True),
        "empty_archive": npz_bytes({}, False),
    }
    # a member with a data descriptor and no .npy suffix (zipfile streaming mode)
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
        with z.open("stream.npy", "w") as f:
            f.write(npy_bytes(x))
        z.writestr("notes.txt", b"not an array")
    out["streamed"] = b.getvalue()
    return out


def transform_seeds():
    out = {}
    # head byte (option count, seed), then per option: index, kind, two value bytes;
    # then the calibration flag and weight patches.
    for i in range(16):
        for kind in (0, 1, 2, 3, 4):
            out["opt%02d_kind%d" % (i, kind)] = bytes([0, i, kind, 100, 7, 1])
    out["two_opts"] = bytes([1, 0, 1, 128, 0, 3, 4, 2, 0, 1])
    out["nan_weight"] = bytes([0, 0, 1, 128, 0, 1, 2, 0, 0, 0, 2])
    out["zero_tensors"] = bytes([0, 1, 1, 128, 0, 1] + [1, 0] * 12)
    out["const_tensors"] = bytes([0, 2, 4, 1, 0, 1] + [1, 7, 40] * 12)
    return out


def write(outdir):
    groups = {"fuzz_onnx": onnx_seeds(), "fuzz_npy": npy_seeds(), "fuzz_npz": npz_seeds(),
              "fuzz_transform": transform_seeds()}
    for h, seeds in groups.items():
        d = os.path.join(outdir, h)
        os.makedirs(d, exist_ok=True)
        for name, data in sorted(seeds.items()):
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
    print("make_seeds: %s" % ", ".join("%s %d" % (h, len(s)) for h, s in groups.items()))


def main(argv):
    if len(argv) == 3 and argv[1] == "--model":
        with open(argv[2], "wb") as f:
            f.write(transform_model().SerializeToString())
        return 0
    if len(argv) != 2 or argv[1].startswith("-"):
        sys.stderr.write(__doc__)
        return 1
    write(argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
