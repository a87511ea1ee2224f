#!/usr/bin/env bash
# Interpreter latency benchmark: `edgec run --repeat N` against ONNX Runtime (onnxruntime-node,
# bench/ort_latency.js) on torchvision ResNet-18 and MobileNetV2, single image, single thread,
# measured in the same run.
#
#   bench/interp.sh [EDGEC_BIN]        (default: build/edgec in the repo root)
#
# Models: torchvision `weights=None` exports (seeded, eval mode, opset 13, input `input`
# [1,3,224,224]) made by make_torchvision() of tests/interop/make_test_models.py, cached in
# BENCH_CACHE/torchvision/ (regenerated when that script is newer). Input: one seeded N(0,1)
# float32 image in BENCH_CACHE/interp_input_seedS.npz.
#
# One round = for each model, three processes, each doing BENCH_REPEAT inferences of the same
# image and reporting its median latency per inference:
#   edgec            `edgec run MODEL --data IN.npz -o OUT.npz --repeat N` (1 thread, the default)
#   ORT disabled     ort_latency.js, graphOptimizationLevel 'disabled' (like-for-like: edgec
#                    does no graph optimisation yet)
#   ORT all          ort_latency.js, graphOptimizationLevel 'all' (the stronger baseline)
# ORT: intraOpNumThreads 1, interOpNumThreads 1, executionMode 'sequential', 1 warm-up run not
# timed. The order of the three rotates from round to round. BENCH_RUNS rounds; per cell the
# median of the per-process medians. Peak RSS of every process from `/usr/bin/time -f %M`.
# Every ORT run compares its outputs with edgec's (max error relative to the largest |output|);
# the script fails (exit 2) above 1e-4, since a latency of wrong results means nothing.
# Prints a table and rewrites the interp section of docs/BENCHMARKS.md.
#
# Environment: BENCH_RUNS (5), BENCH_REPEAT (50 inferences per process), BENCH_MODELS
# ("resnet18 mobilenet_v2"; squeezenet1_0 also works), BENCH_SEED (0), BENCH_CACHE
# (bench/.cache), BENCH_DOC (docs/BENCHMARKS.md), BENCH_TIMEOUT (seconds per process; unset =
# no limit), BENCH_PYTHON (/usr/bin/python3), BENCH_NODE (node), BENCH_STRICT=1 (exit 3 if a
# model is slower than 3x either ORT baseline).
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROOT=$(bench_root)
RUNS=${BENCH_RUNS:-5}
REPEAT=${BENCH_REPEAT:-50}
MODELS=${BENCH_MODELS:-resnet18 mobilenet_v2}
SEED=${BENCH_SEED:-0}
CACHE=${BENCH_CACHE:-$ROOT/bench/.cache}
TIMEOUT=${BENCH_TIMEOUT:-}
PY=${BENCH_PYTHON:-/usr/bin/python3}
NODE=${BENCH_NODE:-node}
TARGET=3       # issue 3 / issue 10: <= 3x ONNX Runtime single-threaded
GOAL=1.5       # ... goal 1.5x
MAX_REL_ERR=1e-4
TIME=/usr/bin/time
ORT_JS=$ROOT/bench/ort_latency.js
ORT_DIR=$ROOT/tests/interop/node_modules/onnxruntime-node
GEN=$ROOT/tests/interop/make_test_models.py

EDGEC=${1:-$ROOT/build/edgec}
case $EDGEC in /*) ;; */*) EDGEC=$PWD/$EDGEC ;; *) EDGEC=$(command -v "$EDGEC" || echo "$EDGEC") ;; esac

