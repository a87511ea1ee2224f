#!/usr/bin/env bash
# Load + save benchmark: `edgec compress IN -o OUT` (no pass options: lossless no-op) against
# `cp IN OUT` on the same ~100 MiB generated model, measured in the same run.
#
#   bench/load_save.sh [EDGEC_BIN]        (default: build/edgec in the repo root)
#
# Runs edgec and cp alternately (edgec, cp, edgec, cp, ...), BENCH_RUNS times each, and keeps
# every run. Wall time comes from bash's EPOCHREALTIME around the command (microseconds; GNU
# time's %e only has 10 ms resolution), peak RSS from `/usr/bin/time -f %M`. Page cache warm,
# `sync` before every run, outputs on the same filesystem as the input. Every output is compared
# with the input (cmp) and the script fails loudly if edgec's is not byte-identical.
# Prints a table and rewrites the load_save section of docs/BENCHMARKS.md.
#
# Environment: BENCH_RUNS (5), BENCH_MB (100), BENCH_SEED (0), BENCH_CACHE (bench/.cache),
# BENCH_DOC (docs/BENCHMARKS.md), BENCH_TIMEOUT (seconds per run; unset = no limit, as
# `timeout` adds ~1 ms to every run), BENCH_PYTHON
# (/usr/bin/python3), BENCH_STRICT=1 (exit 3 if peak RSS > 2.5x the model size).
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROOT=$(bench_root)
RUNS=${BENCH_RUNS:-5}
MB=${BENCH_MB:-100}
SEED=${BENCH_SEED:-0}
CACHE=${BENCH_CACHE:-$ROOT/bench/.cache}
TIMEOUT=${BENCH_TIMEOUT:-}
PY=${BENCH_PYTHON:-/usr/bin/python3}
RSS_TARGET=2.5
TIME=/usr/bin/time

EDGEC=${1:-$ROOT/build/edgec}
case $EDGEC in /*) ;; */*) EDGEC=$PWD/$EDGEC ;; *) EDGEC=$(command -v "$EDGEC" || echo "$EDGEC") ;; esac
CP=$(command -v cp)
CP_VERSION=$("$CP" --version 2>/dev/null | head -n1 | sed -E 's/^cp \(GNU coreutils\) /coreutils /')

[ "$#" -le 1 ] || bench_die "usage: $0 [EDGEC_BIN]"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || bench_die "BENCH_RUNS must be a positive integer (got '$RUNS')"
[[ -z $TIMEOUT || $TIMEOUT =~ ^[1-9][0-9]*$ ]] || bench_die "BENCH_TIMEOUT must be a number of seconds (got '$TIMEOUT')"
[ -x "$EDGEC" ] || bench_die "edgec binary '$EDGEC' not found or not executable (build it: bench/run, or pass a path)"
[ -x "$TIME" ] || bench_die "$TIME missing: apt-get install -y time"
"$TIME" -f '%M' true 2>/dev/null >/dev/null || bench_die "$TIME is not GNU time (need -f '%M')"

# ---- model ---------------------------------------------------------------------------------
mkdir -p "$CACHE"
rm -f "$CACHE"/load_save.mismatch.*.onnx
GEN=$ROOT/bench/gen_big_model.py
MODEL=$CACHE/vit_${MB}mib_seed${SEED}.onnx
if [ ! -s "$MODEL" ] || [ "$GEN" -nt "$MODEL" ]; then
    echo "bench: generating $MODEL" >&2
    "$PY" "$GEN" "$MODEL" --mb "$MB" --seed "$SEED" ||
        bench_die "model generation failed (needs $PY with python3-onnx and python3-numpy)"
