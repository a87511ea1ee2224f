#!/usr/bin/python3
"""Generate a large, realistic float32 ONNX model for edgec benchmarks.

    /usr/bin/python3 bench/gen_big_model.py OUT.onnx [--mb 100] [--seed 0]

The model is a small vision transformer as exported by PyTorch:

    pixel_values [batch,3,64,64]
      -> 4 Conv+Relu (conv stem, stride 2,2,2,1)  -> [batch,D,8,8]
      -> Reshape/Transpose to 64 tokens, + learned positional embedding
      -> N pre-LayerNorm transformer blocks (8-head attention with MatMul/Softmax,
         MLP D->4D->D with Erf-GELU, residual Adds)
      -> LayerNorm, ReduceMean over tokens
      -> Gemm+Relu, Gemm (classifier; its width absorbs the remaining size budget)
      -> logits [batch,classes]

All weights are float32 `raw_data` initializers with fan-in scaled normal values (Kaiming-like),
so they are as incompressible as trained weights. N and the classifier width are chosen so the
file lands within ~0.1% of `--mb` MiB (D shrinks for small `--mb`, for quick tests).

Deterministic: the same --mb, --seed and numpy version give the same bytes (all values come from
one numpy PCG64 stream consumed in a fixed order; no timestamps).

Memory: the file is streamed tensor by tensor, in canonical protobuf field order (the bytes equal
`onnx.load(OUT).SerializeToString()`), so generation needs about one weight tensor of RAM plus the
interpreter, not a copy of the model (~55 MB at --mb 100). The result is written to OUT.tmp,
checked with `onnx.checker` (by path; the peak, ~2.3x the file size) and strict shape inference,
then renamed to OUT.
"""

import argparse
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper

OPSET = 17          # LayerNormalization
IR_VERSION = 8      # what onnx 1.12 writes for opset 17
TOKENS_HW = 8       # conv stem output is 8x8 -> 64 tokens
IMAGE = 64
HEADS = 8
FLOAT = TensorProto.FLOAT
INT64 = TensorProto.INT64


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def ld_field(field_number, payload_len):
    """Tag + length prefix of a length-delimited protobuf field."""
    return varint((field_number << 3) | 2) + varint(payload_len)


class Weights:
    """Initializer specs (name, shape, how to fill) in graph order; data is made only when written."""

    def __init__(self):
        self.specs = []

    def add(self, name, shape, kind, **kw):
        self.specs.append((name, tuple(shape), kind, kw))
        return name

    @staticmethod
    def dtype(kind):
        return INT64 if kind == "int64" else FLOAT

    @staticmethod
    def numel(shape):
        n = 1
        for d in shape:
            n *= d
        return n

    def nbytes(self):
        return sum(self.numel(s) * (8 if k == "int64" else 4) for _, s, k, _ in self.specs)

    @staticmethod
    def make(rng, shape, kind, kw):
        n = Weights.numel(shape)
        if kind == "int64":
            return np.asarray(kw["value"], dtype="<i8").reshape(shape)
        if kind == "const":
            return np.full(shape, kw["value"], dtype="<f4")
        if kind == "normal":      # weight with fan-in scaling
            a = rng.standard_normal(n, dtype=np.float32)
            a *= np.float32(kw["std"])
        elif kind == "bias":      # small biases, as after training
            a = rng.uniform(-kw["bound"], kw["bound"], n).astype(np.float32)
        elif kind == "gamma":     # LayerNorm scale near 1
            a = rng.standard_normal(n, dtype=np.float32)
            a *= np.float32(0.05)
            a += np.float32(1.0)
        else:
            raise ValueError(kind)
        return a.astype("<f4", copy=False).reshape(shape)


