#!/usr/bin/env bash
# edgec CLI contract tests + the malformed-model corpus (tests/corpus).
#
# usage: tests/cli/run.sh EDGEC_BIN SCRATCHDIR
#
# Prints `ok - NAME` or `not ok - NAME: WHY` per check, then `cli: N passed, M failed`;
# exits 1 if any check failed. SCRATCHDIR is created if needed; this script only ever deletes
# its own subfolders in it (corpus/, out/, work/).
# Environment: EDGEC_TEST_TIMEOUT (seconds per edgec run, default 60),
#              EDGEC_TEST_PYTHON (default /usr/bin/python3: needs python3-onnx and numpy),
#              EDGEC_TEST_VALGRIND=1 runs every edgec command under
#                valgrind --error-exitcode=99 --leak-check=full (memcheck errors or leaks fail
#                the check; the per-run timeout is multiplied by 10),
#              EDGEC_TEST_CORPUS_EVERY=N runs only every Nth corpus case (CONTROLs always),
#                for slow modes such as valgrind.
set -u

if [[ $# -ne 2 ]]; then
    echo "usage: $0 EDGEC_BIN SCRATCHDIR" >&2
    exit 2
fi

PY=${EDGEC_TEST_PYTHON:-/usr/bin/python3}
TMO=${EDGEC_TEST_TIMEOUT:-60}
EVERY=${EDGEC_TEST_CORPUS_EVERY:-1}
VG=()
if [[ ${EDGEC_TEST_VALGRIND:-0} == 1 ]]; then
    command -v valgrind >/dev/null || { echo "$0: EDGEC_TEST_VALGRIND=1 but valgrind is not installed" >&2; exit 2; }
    VG=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect,possible
        --show-leak-kinds=definite,indirect,possible --track-fds=no)
    TMO=$((TMO * 10))
fi
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GEN=$HERE/../corpus/make_corpus.py
SAN_RE='AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|MemorySanitizer|ThreadSanitizer|runtime error'

NPASS=0
NFAIL=0
WHY=()

ok() { echo "ok - $1"; NPASS=$((NPASS + 1)); }
notok() { echo "not ok - $1: $2"; NFAIL=$((NFAIL + 1)); }
skip() { echo "ok - $1 # SKIP $2"; NPASS=$((NPASS + 1)); }
# finish NAME: report the reasons collected in WHY (none = pass) and reset them
finish() {
    if [[ ${#WHY[@]} -eq 0 ]]; then
        ok "$1"
    else
        local s="${WHY[0]}" i
        for ((i = 1; i < ${#WHY[@]}; i++)); do s+="; ${WHY[i]}"; done
        notok "$1" "$s"
    fi
    WHY=()
}
summary() {
    echo "cli: $NPASS passed, $NFAIL failed"
    [[ $NFAIL -eq 0 ]]
    exit $?
}

# ---- the binary and the scratch folders ---------------------------------------------------
if [[ $1 == */* ]]; then
    EDGEC=$(realpath -- "$1" 2>/dev/null) || EDGEC=$1
else
    EDGEC=$(type -P -- "$1") || EDGEC=$1
fi
if [[ ! -x $EDGEC || -d $EDGEC ]]; then
    notok "edgec binary" "'$1' is not an executable file"
    summary
fi
case $2 in "" | / ) echo "$0: refusing SCRATCHDIR '$2'" >&2; exit 2 ;; esac
mkdir -p -- "$2" || exit 2
SCRATCH=$(realpath -- "$2")
CORPUS=$SCRATCH/corpus
OUTS=$SCRATCH/out
W=$SCRATCH/work
rm -rf -- "$CORPUS" "$OUTS" "$W"
mkdir -p -- "$OUTS" "$W"
OUT_F=$W/stdout
ERR_F=$W/stderr

# ---- running edgec ------------------------------------------------------------------------
# run_edgec ARGS...: stdin from $STDIN_FILE (default /dev/null), cwd $RUN_CWD (default here),
# stdout -> $OUT_F, stderr -> $ERR_F, exit status -> RC (124 = timed out, >= 128 = signal).
run_edgec() {
    (
        [[ -n ${RUN_CWD:-} ]] && { cd -- "$RUN_CWD" || exit 99; }
        exec timeout -k 5 "$TMO" "${VG[@]}" "$EDGEC" "$@" <"${STDIN_FILE:-/dev/null}" >"$OUT_F" 2>"$ERR_F"
    )
    RC=$?
}

first_err_line() { head -n 1 -- "$ERR_F" | cut -c1-160 | tr -d '\r'; }

# not killed, no hang, no sanitizer report
chk_sane() {
    if [[ $RC -eq 124 ]]; then
        WHY+=("timed out after ${TMO}s")
    elif [[ $RC -ge 128 ]]; then
        WHY+=("killed by signal $((RC - 128))")
    fi
    if grep -qE "$SAN_RE" -- "$ERR_F"; then
        WHY+=("sanitizer report: $(grep -m1 -E "$SAN_RE" -- "$ERR_F" | cut -c1-160)")
    fi
    if [[ ${#VG[@]} -gt 0 ]] && grep -qE '^==[0-9]+==' -- "$ERR_F"; then
        WHY+=("valgrind: $(grep -m1 -E '^==[0-9]+== [A-Z]' -- "$ERR_F" | cut -c1-160)")
    fi
}
# chk_rc WANT...: exit status is one of WANT
chk_rc() {
    local w
    for w in "$@"; do [[ $RC -eq $w ]] && return 0; done
    local want=$1
    [[ $# -gt 1 ]] && want="one of $*"
    WHY+=("exit $RC, expected $want (stderr: $(first_err_line))")
}
# chk_msg [NAME...]: stderr starts with "edgec: " and contains one of the NAMEs (if any given)
chk_msg() {
    local head
    head=$(head -c 7 -- "$ERR_F")
    if [[ ! -s $ERR_F ]]; then
        WHY+=("nothing on stderr")
        return
    fi
    [[ $head == "edgec: " ]] || WHY+=("stderr does not start with 'edgec: ' ($(first_err_line))")
    [[ $# -eq 0 ]] && return
    local n
    for n in "$@"; do grep -qF -- "$n" "$ERR_F" && return; done
    WHY+=("stderr does not name '$1' ($(first_err_line))")
}
# chk_empty_dir DIR: nothing (no output, no temporary file) inside DIR
chk_empty_dir() {
    local left
    left=$(ls -A -- "$1" 2>/dev/null | head -n 3 | tr '\n' ' ')
    [[ -z $left ]] || WHY+=("left behind in $(basename -- "$1")/: $left")
}
# chk_same FILE SHA256: FILE still has these bytes
chk_same() {
    local now
    [[ -e $1 ]] || { WHY+=("$(basename -- "$1") is missing"); return; }
    now=$(sha256sum <"$1" 2>/dev/null | cut -c1-64)
    [[ $now == "$2" ]] || WHY+=("$(basename -- "$1") was modified")
}
sha() { sha256sum <"$1" | cut -c1-64; }
# chk_dir_listing DIR EXPECTED: `ls -A DIR` is exactly EXPECTED (space separated, sorted)
chk_listing() {
    local now
    now=$(cd -- "$1" && ls -A | LC_ALL=C sort | tr '\n' ' ')
    now=${now% }
    [[ $now == "$2" ]] || WHY+=("$(basename -- "$1")/ holds '$now', expected '$2'")
}
# py_check SCRIPT ARGS...: run a python snippet; its stdout becomes a reason if it prints anything
py_check() {
    local code=$1 msg
    shift
    msg=$("$PY" -c "$code" "$@" </dev/null 2>&1 | tail -n 1 | cut -c1-200)
    [[ -z $msg ]] || WHY+=("$msg")
}
PY_IS_ONNX='
import sys, onnx
try:
    m = onnx.load(sys.argv[1]); onnx.checker.check_model(m)
except Exception as e:
    print("output is not a valid ONNX model: %s" % (str(e).splitlines() or [type(e).__name__])[0])'
PY_SAME_MODEL='
import sys, onnx
try:
    a = onnx.load(sys.argv[1]); b = onnx.load(sys.argv[2])
    if a != b: print("output differs from the input model (not a lossless copy)")
except Exception as e:
    print("cannot compare: %s" % (str(e).splitlines() or [type(e).__name__])[0])'
PY_JSON='
import json, sys
try:
    json.load(open(sys.argv[1]))
except Exception as e:
    print("stdout is not JSON: %s" % e)'

# ---- corpus snapshot (detects a modified input or a file left beside it) ------------------
snap() {
    (
        cd -- "$CORPUS" || exit 1
        find . -printf '%p %y %s %l\n' | LC_ALL=C sort
        find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
    ) >"$1"
}
chk_corpus_unchanged() {
    snap "$W/snap.now"
    if ! cmp -s "$W/snap.base" "$W/snap.now"; then
        WHY+=("corpus folder changed: $(diff "$W/snap.base" "$W/snap.now" | grep '^[<>]' | head -n 2 | tr '\n' ' ')")
        cp -- "$W/snap.now" "$W/snap.base"
    fi
}

# ===========================================================================================
# 1. the malformed-model corpus
# ===========================================================================================
if "$PY" "$GEN" "$CORPUS" >"$W/gen.log" 2>&1 && [[ -s $CORPUS/MANIFEST.tsv ]]; then
    ok "corpus generated ($(tail -n 1 "$W/gen.log"))"
    snap "$W/snap.base"
    nth=0
    while IFS=$'\t' read -r name path expect iexpect alt _sha _desc; do
        [[ $name == \#* || -z $name ]] && continue
        nth=$((nth + 1))
        [[ $expect -ne 0 && $((nth % EVERY)) -ne 0 ]] && continue
        in=$CORPUS/$path
        names=("$(basename -- "$path")")
        if [[ $path == */* ]]; then
            names=("$path")
            [[ $alt != - ]] && IFS=, read -r -a more <<<"$alt" && names+=("${more[@]}")
            names+=("model.onnx")
        fi
        outdir=$OUTS/$name
        mkdir -p -- "$outdir"
        out=$outdir/out.onnx

        run_edgec compress "$in" -o "$out"
        chk_sane
        chk_rc "$expect"
        if [[ $expect -eq 0 ]]; then
            [[ -s $out ]] || WHY+=("no output written")
            if [[ $name == ok_limit_if_nested_* || $name == ok_limit_proto_depth_* ]]; then
                # python protobuf stops at 100 nested messages: check the copy is lossless
                # (byte-identical) and loads again in edgec instead
                [[ -s $out ]] && { cmp -s -- "$in" "$out" || WHY+=("output differs from the input"); }
                [[ -s $out ]] && { "${VG[@]}" "$EDGEC" info "$out" >/dev/null 2>&1 || WHY+=("edgec cannot read its own output"); }
            else
                [[ -s $out ]] && py_check "$PY_IS_ONNX" "$out"
            fi
        else
            chk_msg "${names[@]}"
            chk_empty_dir "$outdir"
        fi
        chk_same "$in" "$_sha"
        chk_corpus_unchanged
        finish "corpus $name: compress"

        run_edgec info "$in"
        chk_sane
        chk_rc "$iexpect"
        if [[ $iexpect -eq 0 ]]; then
            [[ -s $OUT_F ]] || WHY+=("info printed nothing")
        else
            chk_msg "${names[@]}"
        fi
        chk_corpus_unchanged
        finish "corpus $name: info"
    done <"$CORPUS/MANIFEST.tsv"
else
    notok "corpus generated" "$(tail -n 1 "$W/gen.log")"
fi

# ===========================================================================================
# 2. the command-line contract
# ===========================================================================================
M=$W/m                      # the sample model lives alone in $M
mkdir -p -- "$M"
MODEL=$M/model.onnx
if "$PY" "$GEN" --valid "$MODEL" 2>"$W/gen.err" && [[ -s $MODEL ]]; then
    ok "sample model generated"
else
    notok "sample model generated" "$(tail -n 1 "$W/gen.err")"
fi
MSHA=$(sha "$MODEL" 2>/dev/null || echo none)
BAD=$W/bad/broken.onnx      # a malformed model (truncated sample)
mkdir -p -- "$W/bad"
head -c 100 -- "$MODEL" >"$BAD" 2>/dev/null
# fresh empty folder
fresh() { rm -rf -- "$1" && mkdir -p -- "$1"; }

# --- version / help / usage errors ---
run_edgec --version
chk_sane; chk_rc 0
grep -qxE 'edgec [0-9]+\.[0-9]+\.[0-9]+' -- "$OUT_F" && [[ $(wc -l <"$OUT_F") -eq 1 ]] ||
    WHY+=("stdout is not one line 'edgec X.Y.Z': '$(head -c 80 -- "$OUT_F" | tr '\n' ' ')'")
finish "--version"

run_edgec --help
chk_sane; chk_rc 0
grep -q compress -- "$OUT_F" || WHY+=("usage on stdout does not mention 'compress'")
finish "--help prints usage on stdout"

run_edgec help compress
chk_sane; chk_rc 0
grep -qE -- '(^|[^a-z-])-o([^a-z]|$)' "$OUT_F" || WHY+=("'help compress' on stdout does not mention -o")
finish "help compress prints usage on stdout"

run_edgec frobnicate
chk_sane; chk_rc 1; chk_msg
finish "unknown subcommand: exit 1"

run_edgec --no-such-option
chk_sane; chk_rc 1; chk_msg
finish "unknown top-level option: exit 1"

D=$W/unknown_opt; fresh "$D"; cp -- "$MODEL" "$D/model.onnx"
run_edgec compress "$D/model.onnx" --no-such-option
chk_sane; chk_rc 1; chk_msg
chk_listing "$D" "model.onnx"
finish "compress with an unknown option: exit 1, nothing written"

# Enumerated pass options are checked before the model is read: a missing model must not
# be what reports the mistake.
for bad in "--prune 0.5 --prune-scope=1:7" "--prune 0.5 --prune-dead=keep" \
           "--int8=static --int8-format=36" \
           "--int8=static --calib-method bogus"; do
    D=$W/bad_enum; fresh "$D"
    # shellcheck disable=SC2086 # $bad is a word list
    run_edgec compress "$D/missing.onnx" -o "$D/out.onnx" $bad
    chk_sane; chk_rc 1
    grep -q -- "takes " "$ERR_F" || WHY+=("stderr does not say which values '$bad' takes")
    chk_listing "$D" ""
    finish "compress $bad: exit 1 before reading the model"
done

run_edgec compress
chk_sane; chk_rc 1; chk_msg
finish "compress without MODEL: exit 1"

run_edgec info
chk_sane; chk_rc 1; chk_msg
finish "info without MODEL: exit 1"

D=$W/o_noarg; fresh "$D"; cp -- "$MODEL" "$D/model.onnx"
run_edgec compress "$D/model.onnx" -o
chk_sane; chk_rc 1; chk_msg
chk_listing "$D" "model.onnx"
finish "compress MODEL -o without a value: exit 1, nothing written"

run_edgec
chk_sane; chk_rc 0 1
finish "no arguments at all: exit 0 or 1, no crash"

# --- I/O errors ---
D=$W/missing; fresh "$D"
run_edgec compress "$D/no-such-model.onnx" -o "$D/out.onnx"
chk_sane; chk_rc 4; chk_msg "no-such-model.onnx"; chk_empty_dir "$D"
finish "compress a missing input: exit 4, names the file"

run_edgec info "$D/no-such-model.onnx"
chk_sane; chk_rc 4; chk_msg "no-such-model.onnx"
finish "info a missing input: exit 4, names the file"

D=$W/indir; fresh "$D/a-folder.onnx"
run_edgec compress "$D/a-folder.onnx" -o "$D/out.onnx"
chk_sane; chk_rc 2 4; chk_msg "a-folder.onnx"; chk_listing "$D" "a-folder.onnx"
finish "compress a directory as MODEL: exit 2 or 4"

devfull_before=$(stat -c '%F %t:%T' /dev/full 2>/dev/null)
ls -A /dev | LC_ALL=C sort >"$W/dev.before"
run_edgec compress "$MODEL" -o /dev/full
chk_sane; chk_rc 4; chk_msg "/dev/full"
devfull_after=$(stat -c '%F %t:%T' /dev/full 2>/dev/null)
if [[ $devfull_after != "$devfull_before" ]]; then
    WHY+=("/dev/full was replaced ('$devfull_before' -> '$devfull_after')")
    # edgec replaced the device (e.g. temp file + rename as root): put it back
    if [[ $(id -u) -eq 0 && $devfull_before == "character special file 1:7" ]]; then
        rm -f /dev/full && mknod -m 666 /dev/full c 1 7
    fi
fi
ls -A /dev | LC_ALL=C sort >"$W/dev.after"
newdev=$(comm -13 "$W/dev.before" "$W/dev.after" | while read -r f; do [[ -f /dev/$f ]] && echo "$f"; done)
[[ -z $newdev ]] || WHY+=("new files left in /dev: ${newdev//$'\n'/ }")
chk_same "$MODEL" "$MSHA"
finish "-o /dev/full: exit 4, no crash, /dev/full untouched"

D=$W/nodir; fresh "$D"
run_edgec compress "$MODEL" -o "$D/does/not/exist/out.onnx"
chk_sane; chk_rc 4; chk_msg "out.onnx"; chk_empty_dir "$D"
finish "-o into a nonexistent folder: exit 4"

D=$W/notdir; fresh "$D"; echo data >"$D/plainfile"
run_edgec compress "$MODEL" -o "$D/plainfile/out.onnx"
chk_sane; chk_rc 4; chk_msg "out.onnx"; chk_listing "$D" "plainfile"
finish "-o under a regular file: exit 4"

D=$W/outisdir; fresh "$D/out.onnx"
run_edgec compress "$MODEL" -o "$D/out.onnx"
chk_sane; chk_rc 4; chk_msg "out.onnx"; chk_listing "$D" "out.onnx"; chk_empty_dir "$D/out.onnx"
finish "-o naming an existing directory: exit 4, directory untouched"

# not writable: as root, permissions do not apply, so run edgec as nobody
D=$W/ro; fresh "$D"; chmod 555 "$D"
if [[ $(id -u) -ne 0 ]]; then
    run_edgec compress "$MODEL" -o "$D/out.onnx"
    chk_sane; chk_rc 4; chk_msg "out.onnx"; chk_empty_dir "$D"
    finish "-o into a read-only folder: exit 4"
elif command -v setpriv >/dev/null &&
    setpriv --reuid=65534 --regid=65534 --clear-groups -- test -x "$EDGEC" -a -r "$MODEL" 2>/dev/null; then
    (exec setpriv --reuid=65534 --regid=65534 --clear-groups -- \
        timeout -k 5 "$TMO" "$EDGEC" compress "$MODEL" -o "$D/out.onnx" </dev/null >"$OUT_F" 2>"$ERR_F")
    RC=$?
    chk_sane; chk_rc 4; chk_msg "out.onnx"; chk_empty_dir "$D"
    finish "-o into a read-only folder (run as nobody): exit 4"
else
    skip "-o into a read-only folder" "running as root and cannot run edgec as nobody"
fi
chmod 755 "$D"

# --- output must never be the input ---
D=$W/same; fresh "$D"; cp -- "$MODEL" "$D/model.onnx"
run_edgec compress "$D/model.onnx" -o "$D/model.onnx"
chk_sane; chk_rc 1; chk_msg; chk_same "$D/model.onnx" "$MSHA"; chk_listing "$D" "model.onnx"
finish "-o the input itself: refused (exit 1), input unchanged"

mkdir -p -- "$D/sub"
RUN_CWD=$D run_edgec compress model.onnx -o "sub/../model.onnx"
chk_sane; chk_rc 1; chk_msg; chk_same "$D/model.onnx" "$MSHA"; chk_listing "$D" "model.onnx sub"
finish "-o the input spelled differently (sub/../model.onnx): refused, input unchanged"

D=$W/hardlink; fresh "$D"; cp -- "$MODEL" "$D/model.onnx"; ln -- "$D/model.onnx" "$D/hard.onnx"
run_edgec compress "$D/model.onnx" -o "$D/hard.onnx"
chk_sane; chk_rc 1; chk_msg; chk_same "$D/model.onnx" "$MSHA"; chk_listing "$D" "hard.onnx model.onnx"
[[ $(stat -c %h -- "$D/model.onnx") -eq 2 ]] || WHY+=("hard link was broken (output replaced the link)")
finish "-o a hard link to the input: refused, input unchanged"

D=$W/symlink; fresh "$D"; cp -- "$MODEL" "$D/model.onnx"; ln -s model.onnx "$D/link.onnx"
run_edgec compress "$D/model.onnx" -o "$D/link.onnx"
chk_sane; chk_rc 1; chk_msg; chk_same "$D/model.onnx" "$MSHA"; chk_listing "$D" "link.onnx model.onnx"
[[ -L $D/link.onnx ]] || WHY+=("the symlink was replaced")
finish "-o a symlink to the input: refused, input unchanged"

run_edgec compress "$D/link.onnx" -o "$D/model.onnx"
chk_sane; chk_rc 1; chk_msg; chk_same "$D/model.onnx" "$MSHA"; chk_listing "$D" "link.onnx model.onnx"
finish "input is a symlink, -o its target: refused, input unchanged"

D=$W/defself; fresh "$D"; cp -- "$MODEL" "$D/model.onnx"; ln -s model.onnx "$D/model.edgec.onnx"
run_edgec compress "$D/model.onnx"
chk_sane; chk_rc 1; chk_msg; chk_same "$D/model.onnx" "$MSHA"; chk_listing "$D" "model.edgec.onnx model.onnx"
[[ -L $D/model.edgec.onnx ]] || WHY+=("the symlink was replaced")
finish "default output is a symlink to the input: refused, input unchanged"

# --- an older file at OUT survives a failed run ---
D=$W/older; fresh "$D"; printf 'older output, must survive\n' >"$D/out.onnx"; OSHA=$(sha "$D/out.onnx")
BSHA=$(sha "$BAD")
run_edgec compress "$BAD" -o "$D/out.onnx"
chk_sane; chk_rc 2; chk_msg "broken.onnx"; chk_same "$D/out.onnx" "$OSHA"; chk_same "$BAD" "$BSHA"
chk_listing "$D" "out.onnx"
finish "older file at OUT survives a malformed input byte-identical (exit 2)"

run_edgec compress "$W/missing/no-such-model.onnx" -o "$D/out.onnx"
chk_sane; chk_rc 4; chk_same "$D/out.onnx" "$OSHA"; chk_listing "$D" "out.onnx"
finish "older file at OUT survives a missing input (exit 4)"

run_edgec compress "$MODEL" -o "$D/out.onnx" --no-such-option
chk_sane; chk_rc 1; chk_same "$D/out.onnx" "$OSHA"; chk_listing "$D" "out.onnx"
finish "older file at OUT survives a usage error (exit 1)"

run_edgec compress "$BAD" -o -
chk_sane; chk_rc 2; chk_msg "broken.onnx"
[[ -s $OUT_F ]] && WHY+=("$(wc -c <"$OUT_F") bytes written to stdout by a failed run")
finish "failed run with -o -: nothing on stdout"

# --- successful runs ---
D=$W/ok; fresh "$D"
run_edgec compress "$MODEL" -o "$D/out.onnx"
chk_sane; chk_rc 0; chk_same "$MODEL" "$MSHA"; chk_listing "$D" "out.onnx"; chk_listing "$M" "model.onnx"
[[ -s $D/out.onnx ]] && py_check "$PY_IS_ONNX" "$D/out.onnx" && py_check "$PY_SAME_MODEL" "$MODEL" "$D/out.onnx"
finish "compress MODEL -o OUT: exit 0, lossless, no stray files"
REF=$D/out.onnx
RSHA=$(sha "$REF" 2>/dev/null || echo none)

D=$W/ok2; fresh "$D"
run_edgec compress "$MODEL" -o "$D/out.onnx"
chk_sane; chk_rc 0; chk_same "$D/out.onnx" "$RSHA"
finish "compress is deterministic (same bytes twice)"

D=$W/overwrite; fresh "$D"; printf 'older output\n' >"$D/out.onnx"
run_edgec compress "$MODEL" -o "$D/out.onnx"
chk_sane; chk_rc 0; chk_same "$D/out.onnx" "$RSHA"; chk_listing "$D" "out.onnx"
finish "compress -o an existing OUT replaces it"

D=$W/default; fresh "$D"; cp -- "$MODEL" "$D/model.onnx"
RUN_CWD=$D run_edgec compress model.onnx
chk_sane; chk_rc 0; chk_same "$D/model.onnx" "$MSHA"; chk_listing "$D" "model.edgec.onnx model.onnx"
[[ -f $D/model.edgec.onnx ]] && chk_same "$D/model.edgec.onnx" "$RSHA"
finish "default output: model.onnx -> model.edgec.onnx (relative path)"

D=$W/default_abs; fresh "$D/in"; fresh "$D/cwd"; cp -- "$MODEL" "$D/in/model.onnx"
RUN_CWD=$D/cwd run_edgec compress "$D/in/model.onnx"
chk_sane; chk_rc 0; chk_listing "$D/in" "model.edgec.onnx model.onnx"; chk_empty_dir "$D/cwd"
finish "default output goes beside the input, not into the current folder"

D=$W/default_exists; fresh "$D"; cp -- "$MODEL" "$D/model.onnx"; printf 'stale\n' >"$D/model.edgec.onnx"
run_edgec compress "$D/model.onnx"
chk_sane; chk_rc 0; chk_same "$D/model.onnx" "$MSHA"; chk_same "$D/model.edgec.onnx" "$RSHA"
chk_listing "$D" "model.edgec.onnx model.onnx"
finish "default output already exists: overwritten, input unchanged"

D=$W/default_noext; fresh "$D"; cp -- "$MODEL" "$D/model"
run_edgec compress "$D/model"
chk_sane; chk_rc 0 1; chk_same "$D/model" "$MSHA"
if [[ $RC -eq 0 ]]; then
    [[ $(ls -A -- "$D" | wc -l) -eq 2 ]] || WHY+=("expected one new file beside 'model', got: $(ls -A -- "$D" | tr '\n' ' ')")
fi
finish "input without .onnx suffix: never overwritten"

# --- stdout and stdin ---
D=$W/pipe; fresh "$D"
(
    timeout -k 5 "$TMO" "$EDGEC" compress "$MODEL" -o - </dev/null 2>"$ERR_F" | cat >"$D/piped.onnx"
    exit "${PIPESTATUS[0]}"
)
RC=$?
chk_sane; chk_rc 0; chk_same "$D/piped.onnx" "$RSHA"; chk_listing "$D" "piped.onnx"; chk_listing "$M" "model.onnx"
finish "-o - to a pipe: same bytes as -o FILE"

D=$W/tty; fresh "$D"
"$PY" - "$EDGEC" "$MODEL" "$TMO" >"$D/result" 2>"$ERR_F" <<'EOF'
import os, pty, subprocess, sys
try:
    master, slave = pty.openpty()
except OSError as e:
    print("SKIP", "no pseudo-terminal: %s" % e)
    sys.exit(0)
try:
    p = subprocess.run([sys.argv[1], "compress", sys.argv[2], "-o", "-"], stdin=subprocess.DEVNULL,
                       stdout=slave, stderr=subprocess.PIPE, timeout=float(sys.argv[3]))
    rc = p.returncode if p.returncode >= 0 else 128 - p.returncode
    err = p.stderr
except subprocess.TimeoutExpired as e:
    rc, err = 124, e.stderr or b""
os.close(slave)
os.set_blocking(master, False)
n = 0
try:
    while True:
        chunk = os.read(master, 65536)
        if not chunk:
            break
        n += len(chunk)
except OSError:
    pass
sys.stderr.buffer.write(err)
print(rc, n)
EOF
read -r RC ttybytes <"$D/result" || { RC=999; ttybytes="?"; }
if [[ $RC == SKIP ]]; then
    skip "-o - when stdout is a terminal" "$ttybytes"
else
    chk_sane; chk_rc 1; chk_msg
    [[ $ttybytes == 0 ]] || WHY+=("$ttybytes bytes written to the terminal")
    chk_listing "$M" "model.onnx"
    finish "-o - when stdout is a terminal: refused (exit 1)"
fi

D=$W/stdin; fresh "$D"
STDIN_FILE=$MODEL run_edgec compress - -o "$D/out.onnx"
chk_sane; chk_rc 0; chk_same "$D/out.onnx" "$RSHA"; chk_listing "$D" "out.onnx"
finish "compress - (stdin from a file) -o OUT: same bytes"

fresh "$D"
(
    cat -- "$MODEL" | timeout -k 5 "$TMO" "$EDGEC" compress - -o "$D/out.onnx" >"$OUT_F" 2>"$ERR_F"
    exit "${PIPESTATUS[1]}"
)
RC=$?
chk_sane; chk_rc 0; chk_same "$D/out.onnx" "$RSHA"; chk_listing "$D" "out.onnx"
finish "compress - (stdin from a pipe) -o OUT: same bytes"

STDIN_FILE=$BAD run_edgec compress - -o "$D/out2.onnx"
chk_sane; chk_rc 2; chk_msg; chk_listing "$D" "out.onnx"
finish "compress - with malformed stdin: exit 2, nothing written"

STDIN_FILE=$MODEL run_edgec info -
chk_sane; chk_rc 0
[[ -s $OUT_F ]] || WHY+=("info printed nothing")
finish "info - (stdin): exit 0"

run_edgec info "$MODEL"
chk_sane; chk_rc 0
[[ -s $OUT_F ]] || WHY+=("info printed nothing")
grep -q Gemm -- "$OUT_F" || WHY+=("info does not mention the Gemm op")
finish "info MODEL: exit 0, lists the ops"

run_edgec info "$MODEL" --json
chk_sane; chk_rc 0
py_check "$PY_JSON" "$OUT_F"
finish "info MODEL --json: stdout parses as JSON"

chk_listing "$M" "model.onnx"; chk_same "$MODEL" "$MSHA"
finish "the sample model was never modified and nothing was written beside it"

# ===========================================================================================
# 3. non-finite weights and the input's external data files
# ===========================================================================================
PY_SAME_TENSORS='
import sys, onnx
from onnx import numpy_helper
a = onnx.load(sys.argv[1]); b = onnx.load(sys.argv[2])
ta = {t.name: t for t in a.graph.initializer}; tb = {t.name: t for t in b.graph.initializer}
for n, t in ta.items():
    u = tb.get(n)
    x = numpy_helper.to_array(t).tobytes() if u is not None else None
    if u is None or x != numpy_helper.to_array(u).tobytes():
        print("tensor %s changed: not passed through untouched" % n); break'
run_edgec help compress
chk_sane; chk_rc 0
grep -q -- --allow-nonfinite "$OUT_F" || WHY+=("'help compress' does not list --allow-nonfinite")
finish "help compress lists --allow-nonfinite"

for c in nonfinite_w_nan nonfinite_constant_tensor nonfinite_subgraph_constant; do
    [[ -f $CORPUS/$c.onnx ]] || { notok "--allow-nonfinite $c" "corpus case missing"; continue; }
    D=$W/allow_$c; fresh "$D"
    run_edgec compress "$CORPUS/$c.onnx" -o "$D/out.onnx" --allow-nonfinite
    chk_sane; chk_rc 0; chk_listing "$D" "out.onnx"
    [[ -s $D/out.onnx ]] && py_check "$PY_SAME_TENSORS" "$CORPUS/$c.onnx" "$D/out.onnx"
    # NaN != NaN defeats a message comparison: a lossless copy of a protobuf-written file
    # is byte-identical instead
    cmp -s -- "$CORPUS/$c.onnx" "$D/out.onnx" || WHY+=("output is not byte-identical to the input")
    finish "--allow-nonfinite passes $c through untouched (exit 0, same bytes)"
done

D=$W/allow_finite; fresh "$D"
run_edgec compress "$MODEL" -o "$D/out.onnx" --allow-nonfinite
chk_sane; chk_rc 0; chk_same "$D/out.onnx" "$RSHA"
finish "--allow-nonfinite on a finite model: same bytes as without it"

if [[ -d $CORPUS/ok_external ]]; then
    D=$W/extdata; fresh "$D"; cp -- "$CORPUS/ok_external/model.onnx" "$CORPUS/ok_external/weights.bin" "$D/"
    ln -- "$D/weights.bin" "$D/hard.bin"; ln -s weights.bin "$D/soft.bin"
    WSHA=$(sha "$D/weights.bin")
    for target in weights.bin hard.bin soft.bin; do
        run_edgec compress "$D/model.onnx" -o "$D/$target"
        chk_sane; chk_rc 1; chk_msg "$target"; chk_same "$D/weights.bin" "$WSHA"
        chk_listing "$D" "hard.bin model.onnx soft.bin weights.bin"
        finish "-o the input's external data file ($target): refused, data unchanged"
    done
    # the data file written beside OUT (OUT.data) must not be the input's data either
    ln -- "$D/weights.bin" "$D/out.onnx.data"
    run_edgec compress "$D/model.onnx" -o "$D/out.onnx" --external-data
    chk_sane; chk_rc 1 4; chk_msg; chk_same "$D/weights.bin" "$WSHA"
    chk_listing "$D" "hard.bin model.onnx out.onnx.data soft.bin weights.bin"
    finish "--external-data whose OUT.data is a hard link to the input's data: refused"

    # A device node inside the model's folder (the corpus can only hold symlinks to devices:
    # creating one needs root).
    D=$W/extdev; fresh "$D"; cp -- "$CORPUS/ok_external/model.onnx" "$D/"
    if mknod "$D/weights.bin" c 1 5 2>/dev/null; then
        run_edgec compress "$D/model.onnx" -o "$D/out.onnx"
        chk_sane; chk_rc 2; chk_msg "weights.bin"; chk_listing "$D" "model.onnx weights.bin"
        finish "external data that is a character device (/dev/zero's numbers) in the folder: exit 2"
    else
        skip "external data that is a character device in the folder" "mknod needs root"
    fi
fi

# ---- .edgec containers as input -------------------------------------------------------------
# info, eval and run read a container as the model it holds; compress says to unpack first.
D=$W/container; fresh "$D"
MODELS=$HERE/../../models
run_edgec compress "$MODELS/digits_mlp.onnx" --cluster 16 --huffman -q -o "$D/m.edgec"
chk_sane; chk_rc 0
finish "a container to read back"
run_edgec info "$D/m.edgec"
chk_sane; chk_rc 0
grep -q "Gather" "$OUT_F" || WHY+=("info does not list the Gather of the clustered model")
finish "info MODEL.edgec describes the model it holds"
run_edgec eval "$MODELS/digits_mlp.onnx" "$D/m.edgec" --data "$MODELS/digits-test.npz" --json
chk_sane; chk_rc 0
grep -q '"top1_agreement"' "$OUT_F" || WHY+=("no evaluation in the output")
finish "eval REF CAND.edgec runs the container's model"
run_edgec compress "$D/m.edgec" -o "$D/again.onnx"
chk_sane; chk_rc 1; chk_msg "edgec unpack"
[[ -e $D/again.onnx ]] && WHY+=("an output was written")
finish "compress of a container: exit 1, says to unpack it"

summary
