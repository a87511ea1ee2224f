#!/usr/bin/python3
"""Validate ONNX models with the onnx package's checker.

    /usr/bin/python3 tests/interop/check_onnx.py MODEL.onnx...

For each model prints one line: `ok MODEL`, `SKIP MODEL: reason` or
`FAIL MODEL: reason`. Uses onnx.checker.check_model(full_check=False) on the
file path, so external data is resolved beside the model (and its size is not
limited to 2 GB). A model whose IR version or opset is newer than the
installed onnx package knows (onnx 1.12: IR 8, opset 17, ai.onnx.ml 3) is
SKIPped with the reason. Exit 0 if every model passed or was skipped, 1 if
any failed, 2 on usage error.
"""

import os
import sys

import onnx
import onnx.checker
import onnx.helper


def supported_versions():
    """(max IR version, {domain: max opset}) known to the installed onnx."""
    max_ir = onnx.IR_VERSION
    opsets = {"": onnx.defs.onnx_opset_version(), "ai.onnx": onnx.defs.onnx_opset_version()}
    ml = 0
    training = 0
    for row in onnx.helper.VERSION_TABLE:
        if row[1] <= max_ir and row[2] <= opsets[""]:
            ml = max(ml, row[3])
            if len(row) > 4:
                training = max(training, row[4])
    opsets["ai.onnx.ml"] = ml
    if training:
        opsets["ai.onnx.training"] = training
    return max_ir, opsets


def too_new(model, max_ir, opsets):
    """Why the checker cannot judge this model, or None."""
    if model.ir_version > max_ir:
        return "IR version {} is newer than onnx {} supports (IR {})".format(
            model.ir_version, onnx.__version__, max_ir)
    for imp in model.opset_import:
        if imp.domain in opsets and imp.version > opsets[imp.domain]:
            return "opset {}:{} is newer than onnx {} supports ({})".format(
                imp.domain or "ai.onnx", imp.version, onnx.__version__, opsets[imp.domain])
    for fn in model.functions:
        for imp in fn.opset_import:
            if imp.domain in opsets and imp.version > opsets[imp.domain]:
                return "function {} imports opset {}:{}, newer than onnx {} supports ({})".format(
                    fn.name, imp.domain or "ai.onnx", imp.version, onnx.__version__, opsets[imp.domain])
    return None


def check(path, max_ir, opsets):
    try:
        model = onnx.load(path, load_external_data=False)
    except Exception as e:  # noqa: BLE001 - report any parse failure
        return "FAIL", "cannot parse: {}".format(e)
    why = too_new(model, max_ir, opsets)
    if why:
        return "SKIP", why
    try:
        # the path form loads external data relative to the model's folder
        onnx.checker.check_model(path, full_check=False)
    except Exception as e:  # noqa: BLE001
        msg = " ".join(str(e).split())
        return "FAIL", msg[:2000]
    return "ok", None


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip().split("\n\n")[1].strip(), file=sys.stderr)
        return 2
    max_ir, opsets = supported_versions()
    failed = 0
    for path in argv[1:]:
        if not os.path.isfile(path):
            status, why = "FAIL", "no such file"
        else:
            status, why = check(path, max_ir, opsets)
        print("{} {}{}".format(status, path, ": " + why if why else ""))
        failed += status == "FAIL"
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