[ "$#" -le 1 ] || bench_die "usage: $0 [EDGEC_BIN]"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || bench_die "BENCH_RUNS must be a positive integer (got '$RUNS')"
[[ $REPEAT =~ ^[1-9][0-9]*$ ]] || bench_die "BENCH_REPEAT must be a positive integer (got '$REPEAT')"
[[ $SEED =~ ^[0-9]+$ ]] || bench_die "BENCH_SEED must be a non-negative integer (got '$SEED')"
[[ -z $TIMEOUT || $TIMEOUT =~ ^[1-9][0-9]*$ ]] || bench_die "BENCH_TIMEOUT must be a number of seconds (got '$TIMEOUT')"
read -r -a MODEL_LIST <<<"$MODELS"
[ "${#MODEL_LIST[@]}" -gt 0 ] || bench_die "BENCH_MODELS is empty"
for m in "${MODEL_LIST[@]}"; do
    case $m in resnet18 | mobilenet_v2 | squeezenet1_0) ;;
        *) bench_die "BENCH_MODELS: unknown model '$m' (resnet18, mobilenet_v2, squeezenet1_0)" ;; esac
done
[ -x "$EDGEC" ] || bench_die "edgec binary '$EDGEC' not found or not executable (build it: bench/run, or pass a path)"
[ -x "$TIME" ] || bench_die "$TIME missing: apt-get install -y time"
"$TIME" -f '%M' true 2>/dev/null >/dev/null || bench_die "$TIME is not GNU time (need -f '%M')"
command -v "$NODE" >/dev/null || bench_die "node ('$NODE') not found: install Node.js or set BENCH_NODE"
[ -f "$ORT_DIR/package.json" ] ||
    bench_die "onnxruntime-node missing: npm install --ignore-scripts --no-package-lock --prefix tests/interop"
NODE_VERSION=$("$NODE" --version)
ORT_VERSION=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$ORT_DIR/package.json" | head -n1)

# ---- models and input ----------------------------------------------------------------------
MDIR=$CACHE/torchvision
mkdir -p "$MDIR"
need_gen=0
for m in "${MODEL_LIST[@]}"; do
    if [ ! -s "$MDIR/$m.onnx" ] || [ "$GEN" -nt "$MDIR/$m.onnx" ]; then need_gen=1; fi
done
if [ "$need_gen" = 1 ]; then
    echo "bench: generating torchvision models in $MDIR (tests/interop/make_test_models.py)" >&2
    "$PY" - "$GEN" "$MDIR" <<'PYEOF' >&2 ||
import importlib.util, sys
spec = importlib.util.spec_from_file_location("make_test_models", sys.argv[1])
mtm = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mtm)
mtm.make_torchvision(sys.argv[2], mtm.TV_SIZE)
PYEOF
        bench_die "model generation failed (needs $PY with torch, torchvision, onnx)"
fi
INPUT=$CACHE/interp_input_seed$SEED.npz
if [ ! -s "$INPUT" ]; then
    "$PY" - "$INPUT" "$SEED" <<'PYEOF' || bench_die "input generation failed (needs $PY with numpy)"
import os, sys
import numpy as np
path, seed = sys.argv[1], int(sys.argv[2])
x = np.random.default_rng(seed).standard_normal((1, 3, 224, 224)).astype(np.float32)
np.savez(path + ".tmp.npz", input=x)
os.replace(path + ".tmp.npz", path)
PYEOF
fi

