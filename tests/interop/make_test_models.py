#!/usr/bin/python3
"""Generate the interop test models for tests/interop/run.sh.

    /usr/bin/python3 tests/interop/make_test_models.py OUTDIR [--no-torch]

Deterministic (fixed seeds, one thread, torchvision `weights=None`): re-running
writes byte-identical files. Every model passes onnx.checker and runs in ONNX
Runtime 1.30 (CPU). Written into OUTDIR:

  resnet18.onnx, mobilenet_v2.onnx, squeezenet1_0.onnx
        torchvision models, random init (seeded), eval mode, opset 13,
        input `input` [1,3,H,W] with H=W=TV_SIZE (see below), output `logits`.
  const_weights.onnx      MLP whose weights are Constant nodes (value tensor,
                          value_float, value_floats), no initializers.
  if_const.onnx           If whose then/else branches hold their weights in Constant nodes.
  if_nested.onnx          If inside If: Constant weights two subgraph levels deep.
  loop_const.onnx         Loop (trip count from an int64 input) with Constant weights in its body,
                          a loop-carried state and a scan output.
  scan_const.onnx         Scan with a Constant weight in its body.
  float_data.onnx         initializers stored in float_data / int64_data (not raw_data),
                          Conv + Reshape + Gemm.
  metadata_func.onnx      metadata_props, doc strings (model, graph, nodes, values), value_info,
                          a model-local FunctionProto (with an attribute reference) used by two nodes.
  sparse_init.onnx        a weight stored as a sparse_initializer (INT64 linear indices).
  qdq_int8.onnx           int8 weight initializer + per-axis DequantizeLinear feeding MatMul.
  unknown_fields.onnx     const_weights with protobuf fields unknown to ONNX (in ModelProto,
                          GraphProto, NodeProto, TensorProto) that a round trip must keep.
  external_data/external_data.onnx + external_data/weights.bin
                          weights in an external data file beside the model.
  lstm_if.onnx            recurrent audio-style model: a torch-exported 2-layer LSTM (16->32) whose
                          weights were moved from initializers into Constant nodes, then an If on a
                          bool input `use_alt`: the else branch averages the sequence over time
                          and projects it (Constant weights); the then branch runs a second,
                          reverse-direction LSTM (Constant W/R/B, initial state) over the sequence
                          and projects its last hidden state. Inputs `X` [T=12,N=1,F=16], `use_alt`
                          []; outputs `logits` [1,10], `h_n` and `c_n` [2,1,32]. No initializers.
  transformer_block.onnx  torch nn.TransformerEncoderLayer(d_model=64, nhead=4,
                          dim_feedforward=128, batch_first=True), eval mode, biases and LayerNorm
                          affine randomized (seeded), opset 14 (LayerNorm decomposed by the
                          exporter), input `X` [1,16,64], output `Y` [1,16,64].

Models named if_* / loop_* / *_if take bool/int64 control inputs: run several seeds
(ort_compare.js --seed 0,1,...,7) to exercise every branch.
"""

import argparse
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13
IR = 8  # model-local functions need IR 8; ONNX Runtime 1.30 runs IR <= 11
TV_SIZE = 224  # torchvision input height/width


def opsets(*extra):
    return [helper.make_opsetid("", OPSET)] + [helper.make_opsetid(d, v) for d, v in extra]


def model(graph, **kw):
    kw.setdefault("opset_imports", opsets())
    m = helper.make_model(graph, producer_name="edgec-interop", producer_version="1", **kw)
    m.ir_version = IR
    return m


def rand(rng, *shape, scale=0.5):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def const(name, arr):
    """Constant node holding `arr` as a raw_data tensor."""
    return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(arr, name + "_value"))


