#!/usr/bin/env bash
# Throughput benchmark: the two headline pipelines of the issue on the generated ~100 MiB model,
#   edgec compress MODEL -o OUT --prune 0.5 --int8
#   edgec compress MODEL -o OUT --prune 0.5 --int8 --huffman
# against `gzip -1 -c MODEL >OUT` and `cp MODEL OUT` of the same file, measured in the same run.
# Targets (issue 10): wall time <= 1.0x gzip -1 (goal 0.25x), peak RSS <= 2.5x the model size
# (goal 1.5x), for each edgec pipeline.
#
#   bench/throughput.sh [EDGEC_BIN]        (default: build/edgec in the repo root)
#
# BENCH_RUNS rounds; in every round the four commands run once each, alternating edgec and a
# baseline (edgec, gzip, edgec+huffman, cp); nothing is dropped; medians. Wall time from bash's
# EPOCHREALTIME around the command; CPU (user + sys) and peak RSS from `/usr/bin/time -f`.
# Page cache warm, `sync` before every run, outputs beside the model in bench/.cache.
# When a target is missed and BENCH_PROFILE is not 0, one extra run of the slower pipeline is
# recorded with `perf record` and the top self-time functions go into the section, so the
# section says where the time goes.
# Rewrites the throughput section of docs/BENCHMARKS.md.
#
# Environment: BENCH_RUNS (5), BENCH_MB (100), BENCH_SEED (0), BENCH_CACHE (bench/.cache),
# BENCH_DOC (docs/BENCHMARKS.md), BENCH_PYTHON (/usr/bin/python3), BENCH_PROFILE (1),
# BENCH_STRICT=1 (exit 3 when a target is missed).
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROOT=$(bench_root)
RUNS=${BENCH_RUNS:-5}
MB=${BENCH_MB:-100}
SEED=${BENCH_SEED:-0}
CACHE=${BENCH_CACHE:-$ROOT/bench/.cache}
PY=${BENCH_PYTHON:-/usr/bin/python3}
PROFILE=${BENCH_PROFILE:-1}
TIME=/usr/bin/time
TIME_TARGET=1.0 TIME_GOAL=0.25 RSS_TARGET=2.5 RSS_GOAL=1.5

EDGEC=${1:-$ROOT/build/edgec}
case $EDGEC in /*) ;; */*) EDGEC=$PWD/$EDGEC ;; *) EDGEC=$(command -v "$EDGEC" || echo "$EDGEC") ;; esac
[ "$#" -le 1 ] || bench_die "usage: $0 [EDGEC_BIN]"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || bench_die "BENCH_RUNS must be a positive integer (got '$RUNS')"
[ -x "$EDGEC" ] || bench_die "edgec binary '$EDGEC' not found or not executable"
[ -x "$TIME" ] || bench_die "$TIME missing: apt-get install -y time"
command -v gzip >/dev/null || bench_die "gzip missing"

mkdir -p "$CACHE"
GEN=$ROOT/bench/gen_big_model.py
MODEL=$CACHE/vit_${MB}mib_seed${SEED}.onnx
if [ ! -s "$MODEL" ] || [ "$GEN" -nt "$MODEL" ]; then
    echo "bench: generating $MODEL" >&2
    "$PY" "$GEN" "$MODEL" --mb "$MB" --seed "$SEED" ||
        bench_die "model generation failed (needs $PY with python3-onnx and python3-numpy)"
fi
MODEL_BYTES=$(stat -c %s "$MODEL")

