#!/usr/bin/env bash
# --auto benchmark (issue 11): `edgec compress MODEL --auto --max-drop 1 --calib C --eval T
# --huffman` on the digits MLP (LeNet-300-100) and the digits CNN (BatchNormalization,
# depthwise conv), against the targets: MLP >= 40x, CNN >= 10x, top-1 drop <= 1 point on the
# held-out test labels, search time <= 120 s on this machine.
#
#   bench/auto.sh [EDGEC_BIN]        (default: build/edgec in the repo root)
#
# BENCH_RUNS runs per model (the search is deterministic: every run gives the same bytes,
# which is checked; the times are medians). Wall time from EPOCHREALTIME, CPU from
# /usr/bin/time. Top-1 is edgec's interpreter on the result (tests/auto/run.sh checks it in
# ONNX Runtime too).
# Environment: BENCH_RUNS (3), BENCH_DOC (docs/BENCHMARKS.md), BENCH_STRICT=1 (exit 3 when a
# target is missed).
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROOT=$(bench_root)
RUNS=${BENCH_RUNS:-3}
EDGEC=${1:-$ROOT/build/edgec}
case $EDGEC in /*) ;; */*) EDGEC=$PWD/$EDGEC ;; *) EDGEC=$(command -v "$EDGEC" || echo "$EDGEC") ;; esac
[ "$#" -le 1 ] || bench_die "usage: $0 [EDGEC_BIN]"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || bench_die "BENCH_RUNS must be a positive integer (got '$RUNS')"
[ -x "$EDGEC" ] || bench_die "edgec binary '$EDGEC' not found or not executable"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
M=$ROOT/models
missed=0
body=$WORK/body.md
{
    echo "## --auto (issue 11)"
    echo
    bench_env_md "$EDGEC"
    echo
    echo "\`edgec compress MODEL --auto --max-drop 1 --calib CALIB --eval TEST --huffman\`, $RUNS runs per model"
    echo "(medians; every run gave the same bytes). Targets: MLP >= 40x, CNN >= 10x, drop <= 1 point on the"
    echo "held-out test labels, search <= 120 s."
    echo
    echo "| model | float bytes | container bytes | ratio | top-1 float -> result (drop) | trials | wall s (min-max) | CPU s | targets |"
    echo "| --- | ---: | ---: | ---: | --- | ---: | --- | ---: | --- |"
} >"$body"

for spec in "mlp digits_mlp.onnx digits-calib.npz digits-test.npz 40" \
    "cnn digits_cnn.onnx digits-calib-cnn.npz digits-test-cnn.npz 10"; do
    read -r name model calib test target <<<"$spec"
    walls=() cpus=() first=
    for r in $(seq "$RUNS"); do
        t0=$EPOCHREALTIME
        /usr/bin/time -f '%U %S' -o "$WORK/cpu" "$EDGEC" compress "$M/$model" --auto --max-drop 1 \
            --calib "$M/$calib" --eval "$M/$test" --huffman -o "$WORK/$name.edgec" \
            --plan-out "$WORK/$name.plan.json" --report "$WORK/$name.json" --no-progress 2>"$WORK/$name.log" ||
            bench_die "$name: --auto failed: $(tail -1 "$WORK/$name.log")"
        walls+=("$(echo "$EPOCHREALTIME - $t0" | bc -l)")
        cpus+=("$(awk '{ printf "%.2f", $1 + $2 }' "$WORK/cpu")")
        sum=$(sha256sum <"$WORK/$name.edgec")
        [ -z "$first" ] && first=$sum
        [ "$sum" = "$first" ] || bench_die "$name: run $r gave other bytes than run 1"
    done
    read -r wmed wmin wmax < <(printf '%s\n' "${walls[@]}" | bench_stats)
    read -r cmed _ _ < <(printf '%s\n' "${cpus[@]}" | bench_stats)
    float=$(stat -c %s "$M/$model")
    packed=$(stat -c %s "$WORK/$name.edgec")
    ratio=$(echo "$float / $packed" | bc -l)
    line=$(grep -E "top-1 [0-9.]+% -> " "$WORK/$name.log" | tail -1 | sed 's/^ *//')
    drop=$(sed -n 's/.*(drop \(-\{0,1\}[0-9.]*\) points).*/\1/p' <<<"$line")
    trials=$(sed -n 's/.*"trials": \([0-9]*\).*/\1/p' "$WORK/$name.plan.json")
    verdict=()
    if [ "$(echo "$ratio >= $target" | bc -l)" = 1 ]; then verdict+=("ratio met"); else verdict+=("**ratio NOT met** (>= ${target}x)"); missed=1; fi
    if [ "$(echo "${drop:-99} <= 1" | bc -l)" = 1 ]; then verdict+=("drop met"); else verdict+=("**drop NOT met**"); missed=1; fi
    if [ "$(echo "$wmax <= 120" | bc -l)" = 1 ]; then verdict+=("time met"); else verdict+=("**time NOT met**"); missed=1; fi
    printf '| %s | %d | %d | %.2fx | %s | %s | %.1f (%.1f-%.1f) | %.1f | %s |\n' "$name" "$float" "$packed" \
        "$ratio" "${line#top-1 }" "$trials" "$wmed" "$wmin" "$wmax" "$cmed" "$(IFS=,; echo "${verdict[*]}" | sed 's/,/, /g')" >>"$body"
    {
        echo
        echo "<details><summary>$name: the chosen plan</summary>"
        echo
        echo '```'
        grep -E '"tensor"|"prune"|"cluster"|"int8"' "$WORK/$name.plan.json" | tr -d ' ,' | paste -sd ' ' | sed 's/"tensor":/\n/g' | sed '/^$/d'
        echo '```'
        echo
        echo "</details>"
    } >>"$WORK/plans.md"
done
cat "$WORK/plans.md" >>"$body"
bench_update_doc auto "$body"
[ "$missed" = 1 ] && [ "${BENCH_STRICT:-0}" = 1 ] && exit 3
exit 0