def f32(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


# ------------------------------------------------------------- helpers ---

def make_const_weights(rng):
    nodes = [
        const("W1", rand(rng, 16, 32)),
        const("B1", rand(rng, 32, scale=0.1)),
        helper.make_node("Constant", [], ["scale"], value_float=0.75),
        const("W2", rand(rng, 32, 4)),
        helper.make_node("Constant", [], ["B2"], value_floats=[0.1, -0.2, 0.3, -0.4]),
        helper.make_node("MatMul", ["X", "W1"], ["h0"]),
        helper.make_node("Add", ["h0", "B1"], ["h1"]),
        helper.make_node("Relu", ["h1"], ["h2"]),
        helper.make_node("Mul", ["h2", "scale"], ["h3"]),
        helper.make_node("MatMul", ["h3", "W2"], ["h4"]),
        helper.make_node("Add", ["h4", "B2"], ["Y"]),
    ]
    g = helper.make_graph(nodes, "const_weights", [f32("X", ["N", 16])], [f32("Y", ["N", 4])])
    return model(g)


def branch(name, x, out, rng, din, dout, bias):
    nodes = [const(name + "_W", rand(rng, din, dout)), helper.make_node("MatMul", [x, name + "_W"], [name + "_mm"])]
    if bias:
        nodes += [const(name + "_B", rand(rng, dout, scale=0.1)), helper.make_node("Add", [name + "_mm", name + "_B"], [out])]
    else:
        nodes += [helper.make_node("Identity", [name + "_mm"], [out])]
    return nodes


def make_if_const(rng):
    then_g = helper.make_graph(branch("then", "X", "then_Y", rng, 8, 4, False), "then_branch", [], [f32("then_Y", [1, 4])])
    else_g = helper.make_graph(branch("else", "X", "else_Y", rng, 8, 4, True), "else_branch", [], [f32("else_Y", [1, 4])])
    nodes = [helper.make_node("If", ["cond"], ["Y"], then_branch=then_g, else_branch=else_g)]
    g = helper.make_graph(nodes, "if_const",
                          [helper.make_tensor_value_info("cond", TensorProto.BOOL, []), f32("X", [1, 8])],
                          [f32("Y", [1, 4])])
    return model(g)


def make_if_nested(rng):
    def inner(prefix, h):
        t = helper.make_graph(branch(prefix + "_tt", h, prefix + "_tY", rng, 8, 4, True),
                              prefix + "_inner_then", [], [f32(prefix + "_tY", [1, 4])])
        relu = helper.make_node("Relu", [h], [prefix + "_relu"])
        e = helper.make_graph([relu] + branch(prefix + "_ee", prefix + "_relu", prefix + "_eY", rng, 8, 4, False),
                              prefix + "_inner_else", [], [f32(prefix + "_eY", [1, 4])])
        return helper.make_node("If", ["c2"], [prefix + "_Y"], then_branch=t, else_branch=e)

    # outer then: h = X @ Wa (Constant), then an inner If on c2 using h
    then_nodes = branch("a", "X", "a_h", rng, 8, 8, True) + [inner("a", "a_h")]
    then_g = helper.make_graph(then_nodes, "outer_then", [], [f32("a_Y", [1, 4])])
    else_nodes = branch("b", "X", "b_h", rng, 8, 8, False) + [inner("b", "b_h")]
    else_g = helper.make_graph(else_nodes, "outer_else", [], [f32("b_Y", [1, 4])])
    nodes = [helper.make_node("If", ["c1"], ["Y"], then_branch=then_g, else_branch=else_g)]
    g = helper.make_graph(nodes, "if_nested",
                          [helper.make_tensor_value_info("c1", TensorProto.BOOL, []),
                           helper.make_tensor_value_info("c2", TensorProto.BOOL, []),
                           f32("X", [1, 8])],
                          [f32("Y", [1, 4])])
    return model(g)


def make_loop_const(rng):
    body_nodes = [
        const("body_W", rand(rng, 8, 8)),
        const("body_B", rand(rng, 8, scale=0.1)),
        helper.make_node("MatMul", ["x_in", "body_W"], ["body_mm"]),
        helper.make_node("Add", ["body_mm", "body_B"], ["body_add"]),
        helper.make_node("Tanh", ["body_add"], ["x_out"]),
        helper.make_node("Identity", ["cond_in"], ["cond_out"]),
        helper.make_node("ReduceSum", ["x_out"], ["y_scan"], keepdims=0),
    ]
    body = helper.make_graph(
        body_nodes, "loop_body",
        [helper.make_tensor_value_info("iter", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         f32("x_in", [1, 8])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         f32("x_out", [1, 8]),
         f32("y_scan", [])])
    nodes = [helper.make_node("Loop", ["M", "", "X"], ["Y", "Ys"], body=body)]
    g = helper.make_graph(nodes, "loop_const",
                          [helper.make_tensor_value_info("M", TensorProto.INT64, []), f32("X", [1, 8])],
                          [f32("Y", [1, 8]), f32("Ys", [None])])
    return model(g)


def make_scan_const(rng):
    body_nodes = [
        const("scan_W", rand(rng, 8, 8)),
        helper.make_node("MatMul", ["s_in", "scan_W"], ["scan_mm"]),
        helper.make_node("Add", ["scan_mm", "x_t"], ["scan_add"]),
        helper.make_node("Tanh", ["scan_add"], ["s_out"]),
        helper.make_node("Identity", ["s_out"], ["y_t"]),
    ]
    body = helper.make_graph(body_nodes, "scan_body", [f32("s_in", [8]), f32("x_t", [8])],
                             [f32("s_out", [8]), f32("y_t", [8])])
    nodes = [helper.make_node("Scan", ["S0", "X"], ["S", "Y"], body=body, num_scan_inputs=1)]
    g = helper.make_graph(nodes, "scan_const", [f32("S0", [8]), f32("X", [5, 8])], [f32("S", [8]), f32("Y", [5, 8])])
    return model(g)


def make_float_data(rng):
    w = rand(rng, 4, 2, 3, 3)
    b = rand(rng, 4, scale=0.1)
    gw = rand(rng, 64, 5, scale=0.2)
    gb = rand(rng, 5, scale=0.1)
    inits = [
        helper.make_tensor("conv_W", TensorProto.FLOAT, w.shape, w.flatten().tolist()),
        helper.make_tensor("conv_B", TensorProto.FLOAT, b.shape, b.tolist()),
        helper.make_tensor("shape", TensorProto.INT64, [2], [1, -1]),
        helper.make_tensor("gemm_W", TensorProto.FLOAT, gw.shape, gw.flatten().tolist()),
        helper.make_tensor("gemm_B", TensorProto.FLOAT, gb.shape, gb.tolist()),
    ]
    for t in inits:
        assert not t.HasField("raw_data")
    nodes = [
        helper.make_node("Conv", ["X", "conv_W", "conv_B"], ["c"], kernel_shape=[3, 3], pads=[0, 0, 0, 0]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("Reshape", ["r", "shape"], ["f"]),
        helper.make_node("Gemm", ["f", "gemm_W", "gemm_B"], ["Y"]),
    ]
    g = helper.make_graph(nodes, "float_data", [f32("X", [1, 2, 6, 6])], [f32("Y", [1, 5])], initializer=inits)
    return model(g)


def make_metadata_func(rng):
    leaky = helper.make_node("LeakyRelu", ["t1"], ["y"])
    # attribute reference: the node's alpha is the calling node's `alpha`
    leaky.attribute.add(name="alpha", ref_attr_name="alpha", type=onnx.AttributeProto.FLOAT)
    fn = helper.make_function(
        "edgec.test", "LinearLeaky", ["x", "w", "b"], ["y"],
        [helper.make_node("MatMul", ["x", "w"], ["t0"], doc_string="function body matmul"),
         helper.make_node("Add", ["t0", "b"], ["t1"]),
         leaky],
        opset_imports=[helper.make_opsetid("", OPSET)],
        attributes=["alpha"],
        doc_string="MatMul + Add + LeakyRelu(alpha), a model-local function",
    )
    inits = [numpy_helper.from_array(rand(rng, 16, 12), "w1"), numpy_helper.from_array(rand(rng, 12, scale=0.1), "b1"),
             numpy_helper.from_array(rand(rng, 12, 4), "w2"), numpy_helper.from_array(rand(rng, 4, scale=0.1), "b2")]
    inits[0].doc_string = "first layer weights"
    nodes = [
        helper.make_node("LinearLeaky", ["X", "w1", "b1"], ["h"], domain="edgec.test", alpha=0.1,
                         name="layer1", doc_string="calls the LinearLeaky function"),
        helper.make_node("LinearLeaky", ["h", "w2", "b2"], ["z"], domain="edgec.test", alpha=0.2, name="layer2"),
        helper.make_node("Softmax", ["z"], ["Y"], axis=1, name="softmax", doc_string="class probabilities"),
    ]
    g = helper.make_graph(
        nodes, "metadata_func",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["batch", 16], doc_string="features")],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["batch", 4], doc_string="probabilities")],
        initializer=inits,
        doc_string="graph doc string",
        value_info=[f32("h", ["batch", 12]), f32("z", ["batch", 4])],
    )
    m = model(g, opset_imports=opsets(("edgec.test", 1)), functions=[fn])
    m.doc_string = "edgec interop test: metadata, doc strings, value_info and a model-local function"
    m.domain = "org.edgec.test"
    m.model_version = 3
    helper.set_model_props(m, {"author": "edgec", "license": "MIT", "note": "keep me: ünïcode ✓", "empty": ""})
    return m