WORK=$(mktemp -d "$CACHE/throughput.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
RAW=$WORK/raw.tsv   # run tool wall_s cpu_s rss_kib out_bytes
: >"$RAW"
cat "$MODEL" >/dev/null   # warm the page cache: every tool reads from memory
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

# Tools by key: the command (OUT is substituted) and the label used in the table.
declare -A CMD LABEL
CMD[pq]="$EDGEC compress $MODEL -o OUT -q --prune 0.5 --int8"
CMD[pqh]="$EDGEC compress $MODEL -o OUT.edgec -q --prune 0.5 --int8 --huffman"
CMD[gzip]="sh -c 'exec gzip -1 -c \"\$1\" >\"\$2\"' gzip $MODEL OUT"
CMD[cp]="cp $MODEL OUT"
# shellcheck disable=SC2016  # literal backticks (markdown code)
LABEL[pq]='`edgec compress --prune 0.5 --int8`'
# shellcheck disable=SC2016
LABEL[pqh]='`edgec compress --prune 0.5 --int8 --huffman`'
LABEL[gzip]="\`gzip -1 -c\` ($(gzip --version | head -n1))"
LABEL[cp]="\`cp\` ($(cp --version | head -n1 | sed -E 's/^cp \(GNU coreutils\) /coreutils /'))"
ORDER=(pq gzip pqh cp)

run_one() {   # run_one RUN TOOL
    local run=$1 tool=$2 t0 t1 rc=0 out=$WORK/out cmd user sys rss
    cmd=${CMD[$tool]//OUT/$out}
    rm -f "$out" "$out.edgec"
    sync
    t0=${EPOCHREALTIME/./}
    eval "\"\$TIME\" -f '%U %S %M' -o \"\$WORK/time\" $cmd" >"$WORK/stdout" 2>"$WORK/stderr" || rc=$?
    t1=${EPOCHREALTIME/./}
    if [ "$rc" != 0 ]; then
        sed 's/^/  | /' "$WORK/stderr" | tail -n 20 >&2
        bench_die "$tool run $run failed (exit $rc): $cmd"
    fi
    [ -f "$out" ] || out=$out.edgec
    [ -s "$out" ] || bench_die "$tool run $run wrote no output: $cmd"
    read -r user sys rss <<<"$(tail -n1 "$WORK/time")"
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$run" "$tool" \
        "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", (b - a) / 1e6 }')" \
        "$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')" "$rss" \
        "$(stat -c %s "$out")" >>"$RAW"
    printf 'bench: run %d/%d %-5s %8.3f s %9d KiB\n' "$run" "$RUNS" "$tool" \
        "$(tail -n1 "$RAW" | cut -f3)" "$rss" >&2
}

echo "bench: throughput: $RUNS rounds of {${ORDER[*]}} on $MODEL ($MODEL_BYTES bytes)" >&2
for ((i = 1; i <= RUNS; i++)); do
    for t in "${ORDER[@]}"; do run_one "$i" "$t"; done
done
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

col() { awk -F'\t' -v t="$1" -v c="$2" '$2 == t { print $c }' "$RAW" | bench_stats; }
calc() { awk "BEGIN { printf \"$1\", ($2) }"; }
med() { cut -d' ' -f1 <<<"$1"; }
declare -A WALL CPU RSS OUTB
for t in "${ORDER[@]}"; do
    WALL[$t]=$(col "$t" 3); CPU[$t]=$(col "$t" 4); RSS[$t]=$(col "$t" 5); OUTB[$t]=$(col "$t" 6)
done
GZ=$(med "${WALL[gzip]}")

# verdict VALUE TARGET GOAL -> "met (goal met)" / "met (goal not met)" / "**NOT met**"
verdict() {
    if awk -v v="$1" -v t="$2" 'BEGIN { exit !(v <= t) }'; then
        if awk -v v="$1" -v g="$3" 'BEGIN { exit !(v <= g) }'; then echo "met; goal met"; else echo "met; goal not met"; fi
    else
        echo "**NOT met**"
    fi
}
MISSED=()
declare -A TR RR RRMAX TV RV
for t in pq pqh; do
    TR[$t]=$(calc %.2f "$(med "${WALL[$t]}") / $GZ")
    RR[$t]=$(calc %.2f "$(med "${RSS[$t]}") * 1024 / $MODEL_BYTES")
    RRMAX[$t]=$(calc %.2f "$(cut -d' ' -f3 <<<"${RSS[$t]}") * 1024 / $MODEL_BYTES")
    TV[$t]=$(verdict "${TR[$t]}" $TIME_TARGET $TIME_GOAL)
    RV[$t]=$(verdict "${RRMAX[$t]}" $RSS_TARGET $RSS_GOAL)
    [[ ${TV[$t]} == *NOT* ]] && MISSED+=("$t time")
    [[ ${RV[$t]} == *NOT* ]] && MISSED+=("$t RSS")
done

# ---- profile (only when a target is missed) --------------------------------------------------
PROF=$WORK/profile.md
: >"$PROF"
if [ "${#MISSED[@]}" -gt 0 ] && [ "$PROFILE" != 0 ] && command -v perf >/dev/null; then
    slow=pq
    awk -v a="$(med "${WALL[pqh]}")" -v b="$(med "${WALL[pq]}")" 'BEGIN { exit !(a > b) }' && slow=pqh
    cmd=${CMD[$slow]//OUT/$WORK/out}
    echo "bench: profiling $slow with perf record" >&2
    # Release builds have no frame pointers, so no call graphs: flat self-time samples. Every
    # pass defines a static run(), so edgec samples are resolved to source file:function from the
    # ELF symbol table (readelf groups local symbols under their FILE entry).
    if eval "perf record -q -F 999 -o \"\$WORK/perf.data\" -- $cmd" >/dev/null 2>"$WORK/perf.err"; then
        perf script -i "$WORK/perf.data" --show-mmap-events -F ip,sym,dso 2>/dev/null >"$WORK/perf.txt" || true
        readelf -sW "$EDGEC" >"$WORK/syms.txt"
        "$PY" - "$WORK/perf.txt" "$WORK/syms.txt" "$(basename "$EDGEC")" >"$WORK/hot.txt" <<'PYEOF' || true
import bisect, collections, re, sys
perf, syms, exe = sys.argv[1:4]
funcs, f = [], "?"
for line in open(syms):
    w = line.split()
    if len(w) >= 8 and w[3] == "FILE":
        f = w[7]
    elif len(w) >= 8 and w[3] == "FUNC" and int(w[2]) > 0 and int(w[1], 16) > 0:
        funcs.append((int(w[1], 16), int(w[2]), "%s:%s" % (f if w[4] == "LOCAL" else "", w[7])))
funcs.sort()
starts = [a for a, _, _ in funcs]
base = None
hits, total = collections.Counter(), 0
for line in open(perf):
    m = re.search(r"MMAP2? .*\[(0x[0-9a-f]+)\((0x[0-9a-f]+)\) @ (0x[0-9a-f]+)[^\]]*\]: r-xp (\S+)", line)
    if m:
        if m.group(4).endswith("/" + exe):
            base = int(m.group(1), 16) - int(m.group(3), 16)
        continue
    w = line.split()
    if len(w) < 2 or not re.fullmatch(r"[0-9a-f]+", w[0]):
        continue
    total += 1
    dso = w[-1].strip("()").rsplit("/", 1)[-1]
    name = "%s: %s" % (dso, " ".join(w[1:-1]))
    if dso == exe and base is not None:
        i = bisect.bisect_right(starts, int(w[0], 16) - base) - 1
        if i >= 0 and int(w[0], 16) - base < funcs[i][0] + funcs[i][1]:
            name = funcs[i][2].lstrip(":")
    hits[name] += 1
for name, n in hits.most_common(12):
    if n * 100 < total:
        break
    print("%6.2f%%  %s" % (100.0 * n / total, name))
print("(%d samples)" % total)
PYEOF
        {
            echo "### Where the time goes: \`perf record\` of one ${LABEL[$slow]} run"
            echo
            echo "$(perf --version 2>/dev/null), 999 Hz, self time per function (≥ 1 % of samples); edgec's"
            echo "functions as source file:function, others as library: symbol (\`msort_with_tmp\` is glibc's"
            echo "\`qsort\`, which calls the comparator it is given for every comparison):"
            echo
            echo '```'
            cat "$WORK/hot.txt"
            echo '```'
            if grep -q 'prune\.c:' "$WORK/hot.txt"; then
                echo
                echo "Reading: \`prune.c:run\` self time is mostly the magnitude selection inlined into it"
                echo "(\`select_key\`: a histogram of the float bit patterns, one digit per pass, three or four"
                echo "passes over the weights for the global threshold and again per layer for the masks; no"
                echo "copy of the weights, no sort)."
            fi
        } >"$PROF"
    else
        echo "bench: warning: perf record failed: $(tail -n1 "$WORK/perf.err")" >&2
        # shellcheck disable=SC2016
        printf 'Profiling with `perf record` failed here: %s\n' "$(tail -n1 "$WORK/perf.err")" >"$PROF"
    fi
fi

SECTION=$WORK/section.md
{
    echo "## Throughput: \`--prune 0.5 --int8\` (+ \`--huffman\`) vs \`gzip -1\` and \`cp\`"
    echo
    echo "The same ~100 MiB input for every tool: \`bench/gen_big_model.py --mb $MB --seed $SEED\`,"
    echo "$MODEL_BYTES bytes ($(calc %.1f "$MODEL_BYTES / 1048576") MiB). $RUNS round(s), each running the four commands once in the"
    echo "order edgec, gzip, edgec + huffman, cp (edgec alternates with a baseline); nothing dropped;"
    echo "medians. Warm page cache, \`sync\` before each run. Wall = whole process (read, passes,"
    echo "write); CPU = user + sys; peak RSS from \`/usr/bin/time -f %M\`. Load average (1/5/15 min)"
    echo "$LOAD0 before, $LOAD1 after: on a shared machine wall time exceeds CPU time by the wait for a core."
    echo
    echo "Measured $(bench_env_md "$EDGEC")"
    echo
    echo "| command | wall (median) | wall (min – max) | CPU (median) | peak RSS (median) | output |"
    echo "|---|---:|---:|---:|---:|---:|"
    for t in pq pqh gzip cp; do
        read -r w wmin wmax <<<"${WALL[$t]}"
        printf '| %s | %.3f s | %.3f – %.3f s | %.2f s | %.1f MiB | %s B (%.3fx) |\n' \
            "${LABEL[$t]}" "$w" "$wmin" "$wmax" "$(med "${CPU[$t]}")" \
            "$(calc %.4f "$(med "${RSS[$t]}") / 1024")" "$(med "${OUTB[$t]}" | cut -d. -f1)" \
            "$(calc %.4f "$(med "${OUTB[$t]}") / $MODEL_BYTES")"
    done
    echo
    echo "Targets: wall ≤ ${TIME_TARGET}× \`gzip -1\` (goal ${TIME_GOAL}×); peak RSS ≤ ${RSS_TARGET}× the model in every run (goal ${RSS_GOAL}×)."
    echo
    for t in pq pqh; do
        echo "- ${LABEL[$t]}: wall / gzip -1 = **${TR[$t]}×** (${TV[$t]}); CPU / gzip -1 CPU = $(calc %.2f "$(med "${CPU[$t]}") / $(med "${CPU[gzip]}")")×;" \
             "peak RSS / model = **${RR[$t]}×** median, ${RRMAX[$t]}× worst run (${RV[$t]})"
    done
    echo
    echo "Where the memory goes: the weights are held once, in the model's arena (the loader gives"
    echo "back the file's pages as the parser copies each tensor out of them); pruning adds its masks"
    echo "(1 byte per weight) and zeroes in place; int8 frees each float weight as its int8 version"
    echo "replaces it; the MAC counts that pruning logs see each activation only while it is live."
    echo "\`tests/perf/rss.sh\` (ctest \`perf_rss\`) holds these pipelines to 1.8× on a 20 MiB model."
    echo
    if [ -s "$PROF" ]; then cat "$PROF"; echo; fi
    echo "<details><summary>All runs, in the order they ran</summary>"
    echo
    echo "| round | tool | wall s | CPU s | peak RSS KiB | output bytes |"
    echo "|---:|---|---:|---:|---:|---:|"
    awk -F'\t' '{ printf "| %s | %s | %.4f | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6 }' "$RAW"
    echo
    echo "</details>"
} >"$SECTION"

sed -n '/^| command/,/^- .*huffman/p' "$SECTION"
bench_update_doc throughput "$SECTION"
if [ "${#MISSED[@]}" -gt 0 ]; then
    echo "bench: warning: targets missed: ${MISSED[*]}" >&2
    [ "${BENCH_STRICT:-0}" = 1 ] && exit 3
fi
exit 0
