#!/usr/bin/env bash
# Runs one libFuzzer harness for a given time (a manual campaign: not part of CI; ctest
# only replays the saved corpus).
#
# usage: tests/fuzz/run.sh HARNESS SECONDS [--cpu] [--save] [-- LIBFUZZER_FLAGS...]
#   HARNESS   onnx | npy | npz | transform | codec | decoder
#   SECONDS   wall-clock time for libFuzzer (-max_total_time); the CPU time the run
#             actually got is printed at the end (the machine may be shared)
#   --cpu     SECONDS is CPU time instead: libFuzzer runs in 5-minute slices, each
#             resuming from the corpus of the last, until user+sys time reaches SECONDS
#   --save    merge what the run found into tests/fuzz/corpus/HARNESS (minimized with
#             -merge=1; files named regress-* are always kept), so that ctest replays it
#
# Build first, with clang:
#   cmake -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEDGEC_FUZZ=ON
#   cmake --build build-fuzz --target fuzz_HARNESS
# Environment: EDGEC_FUZZ_BUILD (default build-fuzz), EDGEC_FUZZ_WORK (default
# $EDGEC_FUZZ_BUILD/fuzz-work). The run is niced (nice -n 10) and uses one core.
# A crash leaves its input in WORK/HARNESS/artifacts/; replay it with
#   build-*/tests/fuzz/fuzz_replay_HARNESS FILE
# Prints libFuzzer's final stats, the CPU time, and the edge coverage of the parser
# sources (src/onnx, src/data, src/codec, decoder) from -print_coverage.
set -euo pipefail
# The whole script is one compound command, read before it runs: editing the file during a
# campaign cannot change what the running copy does.
{

usage() { sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 1; }
[[ $# -ge 2 ]] || usage
H=$1 SECS=$2
shift 2
SAVE=0 CPU=0
while [[ ${1:-} == --save || ${1:-} == --cpu ]]; do
    [[ $1 == --save ]] && SAVE=1
    [[ $1 == --cpu ]] && CPU=1
    shift
done
[[ ${1:-} == -- ]] && shift
[[ $SECS =~ ^[0-9]+$ ]] || usage

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${EDGEC_FUZZ_BUILD:-$ROOT/build-fuzz}
WORK=${EDGEC_FUZZ_WORK:-$BUILD/fuzz-work}/$H
BIN=$BUILD/tests/fuzz/fuzz_$H
SAVED=$ROOT/tests/fuzz/corpus/$H
[[ -x $BIN ]] || { echo "run.sh: $BIN not built (see the usage above)" >&2; exit 1; }

mkdir -p "$WORK/live" "$WORK/artifacts" "$WORK/seeds"
/usr/bin/python3 "$ROOT/tests/fuzz/make_seeds.py" "$WORK/seeds.all" >/dev/null
rm -rf "$WORK/seeds"
mv "$WORK/seeds.all/fuzz_$H" "$WORK/seeds" 2>/dev/null || mkdir -p "$WORK/seeds"
rm -rf "$WORK/seeds.all"
mkdir -p "$SAVED"
# The container harnesses start from containers of the current format, written by the
# edgec of this build from the sample models with a few pipelines.
if [[ $H == codec || $H == decoder ]] && [[ -x $BUILD/edgec ]]; then
    i=0
    for m in digits_mlp digits_cnn; do
        for p in "" "--int8" "--int4" "--cluster 16" "--prune 0.8 --cluster 16" "--prune 0.5 --int8"; do
            # shellcheck disable=SC2086  # the pipeline is a list of words
            "$BUILD/edgec" compress "$ROOT/models/$m.onnx" $p --huffman -q -o "$WORK/seeds/container-$i.edgec" ||
                echo "run.sh: could not write a seed container ($m $p)" >&2
            i=$((i + 1))
        done
    done
fi

case $H in
onnx) LEN=16384 ;;
transform) LEN=512 ;;
codec | decoder) LEN=65536 ;;
*) LEN=8192 ;;
esac

