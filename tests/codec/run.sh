#!/usr/bin/env bash
# The .edgec container end to end (ctest `codec`):
#   1. round trip: for every sample model and every combination of the passes that
#      `edgec help compress` lists, `unpack(compress --huffman)` is byte-identical to
#      `compress` without --huffman (and both fail alike when a combination is refused);
#      container sizes against `xz -9` of the same ONNX file go to SCRATCH/sizes.txt;
#      the same round trip on the interop suite's generated models (subgraphs, Constants,
#      functions, unknown fields, torchvision nets) under three pipelines;
#   2. determinism: the same command writes the same container twice;
#   3. digits MLP --prune 0.8 --calib --cluster 16 --huffman: at least MLP_MIN_RATIO (20)
#      times smaller than the float model, top-1 drop at most MLP_MAX_DROP (1.5) points,
#      measured in ONNX Runtime on the unpacked model;
#   4. emit-c: the C file compiles with -Wall -Wextra -Werror (C99 and C11, host and,
#      when installed, arm-none-eabi-gcc), links with decoder/edgec_decode.c, and decodes
#      every tensor to the bytes of the unpacked ONNX file;
#   5. unpack and emit-c refuse damaged containers with exit 2;
#   6. the other targets of issue 7: container <= XZ_MAX_RATIO (0.8) x `xz -9` of the same
#      ONNX file on every combination above, decoder .text <= DEC_MAX_TEXT (2048) bytes with
#      arm-none-eabi-gcc -Os -mthumb -mcpu=cortex-m4, host decode (EDGEC_DECODE_FAST build
#      of bench/decoder_bench.c) >= DEC_MIN_MBS (200) MB/s of decoded tensor bytes.
# A target the code does not meet yet is printed as "ok - CHECK # TODO not met: FIGURE vs
# TARGET" (a TAP TODO: shown, not counted as a failure) so that the suite stays green
# while issue 7 stays open; a met target is a hard check. The accuracy budget is always hard.
# Usage: run.sh EDGEC_BIN SCRATCHDIR. Prints ok/not ok lines and "codec: N passed, M failed".
set -u
EDGEC=$(realpath "$1")
SCRATCH=$2
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PY=${EDGEC_PYTHON:-/usr/bin/python3}
MLP_MIN_RATIO=${MLP_MIN_RATIO:-20}
MLP_MAX_DROP=${MLP_MAX_DROP:-1.5}
XZ_MAX_RATIO=${XZ_MAX_RATIO:-0.8}
DEC_MAX_TEXT=${DEC_MAX_TEXT:-2048}
DEC_MIN_MBS=${DEC_MIN_MBS:-200}
rm -rf "$SCRATCH"
mkdir -p "$SCRATCH"
cd "$SCRATCH" || exit 1
passed=0
failed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
nok() { echo "not ok - $*"; failed=$((failed + 1)); }
# todo CHECK FIGURE_VS_TARGET: an open target of issue 7 (see the header).
todo() { echo "ok - $1 # TODO not met: $2"; }

# Passes, from the help text (lines "  --NAME ..." under "Passes and their options").
mapfile -t PASSES < <("$EDGEC" help compress |
    awk '/^Passes and their options:/ {on = 1; next} /^$/ {on = 0}
         on && /^  --/ {p = substr($1, 3); sub(/\[.*/, "", p); print p}' |
    grep -v '^cleanup$')
echo "# passes: ${PASSES[*]}"

# A value for each pass: the documented examples; unknown passes try none, then 0.5.
arg_for() {
    case $1 in
    prune | prune-structured) echo 0.5 ;;
    nm) echo 2:4 ;;
    svd) echo 0.9 ;;
    cluster) echo 16 ;;
    *) "$EDGEC" help compress | grep -qE "^  --$1 [^ []" && echo 0.5 || echo "" ;;
    esac
}