declare -A DESC SHA BYTES
for m in "${MODEL_LIST[@]}"; do
    BYTES[$m]=$(stat -c %s "$MDIR/$m.onnx")
    SHA[$m]=$(sha256sum "$MDIR/$m.onnx" | cut -c1-16)
    DESC[$m]=$("$PY" -c '
import sys, onnx
g = onnx.load(sys.argv[1]).graph
params = 0
for t in g.initializer:
    k = 1
    for d in t.dims:
        k *= d
    params += k
ops = {}
for n in g.node:
    ops[n.op_type] = ops.get(n.op_type, 0) + 1
top = sorted(ops.items(), key=lambda kv: -kv[1])
print("%.2fM params, %d nodes (%s)" % (params / 1e6, len(g.node),
      ", ".join("%d %s" % (c, o) for o, c in top)))
' "$MDIR/$m.onnx" 2>/dev/null) || DESC[$m]="(could not summarise the model)"
done

# ---- runs ----------------------------------------------------------------------------------
WORK=$(mktemp -d "$CACHE/run.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
RAW=$WORK/raw.tsv     # round model tool median_ms rss_kib extra (edgec: peak tensor KiB; ORT: rel err)
: >"$RAW"

run_proc() {   # run_proc ROUND MODEL TOOL CMD...  -> stdout+stderr in $WORK/log, rss in $WORK/rss
    local round=$1 model=$2 tool=$3 rc=0
    shift 3
    if [ -n "$TIMEOUT" ]; then set -- timeout "$TIMEOUT" "$@"; fi
    "$TIME" -f '%M' -o "$WORK/time" "$@" >"$WORK/log" 2>&1 || rc=$?
    if [ "$rc" != 0 ]; then
        echo "bench: error: $tool on $model, round $round failed (exit $rc$([ "$rc" = 124 ] && echo ", timed out after ${TIMEOUT}s")): $*" >&2
        sed 's/^/  | /' "$WORK/log" | tail -n 20 >&2
        exit 1
    fi
    tail -n1 "$WORK/time" >"$WORK/rss"
    [[ $(cat "$WORK/rss") =~ ^[0-9]+$ ]] || bench_die "cannot parse GNU time output: $(cat "$WORK/time")"
}

latency_of() {   # the median from a "latency: median X ms per inference" line of $WORK/log
    local v
    v=$(sed -n 's/^latency: median \([0-9.]*\) ms per inference.*/\1/p' "$WORK/log" | head -n1)
    [ -n "$v" ] || { sed 's/^/  | /' "$WORK/log" >&2; bench_die "no 'latency: median ... ms per inference' line in the output of $1"; }
    printf '%s' "$v"
}

run_edgec() {   # round model
    local round=$1 m=$2 lat peak
    run_proc "$round" "$m" edgec "$EDGEC" run "$MDIR/$m.onnx" --data "$INPUT" -o "$WORK/out_$m.npz" --repeat "$REPEAT"
    lat=$(latency_of edgec)
    peak=$(sed -n 's/.*peak tensor memory \([0-9.]*\) KiB.*/\1/p' "$WORK/log" | head -n1)
    printf '%s\t%s\tedgec\t%s\t%s\t%s\n' "$round" "$m" "$lat" "$(cat "$WORK/rss")" "${peak:-nan}" >>"$RAW"
    printf 'bench: round %d/%d %-13s %-13s %9.3f ms %8d KiB\n' "$round" "$RUNS" "$m" edgec "$lat" "$(cat "$WORK/rss")" >&2
}

run_ort() {   # round model level
    local round=$1 m=$2 opt=$3 lat err check=()
    [ -f "$WORK/out_$m.npz" ] && check=(--check "$WORK/out_$m.npz")
    run_proc "$round" "$m" "ORT $opt" "$NODE" "$ORT_JS" "$MDIR/$m.onnx" "$INPUT" "$REPEAT" --opt "$opt" "${check[@]}"
    lat=$(latency_of "ORT $opt")
    err=nan
    if [ "${#check[@]}" -gt 0 ]; then
        err=$(sed -n 's/^check: .* max_rel_err \([^ ]*\) .*/\1/p' "$WORK/log" | sort -g | tail -n1)
        [ -n "$err" ] || bench_die "ort_latency.js printed no check line for $m"
        if awk -v e="$err" -v t="$MAX_REL_ERR" 'BEGIN { exit !(e > t) }'; then
            echo "bench: error: edgec's outputs on $m differ from ONNX Runtime's ($opt): max rel err $err > $MAX_REL_ERR" >&2
            sed 's/^/  | /' "$WORK/log" >&2
            exit 2
        fi
    fi
    printf '%s\t%s\tort_%s\t%s\t%s\t%s\n' "$round" "$m" "$opt" "$lat" "$(cat "$WORK/rss")" "$err" >>"$RAW"
    printf 'bench: round %d/%d %-13s %-13s %9.3f ms %8d KiB\n' "$round" "$RUNS" "$m" "ORT $opt" "$lat" "$(cat "$WORK/rss")" >&2
}

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
if awk -v l="${LOAD_START%% *}" -v n="$(nproc)" 'BEGIN { exit !(l > n - 1) }'; then
    echo "bench: warning: load average $LOAD_START on $(nproc) CPU(s): other work is running, latencies will be noisy" >&2
fi
echo "bench: interp: $RUNS round(s) x {edgec, ORT disabled, ORT all} x {${MODELS}}, $REPEAT inferences per process" >&2
for m in "${MODEL_LIST[@]}"; do cat "$MDIR/$m.onnx" >/dev/null; done   # warm the page cache
TOOLS=(edgec disabled all)
for ((r = 1; r <= RUNS; r++)); do
    # Node + onnxruntime-node alone (no session): the floor under the ORT processes' RSS.
    run_proc "$r" - node "$NODE" -e 'require(process.argv[1])' "$ORT_DIR"
    printf '%s\t-\tnode_ort\tnan\t%s\tnan\n' "$r" "$(cat "$WORK/rss")" >>"$RAW"   # tool: node + addon only
    for m in "${MODEL_LIST[@]}"; do
        for ((k = 0; k < 3; k++)); do
            t=${TOOLS[$(((k + r - 1) % 3))]}   # rotate the order: round 1 edgec first, ...
            if [ "$t" = edgec ]; then run_edgec "$r" "$m"; else run_ort "$r" "$m" "$t"; fi
        done
    done
done

LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- statistics ----------------------------------------------------------------------------
col() { awk -F'\t' -v m="$1" -v t="$2" -v c="$3" '$2 == m && $3 == t && $c != "nan" { print $c }' "$RAW" | bench_stats; }
calc() { awk "BEGIN { printf \"$1\", ($2) }"; }
mib() { calc %.1f "$1 / 1024"; }
verdict() { awk -v r="$1" -v t="$2" 'BEGIN { exit !(r <= t) }' && echo met || echo "**not met**"; }

read -r NODE_RSS _ _ <<<"$(col - node_ort 5)"
MAX_ERR=$(awk -F'\t' '$3 ~ /^ort_/ && $6 != "nan" { print $6 }' "$RAW" | sort -g | tail -n1)
declare -A LAT LMIN LMAX RSS PEAK
STRICT_FAIL=0
for m in "${MODEL_LIST[@]}"; do
    for t in edgec ort_disabled ort_all; do
        read -r "LAT[$m.$t]" "LMIN[$m.$t]" "LMAX[$m.$t]" <<<"$(col "$m" "$t" 4)"
        read -r "RSS[$m.$t]" _ _ <<<"$(col "$m" "$t" 5)"
    done
    read -r "PEAK[$m]" _ _ <<<"$(col "$m" edgec 6)" || true
done
declare -A RATIO_D RATIO_A
for m in "${MODEL_LIST[@]}"; do
    RATIO_D[$m]=$(calc %.2f "${LAT[$m.edgec]} / ${LAT[$m.ort_disabled]}")
    RATIO_A[$m]=$(calc %.2f "${LAT[$m.edgec]} / ${LAT[$m.ort_all]}")
    for x in "${RATIO_D[$m]}" "${RATIO_A[$m]}"; do
        awk -v r="$x" -v t="$TARGET" 'BEGIN { exit !(r > t) }' && STRICT_FAIL=1
    done
done

name_of() {
    case $1 in
        resnet18) echo ResNet-18 ;; mobilenet_v2) echo MobileNetV2 ;; squeezenet1_0) echo SqueezeNet 1.0 ;;
        *) echo "$1" ;;
    esac
}
ms() { printf '%.2f ms (%.2f – %.2f)' "$1" "$2" "$3"; }

