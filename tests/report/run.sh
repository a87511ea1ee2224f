#!/usr/bin/env bash
# The compress report, the quality gate, the depfile and determinism (issue 8).
#
# usage: tests/report/run.sh EDGEC_BIN SCRATCHDIR
#
# Checks, against the sample models and independent measurements (python onnx for the
# files, `edgec eval` and ONNX Runtime for the accuracies):
#   - the JSON report has exactly the top-level keys of docs/REPORT.md, true file sizes,
#     parameter and non-zero counts equal to the written model's, and accuracies equal to
#     those of the written model (edgec eval, and ONNX Runtime when node is available);
#   - the HTML report is self-contained, has its charts, and renders in headless Chromium
#     to a non-blank screenshot showing the chart colours (SKIP when chromium is missing);
#   - a failed gate exits 3, writes no model, still writes the report and says by how much
#     it missed; a passing gate writes the model;
#   - every registered pass, alone and in pairs, gives identical model and JSON bytes on
#     two runs (the second with --threads 2), and --eval does not change the model;
#   - the depfile names the model, its external data and the data files, and the example
#     Makefile and CI script of docs/examples work;
#   - -q silences, --progress draws on stderr, a bad --report extension is a usage error.
# Prints `ok - NAME` / `not ok - NAME: WHY` / `ok - NAME # SKIP WHY`, then a summary line;
# exits 1 if any check failed.
set -u
if [[ $# -ne 2 ]]; then
    echo "usage: $0 EDGEC_BIN SCRATCHDIR" >&2
    exit 2
fi
EDGEC=$(realpath -- "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PY=${EDGEC_TEST_PYTHON:-/usr/bin/python3}
TMO=${EDGEC_TEST_TIMEOUT:-120}
case $2 in "" | /) echo "$0: refusing SCRATCHDIR '$2'" >&2; exit 2 ;; esac
mkdir -p -- "$2" || exit 2
S=$(realpath -- "$2")/report
rm -rf -- "$S"
mkdir -p -- "$S"
MLP=$ROOT/models/digits_mlp.onnx
CNN=$ROOT/models/digits_cnn.onnx
TEST=$ROOT/models/digits-test.npz
TEST_CNN=$ROOT/models/digits-test-cnn.npz
CALIB=$ROOT/models/digits-calib.npz
CALIB_CNN=$ROOT/models/digits-calib-cnn.npz

NPASS=0 NFAIL=0
WHY=()
ok() { echo "ok - $1"; NPASS=$((NPASS + 1)); }
skip() { echo "ok - $1 # SKIP $2"; NPASS=$((NPASS + 1)); }
finish() {
    if [[ ${#WHY[@]} -eq 0 ]]; then
        ok "$1"
    else
        local s="${WHY[0]}" i
        for ((i = 1; i < ${#WHY[@]}; i++)); do s+="; ${WHY[i]}"; done
        echo "not ok - $1: $s"
        NFAIL=$((NFAIL + 1))
    fi
    WHY=()
}
# run DIR ARGS...: edgec in DIR, stdout/stderr to DIR/out, DIR/err, status to RC.
run() {
    local d=$1
    shift
    mkdir -p -- "$d"
    (cd -- "$d" && exec timeout -k 5 "$TMO" "$EDGEC" "$@" >"$d/out" 2>"$d/err" </dev/null)
    RC=$?
}
rc_is() { [[ $RC -eq $1 ]] || WHY+=("exit $RC, expected $1: $(grep -v '^ ' "$2/err" | tail -n 1 | cut -c1-200)"); }
py() { "$PY" - "$@"; }

# Registered passes and a value each takes, from `edgec help compress`.
"$EDGEC" help compress >"$S/help" 2>&1
# Pass lines are the two-space-indented ones of the "Passes and their options" section
# (their secondary options are indented further).
mapfile -t PASSES < <(awk '/^Passes and their options:/ {on = 1; next} on && /^$/ {exit}
    on && /^  --[a-z0-9]/ {sub(/^  --/, ""); sub(/[ [=].*/, ""); print}' "$S/help")
echo "# registered passes: ${PASSES[*]:-none}"
has_pass() { local p; for p in "${PASSES[@]}"; do [[ $p == "$1" ]] && return 0; done; return 1; }
# pass_args NAME: prints the arguments that enable pass NAME with a typical value.
pass_args() {
    local p=$1 v
    for v in "" 0.5 16 2:4 0.9 8; do
        if [[ -z $v ]]; then set -- "--$p"; else set -- "--$p=$v"; fi
        if timeout -k 5 "$TMO" "$EDGEC" compress "$MLP" -o /dev/null "$@" -q 2>/dev/null </dev/null; then
            echo "$@"
            return 0
        fi
    done
    return 1
}
declare -A ARGS
for p in "${PASSES[@]}"; do
    if a=$(pass_args "$p"); then ARGS[$p]=$a; else echo "# pass --$p: no typical value accepted"; fi
done

# ---- 1. JSON report: true sizes, counts and accuracies --------------------------------
D=$S/json
QUANT=""
has_pass int8 && QUANT="--int8"
PASSARGS=(--prune 0.5 $QUANT)
if ! has_pass prune; then PASSARGS=($QUANT); fi
run "$D" compress "$MLP" -o out.onnx "${PASSARGS[@]}" --eval "$TEST" --report r.json
rc_is 0 "$D"
[[ -s $D/out.onnx ]] || WHY+=("no model written")
[[ -s $D/r.json ]] || WHY+=("no report written")
if [[ -s $D/r.json && -s $D/out.onnx ]]; then
    run "$D/ev" eval "$D/out.onnx" --data "$TEST" --json
    cp -- "$D/ev/out" "$D/eval_out.json"
    run "$D/ev" eval "$MLP" --data "$TEST" --json
    cp -- "$D/ev/out" "$D/eval_ref.json"
    msg=$(py "$MLP" "$D/out.onnx" "$D/r.json" "$D/eval_ref.json" "$D/eval_out.json" <<'EOF' 2>&1
import json, os, sys
import numpy as np
import onnx
from onnx import numpy_helper
ref, out, rep, ev_ref, ev_out = sys.argv[1:]
r = json.load(open(rep))
bad = []
keys = ["version", "input", "output", "passes", "size", "params", "macs", "layers", "eval", "gate"]
if list(r) != keys:
    bad.append("top-level keys %s" % list(r))
if r["size"]["input_bytes"] != os.path.getsize(ref):
    bad.append("input_bytes %s != %d" % (r["size"]["input_bytes"], os.path.getsize(ref)))
if r["size"]["output_bytes"] != os.path.getsize(out) or r["output"]["bytes"] != os.path.getsize(out):
    bad.append("output_bytes %s != %d" % (r["size"]["output_bytes"], os.path.getsize(out)))
if abs(r["size"]["ratio"] - os.path.getsize(ref) / os.path.getsize(out)) > 1e-12:
    bad.append("ratio %s" % r["size"]["ratio"])
# Parameters and non-zeros of the written file, counted independently. Quantized weights
# count zeros as q == zero point, which the report does too.
m = onnx.load(out)
params = nonzero = 0
for t in m.graph.initializer:
    a = numpy_helper.to_array(t)
    params += a.size
    nonzero += int(np.count_nonzero(a))
for s in m.graph.sparse_initializer:
    params += int(np.prod(s.dims))
    nonzero += int(np.count_nonzero(numpy_helper.to_array(s.values)))
zp = {}
for n in m.graph.node:
    if n.op_type == "DequantizeLinear" and len(n.input) > 2 and n.input[2]:
        zp[n.input[0]] = n.input[2]
inits = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
for q, z in zp.items():
    if q in inits and z in inits and inits[z].size == 1 and inits[z].item() != 0:
        nonzero += int(np.count_nonzero(inits[q] != inits[z].item())) - int(np.count_nonzero(inits[q]))
if r["params"]["after"] != params or r["params"]["nonzero_after"] != nonzero:
    bad.append("params after %s/%s, file has %d/%d" % (r["params"]["after"], r["params"]["nonzero_after"], params, nonzero))
e = r["eval"]
er, eo = json.load(open(ev_ref)), json.load(open(ev_out))
if e is None or e["samples"] != er["samples"] or not e["labels"]:
    bad.append("eval %s" % e)
else:
    if e["reference"]["top1"] != er["reference"]["top1"]:
        bad.append("reference top1 %s != edgec eval %s" % (e["reference"]["top1"], er["reference"]["top1"]))
    if e["result"]["top1"] != eo["reference"]["top1"]:
        bad.append("result top1 %s != edgec eval of the written model %s" % (e["result"]["top1"], eo["reference"]["top1"]))
    if abs(e["top1_drop"] - (e["reference"]["top1"] - e["result"]["top1"])) > 1e-9:
        bad.append("top1_drop inconsistent")
    if abs(e["reference"]["top1"] - 97.78) > 0.01:
        bad.append("reference top1 %s, expected 97.78" % e["reference"]["top1"])
if not r["layers"] or any(l["status"] != "changed" for l in r["layers"]):
    bad.append("layers %s" % [(l["name"], l["status"]) for l in r["layers"]])
tot = sum(l["after"]["bytes"] for l in r["layers"] if l["after"])
if tot > r["size"]["weight_bytes_after"]:
    bad.append("layer bytes %d exceed the weights' %d" % (tot, r["size"]["weight_bytes_after"]))
meta = {p.key: p.value for p in m.metadata_props}
if "edgec.version" not in meta or meta.get("edgec.options") != r["passes"]["options"]:
    bad.append("metadata_props %s vs options %r" % (meta, r["passes"]["options"]))
print("; ".join(bad) if bad else "top1 %.2f -> %.2f, %d -> %d bytes, nonzero %d -> %d" % (
    e["reference"]["top1"], e["result"]["top1"], r["size"]["input_bytes"], r["size"]["output_bytes"],
    r["params"]["nonzero_before"], r["params"]["nonzero_after"]))
sys.exit(1 if bad else 0)
EOF
)
    [[ $? -eq 0 ]] || WHY+=("$msg")
    echo "# json: ${PASSARGS[*]}: $msg"
    # ONNX Runtime agrees with the report's top-1 of the result.
    if command -v node >/dev/null && [[ -f $ROOT/tests/interop/node_modules/onnxruntime-node/package.json ]]; then
        py "$D/r.json" "$D/ortin.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
json.dump({"samples": r["eval"]["samples"], "reference": {"top1": r["eval"]["result"]["top1"]}}, open(sys.argv[2], "w"))
EOF
        if node "$ROOT/tests/interop/ort_run.js" "$D/out.onnx" --inputs "$TEST" --out "$D/ort.json" 2>"$D/ort.err"; then
            m=$("$PY" "$ROOT/tests/interop/interp_util.py" top1 "$D/ort.json" "$TEST" "$D/ortin.json") ||
                WHY+=("ONNX Runtime disagrees: $m")
            echo "# json: $m"
        else
            WHY+=("ONNX Runtime cannot run the output: $(tail -n 1 "$D/ort.err")")
        fi
    fi
fi
finish "json report: ${PASSARGS[*]} --eval: true sizes, counts and accuracies"

# Markdown from the same run.
D=$S/md
run "$D" compress "$MLP" -o out.onnx "${PASSARGS[@]}" --eval "$TEST" --report r.md --report r.json -q
rc_is 0 "$D"
grep -q '^| layer | op | shape | dtype | zeros | rank | bytes |' "$D/r.md" 2>/dev/null || WHY+=("no layer table")
grep -q 'top-1' "$D/r.md" 2>/dev/null || WHY+=("no top-1 line")
[[ -s $D/err ]] && WHY+=("-q printed: $(head -c 200 "$D/err")")
cmp -s "$D/r.json" "$S/json/r.json" || WHY+=("JSON differs from the run without --report r.md")
finish "markdown report (with -q: stderr empty; two --report files)"

# ---- 2. HTML --------------------------------------------------------------------------
D=$S/html
run "$D" compress "$CNN" -o out.onnx ${ARGS[prune]:-} ${ARGS[cluster]:-} --eval "$TEST_CNN" --report r.html -q
rc_is 0 "$D"
H=$D/r.html
if [[ -s $H ]]; then
    n=$(grep -o '<svg' "$H" | wc -l)
    [[ $n -ge 4 ]] || WHY+=("$n charts, expected 4")
    grep -qiE '<script|<link|src=|url\(|https?://[^"]*"' <(grep -v 'xmlns="http://www.w3.org/2000/svg"' "$H" | sed 's#xmlns="http://www.w3.org/2000/svg"##g') &&
        WHY+=("not self-contained: $(grep -oiE '<script|<link|src=|url\(|https?://' "$H" | head -n 1)")
    for t in "Bytes per layer" "Bits per weight" "Zeros per layer" "Accuracy and fidelity"; do
        grep -q "$t" "$H" || WHY+=("no chart '$t'")
    done
    "$PY" -c 'import sys, xml.dom.minidom as m, re
s = open(sys.argv[1]).read()
for svg in re.findall(r"<svg.*?</svg>", s, re.S):
    m.parseString(svg)' "$H" 2>"$D/xml.err" || WHY+=("an SVG is not well-formed XML: $(tail -n 1 "$D/xml.err")")
else
    WHY+=("no HTML written")
fi
finish "html report: self-contained, four well-formed SVG charts"

CHROME=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [[ -z $CHROME ]]; then
    skip "html renders in headless chromium" "chromium not installed (apt-get install -y chromium)"
elif [[ -s $H ]]; then
    prof=$(mktemp -d)
    timeout -k 5 120 "$CHROME" --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --disable-sync --no-first-run --user-data-dir="$prof" \
        --screenshot="$D/shot.png" --window-size=1200,1600 "file://$H" >"$D/chrome.log" 2>&1
    rm -rf -- "$prof"
    if [[ ! -s $D/shot.png ]]; then
        WHY+=("no screenshot: $(tail -n 1 "$D/chrome.log")")
    else
        m=$("$PY" - "$D/shot.png" <<'EOF'
import sys
from PIL import Image
im = Image.open(sys.argv[1]).convert("RGB")
px = list(im.getdata())
colors = len(set(px))
blue = sum(1 for p in px if abs(p[0] - 0x1f) < 12 and abs(p[1] - 0x77) < 12 and abs(p[2] - 0xb4) < 12)
grey = sum(1 for p in px if abs(p[0] - 0x9a) < 10 and abs(p[1] - 0xa5) < 10 and abs(p[2] - 0xb1) < 10)
nonwhite = sum(1 for p in px if p != (255, 255, 255))
print("%dx%d, %d colours, %d non-white, %d blue and %d grey bar pixels" % (im.size[0], im.size[1], colors, nonwhite, blue, grey))
sys.exit(0 if colors > 16 and blue > 2000 and grey > 2000 and nonwhite > 0.02 * len(px) else 1)
EOF
)
        [[ $? -eq 0 ]] || WHY+=("blank or chartless screenshot: $m")
        echo "# html screenshot: $m"
    fi
fi
[[ -n $CHROME ]] && finish "html renders in headless chromium with its charts"

# ---- 3. The gate ----------------------------------------------------------------------
if has_pass prune; then
    D=$S/gate_fail
    mkdir -p "$D"
    cp -- "$MLP" "$D/model.onnx"
    run "$D" compress model.onnx --prune 0.95 --eval "$TEST" --max-drop 0.5 --report r.json
    rc_is 3 "$D"
    [[ -e $D/model.edgec.onnx ]] && WHY+=("a model was written")
    [[ $(ls -A "$D" | sort | tr '\n' ' ') == "err model.onnx out r.json " ]] || WHY+=("files: $(ls -A "$D" | tr '\n' ' ')")
    grep -qE 'top-1 dropped [0-9.]+ points .*, [0-9.]+ more than --max-drop 0.5 allows' "$D/err" || WHY+=("message: $(tail -n 1 "$D/err")")
    py "$D/r.json" <<'EOF' || WHY+=("report does not record the failed gate")
import json, sys
r = json.load(open(sys.argv[1]))
g, e = r["gate"], r["eval"]
c = g["checks"][0]
ok = (not g["passed"] and g["checked"] and c["name"] == "max_drop" and not c["passed"]
      and abs(c["value"] - e["top1_drop"]) < 1e-12 and abs(c["margin"] - (0.5 - e["top1_drop"])) < 1e-9
      and not r["output"]["written"] and r["size"]["output_bytes"] is None and r["size"]["serialized_bytes"] > 0)
sys.exit(0 if ok else 1)
EOF
    finish "--prune 0.95 --max-drop 0.5: exit 3, no model, report written, says by how much"

    D=$S/gate_pass
    run "$D" compress "$MLP" -o out.onnx --prune 0.5 --eval "$TEST" --max-drop 1 --min-cosine 0.9
    rc_is 0 "$D"
    [[ -s $D/out.onnx ]] || WHY+=("no model written")
    grep -q 'gate:     passed: --max-drop 1 (drop' "$D/err" || WHY+=("no 'gate: passed' line")
    finish "--prune 0.5 --max-drop 1 --min-cosine 0.9: passes, model written"

    D=$S/gate_cos
    run "$D" compress "$MLP" -o out.onnx --prune 0.9 --min-cosine 0.999
    rc_is 3 "$D"
    [[ -e $D/out.onnx ]] && WHY+=("a model was written")
    grep -qE 'cosine similarity [0-9.]+ is [0-9.]+ below --min-cosine 0.999' "$D/err" || WHY+=("message: $(tail -n 1 "$D/err")")
    grep -q 'seeded synthetic' "$D/err" || WHY+=("does not say the inputs were synthetic")
    finish "--min-cosine without --eval: synthetic inputs, exit 3, no model"

    D=$S/gate_stdin
    mkdir -p "$D"
    (cd "$D" && timeout -k 5 "$TMO" "$EDGEC" compress - -o out.onnx --prune 0.5 --eval "$TEST" --report r.json -q <"$MLP" 2>err)
    RC=$?
    rc_is 0 "$D"
    "$PY" -c 'import json,sys; e=json.load(open(sys.argv[1]))["eval"]; sys.exit(0 if abs(e["reference"]["top1"]-97.78)<0.01 else 1)' "$D/r.json" 2>/dev/null ||
        WHY+=("reference accuracy of a model read from stdin is wrong")
    finish "model on stdin: --eval uses a copy taken before the passes"
else
    skip "gate tests" "no prune pass registered"
fi

# ---- 4. Determinism over every registered pass ---------------------------------------
D=$S/det
mkdir -p "$D"
combos=()
for p in "${PASSES[@]}"; do [[ -n ${ARGS[$p]:-} ]] && combos+=("${ARGS[$p]}"); done
n=${#combos[@]}
for ((i = 0; i < n; i++)); do
    for ((k = i + 1; k < n; k++)); do combos+=("${combos[i]} ${combos[k]}"); done
done
[[ $n -gt 1 ]] && combos+=("$(for ((i = 0; i < n; i++)); do printf '%s ' "${combos[i]}"; done)")
ran=0 skipped=0
for c in "${combos[@]}"; do
    for model in "$MLP" "$CNN"; do
        data=$TEST cal=$CALIB
        [[ $model == "$CNN" ]] && data=$TEST_CNN cal=$CALIB_CNN
        a=$D/a b=$D/b x=$D/x
        rm -rf -- "$a" "$b" "$x"
        # shellcheck disable=SC2086
        run "$a" compress "$model" -o out.onnx $c --calib "$cal" --eval "$data" --eval-samples 64 --report r.json
        if [[ $RC -eq 1 || $RC -eq 5 ]]; then
            skipped=$((skipped + 1))   # passes that refuse each other, or this model
            [[ $c == *" "* ]] || WHY+=("$c on $(basename "$model"): exit $RC: $(tail -n 1 "$a/err")")
            continue
        fi
        run "$b" compress "$model" -o out.onnx $c --calib "$cal" --eval "$data" --eval-samples 64 --report r.json --threads 2
        run "$x" compress "$model" -o out.onnx $c --calib "$cal" -q
        ran=$((ran + 1))
        cmp -s "$a/out.onnx" "$b/out.onnx" || WHY+=("$c on $(basename "$model"): model bytes differ between runs")
        cmp -s "$a/r.json" "$b/r.json" || WHY+=("$c on $(basename "$model"): JSON differs between runs")
        cmp -s "$a/out.onnx" "$x/out.onnx" || WHY+=("$c on $(basename "$model"): --eval changed the model")
    done
done
echo "# determinism: ${#combos[@]} combinations of ${n} passes, $ran runs compared, $skipped refused"
[[ $ran -gt 0 ]] || WHY+=("nothing compared")
finish "determinism: every pass alone, in pairs and all together: identical bytes twice"

# ---- 5. depfile, Makefile and CI examples --------------------------------------------
D=$S/dep
mkdir -p "$D/in dir"
"$EDGEC" compress "$MLP" -o "$D/in dir/ext.onnx" --external-data -q
run "$D" compress "in dir/ext.onnx" -o out.onnx --depfile out.d --eval "$TEST" --calib "$CALIB" -q
rc_is 0 "$D"
if [[ -s $D/out.d ]]; then
    grep -q '^out.onnx:' "$D/out.d" || WHY+=("target missing: $(head -n 1 "$D/out.d")")
    grep -qF 'in\ dir/ext.onnx' "$D/out.d" || WHY+=("model missing or unescaped")
    grep -qF 'ext.onnx.data' "$D/out.d" || WHY+=("external data file missing")
    grep -qF "$TEST" "$D/out.d" || WHY+=("--eval data missing")
    grep -qF "$CALIB" "$D/out.d" || WHY+=("--calib data missing")
    # make reads it: every prerequisite exists.
    printf 'all: out.onnx\ninclude out.d\n' >"$D/mk"
    (cd "$D" && make -s -q -f mk) || WHY+=("make does not consider out.onnx up to date")
else
    WHY+=("no depfile")
fi
finish "depfile names the model, its external data, --calib and --eval"

D=$S/make
mkdir -p "$D"
cp -- "$MLP" "$D/net.onnx"
cp -- "$TEST" "$D/test.npz"
MK=(make -s -C "$D" -f "$ROOT/docs/examples/Makefile" EDGEC="$EDGEC" MODEL=net.onnx EVAL=test.npz)
"${MK[@]}" >"$D/log1" 2>&1 || WHY+=("first make failed: $(tail -n 1 "$D/log1")")
[[ -s $D/net.edgec.onnx && -s $D/net.edgec.onnx.d && -s $D/net.edgec.report.json ]] || WHY+=("outputs missing: $(ls "$D" | tr '\n' ' ')")
"${MK[@]}" -q || WHY+=("not up to date after a build")
touch "$D/test.npz"
"${MK[@]}" -q && WHY+=("touching the --eval data does not trigger a rebuild")
"${MK[@]}" >"$D/log2" 2>&1 || WHY+=("rebuild failed")
"${MK[@]}" -q || WHY+=("not up to date after the rebuild")
"${MK[@]}" MAX_DROP=0 PASSES="--prune 0.97" OUT=strict.onnx >"$D/log3" 2>&1
[[ $? -ne 0 && ! -e $D/strict.onnx ]] || WHY+=("a failed gate did not stop make, or left strict.onnx")
finish "docs/examples/Makefile: builds, is up to date, rebuilds on data change, stops on a failed gate"

D=$S/ci
EDGEC=$EDGEC bash "$ROOT/docs/examples/ci.sh" "$MLP" "$TEST" "$D/pass" 1.0 >"$D.log1" 2>&1
r1=$?
EDGEC=$EDGEC bash "$ROOT/docs/examples/ci.sh" "$MLP" "$TEST" "$D/fail" 0.1 -- --prune 0.95 >"$D.log2" 2>&1
r2=$?
[[ $r1 -eq 0 && -s $D/pass/model.edgec.onnx && -s $D/pass/report.md && -s $D/pass/report.json ]] || WHY+=("pass case: exit $r1, files: $(ls "$D/pass" 2>/dev/null | tr '\n' ' ')")
[[ $r2 -eq 3 && ! -e $D/fail/model.edgec.onnx && -s $D/fail/report.md ]] || WHY+=("fail case: exit $r2, files: $(ls "$D/fail" 2>/dev/null | tr '\n' ' ')")
finish "docs/examples/ci.sh: exit 0 with model and reports, exit 3 with reports only"

# ---- 6. Odds and ends -----------------------------------------------------------------
D=$S/misc
run "$D" compress "$MLP" -o out.onnx --report r.txt
rc_is 1 "$D"
[[ -e $D/out.onnx || -e $D/r.txt ]] && WHY+=("files written")
finish "--report with an unknown extension: exit 1, nothing written"

run "$D/p" compress "$MLP" -o out.onnx --eval "$TEST" --progress
grep -q $'\r' "$D/p/err" || WHY+=("--progress drew nothing")
run "$D/np" compress "$MLP" -o out.onnx --eval "$TEST"
grep -q $'\r' "$D/np/err" && WHY+=("progress drawn on a non-terminal without --progress")
grep -q '^  eval:     360 samples' "$D/np/err" || WHY+=("summary lacks the evaluation")
finish "--progress draws on stderr; off by default when stderr is not a terminal"

run "$D/ts" compress "$MLP" -o out.onnx --report r.json --report-timestamp -q
grep -qE '"timestamp": "[0-9]{4}-[0-9]{2}-[0-9]{2}T' "$D/ts/r.json" || WHY+=("no timestamp with --report-timestamp")
grep -q timestamp "$S/json/r.json" && WHY+=("a timestamp without --report-timestamp")
finish "timestamps only with --report-timestamp"

echo "report: $NPASS passed, $NFAIL failed"
[[ $NFAIL -eq 0 ]]
