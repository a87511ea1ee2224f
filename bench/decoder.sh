#!/usr/bin/env bash
# The firmware decoder (decoder/edgec_decode.c): code size on a Cortex-M4 and decode speed
# on this host.
#
#   bench/decoder.sh [EDGEC_BIN]        (default: build/edgec in the repo root)
#
# Size: `arm-none-eabi-gcc -std=c99 -Os -mthumb -mcpu=cortex-m4 -c`, then the .text and
# .rodata sizes from arm-none-eabi-size -A (apt-get install -y gcc-arm-none-eabi; without it
# the section says so). Speed: containers of the sample models under several pass
# combinations (written by EDGEC_BIN), each decoded tensor by tensor by bench/decoder_bench.c
# (gcc -O2) for at least 0.5 s of CPU time, BENCH_RUNS (3) times, with the firmware build of
# the decoder and with the host build (-DEDGEC_DECODE_FAST: lookup-table decode, what libedgec
# uses); the median MB/s of decoded tensor bytes per second of the process's CPU time is
# reported (CPU time, so that other jobs on a shared machine do not count as decoding).
# "tensor bytes" is the decoded size of every tensor of the container (what the decoder
# outputs), not the ONNX file. Rewrites the decoder section of docs/BENCHMARKS.md.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROOT=$(bench_root)
RUNS=${BENCH_RUNS:-3}
EDGEC=${1:-$ROOT/build/edgec}
case $EDGEC in /*) ;; */*) EDGEC=$PWD/$EDGEC ;; esac
[ -x "$EDGEC" ] || bench_die "edgec binary '$EDGEC' not found or not executable"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
OUT=$WORK/section.md

{
    echo "## Firmware decoder"
    echo
    bench_env_md "$EDGEC"
    echo
    if command -v arm-none-eabi-gcc >/dev/null; then
        arm-none-eabi-gcc -std=c99 -Os -mthumb -mcpu=cortex-m4 -Wall -Wextra -Werror \
            -c "$ROOT/decoder/edgec_decode.c" -o "$WORK/dec.o"
        text=$(arm-none-eabi-size -A "$WORK/dec.o" | awk '$1 == ".text" {print $2}')
        ro=$(arm-none-eabi-size -A "$WORK/dec.o" | awk '$1 ~ /^\.rodata/ {s += $2} END {print s + 0}')
        echo "Code size, \`$(arm-none-eabi-gcc --version | head -n1)\`, \`-Os -mthumb -mcpu=cortex-m4\`:"
        echo "**.text $text bytes**, .rodata $ro bytes (the CRC-32 nibble table), no .data/.bss;"
        echo "RAM: one \`edgec_dec\` of $(printf '#include "edgec_decode.h"\nint s = sizeof(edgec_dec);\n' |
            arm-none-eabi-gcc -Os -mthumb -mcpu=cortex-m4 -I"$ROOT/decoder" -x c -S -o - - |
            awk '/\.word/ {print $2; exit}') bytes (caller-owned) and about 300 bytes of stack."
        echo "(\`-DEDGEC_DECODE_FAST\` is for hosts, and what libedgec uses: .text $(arm-none-eabi-gcc -std=c99 -Os -mthumb \
            -mcpu=cortex-m4 -DEDGEC_DECODE_FAST -c "$ROOT/decoder/edgec_decode.c" -o "$WORK/fast.o" &&
            arm-none-eabi-size -A "$WORK/fast.o" | awk '$1 == ".text" {print $2}') bytes, and lookup tables in \`edgec_dec\`.)"
    else
        echo "Code size: not measured, arm-none-eabi-gcc is not installed (apt-get install -y gcc-arm-none-eabi)."
    fi
    echo
    gcc -std=c99 -O2 -I"$ROOT/decoder" "$ROOT/bench/decoder_bench.c" "$ROOT/decoder/edgec_decode.c" \
        -o "$WORK/decoder_bench"
    gcc -std=c99 -O2 -DEDGEC_DECODE_FAST -I"$ROOT/decoder" "$ROOT/bench/decoder_bench.c" \
        "$ROOT/decoder/edgec_decode.c" -o "$WORK/decoder_bench_fast"
    echo "Host decode speed (\`gcc -O2\`, one thread, MB/s = 1e6 decoded tensor bytes per second of CPU time; median, min, max of $RUNS):"
    echo
    echo "| container | tensor bytes | .edgec bytes | firmware build MB/s | \`EDGEC_DECODE_FAST\` MB/s |"
    echo "| --- | ---: | ---: | ---: | ---: |"
    cp "$ROOT/models/digits_mlp.onnx" "$ROOT/models/digits_cnn.onnx" "$WORK/"
    while IFS='|' read -r model opts; do
        name="$model${opts:+ $opts}"
        f=$WORK/c.edgec
        # shellcheck disable=SC2086
        "$EDGEC" compress "$WORK/$model.onnx" $opts --huffman -q -o "$f" || bench_die "compress $name failed"
        small=$(for ((r = 0; r < RUNS; r++)); do "$WORK/decoder_bench" "$f" | awk '{print $3}'; done | bench_stats)
        fast=$(for ((r = 0; r < RUNS; r++)); do "$WORK/decoder_bench_fast" "$f" | awk '{print $3}'; done | bench_stats)
        raw=$("$WORK/decoder_bench_fast" "$f" | awk '{print $1}')
        read -r med lo hi <<<"$small"
        read -r fmed flo fhi <<<"$fast"
        printf '| %s | %s | %s | %.0f (%.0f, %.0f) | %.0f (%.0f, %.0f) |\n' "$name" "$raw" "$(stat -c %s "$f")" \
            "$med" "$lo" "$hi" "$fmed" "$flo" "$fhi"
    done <<'LIST'
digits_mlp|
digits_mlp|--cluster 16
digits_mlp|--prune 0.8 --cluster 16
digits_cnn|--int4
digits_cnn|--prune 0.5
LIST
} >"$OUT"
cat "$OUT"
bench_update_doc decoder "$OUT"
