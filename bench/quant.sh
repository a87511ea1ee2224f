#!/usr/bin/env bash
# Quantization benchmark: how long `edgec compress MODEL -o OUT --int8` (and --int4) takes
# on the ~100 MiB generated model, next to the no-op `edgec compress MODEL -o OUT` (read +
# write only) measured in the same run. Target (issue 5): --int8 <= 1 s wall.
#
#   bench/quant.sh [EDGEC_BIN]        (default: build/edgec in the repo root)
#
# Runs no-op, --int8 and --int4 in turn, BENCH_RUNS times each, and keeps every run. Wall
# time from bash's EPOCHREALTIME around the command, CPU time (user + sys) and peak RSS from
# `/usr/bin/time`. CPU time is reported beside wall time because the machine may be shared:
# the load average at the start and end is recorded too. Every output's size is recorded;
# the --int8 output must be <= 0.27x the input (the file really shrinks).
# Rewrites the quant section of docs/BENCHMARKS.md.
#
# Environment: BENCH_RUNS (5), BENCH_MB (100), BENCH_SEED (0), BENCH_CACHE (bench/.cache),
# BENCH_DOC (docs/BENCHMARKS.md), BENCH_PYTHON (/usr/bin/python3), BENCH_STRICT=1 (exit 3
# when the 1 s target is missed).
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROOT=$(bench_root)
RUNS=${BENCH_RUNS:-5}
MB=${BENCH_MB:-100}
SEED=${BENCH_SEED:-0}
CACHE=${BENCH_CACHE:-$ROOT/bench/.cache}
PY=${BENCH_PYTHON:-/usr/bin/python3}
TARGET=1.0
TIME=/usr/bin/time

EDGEC=${1:-$ROOT/build/edgec}
case $EDGEC in /*) ;; */*) EDGEC=$PWD/$EDGEC ;; *) EDGEC=$(command -v "$EDGEC" || echo "$EDGEC") ;; esac
[ "$#" -le 1 ] || bench_die "usage: $0 [EDGEC_BIN]"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || bench_die "BENCH_RUNS must be a positive integer (got '$RUNS')"
[ -x "$EDGEC" ] || bench_die "edgec binary '$EDGEC' not found or not executable"
[ -x "$TIME" ] || bench_die "$TIME missing: apt-get install -y time"

mkdir -p "$CACHE"
GEN=$ROOT/bench/gen_big_model.py
MODEL=$CACHE/vit_${MB}mib_seed${SEED}.onnx
if [ ! -s "$MODEL" ] || [ "$GEN" -nt "$MODEL" ]; then
    echo "bench: generating $MODEL" >&2
    "$PY" "$GEN" "$MODEL" --mb "$MB" --seed "$SEED" ||
        bench_die "model generation failed (needs $PY with python3-onnx and python3-numpy)"
fi
MODEL_BYTES=$(stat -c %s "$MODEL")