SECTION=$WORK/section.md
{
    echo "## Interpreter latency: \`edgec run\` vs ONNX Runtime, single image, single thread"
    echo
    echo "torchvision models exported by \`make_torchvision()\` of \`tests/interop/make_test_models.py\`"
    echo "(\`weights=None\`, seeded, eval mode, opset 13, input \`input\` [1,3,224,224] float32), one seeded"
    echo "N(0,1) image (\`BENCH_SEED=$SEED\`). Each process loads the model and runs the same image $REPEAT times,"
    echo "timing every inference and reporting the median per inference:"
    echo
    echo "- **edgec**: \`edgec run MODEL --data in.npz -o out.npz --repeat $REPEAT\` (reference interpreter, 1 thread, no"
    echo "  graph optimisation). \`--repeat\` has no warm-up option: the first, cold inference is one of the"
    echo "  $REPEAT samples, which moves the median by at most half a rank."
    echo "- **ORT**: onnxruntime-node $ORT_VERSION (CPU EP) via \`bench/ort_latency.js\`: \`intraOpNumThreads 1\`,"
    echo "  \`interOpNumThreads 1\`, \`executionMode 'sequential'\`, 1 warm-up inference not timed, each sample"
    echo "  one \`await session.run()\`. Measured twice:"
    echo "  - \`graphOptimizationLevel 'disabled'\`: the **like-for-like** comparison (edgec does no graph"
    echo "    optimisation yet: no Conv+BN/Relu fusion, no layout changes);"
    echo "  - \`graphOptimizationLevel 'all'\`: the **stronger baseline** (fusions, NCHWc layout), what an ORT user"
    echo "    gets by default."
    echo
    echo "$RUNS rounds; each round runs the three processes per model, in an order that rotates from round"
    echo "to round. Cells: median over the rounds of the per-process medians (min – max over rounds)."
    echo "Ratios: edgec median / ORT median. Every ORT run checked its outputs against edgec's: max error"
    echo "relative to the largest |output| ${MAX_ERR:-n/a} (limit $MAX_REL_ERR)."
    echo
    echo "Measured $(bench_env_md "$EDGEC")"
    echo
    echo "Baseline: onnxruntime-node $ORT_VERSION, Node.js $NODE_VERSION. Load average (1, 5, 15 min) at"
    echo "the start: $LOAD_START, at the end: $LOAD_END (this benchmark itself adds ~1; more means other"
    echo "jobs shared the CPUs and the min – max ranges show how much that moved the numbers)."
    echo
    echo "| model | edgec | ORT disabled | ORT all | edgec / ORT disabled (like-for-like) | edgec / ORT all (stronger) |"
    echo "|---|---:|---:|---:|---:|---:|"
    for m in "${MODEL_LIST[@]}"; do
        printf '| %s | %s | %s | %s | **%s×** | **%s×** |\n' "$(name_of "$m")" \
            "$(ms "${LAT[$m.edgec]}" "${LMIN[$m.edgec]}" "${LMAX[$m.edgec]}")" \
            "$(ms "${LAT[$m.ort_disabled]}" "${LMIN[$m.ort_disabled]}" "${LMAX[$m.ort_disabled]}")" \
            "$(ms "${LAT[$m.ort_all]}" "${LMIN[$m.ort_all]}" "${LMAX[$m.ort_all]}")" \
            "${RATIO_D[$m]}" "${RATIO_A[$m]}"
    done
    echo
    echo "Targets (issue 3, issue 10): latency ≤ ${TARGET}× ONNX Runtime single-threaded, goal ${GOAL}×."
    echo
    echo "| model | ≤ ${TARGET}× ORT disabled | ≤ ${TARGET}× ORT all | goal ≤ ${GOAL}× ORT disabled | goal ≤ ${GOAL}× ORT all |"
    echo "|---|---|---|---|---|"
    for m in "${MODEL_LIST[@]}"; do
        printf '| %s | %s (%s×) | %s (%s×) | %s | %s |\n' "$(name_of "$m")" \
            "$(verdict "${RATIO_D[$m]}" "$TARGET")" "${RATIO_D[$m]}" \
            "$(verdict "${RATIO_A[$m]}" "$TARGET")" "${RATIO_A[$m]}" \
            "$(verdict "${RATIO_D[$m]}" "$GOAL")" "$(verdict "${RATIO_A[$m]}" "$GOAL")"
    done
    echo
    echo "Peak RSS of each process (\`/usr/bin/time -f %M\`, median over rounds) and edgec's own peak tensor"
    echo "memory (intermediates live at once, as \`edgec run --repeat\` reports it). The ORT processes include"
    echo "Node.js and the onnxruntime-node addon: $(mib "$NODE_RSS") MiB for a \`node\` that only loads the addon."
    echo
    echo "| model | ONNX file | edgec peak RSS | edgec peak tensor memory | ORT disabled peak RSS | ORT all peak RSS |"
    echo "|---|---:|---:|---:|---:|---:|"
    for m in "${MODEL_LIST[@]}"; do
        printf '| %s | %s MiB | %s MiB | %s MiB | %s MiB | %s MiB |\n' "$(name_of "$m")" \
            "$(calc %.1f "${BYTES[$m]} / 1048576")" "$(mib "${RSS[$m.edgec]}")" \
            "$(calc %.1f "${PEAK[$m]} / 1024")" \
            "$(mib "${RSS[$m.ort_disabled]}")" "$(mib "${RSS[$m.ort_all]}")"
    done
    echo
    echo "Models:"
    echo
    for m in "${MODEL_LIST[@]}"; do
        echo "- $(name_of "$m"): \`$m.onnx\`, ${BYTES[$m]} bytes (sha256 \`${SHA[$m]}…\`), ${DESC[$m]}."
    done
    echo
    echo "<details><summary>All processes, in the order they ran</summary>"
    echo
    echo "| round | model | tool | median ms / inference | peak RSS KiB | edgec peak tensor KiB / ORT max rel err vs edgec |"
    echo "|---:|---|---|---:|---:|---:|"
    awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s |\n", $1, $2,
                   ($3 == "node_ort" ? "node + onnxruntime-node, no session" : $3),
                   ($4 == "nan" ? "" : $4), $5, ($6 == "nan" ? "" : $6) }' "$RAW"
    echo
    echo "</details>"
} >"$SECTION"