def make_sparse_init(rng):
    dense = rand(rng, 16, 8)
    mask = rng.random_sample(dense.shape) < 0.25  # keep ~25%
    dense = np.where(mask, dense, np.float32(0)).astype(np.float32)
    flat = dense.flatten()
    idx = np.flatnonzero(flat).astype(np.int64)
    values = numpy_helper.from_array(flat[idx], "W")
    indices = numpy_helper.from_array(idx, "W_indices")
    sp = helper.make_sparse_tensor(values, indices, [16, 8])
    nodes = [helper.make_node("MatMul", ["X", "W"], ["mm"]), helper.make_node("Add", ["mm", "B"], ["Y"])]
    g = helper.make_graph(nodes, "sparse_init", [f32("X", ["N", 16])], [f32("Y", ["N", 8])],
                          initializer=[numpy_helper.from_array(rand(rng, 8, scale=0.1), "B")],
                          sparse_initializer=[sp])
    return model(g)


def make_qdq_int8(rng):
    w = rand(rng, 16, 8)
    scale = (np.abs(w).max(axis=0) / 127).astype(np.float32)
    q = np.clip(np.round(w / scale), -127, 127).astype(np.int8)
    inits = [numpy_helper.from_array(q, "W_q"), numpy_helper.from_array(scale, "W_scale"),
             numpy_helper.from_array(np.zeros(8, np.int8), "W_zp")]
    nodes = [helper.make_node("DequantizeLinear", ["W_q", "W_scale", "W_zp"], ["W"], axis=1),
             helper.make_node("MatMul", ["X", "W"], ["Y"])]
    g = helper.make_graph(nodes, "qdq_int8", [f32("X", ["N", 16])], [f32("Y", ["N", 8])], initializer=inits)
    return model(g)