# Subsets of the passes: all of them up to 6 passes, else those of at most 3.
n=${#PASSES[@]}
combos=("")
for ((mask = 1; mask < (1 << n); mask++)); do
    bits=0 c=""
    for ((i = 0; i < n; i++)); do
        if ((mask >> i & 1)); then
            bits=$((bits + 1))
            v=$(arg_for "${PASSES[$i]}")
            c+=" --${PASSES[$i]}${v:+ $v}"
        fi
    done
    if ((n <= 6 || bits <= 3)); then combos+=("$c"); fi
done

printf '%-16s %-44s %9s %9s %9s %7s\n' model passes onnx xz9 edgec edgec/xz >sizes.txt
for model in digits_mlp digits_cnn; do
    calib=$ROOT/models/digits-calib.npz
    [ "$model" = digits_cnn ] && calib=$ROOT/models/digits-calib-cnn.npz
    cp "$ROOT/models/$model.onnx" "$model.onnx"
    k=0
    for c in "${combos[@]}"; do
        k=$((k + 1))
        base=${model}_$k
        # shellcheck disable=SC2086
        "$EDGEC" compress "$model.onnx" $c --calib "$calib" -q -o "$base.onnx" 2>"$base.err"
        rc1=$?
        # shellcheck disable=SC2086
        "$EDGEC" compress "$model.onnx" $c --calib "$calib" -q --huffman -o "$base.edgec" 2>>"$base.err"
        rc2=$?
        if [ $rc1 -ne 0 ] || [ $rc2 -ne 0 ]; then
            if [ $rc1 -eq $rc2 ] && [ ! -e "$base.edgec" ]; then
                ok "$model [$c ]: refused alike (exit $rc1)"
            else
                nok "$model [$c ]: exit $rc1 without --huffman, $rc2 with: $(head -c 300 "$base.err")"
            fi
            continue
        fi
        if ! "$EDGEC" unpack "$base.edgec" -o "$base.unpacked.onnx" 2>>"$base.err"; then
            nok "$model [$c ]: unpack failed: $(head -c 300 "$base.err")"
            continue
        fi
        if cmp -s "$base.onnx" "$base.unpacked.onnx"; then
            ok "$model [$c ]: unpack(--huffman) == plain, byte for byte"
        else
            nok "$model [$c ]: unpacked file differs from the plain output"
        fi
        onnx=$(stat -c %s "$base.onnx")
        xz9=$(xz -9 -c "$base.onnx" | wc -c)
        ed=$(stat -c %s "$base.edgec")
        printf '%-16s %-44s %9d %9d %9d %7.3f\n' "$model" "${c:- (none)}" "$onnx" "$xz9" "$ed" \
            "$(echo "$ed / $xz9" | bc -l)" >>sizes.txt
        rm -f "$base.unpacked.onnx"
    done
done
cat sizes.txt

# 1b. Round trip on the interop suite's generated models (tests/interop/make_test_models.py:
# Constants in If/Loop/Scan bodies, sparse initializers, functions, float_data, unknown
# fields, torchvision nets), when they can be generated; models over 20 MB are left out.
if "$PY" "$ROOT/tests/interop/make_test_models.py" "$SCRATCH/interop-models" >interop-models.log 2>&1; then
    for f in "$SCRATCH"/interop-models/*.onnx; do
        [ "$(stat -c %s "$f")" -le 20000000 ] || continue
        for c in "" "--int8" "--prune 0.5 --int4"; do
            name="$(basename "$f" .onnx) [${c:-none}]"
            # shellcheck disable=SC2086
            "$EDGEC" compress "$f" $c -q -o im.onnx 2>im.err
            rc1=$?
            # shellcheck disable=SC2086
            "$EDGEC" compress "$f" $c -q --huffman -o im.edgec 2>>im.err
            rc2=$?
            if [ $rc1 -ne 0 ] || [ $rc2 -ne 0 ]; then
                [ $rc1 -eq $rc2 ] && ok "$name: refused alike (exit $rc1)" ||
                    nok "$name: exit $rc1 without --huffman, $rc2 with: $(head -c 300 im.err)"
            elif "$EDGEC" unpack im.edgec -o im.unpacked.onnx 2>>im.err && cmp -s im.onnx im.unpacked.onnx; then
                ok "$name: unpack(--huffman) == plain, byte for byte ($(stat -c %s im.onnx) -> $(stat -c %s im.edgec) bytes)"
            else
                nok "$name: unpacked file differs from the plain output, or unpack failed"
            fi
            rm -f im.onnx im.edgec im.unpacked.onnx
        done
    done
else
    echo "# skip: tests/interop/make_test_models.py failed (see $SCRATCH/interop-models.log)"
fi

# 2. Determinism.
"$EDGEC" compress digits_cnn.onnx --cluster 16 --huffman -q -o det1.edgec &&
    "$EDGEC" compress digits_cnn.onnx --cluster 16 --huffman -q -o det2.edgec &&
    cmp -s det1.edgec det2.edgec && ok "same command, same container bytes" ||
    nok "two runs gave different containers"

# 3. The Deep Compression style pipeline on the digits MLP, measured in ONNX Runtime.
if printf '%s\n' "${PASSES[@]}" | grep -qx prune; then
    cp "$ROOT/models/digits_mlp.onnx" mlp.onnx
    if "$EDGEC" compress mlp.onnx --prune 0.8 --calib "$ROOT/models/digits-calib.npz" --cluster 16 \
        --huffman -q -o mlp.edgec && "$EDGEC" unpack mlp.edgec -o mlp.unpacked.onnx &&
        node "$ROOT/tests/interop/ort_run.js" mlp.onnx --inputs "$ROOT/models/digits-test.npz" \
            --out ref.json >/dev/null &&
        node "$ROOT/tests/interop/ort_run.js" mlp.unpacked.onnx --inputs "$ROOT/models/digits-test.npz" \
            --out cand.json >/dev/null; then
        ref=$("$PY" "$HERE/tensors.py" top1 ref.json "$ROOT/models/digits-test.npz")
        cand=$("$PY" "$HERE/tensors.py" top1 cand.json "$ROOT/models/digits-test.npz")
        float=$(stat -c %s mlp.onnx)
        packed=$(stat -c %s mlp.edgec)
        ratio=$(echo "$float / $packed" | bc -l)
        drop=$(echo "$ref - $cand" | bc -l)
        line=$(printf 'digits MLP prune 0.8 + cluster 16 + huffman: %d -> %d bytes (%.1fx), ORT top-1 %.2f%% -> %.2f%% (drop %.2f pt)' \
            "$float" "$packed" "$ratio" "$ref" "$cand" "$drop")
        echo "$line" >mlp.txt
        if [ "$(echo "$drop > $MLP_MAX_DROP" | bc -l)" = 1 ]; then
            nok "$line (budget: >= ${MLP_MIN_RATIO}x, <= $MLP_MAX_DROP pt)"
        elif [ "$(echo "$ratio >= $MLP_MIN_RATIO" | bc -l)" = 1 ]; then
            ok "$line"
        else
            todo "$line" "$(printf '%.1fx' "$ratio") vs >= ${MLP_MIN_RATIO}x ($packed vs <= $((float / MLP_MIN_RATIO)) bytes)"
        fi
    else
        nok "digits MLP prune+cluster+huffman pipeline failed"
    fi
else
    echo "# skip: no prune pass registered, digits MLP 20x check not run"
fi

# 4. emit-c: compile, link with the decoder, decode every tensor.
"$EDGEC" compress "$ROOT/models/digits_mlp.onnx" --cluster 16 --huffman -q -o emit.edgec
"$EDGEC" unpack emit.edgec -o emit.onnx
if "$EDGEC" emit-c emit.edgec -o blob.c --symbol blob; then
    okc=1
    for std in c99 c11; do
        gcc -std=$std -pedantic -Wall -Wextra -Werror -c blob.c -o blob_$std.o || okc=0
    done
    if command -v arm-none-eabi-gcc >/dev/null; then
        arm-none-eabi-gcc -std=c99 -Os -mthumb -mcpu=cortex-m4 -Wall -Wextra -Werror -c blob.c \
            -o blob_arm.o || okc=0
    fi
    [ $okc = 1 ] && ok "emit-c output compiles with -Wall -Wextra -Werror" ||
        nok "emit-c output does not compile cleanly"
    if gcc -std=c99 -Wall -Wextra -Werror -I. -I"$ROOT/decoder" "$HERE/emit_main.c" blob.c \
        "$ROOT/decoder/edgec_decode.c" -o emit_main && ./emit_main | sort >decoded.txt &&
        "$PY" "$HERE/tensors.py" emit.onnx >expected.txt && [ -s expected.txt ] &&
        cmp -s decoded.txt expected.txt; then
        ok "emit-c blob + decoder: all $(wc -l <decoded.txt) tensors decode to the unpacked bytes"
    else
        nok "emit-c blob + decoder: decoded tensors differ (see $SCRATCH/decoded.txt, expected.txt)"
    fi
else
    nok "emit-c failed"
fi
"$EDGEC" emit-c emit.edgec -o bad.c --symbol 9bad 2>/dev/null
[ $? -eq 1 ] && ok "emit-c refuses a symbol that is not an identifier" || nok "emit-c took symbol 9bad"

# 5. Damaged containers: exit 2, no output.
size=$(stat -c %s emit.edgec)
head -c $((size - 1)) emit.edgec >trunc.edgec
cp emit.edgec flip.edgec
printf '\x55' | dd of=flip.edgec bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
for bad in trunc flip; do
    "$EDGEC" unpack $bad.edgec -o $bad.onnx 2>$bad.err
    rc=$?
    [ $rc -eq 2 ] && [ ! -e $bad.onnx ] && ok "unpack $bad.edgec: exit 2, $(cat $bad.err)" ||
        nok "unpack $bad.edgec: exit $rc"
    "$EDGEC" emit-c $bad.edgec -o $bad.c 2>/dev/null
    rc=$?
    [ $rc -eq 2 ] && [ ! -e $bad.c ] && ok "emit-c $bad.edgec: exit 2" || nok "emit-c $bad.edgec: exit $rc"
done
"$EDGEC" unpack emit.edgec -o emit.edgec 2>/dev/null && nok "unpack overwrote its input" ||
    ok "unpack refuses to overwrite its input"

# 6. The other targets: size against xz -9, decoder code size and host decode speed.
worst=$(awk 'NR > 1 && $NF + 0 > w {w = $NF + 0; m = $1 " [" $0 "]"} END {printf "%.3f", w}' sizes.txt)
check="container <= ${XZ_MAX_RATIO}x xz -9 of the same ONNX file on every combination (worst $worst)"
if [ "$(echo "$worst <= $XZ_MAX_RATIO" | bc -l)" = 1 ]; then ok "$check"; else
    todo "$check" "worst ${worst}x vs <= ${XZ_MAX_RATIO}x (sizes.txt)"
fi
if command -v arm-none-eabi-gcc >/dev/null; then
    if arm-none-eabi-gcc -std=c99 -Os -mthumb -mcpu=cortex-m4 -Wall -Wextra -Werror \
        -c "$ROOT/decoder/edgec_decode.c" -o dec_arm.o; then
        text=$(arm-none-eabi-size -A dec_arm.o | awk '$1 == ".text" {print $2}')
        check="decoder .text $text bytes on Cortex-M4 (-Os -mthumb), budget $DEC_MAX_TEXT"
        if [ "$text" -le "$DEC_MAX_TEXT" ]; then ok "$check"; else
            todo "$check" "$text vs <= $DEC_MAX_TEXT bytes"
        fi
    else
        nok "decoder does not compile with arm-none-eabi-gcc -Wall -Wextra -Werror"
    fi
else
    echo "# skip: arm-none-eabi-gcc not installed, decoder .text not measured"
fi
# The fast host build must decode exactly what the small one does, under the sanitizers.
if gcc -std=c99 -g -O1 -DEDGEC_DECODE_FAST -fsanitize=address,undefined -fno-sanitize-recover=all \
    -Wall -Wextra -Werror -I. -I"$ROOT/decoder" "$HERE/emit_main.c" blob.c "$ROOT/decoder/edgec_decode.c" \
    -o emit_fast && ./emit_fast | sort >decoded_fast.txt && [ -s expected.txt ] &&
    cmp -s decoded_fast.txt expected.txt; then
    ok "EDGEC_DECODE_FAST decoder (ASan+UBSan): all $(wc -l <decoded_fast.txt) tensors decode to the unpacked bytes"
else
    nok "EDGEC_DECODE_FAST decoder: decoded tensors differ or it crashed (see $SCRATCH/decoded_fast.txt)"
fi
if gcc -std=c99 -O2 -DEDGEC_DECODE_FAST -I"$ROOT/decoder" "$ROOT/bench/decoder_bench.c" \
    "$ROOT/decoder/edgec_decode.c" -o decoder_bench; then
    slow=""
    minmbs=""
    for opts in "" "--cluster 16" "--prune 0.8 --cluster 16"; do
        # shellcheck disable=SC2086
        "$EDGEC" compress digits_mlp.onnx $opts --huffman -q -o speed.edgec &&
            mbs=$(./decoder_bench speed.edgec | awk '{print $3}') || { nok "decoder_bench failed"; break; }
        [ -z "$minmbs" ] || [ "$(echo "$mbs < $minmbs" | bc -l)" = 1 ] && minmbs=$mbs
        slow+="${slow:+, }[${opts:-none}] $mbs"
    done
    check="host decode >= $DEC_MIN_MBS MB/s of decoded tensor bytes, digits MLP (MB/s: $slow)"
    if [ -n "$minmbs" ] && [ "$(echo "$minmbs >= $DEC_MIN_MBS" | bc -l)" = 1 ]; then ok "$check"; else
        todo "$check" "slowest $minmbs vs >= $DEC_MIN_MBS MB/s"
    fi
else
    nok "bench/decoder_bench.c does not build with EDGEC_DECODE_FAST"
fi

echo "codec: $passed passed, $failed failed"
[ $failed -eq 0 ]