def build(width, n_blocks, classes, hidden):
    """Return (nodes, weights, inputs, outputs) for the given architecture."""
    W = Weights()
    nodes = []
    D = width
    dh = D // HEADS

    def node(op, ins, outs, name, **attrs):
        nodes.append(helper.make_node(op, ins, outs, name=name, **attrs))
        return outs[0]

    # ---- conv stem -------------------------------------------------------------------------
    chans = [3, D // 8, D // 4, D // 2, D]
    x = "pixel_values"
    for i in range(4):
        cin, cout = chans[i], chans[i + 1]
        stride = 1 if i == 3 else 2
        k = 3
        w = W.add(f"stem.{i}.weight", (cout, cin, k, k), "normal", std=(2.0 / (cin * k * k)) ** 0.5)
        b = W.add(f"stem.{i}.bias", (cout,), "bias", bound=1.0 / (cin * k * k) ** 0.5)
        x = node("Conv", [x, w, b], [f"/stem.{i}/Conv_output_0"], f"/stem.{i}/Conv",
                 kernel_shape=[k, k], strides=[stride, stride], pads=[1, 1, 1, 1],
                 dilations=[1, 1], group=1)
        x = node("Relu", [x], [f"/stem.{i}/Relu_output_0"], f"/stem.{i}/Relu")

    # ---- to tokens ---------------------------------------------------------------------------
    T = TOKENS_HW * TOKENS_HW
    s = W.add("/tokens/Constant_output_0", (3,), "int64", value=[0, D, -1])
    x = node("Reshape", [x, s], ["/tokens/Reshape_output_0"], "/tokens/Reshape")
    x = node("Transpose", [x], ["/tokens/Transpose_output_0"], "/tokens/Transpose", perm=[0, 2, 1])
    pos = W.add("pos_embed", (1, T, D), "normal", std=0.02)
    x = node("Add", [x, pos], ["/tokens/Add_output_0"], "/tokens/Add")

    split_shape = W.add("/attn/split_heads_shape", (4,), "int64", value=[0, 0, HEADS, dh])
    merge_shape = W.add("/attn/merge_heads_shape", (3,), "int64", value=[0, 0, D])
    scale = W.add("/attn/scale", (), "const", value=1.0 / dh ** 0.5)
    sqrt2 = W.add("/gelu/sqrt2", (), "const", value=2.0 ** 0.5)
    one = W.add("/gelu/one", (), "const", value=1.0)
    half = W.add("/gelu/half", (), "const", value=0.5)

    def layernorm(x, p):
        g = W.add(f"{p}.weight", (D,), "gamma")
        b = W.add(f"{p}.bias", (D,), "bias", bound=0.02)
        return node("LayerNormalization", [x, g, b], [f"/{p}/LayerNormalization_output_0"],
                    f"/{p}/LayerNormalization", axis=-1, epsilon=1e-5)

    def linear(x, p, fin, fout):
        w = W.add(f"{p}.weight", (fin, fout), "normal", std=(1.0 / fin) ** 0.5)
        b = W.add(f"{p}.bias", (fout,), "bias", bound=1.0 / fin ** 0.5)
        y = node("MatMul", [x, w], [f"/{p}/MatMul_output_0"], f"/{p}/MatMul")
        return node("Add", [y, b], [f"/{p}/Add_output_0"], f"/{p}/Add")

    # ---- transformer blocks ----------------------------------------------------------------
    for i in range(n_blocks):
        p = f"blocks.{i}"
        h = layernorm(x, f"{p}.norm1")
        q = linear(h, f"{p}.attn.q", D, D)
        k = linear(h, f"{p}.attn.k", D, D)
        v = linear(h, f"{p}.attn.v", D, D)
        q = node("Reshape", [q, split_shape], [f"/{p}/attn/q/Reshape_output_0"], f"/{p}/attn/q/Reshape")
        q = node("Transpose", [q], [f"/{p}/attn/q/Transpose_output_0"], f"/{p}/attn/q/Transpose",
                 perm=[0, 2, 1, 3])
        k = node("Reshape", [k, split_shape], [f"/{p}/attn/k/Reshape_output_0"], f"/{p}/attn/k/Reshape")
        k = node("Transpose", [k], [f"/{p}/attn/k/Transpose_output_0"], f"/{p}/attn/k/Transpose",
                 perm=[0, 2, 3, 1])
        v = node("Reshape", [v, split_shape], [f"/{p}/attn/v/Reshape_output_0"], f"/{p}/attn/v/Reshape")
        v = node("Transpose", [v], [f"/{p}/attn/v/Transpose_output_0"], f"/{p}/attn/v/Transpose",
                 perm=[0, 2, 1, 3])
        a = node("MatMul", [q, k], [f"/{p}/attn/MatMul_output_0"], f"/{p}/attn/MatMul")
        a = node("Mul", [a, scale], [f"/{p}/attn/Mul_output_0"], f"/{p}/attn/Mul")
        a = node("Softmax", [a], [f"/{p}/attn/Softmax_output_0"], f"/{p}/attn/Softmax", axis=-1)
        a = node("MatMul", [a, v], [f"/{p}/attn/MatMul_1_output_0"], f"/{p}/attn/MatMul_1")
        a = node("Transpose", [a], [f"/{p}/attn/Transpose_output_0"], f"/{p}/attn/Transpose",
                 perm=[0, 2, 1, 3])
        a = node("Reshape", [a, merge_shape], [f"/{p}/attn/Reshape_output_0"], f"/{p}/attn/Reshape")
        a = linear(a, f"{p}.attn.proj", D, D)
        x = node("Add", [x, a], [f"/{p}/Add_output_0"], f"/{p}/Add")

        h = layernorm(x, f"{p}.norm2")
        h = linear(h, f"{p}.mlp.fc1", D, 4 * D)
        # GELU exactly as torch.onnx exports it (opset < 20): 0.5 * x * (1 + erf(x / sqrt(2)))
        e = node("Div", [h, sqrt2], [f"/{p}/mlp/act/Div_output_0"], f"/{p}/mlp/act/Div")
        e = node("Erf", [e], [f"/{p}/mlp/act/Erf_output_0"], f"/{p}/mlp/act/Erf")
        e = node("Add", [e, one], [f"/{p}/mlp/act/Add_output_0"], f"/{p}/mlp/act/Add")
        e = node("Mul", [h, e], [f"/{p}/mlp/act/Mul_output_0"], f"/{p}/mlp/act/Mul")
        h = node("Mul", [e, half], [f"/{p}/mlp/act/Mul_1_output_0"], f"/{p}/mlp/act/Mul_1")
        h = linear(h, f"{p}.mlp.fc2", 4 * D, D)
        x = node("Add", [x, h], [f"/{p}/Add_1_output_0"], f"/{p}/Add_1")

    # ---- head ----------------------------------------------------------------------------
    x = layernorm(x, "norm")
    x = node("ReduceMean", [x], ["/pool/ReduceMean_output_0"], "/pool/ReduceMean", axes=[1], keepdims=0)
    for j, (fin, fout) in enumerate([(D, hidden), (hidden, classes)]):
        w = W.add(f"head.{j}.weight", (fout, fin), "normal", std=(2.0 / fin) ** 0.5)
        b = W.add(f"head.{j}.bias", (fout,), "bias", bound=1.0 / fin ** 0.5)
        out = "logits" if j == 1 else f"/head.{j}/Gemm_output_0"
        x = node("Gemm", [x, w, b], [out], f"/head.{j}/Gemm", alpha=1.0, beta=1.0, transB=1)
        if j == 0:
            x = node("Relu", [x], ["/head.0/Relu_output_0"], "/head.0/Relu")

    inputs = [helper.make_tensor_value_info("pixel_values", FLOAT, ["batch", 3, IMAGE, IMAGE])]
    outputs = [helper.make_tensor_value_info("logits", FLOAT, ["batch", classes])]
    return nodes, W, inputs, outputs


def plan(target_bytes):
    """Pick (width, blocks, classes, hidden) so the weights take ~target_bytes."""
    for width in (512, 384, 256, 128, 64):
        hidden = 2 * width
        fixed = build(width, 0, 1, hidden)[1].nbytes() - 4       # everything but classifier rows
        per_block = build(width, 1, 1, hidden)[1].nbytes() - 4 - fixed
        per_class = 4 * (hidden + 1)
        min_head = 10 * per_class
        if fixed + per_block + min_head <= target_bytes or width == 64:
            break
    # Keep at least ~5% of the budget (and >= 10 classes) for the classifier, the rest in blocks.
    n_blocks = max(1, int((target_bytes - fixed - max(min_head, target_bytes // 20)) // per_block))
    classes = max(10, (target_bytes - fixed - n_blocks * per_block) // per_class)
    return width, n_blocks, int(classes), hidden


def write_model(path, nodes, W, inputs, outputs, rng, meta):
    """Stream a canonical ModelProto to path, generating one initializer at a time."""
    head = onnx.ModelProto(ir_version=IR_VERSION, producer_name="edgec-bench",
                           producer_version="gen_big_model 1", domain="", model_version=1,
                           doc_string="Synthetic ViT-like model for edgec benchmarks "
                                      "(bench/gen_big_model.py).")
    tail = onnx.ModelProto()
    tail.opset_import.append(helper.make_opsetid("", OPSET))
    for k, v in meta.items():
        e = tail.metadata_props.add()
        e.key, e.value = k, v
    # GraphProto fields in number order: node(1) name(2) initializer(5) doc_string(10) input(11)
    # output(12). Serializing partial messages and concatenating gives the canonical encoding.
    g_head = onnx.GraphProto(name="edgec_bench_vit")
    g_head.node.extend(nodes)
    g_tail = onnx.GraphProto(doc_string="pixel_values -> conv stem -> transformer -> logits")
    g_tail.input.extend(inputs)
    g_tail.output.extend(outputs)
    g_head_b, g_tail_b = g_head.SerializeToString(), g_tail.SerializeToString()

    entries = []     # (tensor header bytes incl. raw_data tag+len, raw payload length)
    for name, shape, kind, _ in W.specs:
        meta_t = onnx.TensorProto(dims=shape, data_type=W.dtype(kind), name=name)
        nraw = W.numel(shape) * (8 if kind == "int64" else 4)
        hdr = meta_t.SerializeToString() + ld_field(9, nraw)   # raw_data = field 9
        entries.append((ld_field(5, len(hdr) + nraw) + hdr, nraw))
    graph_len = len(g_head_b) + sum(len(h) + n for h, n in entries) + len(g_tail_b)

    with open(path, "wb") as f:
        f.write(head.SerializeToString())
        f.write(ld_field(7, graph_len))
        f.write(g_head_b)
        for (hdr, nraw), (name, shape, kind, kw) in zip(entries, W.specs):
            a = Weights.make(rng, shape, kind, kw)
            assert a.nbytes == nraw, name
            f.write(hdr)
            f.write(memoryview(np.ascontiguousarray(a)).cast("B"))
            del a
        f.write(g_tail_b)
        f.write(tail.SerializeToString())
        f.flush()
        os.fsync(f.fileno())


def check(path, nodes, W, inputs, outputs):
    """onnx.checker on the written file, and strict shape inference on a weight-free twin.

    Checking by path keeps the model out of Python (~2.3x the file size at peak); running
    shape inference on the file itself would take ~3.4x, so it runs on the same graph with the
    float weights declared as typed graph inputs instead (shape inference only needs their
    shapes; the small int64 shape initializers keep their values)."""
    onnx.checker.check_model(path)
    twin_inputs = list(inputs)
    twin_inits = []
    for name, shape, kind, kw in W.specs:
        if kind == "int64":
            twin_inits.append(helper.make_tensor(name, INT64, shape, kw["value"]))
        else:
            twin_inputs.append(helper.make_tensor_value_info(name, FLOAT, shape))
    g = helper.make_graph(nodes, "twin", twin_inputs, outputs, twin_inits)
    twin = helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)],
                             ir_version=IR_VERSION)
    onnx.checker.check_model(twin)
    onnx.shape_inference.infer_shapes(twin, check_type=True, strict_mode=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", help="output .onnx path")
    ap.add_argument("--mb", type=float, default=100.0, help="target file size in MiB (default 100)")
    ap.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    ap.add_argument("--no-check", action="store_true", help="skip onnx.checker (faster)")
    args = ap.parse_args()
    if args.mb <= 0 or args.mb > 1900:
        ap.error("--mb must be in (0, 1900]: a single ONNX protobuf file is limited to 2 GB")

    target = int(args.mb * 1024 * 1024)
    width, n_blocks, classes, hidden = plan(target)
    nodes, W, inputs, outputs = build(width, n_blocks, classes, hidden)
    rng = np.random.Generator(np.random.PCG64(args.seed))
    meta = {"generator": "bench/gen_big_model.py", "mb": f"{args.mb:g}", "seed": str(args.seed),
            "architecture": f"width={width} blocks={n_blocks} heads={HEADS} hidden={hidden} "
                            f"classes={classes}"}
    tmp = args.out + ".tmp"
    try:
        write_model(tmp, nodes, W, inputs, outputs, rng, meta)
        if not args.no_check:
            check(tmp, nodes, W, inputs, outputs)
        os.replace(tmp, args.out)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    size = os.path.getsize(args.out)
    params = sum(W.numel(s) for _, s, k, _ in W.specs if k != "int64")
    print(f"{args.out}: {size} bytes ({size / 2**20:.1f} MiB), {params} float params, "
          f"{len(W.specs)} initializers, {len(nodes)} nodes; {meta['architecture']}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
