"""Helpers for tests/codec/run.sh.

  tensors.py MODEL.onnx        "name raw_size crc32" of every tensor with raw_data, sorted
                               (initializers, Constant values named by their output, any depth)
  tensors.py top1 ORT.json DATA.npz   top-1 accuracy (%) of ONNX Runtime's first output
"""
import os
import sys
import zlib

import numpy as np
import onnx

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
from interp_util import ort_outputs  # noqa: E402


def graph_tensors(g, out):
    for t in g.initializer:
        if t.raw_data:
            out.append((t.name, t.raw_data))
    for n in g.node:
        for a in n.attribute:
            if a.type == onnx.AttributeProto.TENSOR and a.t.raw_data:
                out.append((a.t.name or (n.output[0] if n.op_type == "Constant" else ""), a.t.raw_data))
            for sub in list(a.graphs) + ([a.g] if a.type == onnx.AttributeProto.GRAPH else []):
                graph_tensors(sub, out)


def main(argv):
    if len(argv) == 4 and argv[1] == "top1":
        logits = ort_outputs(argv[2])[0][1]
        labels = np.load(argv[3])["labels"]
        print("%.4f" % (100.0 * np.count_nonzero(np.argmax(logits, axis=1) == labels) / labels.shape[0]))
        return 0
    m = onnx.load(argv[1])
    out = []
    graph_tensors(m.graph, out)
    for name, raw in sorted(out):
        print("%s %d %08x" % (name, len(raw), zlib.crc32(raw) & 0xFFFFFFFF))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