WORK=$(mktemp -d "$CACHE/quant.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
RAW=$WORK/raw.tsv   # run mode wall_s cpu_s rss_kib out_bytes
: >"$RAW"
cat "$MODEL" >/dev/null   # warm the page cache
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

run_one() {   # run_one RUN MODE ARGS...
    local run=$1 mode=$2 t0 t1 rc=0 out=$WORK/out.onnx
    shift 2
    rm -f "$out"
    sync
    t0=${EPOCHREALTIME/./}
    "$TIME" -f '%U %S %M' -o "$WORK/time" "$EDGEC" compress "$MODEL" -o "$out" -q "$@" \
        >"$WORK/stdout" 2>"$WORK/stderr" || rc=$?
    t1=${EPOCHREALTIME/./}
    if [ "$rc" != 0 ]; then
        sed 's/^/  | /' "$WORK/stderr" | tail -n 20 >&2
        bench_die "$mode run $run failed (exit $rc)"
    fi
    local user sys rss
    read -r user sys rss <<<"$(tail -n1 "$WORK/time")"
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$run" "$mode" \
        "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", (b - a) / 1e6 }')" \
        "$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')" "$rss" \
        "$(stat -c %s "$out")" >>"$RAW"
    printf 'bench: run %d/%d %-6s %8.3f s wall\n' "$run" "$RUNS" "$mode" "$(tail -n1 "$RAW" | cut -f3)" >&2
}

echo "bench: quant: $RUNS runs each of no-op, --int8, --int4 on $MODEL ($MODEL_BYTES bytes)" >&2
for ((i = 1; i <= RUNS; i++)); do
    run_one "$i" noop
    run_one "$i" int8 --int8
    run_one "$i" int4 --int4
done
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

col() { awk -F'\t' -v t="$1" -v c="$2" '$2 == t { print $c }' "$RAW" | bench_stats; }
calc() { awk "BEGIN { printf \"$1\", ($2) }"; }
declare -A WALL CPU RSS OUT
for mode in noop int8 int4; do
    WALL[$mode]=$(col "$mode" 3)
    CPU[$mode]=$(col "$mode" 4)
    RSS[$mode]=$(col "$mode" 5)
    OUT[$mode]=$(col "$mode" 6)
done
med() { echo "$1" | cut -d' ' -f1; }
I8=$(med "${WALL[int8]}")
I8_RATIO=$(calc %.3f "$(med "${OUT[int8]}") / $MODEL_BYTES")
if awk -v a="$I8" -v t="$TARGET" 'BEGIN { exit !(a <= t) }'; then VERDICT="met"; MET=1; else VERDICT="**NOT met**"; MET=0; fi
awk -v r="$I8_RATIO" 'BEGIN { exit !(r <= 0.27) }' || bench_die "--int8 output is ${I8_RATIO}x the input, over 0.27x"

SECTION=$WORK/section.md
{
    echo "## Quantization: \`--int8\` and \`--int4\` on a ~100 MiB model"
    echo
    echo "\`edgec compress MODEL -o OUT --int8\` (per-channel int8 weights + DequantizeLinear) and"
    echo "\`--int4\` (blocks of 32, opset raised to 21), against the no-op \`edgec compress MODEL -o OUT\`"
    echo "(read + write only), measured in the same run: $RUNS run(s) of each, in turn, none dropped;"
    echo "medians. Input: \`bench/gen_big_model.py --mb $MB --seed $SEED\`, $MODEL_BYTES bytes. Times are"
    echo "whole commands (read, cleanup pass, quantize, write with fsync). CPU = user + sys. Load"
    echo "average (1/5/15 min) $LOAD0 before, $LOAD1 after: on a shared machine wall time exceeds"
    echo "CPU time by the wait for a core."
    echo
    echo "Measured $(bench_env_md "$EDGEC")"
    echo
    echo "| command | wall (median) | wall (min – max) | CPU (median) | peak RSS | output |"
    echo "|---|---:|---:|---:|---:|---:|"
    for mode in noop int8 int4; do
        read -r w wmin wmax <<<"${WALL[$mode]}"
        printf '| %s | %.3f s | %.3f – %.3f s | %.2f s | %.0f MiB | %s B (%.3fx) |\n' \
            "$([ $mode = noop ] && echo 'no-op' || echo "\`--$mode\`")" "$w" "$wmin" "$wmax" \
            "$(med "${CPU[$mode]}")" "$(calc %.1f "$(med "${RSS[$mode]}") / 1024")" \
            "$(med "${OUT[$mode]}" | cut -d. -f1)" "$(calc %.4f "$(med "${OUT[$mode]}") / $MODEL_BYTES")"
    done
    echo
    echo "- \`--int8\` wall time: **$(printf %.3f "$I8") s** (target ≤ ${TARGET} s: $VERDICT)"
    echo
    echo "<details><summary>All runs, in the order they ran</summary>"
    echo
    echo "| run | mode | wall s | CPU s | peak RSS KiB | output bytes |"
    echo "|---:|---|---:|---:|---:|---:|"
    awk -F'\t' '{ printf "| %s | %s | %.4f | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6 }' "$RAW"
    echo
    echo "</details>"
} >"$SECTION"

cat "$SECTION" | sed -n '/^| command/,/^- /p'
bench_update_doc quant "$SECTION"
if [ "$MET" = 0 ]; then
    echo "bench: warning: --int8 took ${I8} s, over the ${TARGET} s target" >&2
    [ "${BENCH_STRICT:-0}" = 1 ] && exit 3
fi
exit 0