DICT=()
[[ -f $ROOT/tests/fuzz/$H.dict ]] && DICT=(-dict="$ROOT/tests/fuzz/$H.dict")
echo "run.sh: fuzz_$H for ${SECS}s $([[ $CPU -eq 1 ]] && echo "of CPU time" || echo "of wall time") (max_len $LEN), corpus $WORK/live"
TIMEFORMAT='%3U %3S %3R'
used=0 wall=0 execs=0 RC=0 slice=0
: >"$WORK/log"
while :; do
    t=$SECS
    if [[ $CPU -eq 1 ]]; then
        left=$(awk -v s="$SECS" -v u="$used" 'BEGIN { printf "%d", s - u }')
        [[ $left -gt 0 ]] || break
        t=300
    fi
    slice=$((slice + 1))
    set +e
    { time nice -n 10 "$BIN" -max_total_time="$t" -max_len="$LEN" -timeout=60 -rss_limit_mb=2560 \
        -print_final_stats=1 -artifact_prefix="$WORK/artifacts/" "${DICT[@]}" "$@" \
        "$WORK/live" "$WORK/seeds" "$SAVED" >"$WORK/log.slice" 2>&1; } 2>"$WORK/time"
    RC=$?
    set -e
    cat "$WORK/log.slice" >>"$WORK/log"
    read -r u s w <"$WORK/time"
    used=$(awk -v a="$used" -v u="$u" -v s="$s" 'BEGIN { printf "%.1f", a + u + s }')
    wall=$(awk -v a="$wall" -v w="$w" 'BEGIN { printf "%.1f", a + w }')
    n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$WORK/log.slice")
    execs=$((execs + ${n:-0}))
    [[ $RC -eq 0 && $CPU -eq 1 ]] || break
done
grep -E 'ERROR|SUMMARY|==[0-9]+==|runtime error|fuzz invariant' "$WORK/log" | head -n 20 || true
grep -E '^#[0-9]+' "$WORK/log.slice" | tail -n 1 || true
echo "fuzz_$H: $execs executions in $slice slice(s); cpu ${used} s (user+sys), wall ${wall} s"
if [[ $RC -ne 0 ]]; then
    echo "run.sh: fuzz_$H FOUND A PROBLEM (exit $RC); inputs in $WORK/artifacts:"
    ls -la "$WORK/artifacts"
    exit "$RC"
fi

# Edge coverage of the parser sources, over everything the campaign kept.
"$BIN" -runs=0 -print_coverage=1 "$WORK/live" "$WORK/seeds" "$SAVED" >"$WORK/cov.log" 2>&1 || true
awk '
/^(COVERED|UNCOVERED)_FUNC/ {
    file = $NF; sub(/:[0-9]+$/, "", file)
    if (file !~ /\/(src\/onnx|src\/data|src\/codec|decoder)\//) next
    split($0, a, "edges: "); split(a[2], e, "[/ ]")
    cov[file] += e[1]; tot[file] += e[2]; C += e[1]; T += e[2]
}
END {
    for (f in tot) { n = f; sub(/.*\/(src|decoder)\//, "", n); printf "  %-28s %5d / %5d edges\n", n, cov[f], tot[f] }
    if (T) printf "parser edge coverage: %d / %d (%.1f%%)\n", C, T, 100 * C / T
}' "$WORK/cov.log" | sort
grep -E '^#[0-9]+ .*(INITED|DONE)' "$WORK/cov.log" | tail -n 1 || true

if [[ $SAVE -eq 1 ]]; then
    mkdir -p "$WORK/merged"
    rm -rf "$WORK/merged"/*
    "$BIN" -merge=1 -max_len="$LEN" "$WORK/merged" "$SAVED" "$WORK/live" "$WORK/seeds" >"$WORK/merge.log" 2>&1
    # Named regressions (regress-*) stay whatever the merge thinks of them.
    find "$SAVED" -maxdepth 1 -type f ! -name 'regress-*' -delete
    cp -n "$WORK/merged"/* "$SAVED"/
    echo "run.sh: saved $(ls "$SAVED" | wc -l) inputs ($(du -sh "$SAVED" | cut -f1)) to $SAVED"
fi
exit 0
}