# ---- report --------------------------------------------------------------------------------
echo
printf '%-13s %11s %11s %11s %9s %9s %9s %9s %9s\n' model "edgec ms" "ORT dis ms" "ORT all ms" \
    "x dis" "x all" "RSS edgec" "RSS ORTd" "RSS ORTa"
for m in "${MODEL_LIST[@]}"; do
    printf '%-13s %11.3f %11.3f %11.3f %8sx %8sx %7sMi %7sMi %7sMi\n' "$m" \
        "${LAT[$m.edgec]}" "${LAT[$m.ort_disabled]}" "${LAT[$m.ort_all]}" "${RATIO_D[$m]}" "${RATIO_A[$m]}" \
        "$(mib "${RSS[$m.edgec]}")" "$(mib "${RSS[$m.ort_disabled]}")" "$(mib "${RSS[$m.ort_all]}")"
done
echo "target <= ${TARGET}x (goal ${GOAL}x); 'disabled' is like-for-like, 'all' the stronger baseline;" \
     "max rel err vs ORT ${MAX_ERR:-n/a}"

bench_update_doc interp "$SECTION"

if [ "$STRICT_FAIL" = 1 ]; then
    echo "bench: warning: edgec is slower than ${TARGET}x ONNX Runtime on at least one model/baseline" >&2
    [ "${BENCH_STRICT:-0}" = 1 ] && exit 3
fi
exit 0
