#!/usr/bin/env bash
# --auto end to end (ctest `auto`, issue 11):
#   1. digits MLP (LeNet-300-100, models/make_models.py): `--auto --max-drop 1 --calib
#      --huffman --eval`: the top-1 drop on the held-out test labels, measured in ONNX Runtime
#      on the unpacked model, is at most 1 point (hard); at least MLP_MIN_RATIO (40) times
#      smaller than the float model; the search time is printed (timings are not asserted:
#      bench/auto.sh records them);
#   2. digits CNN (BatchNormalization, depthwise conv, residual): the same, at least
#      CNN_MIN_RATIO (10) times smaller;
#   3. the plan round-trips: `--plan plan.json` writes the same container bytes, and without
#      --huffman the same ONNX file as unpacking the container; a plan from --plan-out
#      passes onnx.checker's file check through the model it gives;
#   4. determinism: the same command gives the same container and plan twice;
#   5. without --eval the budget is checked on the calibration data and the report says so;
#   6. refusals: --auto without --calib, with a pass, --plan-out without --auto (exit 1);
#      a malformed plan, a plan for another model (exit 2, naming file or tensor, no output);
#      an unreachable --target-ratio (exit 3, no output); a tiny --time-budget still gives a
#      valid model within the budget.
# Every check is a hard check: the ratios as much as the accuracy budgets.
# Usage: run.sh EDGEC_BIN SCRATCHDIR. Prints ok/not ok lines and "auto: N passed, M failed".
set -u
EDGEC=$(realpath "$1")
SCRATCH=$2
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PY=${EDGEC_PYTHON:-/usr/bin/python3}
MLP_MIN_RATIO=${MLP_MIN_RATIO:-40}
CNN_MIN_RATIO=${CNN_MIN_RATIO:-10}
MAX_DROP=1
rm -rf "$SCRATCH"
mkdir -p "$SCRATCH"
cd "$SCRATCH" || exit 1
passed=0
failed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
nok() { echo "not ok - $*"; failed=$((failed + 1)); }
M=$ROOT/models

# ort_top1 MODEL DATA: top-1 (%) of ONNX Runtime on DATA's labels.
ort_top1() {
    node "$ROOT/tests/interop/ort_run.js" "$1" --inputs "$2" --out "$1.ort.json" >/dev/null &&
        "$PY" "$ROOT/tests/codec/tensors.py" top1 "$1.ort.json" "$2"
}

# acceptance NAME MODEL CALIB TEST MIN_RATIO: sections 1-3 for one model.
acceptance() {
    local name=$1 model=$2 calib=$3 test=$4 min=$5
    cp "$model" "$name.onnx"
    local t0=$EPOCHREALTIME
    if ! "$EDGEC" compress "$name.onnx" --auto --max-drop $MAX_DROP --calib "$calib" --eval "$test" \
        --huffman -o "$name.edgec" --plan-out "$name.plan.json" --report "$name.json" \
        --no-progress 2>"$name.log"; then
        nok "$name: --auto failed: $(tail -1 "$name.log")"
        return
    fi
    local secs
    secs=$(echo "$EPOCHREALTIME - $t0" | bc -l)
    grep "edgec: auto:" "$name.log" | tail -3 | sed 's/^/# /'
    "$EDGEC" unpack "$name.edgec" -o "$name.unpacked.onnx" || { nok "$name: unpack failed"; return; }
    local ref cand
    ref=$(ort_top1 "$name.onnx" "$test") && cand=$(ort_top1 "$name.unpacked.onnx" "$test") ||
        { nok "$name: ONNX Runtime could not run the result"; return; }
    local float packed ratio drop line
    float=$(stat -c %s "$name.onnx")
    packed=$(stat -c %s "$name.edgec")
    ratio=$(echo "$float / $packed" | bc -l)
    drop=$(echo "$ref - $cand" | bc -l)
    line=$(printf '%s --auto --max-drop 1 --huffman: %d -> %d bytes (%.1fx), ORT top-1 on held-out labels %.2f%% -> %.2f%% (drop %.2f pt), %.1f s' \
        "$name" "$float" "$packed" "$ratio" "$ref" "$cand" "$drop" "$secs")
    if [ "$(echo "$drop > $MAX_DROP" | bc -l)" = 1 ]; then
        nok "$line (budget $MAX_DROP pt)"
    else
        ok "$name: drop $(printf %.2f "$drop") pt <= $MAX_DROP on held-out labels in ONNX Runtime"
    fi
    if [ "$(echo "$ratio >= $min" | bc -l)" = 1 ]; then
        ok "$line"
    else
        nok "$line: $(printf '%.1fx' "$ratio") vs >= ${min}x ($packed vs <= $((float / min)) bytes)"
    fi
    "$PY" "$ROOT/tests/interop/check_onnx.py" "$name.unpacked.onnx" >"$name.check.log" 2>&1 &&
        ok "$name: onnx.checker accepts the result ($(tail -1 "$name.check.log"))" ||
        nok "$name: onnx.checker: $(tail -1 "$name.check.log")"
    # 3. The plan reproduces the bytes, as a container and as ONNX.
    if "$EDGEC" compress "$name.onnx" --plan "$name.plan.json" --calib "$calib" --huffman -q \
        -o "$name.replay.edgec" && cmp -s "$name.edgec" "$name.replay.edgec"; then
        ok "$name: --plan reproduces the container byte for byte"
    else
        nok "$name: --plan gave other container bytes"
    fi
    if "$EDGEC" compress "$name.onnx" --plan "$name.plan.json" --calib "$calib" -q \
        -o "$name.replay.onnx" 2>/dev/null && cmp -s "$name.unpacked.onnx" "$name.replay.onnx"; then
        ok "$name: --plan without --huffman writes the unpacked container's ONNX file"
    else
        nok "$name: --plan without --huffman differs from the unpacked container"
    fi
    # The report carries the evaluation the gate used.
    if grep -q '"passed": true' "$name.json" && grep -q "$(basename "$test")" "$name.json"; then
        ok "$name: the report records the gate on $(basename "$test")"
    else
        nok "$name: the report lacks the gate result on the eval data"
    fi
}

