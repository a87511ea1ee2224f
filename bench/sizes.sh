#!/usr/bin/env bash
# Size benchmark: for each digits sample model and each pipeline of bench/digits_lib.sh, the bytes
# of the float ONNX, the edgec ONNX, the .edgec container (--huffman), and of `gzip -9`, `xz -9`
# and `zstd -19` applied to the float ONNX and to the edgec ONNX — general-purpose compressors
# are the baseline every size claim has to beat.
#
#   bench/sizes.sh [EDGEC_BIN]        (default: build/edgec in the repo root)
#
# Sizes are deterministic (edgec output is byte-identical run to run, the compressors are run
# without timestamps/names: gzip -n), so every cell is measured once.
# Rewrites the sizes section of docs/BENCHMARKS.md.
#
# Environment: BENCH_CACHE (bench/.cache), BENCH_DOC (docs/BENCHMARKS.md).
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=digits_lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/digits_lib.sh"

ROOT=$(bench_root)
CACHE=${BENCH_CACHE:-$ROOT/bench/.cache}
EDGEC=${1:-$ROOT/build/edgec}
case $EDGEC in /*) ;; */*) EDGEC=$PWD/$EDGEC ;; *) EDGEC=$(command -v "$EDGEC" || echo "$EDGEC") ;; esac
[ "$#" -le 1 ] || bench_die "usage: $0 [EDGEC_BIN]"
[ -x "$EDGEC" ] || bench_die "edgec binary '$EDGEC' not found or not executable"
for c in gzip xz zstd; do
    command -v $c >/dev/null || bench_die "$c missing: apt-get install -y $c"
done

mkdir -p "$CACHE"
WORK=$(mktemp -d "$CACHE/sizes.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# sz FILE -> "raw gzip xz zstd" byte counts
sz() {
    printf '%s %s %s %s' "$(stat -c %s "$1")" "$(gzip -9 -n -c "$1" | wc -c)" \
        "$(xz -9 -c "$1" | wc -c)" "$(zstd -19 -q -c "$1" | wc -c)"
}
kb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }

SECTION=$WORK/section.md
TABLE=$WORK/table.md
: >"$TABLE"
for mk in "${DIGITS_MODELS[@]}"; do
    model=$(digits_model "$mk")
    read -r f_raw f_gz f_xz f_zst <<<"$(sz "$model")"
    for row in "${DIGITS_PIPELINES[@]}"; do
        digits_applies "$row" "$mk" || continue
        key=${row%%|*}
        read -ra flags <<<"$(digits_flags "$row" "$mk")"
        base=$WORK/$mk.$key
        digits_compress "$EDGEC" "$model" "$base" "${flags[@]}" ||
            bench_die "$mk $key failed: $(tail -n3 "$base.err")"
        read -r e_raw e_gz e_xz e_zst <<<"$(sz "$base.onnx")"
        c=$(stat -c %s "$base.edgec")
        shown=${flags[*]//$ROOT\//}
        # shellcheck disable=SC2016  # literal backticks (markdown code)
        printf '| %s | `%s` | %s | %s | %s | %s | **%s** (%s×) | %s | %s | %s | %s |\n' \
            "$mk" "${shown:-(none)}" "$(kb "$f_raw")" "$(kb "$f_gz")" "$(kb "$f_xz")" "$(kb "$f_zst")" \
            "$(kb "$c")" "$(ratio "$f_raw" "$c")" "$(kb "$e_raw")" "$(kb "$e_gz")" "$(kb "$e_xz")" "$(kb "$e_zst")" >>"$TABLE"
        printf 'bench: sizes %-4s %-20s float %7d  edgec onnx %7d  .edgec %7d  edgec onnx|xz %7d\n' \
            "$mk" "$key" "$f_raw" "$e_raw" "$c" "$e_xz" >&2
    done
done

{
    echo "## Sizes: edgec outputs vs general-purpose compressors"
    echo
    echo "Sample models \`models/digits_mlp.onnx\` (Gemm 64-300-100-10) and \`models/digits_cnn.onnx\`"
    echo "(Conv + BN + depthwise + residual). For each pipeline: the float ONNX and what \`gzip -9 -n\`,"
    echo "\`xz -9\` and \`zstd -19\` make of it; the \`.edgec\` container (same flags + \`--huffman\`); the"
    echo "edgec ONNX (same flags) and what the three compressors make of it. Sizes in kB (1000 bytes);"
    echo "\`×\` = float ONNX / .edgec. Every cell is deterministic and measured once. Accuracy of the"
    echo "same pipelines: see the accuracy section."
    echo
    echo "Measured $(bench_env_md "$EDGEC") · $(gzip --version | head -n1), $(xz --version | head -n1), $(zstd --version | sed -E 's/^\*\*\* //; s/, by.*//')"
    echo
    echo "| model | flags | float | float gzip | float xz | float zstd | .edgec | edgec ONNX | edgec gzip | edgec xz | edgec zstd |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    cat "$TABLE"
} >"$SECTION"

cat "$TABLE"
bench_update_doc sizes "$SECTION"