# --- unknown fields: append wire-format fields with numbers ONNX does not use
def _varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _unknown(field, payload):
    """A length-delimited field `field` (wire type 2) holding `payload` bytes,
    plus a varint field `field+1`."""
    return (_varint(field << 3 | 2) + _varint(len(payload)) + payload
            + _varint((field + 1) << 3 | 0) + _varint(field * 1000 + 7))


def _with_unknown(msg, field, payload):
    data = msg.SerializeToString() + _unknown(field, payload)
    new = type(msg)()
    new.ParseFromString(data)
    assert new.SerializeToString() == data, "protobuf dropped unknown fields"
    return new


def make_unknown_fields(rng):
    m = make_const_weights(rng)
    g = m.graph
    node = _with_unknown(g.node[5], 901, b"node-extension")
    g.node[5].CopyFrom(node)
    t = _with_unknown(g.node[0].attribute[0].t, 902, b"tensor-extension")
    g.node[0].attribute[0].t.CopyFrom(t)
    g2 = _with_unknown(g, 903, b"graph-extension")
    m.graph.CopyFrom(g2)
    m2 = _with_unknown(m, 904, b"model-extension \x00\xff")
    return m2


def make_external(rng):
    inits = [numpy_helper.from_array(rand(rng, 32, 64, scale=0.2), "fc1_W"),
             numpy_helper.from_array(rand(rng, 64, scale=0.1), "fc1_B"),   # 256 B: stays inline
             numpy_helper.from_array(rand(rng, 64, 10, scale=0.2), "fc2_W"),
             numpy_helper.from_array(rand(rng, 10, scale=0.1), "fc2_B")]
    nodes = [helper.make_node("Gemm", ["X", "fc1_W", "fc1_B"], ["h"]),
             helper.make_node("Relu", ["h"], ["r"]),
             helper.make_node("Gemm", ["r", "fc2_W", "fc2_B"], ["Y"])]
    g = helper.make_graph(nodes, "external_data", [f32("X", ["N", 32])], [f32("Y", ["N", 10])], initializer=inits)
    return model(g)