acceptance mlp "$M/digits_mlp.onnx" "$M/digits-calib.npz" "$M/digits-test.npz" "$MLP_MIN_RATIO"
acceptance cnn "$M/digits_cnn.onnx" "$M/digits-calib-cnn.npz" "$M/digits-test-cnn.npz" "$CNN_MIN_RATIO"

# Without --huffman the sizes are ONNX bytes (int8, int4, low-rank): the file itself must
# run in ONNX Runtime within the budget and pass onnx.checker.
if "$EDGEC" compress mlp.onnx --auto --max-drop 1 --calib "$M/digits-calib.npz" --eval "$M/digits-test.npz" \
    -q -o onnxmode.onnx; then
    ref=$(ort_top1 mlp.onnx "$M/digits-test.npz") && cand=$(ort_top1 onnxmode.onnx "$M/digits-test.npz")
    drop=$(echo "$ref - $cand" | bc -l)
    line=$(printf 'mlp --auto without --huffman: %d -> %d bytes (%.1fx), ORT top-1 drop %.2f pt' \
        "$(stat -c %s mlp.onnx)" "$(stat -c %s onnxmode.onnx)" \
        "$(echo "$(stat -c %s mlp.onnx) / $(stat -c %s onnxmode.onnx)" | bc -l)" "$drop")
    if [ "$(echo "$drop <= $MAX_DROP" | bc -l)" = 1 ] &&
        "$PY" "$ROOT/tests/interop/check_onnx.py" onnxmode.onnx >onnxmode.check 2>&1; then
        ok "$line; onnx.checker: $(tail -1 onnxmode.check)"
    else
        nok "$line ($(tail -1 onnxmode.check 2>/dev/null))"
    fi
else
    nok "mlp --auto without --huffman failed"
fi

# 4. Determinism.
"$EDGEC" compress mlp.onnx --auto --max-drop 1 --calib "$M/digits-calib.npz" --eval "$M/digits-test.npz" \
    --huffman -q -o again.edgec --plan-out again.plan.json
if cmp -s mlp.edgec again.edgec && cmp -s mlp.plan.json again.plan.json; then
    ok "same command twice: same container and same plan"
else
    nok "two --auto runs differ"
fi

# 5. Without --eval: checked on the calibration data, and said so.
if "$EDGEC" compress mlp.onnx --auto --max-drop 1 --calib "$M/digits-calib.npz" -o noeval.onnx \
    --report noeval.json 2>noeval.log && grep -q "checked on the calibration data" noeval.log &&
    grep -q "digits-calib.npz" noeval.json; then
    ok "without --eval the budget is checked on the calibration data, and the output says so"
else
    nok "without --eval: $(tail -1 noeval.log)"
fi

# 6. Refusals.
expect() { # expect CODE WHAT OUTPUT_FILE ARGS...: exit code, message, no output file.
    local code=$1 what=$2 out=$3
    shift 3
    rm -f "$out"
    "$EDGEC" compress "$@" -o "$out" >refuse.out 2>refuse.err
    local rc=$?
    if [ "$rc" = "$code" ] && [ ! -e "$out" ] && grep -q -- "$what" refuse.err; then
        ok "exit $code, '$what', no output: $*"
    else
        nok "expected exit $code and '$what' for: $* (got $rc: $(tail -1 refuse.err))"
    fi
}
expect 1 "needs --calib" r.onnx mlp.onnx --auto
expect 1 "chooses the passes itself" r.onnx mlp.onnx --auto --calib "$M/digits-calib.npz" --prune 0.5
expect 1 "goes with --auto" r.onnx mlp.onnx --plan-out p.json
expect 1 "add the same --calib" r.onnx mlp.onnx --plan mlp.plan.json
printf '{"format": "edgec-plan", "version": 1, "layers": [' >broken.json
expect 2 "broken.json: invalid JSON" r.onnx mlp.onnx --plan broken.json
expect 2 "tensor 'fc1.weight'" r.onnx cnn.onnx --plan mlp.plan.json --calib "$M/digits-calib-cnn.npz"
expect 3 "--target-ratio 1000 not reached" r.edgec mlp.onnx --auto --calib "$M/digits-calib.npz" \
    --huffman --target-ratio 1000
if "$EDGEC" compress mlp.onnx --auto --calib "$M/digits-calib.npz" --time-budget 0.001 -o tb.onnx \
    --plan-out tb.json 2>tb.log && grep -q '"timed_out": true' tb.json && [ -s tb.onnx ]; then
    ok "a tiny --time-budget stops the search and still writes a model within the budget"
else
    nok "--time-budget 0.001: $(tail -1 tb.log)"
fi

echo "auto: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
