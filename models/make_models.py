#!/usr/bin/python3
"""Train and export edgec's small sample models on sklearn's bundled digits set.

    /usr/bin/python3 models/make_models.py [--outdir models] [--no-ort]

Writes (into --outdir, default: this script's folder):
  digits_mlp.onnx          MLP 64-300-100-10 (ReLU), input `input` [N,64], output `logits` [N,10]
  digits_cnn.onnx          small CNN (Conv+BN, depthwise conv, residual Add, GAP, Gemm),
                           input `input` [N,1,8,8], output `logits` [N,10]
  digits-test.npz          test split, `input` float32 [360,64] (pixel/16), `labels` int64 [360]
  digits-calib.npz         calibration split, `input` float32 [256,64], `labels` int64 [256]
  digits-test-cnn.npz      same test split, `input` float32 [360,1,8,8]
  digits-calib-cnn.npz     same calibration split, `input` float32 [256,1,8,8]
  README.md                what the files are and the measured accuracies

Deterministic: fixed seeds, one thread, deterministic algorithms, and no
timestamps in the .npz members, so re-running gives byte-identical files.
The accuracy of each exported model is also measured in ONNX Runtime through
tests/interop/ort_run.js when node and onnxruntime-node are available.
"""

import argparse
import base64
import io
import json
import os
import subprocess
import sys
import tempfile
import zipfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits

SEED = 20240601
N_TEST = 360
N_CALIB = 256
OPSET = 13

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ORT_RUN = os.path.join(ROOT, "tests", "interop", "ort_run.js")


def set_determinism(seed):
    torch.manual_seed(seed)
    np.random.seed(seed)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False


# ------------------------------------------------------------------ data ---

def split_digits():
    """Seeded, class-stratified, disjoint split: test 360, calib 256, train the rest (1181)."""
    from sklearn.model_selection import train_test_split
    d = load_digits()
    x = (d.data.astype(np.float32) / np.float32(16.0)).astype(np.float32)  # [1797,64] in [0,1]
    y = d.target.astype(np.int64)
    idx = np.arange(len(y))
    rest, test_idx = train_test_split(idx, test_size=N_TEST, stratify=y, random_state=SEED)
    train_idx, calib_idx = train_test_split(rest, test_size=N_CALIB, stratify=y[rest], random_state=SEED)
    assert len(test_idx) == N_TEST and len(calib_idx) == N_CALIB
    assert len(set(test_idx) | set(calib_idx) | set(train_idx)) == len(y)
    return (x[train_idx], y[train_idx]), (x[calib_idx], y[calib_idx]), (x[test_idx], y[test_idx])


def save_npz(path, **arrays):
    """numpy.savez_compressed, but with a fixed timestamp in the zip members so
    the file is byte-identical across runs (savez stamps the current time)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key in sorted(arrays):
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(arrays[key]), allow_pickle=False)
            zf.writestr(info, member.getvalue())
    with open(path, "wb") as f:
        f.write(buf.getvalue())
    # round-trip check with numpy's own reader
    with np.load(path) as z:
        for key, a in arrays.items():
            assert z[key].dtype == a.dtype and np.array_equal(z[key], a), key


# ---------------------------------------------------------------- models ---

class DigitsMLP(nn.Module):
    """LeNet-300-100 on 8x8 digits."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 300)
        self.fc2 = nn.Linear(300, 100)
        self.fc3 = nn.Linear(100, 10)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


class DigitsCNN(nn.Module):
    """Conv+BN stem, a depthwise-separable residual block, a strided Conv+BN,
    global average pool, Flatten, Gemm."""

    def __init__(self, c1=24, c2=48):
        super().__init__()
        self.stem = nn.Conv2d(1, c1, 3, padding=1, bias=False)
        self.stem_bn = nn.BatchNorm2d(c1)
        self.dw = nn.Conv2d(c1, c1, 3, padding=1, groups=c1, bias=False)  # depthwise
        self.dw_bn = nn.BatchNorm2d(c1)
        self.pw = nn.Conv2d(c1, c1, 1, bias=False)  # pointwise
        self.pw_bn = nn.BatchNorm2d(c1)
        self.down = nn.Conv2d(c1, c2, 3, stride=2, padding=1, bias=False)
        self.down_bn = nn.BatchNorm2d(c2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c2, 10)

    def forward(self, x):
        x = F.relu(self.stem_bn(self.stem(x)))
        y = F.relu(self.dw_bn(self.dw(x)))
        y = self.pw_bn(self.pw(y))
        x = F.relu(x + y)  # residual Add
        x = F.relu(self.down_bn(self.down(x)))
        x = self.pool(x)
        x = torch.flatten(x, 1)
        return self.fc(x)