HELPER_MODELS = [
    ("const_weights", make_const_weights),
    ("if_const", make_if_const),
    ("if_nested", make_if_nested),
    ("loop_const", make_loop_const),
    ("scan_const", make_scan_const),
    ("float_data", make_float_data),
    ("metadata_func", make_metadata_func),
    ("sparse_init", make_sparse_init),
    ("qdq_int8", make_qdq_int8),
    ("unknown_fields", make_unknown_fields),
]


def write(m, path):
    onnx.checker.check_model(m)
    data = m.SerializeToString()
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


# ---------------------------------------------------------- torchvision ---

def make_torchvision(outdir, size):
    import torch
    import torchvision

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    for i, name in enumerate(["resnet18", "mobilenet_v2", "squeezenet1_0"]):
        torch.manual_seed(1000 + i)
        net = getattr(torchvision.models, name)(weights=None).eval()
        x = torch.zeros(1, 3, size, size)
        path = os.path.join(outdir, name + ".onnx")
        tmp = path + ".tmp"
        with torch.no_grad():
            torch.onnx.export(net, x, tmp, opset_version=OPSET, input_names=["input"], output_names=["logits"],
                              do_constant_folding=True)
        onnx.checker.check_model(tmp)
        os.replace(tmp, path)
        print("wrote", path)


def _export(net, x, path, opset, input_names, output_names):
    """torch.onnx.export into a temporary file; returns the loaded ModelProto."""
    import torch

    tmp = path + ".tmp"
    torch.onnx.export(net, x, tmp, opset_version=opset, input_names=input_names, output_names=output_names,
                      do_constant_folding=True)
    m = onnx.load(tmp)
    os.remove(tmp)
    return m


