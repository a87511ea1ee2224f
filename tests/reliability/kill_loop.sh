#!/usr/bin/env bash
# kill -9 during writing leaves the old output intact.
#
# usage: tests/reliability/kill_loop.sh EDGEC_BIN SCRATCHDIR [MB] [ITERATIONS] [SEED]
#
# Generates a large model (bench/gen_big_model.py --mb MB, default 50; cached in
# SCRATCHDIR), measures how long `edgec compress BIG -o OUT` takes, then ITERATIONS times
# (default 30) puts an older, different file at OUT, starts the same command and kills it
# with SIGKILL after a random delay (seeded: SEED, default 1): odd kills anywhere in 0-120%
# of that time, even kills within half of it after the temporary file appears (the write
# itself is a small part of the run). After every kill OUT must hold exactly the older bytes or exactly the complete new
# output, never anything else. Kills that land while the temporary file is being written
# (it is left behind: SIGKILL gives no chance to clean up) are counted; the test fails if
# none did, since it would then prove nothing. Prints one line per kill and a summary.
set -u
[[ $# -ge 2 ]] || { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
EDGEC=$(realpath -- "$1")
SCRATCH=$2
MB=${3:-50}
ITER=${4:-30}
RANDOM=${5:-1}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$HERE/../..
mkdir -p -- "$SCRATCH/out"
SCRATCH=$(realpath -- "$SCRATCH")
BIG=$SCRATCH/big-$MB.onnx
OUTD=$SCRATCH/out
OUT=$OUTD/out.onnx

fail() { echo "not ok - $*"; exit 1; }
if [[ ! -s $BIG ]]; then
    /usr/bin/python3 "$ROOT/bench/gen_big_model.py" "$BIG" --mb "$MB" >/dev/null || fail "cannot generate $BIG"
fi
OLD=$SCRATCH/old.onnx
/usr/bin/python3 "$ROOT/tests/corpus/make_corpus.py" --valid "$OLD" || fail "cannot write the older output"
rm -rf -- "$OUTD" && mkdir -p -- "$OUTD"

# The complete output, and how long it takes.
t0=$(date +%s%N)
"$EDGEC" compress "$BIG" -o "$OUT" -q || fail "edgec compress of the big model failed"
t1=$(date +%s%N)
NEW_SHA=$(sha256sum <"$OUT" | cut -c1-64)
OLD_SHA=$(sha256sum <"$OLD" | cut -c1-64)
RUN_MS=$(((t1 - t0) / 1000000))
[[ $NEW_SHA != "$OLD_SHA" ]] || fail "old and new outputs are the same bytes"
echo "# $BIG: $(stat -c %s "$BIG") bytes, compress takes ${RUN_MS} ms"

n_old=0 n_new=0 n_mid=0 bad=0
for ((i = 1; i <= ITER; i++)); do
    rm -f -- "$OUTD"/.out.onnx.tmp.*
    cp -- "$OLD" "$OUT"
    "$EDGEC" compress "$BIG" -o "$OUT" -q &
    pid=$!
    if ((i % 2)); then
        # odd kills: any time during the run (loading, writing, or after the rename)
        delay=$((RANDOM % (RUN_MS * 12 / 10 + 1)))
    else
        # even kills: once the temporary file exists, within the time the write may take
        while kill -0 "$pid" 2>/dev/null && ! compgen -G "$OUTD/.out.onnx.tmp.*" >/dev/null; do
            sleep 0.002
        done
        delay=$((RANDOM % (RUN_MS / 2 + 1)))
    fi
    sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    rc=$?
    tmp=$(ls -A -- "$OUTD" | grep -c '^\.out\.onnx\.tmp\.' || true)
    now=$(sha256sum <"$OUT" | cut -c1-64)
    if [[ $now == "$OLD_SHA" ]]; then
        state=old
        n_old=$((n_old + 1))
    elif [[ $now == "$NEW_SHA" ]]; then
        state=new
        n_new=$((n_new + 1))
    else
        state="CORRUPT ($(stat -c %s "$OUT") bytes)"
        bad=$((bad + 1))
    fi
    [[ $tmp -gt 0 ]] && n_mid=$((n_mid + 1))
    echo "# kill $i after ${delay} ms (exit $rc): OUT is $state, temporary files left: $tmp"
done
rm -f -- "$OUTD"/.out.onnx.tmp.*
echo "kill_loop: $ITER kills: $n_old left the old output, $n_new the complete new one, $bad anything else; $n_mid landed while the temporary file was being written"
[[ $bad -eq 0 ]] || fail "a kill -9 left a corrupt output"
[[ $n_mid -gt 0 ]] || fail "no kill landed during writing: the test proved nothing (try more iterations)"
echo "ok - kill -9 during writing leaves the old output intact"