fi
MODEL_BYTES=$(stat -c %s "$MODEL")
FS=$(findmnt -no FSTYPE -T "$CACHE" 2>/dev/null || stat -f -c %T "$CACHE")
MODEL_SHA=$(sha256sum "$MODEL" | cut -c1-16)
MODEL_DESC=$("$PY" -c '
import sys, onnx
g = onnx.load(sys.argv[1]).graph
fl = [t for t in g.initializer if t.data_type == onnx.TensorProto.FLOAT]
params = 0
for t in fl:
    k = 1
    for d in t.dims:
        k *= d
    params += k
ops = {x.op_type for x in g.node}
big = ", ".join(o for o in ("Conv", "Gemm", "MatMul") if o in ops)
print("%.1fM float32 params in %d initializers (raw_data), %d nodes of %d op types (%s ...)"
      % (params / 1e6, len(fl), len(g.node), len(ops), big))
' "$MODEL" 2>/dev/null) || MODEL_DESC="(could not summarise the model)"

# ---- runs ----------------------------------------------------------------------------------
WORK=$(mktemp -d "$CACHE/run.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
OUT=$WORK/out.onnx
RAW=$WORK/raw.tsv          # run tool wall_s user_s sys_s rss_kib
: >"$RAW"

cat "$MODEL" >/dev/null    # warm the page cache: both tools read from memory

run_one() {   # run_one RUN TOOL CMD...
    local run=$1 tool=$2 t0 t1 rc=0 last
    shift 2
    if [ -n "$TIMEOUT" ]; then set -- timeout "$TIMEOUT" "$@"; fi
    rm -f "$OUT"
    sync
    t0=${EPOCHREALTIME/./}
    "$TIME" -f '%e %M %U %S' -o "$WORK/time" "$@" >"$WORK/stdout" 2>"$WORK/stderr" || rc=$?
    t1=${EPOCHREALTIME/./}
    if [ "$rc" != 0 ]; then
        echo "bench: error: $tool run $run failed (exit $rc$([ "$rc" = 124 ] && echo ", timed out after ${TIMEOUT}s")): $*" >&2
        sed 's/^/  | /' "$WORK/stderr" | tail -n 20 >&2
        exit 1
    fi
    [ -f "$OUT" ] || bench_die "$tool run $run exited 0 but wrote no $OUT: $*"
    if ! cmp "$MODEL" "$OUT" >"$WORK/cmp" 2>&1; then
        local keep=$CACHE/load_save.mismatch.$tool.onnx
        cp "$OUT" "$keep"
        echo "bench: error: ======================================================================" >&2
        echo "bench: error: $tool output is NOT byte-identical to its input (run $run):" >&2
        echo "bench: error:   $(head -n1 "$WORK/cmp")" >&2
        echo "bench: error:   input  $MODEL_BYTES bytes: $MODEL" >&2
        echo "bench: error:   output $(stat -c %s "$OUT") bytes, kept at: $keep" >&2
        echo "bench: error: the lossless no-op path must reproduce the input exactly." >&2
        echo "bench: error: $("$PY" - "$MODEL" "$keep" 2>&1 <<'PYEOF' | tail -n1
import sys, onnx
try:
    a, b = (onnx.load(p, load_external_data=False) for p in sys.argv[1:3])
except Exception as e:
    print("the output does not even parse as ONNX: %s" % e)
    sys.exit()
if a == b:
    print("the parsed models are equal: only the encoding differs (field order, packed repeated fields, ...)")
    sys.exit()
diff = [f.name for f in a.DESCRIPTOR.fields if getattr(a, f.name) != getattr(b, f.name)]
if "graph" in diff:
    g = [f.name for f in a.graph.DESCRIPTOR.fields if getattr(a.graph, f.name) != getattr(b.graph, f.name)]
    diff[diff.index("graph")] = "graph.{%s}" % ",".join(g)
print("the parsed models differ in: %s" % ", ".join(diff))
PYEOF
)" >&2
        echo "bench: error: ======================================================================" >&2
        exit 2
    fi
    last=$(tail -n1 "$WORK/time")
    read -r _e rss user sys <<<"$last"
    [[ $rss =~ ^[0-9]+$ ]] || bench_die "cannot parse GNU time output: $last"
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$run" "$tool" \
        "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", (b - a) / 1e6 }')" "$user" "$sys" "$rss" >>"$RAW"
    printf 'bench: run %d/%d %-5s %8.3f s %9d KiB\n' "$run" "$RUNS" "$tool" \
        "$(tail -n1 "$RAW" | cut -f3)" "$rss" >&2
}

echo "bench: load_save: $RUNS runs each of edgec and cp on $MODEL ($MODEL_BYTES bytes)" >&2
for ((i = 1; i <= RUNS; i++)); do
    run_one "$i" edgec "$EDGEC" compress "$MODEL" -o "$OUT"
    run_one "$i" cp "$CP" "$MODEL" "$OUT"
done

# ---- statistics ----------------------------------------------------------------------------
col() { awk -F'\t' -v t="$1" -v c="$2" '$2 == t { print $c }' "$RAW" | bench_stats; }
read -r E_WALL E_WMIN E_WMAX <<<"$(col edgec 3)"
read -r C_WALL C_WMIN C_WMAX <<<"$(col cp 3)"
read -r E_RSS E_RMIN E_RMAX <<<"$(col edgec 6)"
read -r C_RSS C_RMIN C_RMAX <<<"$(col cp 6)"

calc() { awk "BEGIN { printf \"$1\", ($2) }"; }
MIB=$(calc %.1f "$MODEL_BYTES / 1048576")
TIME_RATIO=$(calc %.2f "$C_WALL > 0 ? $E_WALL / $C_WALL : 0")
RSS_RATIO_MED=$(calc %.2f "$E_RSS * 1024 / $MODEL_BYTES")
RSS_RATIO_MAX=$(calc %.2f "$E_RMAX * 1024 / $MODEL_BYTES")
E_TPUT=$(calc %.0f "$E_WALL > 0 ? $MODEL_BYTES / 1048576 / $E_WALL : 0")
C_TPUT=$(calc %.0f "$C_WALL > 0 ? $MODEL_BYTES / 1048576 / $C_WALL : 0")
if awk "BEGIN { exit !($E_RMAX * 1024 <= $RSS_TARGET * $MODEL_BYTES) }"; then
    VERDICT="met"; MET=1
else
    VERDICT="**NOT met**"; MET=0
fi

row() {   # tool wall wmin wmax tput rss rmin rmax
    printf '| %s | %#.4g s | %#.4g – %#.4g s | %s MiB/s | %.1f MiB | %.1f – %.1f MiB |\n' \
        "$1" "$2" "$3" "$4" "$5" "$(calc %.4f "$6 / 1024")" "$(calc %.4f "$7 / 1024")" "$(calc %.4f "$8 / 1024")"
}

SECTION=$WORK/section.md
{
    echo "## Load + save: lossless no-op vs \`cp\`"
    echo
    echo "\`edgec compress IN -o OUT\` with no pass options (parse the model, write it back) against"
    echo "\`cp IN OUT\` of the same file, measured in the same run: $RUNS run(s) of each, alternating"
    echo "edgec / cp, none dropped; medians. Input: \`bench/gen_big_model.py --mb $MB --seed $SEED\`,"
    echo "$MODEL_BYTES bytes ($MIB MiB, sha256 \`$MODEL_SHA…\`), a ViT-like model: $MODEL_DESC."
    echo "Warm page cache, \`sync\` before each run, output on the same filesystem ($FS), nothing"
    echo "fsynced by the harness; wall times include ~2 ms of process start-up (\`/usr/bin/time\`) for"
    echo "both tools. Every edgec output was byte-identical to the input (\`cmp\`)."
    echo
    echo "Measured $(bench_env_md "$EDGEC")"
    echo
    echo "| tool | wall (median) | wall (min – max) | throughput | peak RSS (median) | peak RSS (min – max) |"
    echo "|---|---:|---:|---:|---:|---:|"
    row "\`cp\` ($CP_VERSION)" "$C_WALL" "$C_WMIN" "$C_WMAX" "$C_TPUT" "$C_RSS" "$C_RMIN" "$C_RMAX"
    row "edgec" "$E_WALL" "$E_WMIN" "$E_WMAX" "$E_TPUT" "$E_RSS" "$E_RMIN" "$E_RMAX"
    echo
    echo "- edgec / cp wall time: **${TIME_RATIO}×**"
    echo "- edgec peak RSS / model size: **${RSS_RATIO_MED}×** median, ${RSS_RATIO_MAX}× worst run" \
         "(target ≤ ${RSS_TARGET}× in every run: $VERDICT)"
    echo
    echo "<details><summary>All runs, in the order they ran</summary>"
    echo
    echo "| run | tool | wall s | user s | sys s | peak RSS KiB |"
    echo "|---:|---|---:|---:|---:|---:|"
    awk -F'\t' '{ printf "| %s | %s | %.4f | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6 }' "$RAW"
    echo
    echo "</details>"
} >"$SECTION"

# ---- report --------------------------------------------------------------------------------
echo
printf '%-6s %10s %10s %10s %12s %12s\n' tool "wall med" "wall min" "wall max" "RSS med MiB" "RSS max MiB"
for t in cp edgec; do
    if [ $t = cp ]; then set -- "$C_WALL" "$C_WMIN" "$C_WMAX" "$C_RSS" "$C_RMAX"
    else set -- "$E_WALL" "$E_WMIN" "$E_WMAX" "$E_RSS" "$E_RMAX"; fi
    printf '%-6s %9.4fs %9.4fs %9.4fs %12.1f %12.1f\n' $t "$1" "$2" "$3" "$(calc %.4f "$4 / 1024")" "$(calc %.4f "$5 / 1024")"
done
echo "model: $MODEL_BYTES bytes ($MIB MiB); all $RUNS edgec outputs byte-identical to the input"
echo "edgec/cp wall time:           ${TIME_RATIO}x"
echo "edgec peak RSS / model size:  ${RSS_RATIO_MED}x median, ${RSS_RATIO_MAX}x worst (target <= ${RSS_TARGET}x: ${VERDICT//\*/})"

bench_update_doc load_save "$SECTION"

if [ "$MET" = 0 ]; then
    echo "bench: warning: edgec peak RSS exceeds ${RSS_TARGET}x the model size" >&2
    [ "${BENCH_STRICT:-0}" = 1 ] && exit 3
fi
exit 0