def make_lstm_if(outdir):
    """Recurrent audio-style model: torch LSTM, weights in Constant nodes, If with Constant weights."""
    import torch

    torch.manual_seed(2000)
    T, F, H, H2, C = 12, 16, 32, 24, 10
    lstm = torch.nn.LSTM(F, H, num_layers=2).eval()
    path = os.path.join(outdir, "lstm_if.onnx")
    with torch.no_grad():
        m = _export(lstm, torch.zeros(T, 1, F), path, OPSET, ["X"], ["out", "h_n", "c_n"])
    g = m.graph
    assert [n.op_type for n in g.node].count("LSTM") == 2, "expected one ONNX LSTM per layer"

    # the exporter's initializers (W, R, B per layer) become Constant nodes: no initializers left
    nodes = [const(t.name, numpy_helper.to_array(t)) for t in g.initializer] + list(g.node)
    rng = np.random.RandomState(2000)

    # else branch (use_alt false): mean over time, projection
    else_g = helper.make_graph(
        [helper.make_node("ReduceMean", ["out"], ["avg_mean"], axes=[0], keepdims=0),
         const("avg_W", rand(rng, H, C, scale=0.3)),
         const("avg_B", rand(rng, C, scale=0.1)),
         helper.make_node("MatMul", ["avg_mean", "avg_W"], ["avg_mm"]),
         helper.make_node("Add", ["avg_mm", "avg_B"], ["avg_Y"])],
        "avg_head", [], [f32("avg_Y", [1, C])])
    # then branch (use_alt true): a reverse LSTM over the sequence, its last hidden state projected
    g4 = 4 * H2
    then_g = helper.make_graph(
        [const("rev_W", rand(rng, 1, g4, H, scale=0.2)),
         const("rev_R", rand(rng, 1, g4, H2, scale=0.2)),
         const("rev_B", rand(rng, 1, 2 * g4, scale=0.1)),
         const("rev_h0", rand(rng, 1, 1, H2, scale=0.1)),
         const("rev_c0", rand(rng, 1, 1, H2, scale=0.1)),
         helper.make_node("LSTM", ["out", "rev_W", "rev_R", "rev_B", "", "rev_h0", "rev_c0"],
                          ["", "rev_Yh", ""], hidden_size=H2, direction="reverse"),
         const("rev_shape", np.array([1, H2], np.int64)),
         helper.make_node("Reshape", ["rev_Yh", "rev_shape"], ["rev_h"]),
         const("rev_P", rand(rng, H2, C, scale=0.3)),
         const("rev_PB", rand(rng, C, scale=0.1)),
         helper.make_node("MatMul", ["rev_h", "rev_P"], ["rev_mm"]),
         helper.make_node("Add", ["rev_mm", "rev_PB"], ["rev_Y"])],
        "rev_lstm_head", [], [f32("rev_Y", [1, C])])
    nodes.append(helper.make_node("If", ["use_alt"], ["logits"], then_branch=then_g, else_branch=else_g))

    graph = helper.make_graph(
        nodes, "lstm_if",
        [f32("X", [T, 1, F]), helper.make_tensor_value_info("use_alt", TensorProto.BOOL, [])],
        [f32("logits", [1, C]), f32("h_n", [2, 1, H]), f32("c_n", [2, 1, H])])
    write(model(graph), path)
    print("wrote", path)


def make_transformer_block(outdir):
    """torch TransformerEncoderLayer (eval), exported at opset 14."""
    import torch

    torch.manual_seed(2001)
    net = torch.nn.TransformerEncoderLayer(d_model=64, nhead=4, dim_feedforward=128, batch_first=True).eval()
    # torch initializes biases to 0 and LayerNorm to (1, 0): randomize them so that every
    # parameter matters (and the exporter cannot merge equal ones)
    with torch.no_grad():
        for p in net.parameters():
            if p.dim() == 1:
                p.copy_(torch.randn(p.shape) * 0.1)
        net.norm1.weight.add_(1.0)
        net.norm2.weight.add_(1.0)
    path = os.path.join(outdir, "transformer_block.onnx")
    # exported with autograd enabled on purpose: in eval mode under no_grad, torch 1.13 takes
    # the fused "fast path" (aten::_transformer_encoder_layer_fwd), which has no ONNX symbolic
    m = _export(net, torch.zeros(1, 16, 64), path, 14, ["X"], ["Y"])
    write(m, path)
    print("wrote", path)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--no-torch", action="store_true", help="skip the torchvision models")
    args = ap.parse_args(argv[1:])
    out = args.outdir
    os.makedirs(out, exist_ok=True)

    for i, (name, fn) in enumerate(HELPER_MODELS):
        rng = np.random.RandomState(100 + i)
        path = os.path.join(out, name + ".onnx")
        write(fn(rng), path)
        print("wrote", path)

    ext_dir = os.path.join(out, "external_data")
    os.makedirs(ext_dir, exist_ok=True)
    for f in os.listdir(ext_dir):
        os.remove(os.path.join(ext_dir, f))
    m = make_external(np.random.RandomState(99))
    onnx.checker.check_model(m)
    path = os.path.join(ext_dir, "external_data.onnx")
    onnx.save_model(m, path, save_as_external_data=True, all_tensors_to_one_file=True,
                    location="weights.bin", size_threshold=1024)
    onnx.checker.check_model(path)
    print("wrote", path, "+ weights.bin")

    if not args.no_torch:
        make_torchvision(out, TV_SIZE)
        make_lstm_if(out)
        make_transformer_block(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