def train(model, x, y, epochs, lr, weight_decay, seed, batch=64):
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    xt = torch.from_numpy(x)
    yt = torch.from_numpy(y)
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(len(xt), generator=g)
        for i in range(0, len(xt), batch):
            idx = perm[i:i + batch]
            opt.zero_grad()
            loss = F.cross_entropy(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
        sched.step()
    model.eval()
    return model


@torch.no_grad()
def accuracy_torch(model, x, y):
    model.eval()
    pred = model(torch.from_numpy(x)).argmax(1).numpy()
    return float((pred == y).mean())


def export(model, example, path, keep_bn):
    model.eval()
    kwargs = dict(
        input_names=["input"],
        output_names=["logits"],
        dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
        opset_version=OPSET,
    )
    if keep_bn:
        # PRESERVE skips the eval-mode peephole that folds BatchNormalization
        # into Conv; the model is in eval mode so BN uses running statistics.
        kwargs.update(do_constant_folding=False, training=torch.onnx.TrainingMode.PRESERVE)
    else:
        kwargs.update(do_constant_folding=True)
    torch.onnx.export(model, example, path, **kwargs)
    import onnx
    m = onnx.load(path)
    onnx.checker.check_model(m)
    return m


# ------------------------------------------------------------------- ORT ---

def accuracy_ort(model_path, npz_path):
    """Top-1 accuracy of the exported model in ONNX Runtime, or None if
    node/onnxruntime-node is not available."""
    if not os.path.exists(os.path.join(ROOT, "tests", "interop", "node_modules", "onnxruntime-node")):
        return None, "onnxruntime-node not installed in tests/interop/node_modules"
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.json")
        try:
            r = subprocess.run(["node", ORT_RUN, model_path, "--inputs", npz_path, "--out", out],
                               capture_output=True, text=True, timeout=300)
        except (OSError, subprocess.TimeoutExpired) as e:
            return None, str(e)
        if r.returncode != 0:
            return None, r.stderr.strip()
        with open(out) as f:
            doc = json.load(f)
    o = [o for o in doc["outputs"] if o["name"] == "logits"][0]
    logits = np.frombuffer(base64.b64decode(o["data"]), dtype=np.float32).reshape(o["dims"])
    with np.load(npz_path) as z:
        labels = z["labels"]
    return float((logits.argmax(1) == labels).mean()), None


# ---------------------------------------------------------------- README ---

README = """\
# Sample models

Small real models for edgec's tests, examples and benchmarks, trained offline on
scikit-learn's bundled `load_digits` set (1797 8x8 grey-scale digits, 10 classes;
no download). Everything here is made by one deterministic script:

    /usr/bin/python3 models/make_models.py

(Debian 12 `python3-onnx` 1.12, torch {torch_version}, scikit-learn {sklearn_version};
one thread, fixed seeds, deterministic algorithms.) Re-running it rewrites every file
below byte-for-byte identically on the same package versions.

| file | what it is |
| --- | --- |
| `digits_mlp.onnx` | LeNet-300-100 MLP: Gemm 64->300, ReLU, Gemm 300->100, ReLU, Gemm 100->10. Input `input` float32 [N,64], output `logits` float32 [N,10]. {mlp_params} parameters, {mlp_bytes} bytes. |
| `digits_cnn.onnx` | Small CNN: Conv 3x3 (1->24) + BatchNormalization + ReLU; depthwise Conv 3x3 (group=24) + BN + ReLU; pointwise Conv 1x1 + BN; residual Add; ReLU; Conv 3x3 stride 2 (24->48) + BN + ReLU; GlobalAveragePool; Flatten; Gemm 48->10. Input `input` float32 [N,1,8,8], output `logits` float32 [N,10]. BatchNormalization nodes are kept (not folded). {cnn_params} parameters, {cnn_bytes} bytes. |
| `digits-test.npz` | Test split: `input` float32 [{n_test},64], `labels` int64 [{n_test}]. |
| `digits-calib.npz` | Calibration split: `input` float32 [{n_calib},64], `labels` int64 [{n_calib}]. |
| `digits-test-cnn.npz` | The same test split with `input` shaped [{n_test},1,8,8] for `digits_cnn.onnx`. |
| `digits-calib-cnn.npz` | The same calibration split with `input` shaped [{n_calib},1,8,8]. |
| `make_models.py` | The script that made all of the above (and this README). |

Both models are ONNX opset {opset} (IR version {ir}), exported by `torch.onnx.export` with a
dynamic batch dimension named `N`. Pixels are scaled to [0,1] (value/16), the same in both
layouts. The splits are disjoint and stratified by class with a fixed seed: {n_train} train,
{n_calib} calibration, {n_test} test samples. The models never saw the calibration or test
samples. `.npz` files are zip archives of `.npy` arrays (deflate), readable by
`numpy.load` and keyed by the models' input name, as `edgec --calib/--eval` expect.

## Float accuracy (top-1 on `digits-test*.npz`, {n_test} samples)

| model | PyTorch (eval) | ONNX Runtime 1.30 (CPU, optimizations disabled) |
| --- | --- | --- |
| `digits_mlp.onnx` | {mlp_acc_torch} | {mlp_acc_ort} |
| `digits_cnn.onnx` | {cnn_acc_torch} | {cnn_acc_ort} |

ONNX Runtime figures come from `tests/interop/ort_run.js MODEL --inputs digits-test*.npz`;
e.g. `node tests/interop/ort_run.js models/digits_mlp.onnx --inputs models/digits-test.npz`.
"""


def fmt_acc(a, why=None):
    return "not measured ({})".format(why) if a is None else "{:.2f}% ({}/{})".format(
        100 * a, int(round(a * N_TEST)), N_TEST)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--outdir", default=HERE)
    ap.add_argument("--no-ort", action="store_true", help="skip the ONNX Runtime accuracy check")
    args = ap.parse_args()
    out = args.outdir
    os.makedirs(out, exist_ok=True)

    set_determinism(SEED)
    (xtr, ytr), (xca, yca), (xte, yte) = split_digits()
    img = lambda a: a.reshape(-1, 1, 8, 8)
    save_npz(os.path.join(out, "digits-test.npz"), input=xte, labels=yte)
    save_npz(os.path.join(out, "digits-calib.npz"), input=xca, labels=yca)
    save_npz(os.path.join(out, "digits-test-cnn.npz"), input=img(xte), labels=yte)
    save_npz(os.path.join(out, "digits-calib-cnn.npz"), input=img(xca), labels=yca)

    # --- MLP
    set_determinism(SEED + 1)
    mlp = train(DigitsMLP(), xtr, ytr, epochs=60, lr=1e-3, weight_decay=1e-4, seed=SEED + 1)
    mlp_acc = accuracy_torch(mlp, xte, yte)
    mlp_path = os.path.join(out, "digits_mlp.onnx")
    export(mlp, torch.zeros(1, 64), mlp_path, keep_bn=False)

    # --- CNN
    set_determinism(SEED + 2)
    cnn = train(DigitsCNN(), img(xtr), ytr, epochs=80, lr=3e-3, weight_decay=1e-4, seed=SEED + 2)
    cnn_acc = accuracy_torch(cnn, img(xte), yte)
    cnn_path = os.path.join(out, "digits_cnn.onnx")
    m_cnn = export(cnn, torch.zeros(1, 1, 8, 8), cnn_path, keep_bn=True)
    ops = [n.op_type for n in m_cnn.graph.node]
    for op in ("Conv", "BatchNormalization", "Add", "Relu", "GlobalAveragePool", "Flatten", "Gemm"):
        assert op in ops, "digits_cnn.onnx lacks {}: {}".format(op, ops)
    assert any(n.op_type == "Conv" and any(a.name == "group" and a.i > 1 for a in n.attribute)
               for n in m_cnn.graph.node), "no depthwise Conv"

    print("torch top-1: mlp {:.4f}  cnn {:.4f}".format(mlp_acc, cnn_acc))
    if args.no_ort:
        ort = {"mlp": (None, "--no-ort"), "cnn": (None, "--no-ort")}
    else:
        ort = {"mlp": accuracy_ort(mlp_path, os.path.join(out, "digits-test.npz")),
               "cnn": accuracy_ort(cnn_path, os.path.join(out, "digits-test-cnn.npz"))}
        for k, (a, why) in ort.items():
            print("ORT top-1: {} {}".format(k, "{:.4f}".format(a) if a is not None else "n/a: " + why))
        for k, t in (("mlp", mlp_acc), ("cnn", cnn_acc)):
            a = ort[k][0]
            if a is not None and abs(a - t) > 1.5 / N_TEST:
                print("WARNING: {} ORT accuracy {:.4f} differs from torch {:.4f}".format(k, a, t), file=sys.stderr)

    import onnx
    import sklearn
    nparams = lambda m: sum(p.numel() for p in m.parameters())
    readme = README.format(
        torch_version=torch.__version__, sklearn_version=sklearn.__version__,
        mlp_params="{:,}".format(nparams(mlp)), cnn_params="{:,}".format(nparams(cnn)),
        mlp_bytes="{:,}".format(os.path.getsize(mlp_path)), cnn_bytes="{:,}".format(os.path.getsize(cnn_path)),
        n_test=N_TEST, n_calib=N_CALIB, n_train=len(ytr), opset=OPSET,
        ir=onnx.load(mlp_path).ir_version,
        mlp_acc_torch=fmt_acc(mlp_acc), cnn_acc_torch=fmt_acc(cnn_acc),
        mlp_acc_ort=fmt_acc(*ort["mlp"]), cnn_acc_ort=fmt_acc(*ort["cnn"]),
    )
    if args.no_ort and os.path.abspath(out) == HERE:
        print("--no-ort: README.md not rewritten")
    else:
        with open(os.path.join(out, "README.md"), "w") as f:
            f.write(readme)
    return 0


if __name__ == "__main__":
    sys.exit(main())
