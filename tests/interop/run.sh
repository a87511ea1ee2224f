#!/usr/bin/env bash
# Interop test: edgec's lossless round trip checked against ONNX Runtime and onnx.checker.
#
#   tests/interop/run.sh EDGEC_BIN SCRATCHDIR
#
# 1. installs onnxruntime-node into tests/interop/node_modules if missing;
# 2. generates the test models into SCRATCHDIR/models (make_test_models.py) unless
#    they are there and were made by the current version of that script;
# 3. for every sample model in models/ and every generated model runs
#    `EDGEC_BIN compress IN -o OUT` (no pass options = lossless) and checks:
#      compress    exit 0 and OUT written
#      intact      IN (and its external data) unchanged
#      ort-exact   ONNX Runtime outputs of OUT bit-identical to IN's (ort_compare.js --exact)
#      checker     onnx.checker accepts OUT (check_onnx.py; SKIP counts as a pass)
#      bytes       OUT byte-identical to IN (cmp) -- all our models are protobuf-written
#      extdata     (external-data model, instead of bytes) OUT's external data files are
#                  relative, inside OUT's folder and present there
#    and `EDGEC_BIN info IN` (exit 0), `EDGEC_BIN info --json IN` (exit 0, valid JSON).
# Prints `ok - NAME` / `not ok - NAME: reason` per check, `# ...` comments, and a last
# line `interop: N passed, M failed`; exits 1 if any check failed.
#
# Environment: EDGEC_PYTHON (default /usr/bin/python3: needs onnx, numpy, torch,
# torchvision), NODE (default node), NPM (default npm), INTEROP_TIMEOUT (seconds per
# edgec call, default 300), INTEROP_ONLY (a grep -E pattern to select model names).

set -u

if [ $# -ne 2 ]; then
  echo "usage: $0 EDGEC_BIN SCRATCHDIR" >&2
  exit 2
fi

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
EDGEC=$1
case $EDGEC in /*) ;; */*) EDGEC=$(cd "$(dirname "$EDGEC")" && pwd)/$(basename "$EDGEC") ;; esac
mkdir -p "$2" || exit 2
SCRATCH=$(cd "$2" && pwd)
PY=${EDGEC_PYTHON:-/usr/bin/python3}
NODE=${NODE:-node}
NPM=${NPM:-npm}
TMO=${INTEROP_TIMEOUT:-300}
ONLY=${INTEROP_ONLY:-}

GEN=$SCRATCH/models
OUTDIR=$SCRATCH/out
LOGDIR=$SCRATCH/logs

passed=0
failed=0
ok() { echo "ok - $1"; passed=$((passed + 1)); }
notok() { echo "not ok - $1: $2"; failed=$((failed + 1)); }
finish() {
  echo "interop: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit $?
}
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
# last non-empty line of a file, trimmed, for reasons
lastline() { local l; l=$(grep -v "^[[:space:]]*$" "$1" 2>/dev/null | tail -n 1 | cut -c1-300); echo "${l:-(no message on stderr)}"; }

t_all=$(now)

. "$HERE/common.sh"

# ------------------------------------------------------------ model list ---
# entries: NAME|INPUT_PATH|ORT_INPUT_ARGS|KIND  (KIND: plain or external)
entries=()
for f in "$ROOT"/models/*.onnx; do
  [ -f "$f" ] || continue
  b=$(basename "$f" .onnx)
  args="--seed 0"
  case $b in
    digits_cnn*) [ -f "$ROOT/models/digits-test-cnn.npz" ] && args="--inputs $ROOT/models/digits-test-cnn.npz" ;;
    digits_*) [ -f "$ROOT/models/digits-test.npz" ] && args="--inputs $ROOT/models/digits-test.npz" ;;
  esac
  entries+=("models/$b|$f|$args|plain")
done
for f in "$GEN"/*.onnx; do
  [ -f "$f" ] || continue
  b=$(basename "$f" .onnx)
  case $b in
    if_* | loop_*) args="--seed 0-7" ;; # seeds 0-7 reach every branch / trip count 0..3
    *) args="--seed 0" ;;
  esac
  entries+=("gen/$b|$f|$args|plain")
done
for f in "$GEN"/*/*.onnx; do
  [ -f "$f" ] || continue
  d=$(basename "$(dirname "$f")")
  b=$(basename "$f" .onnx)
  entries+=("gen/$d/$b|$f|--seed 0|external")
done
if [ ${#entries[@]} -eq 0 ]; then notok "models" "no models found in $ROOT/models or $GEN"; fi

# -------------------------------------------------------------- checks ---
rm -rf "$OUTDIR"
mkdir -p "$OUTDIR"
t_edgec=0
t_ort=0
add_time() { awk -v a="$1" -v b="$2" -v c="$(now)" 'BEGIN { printf "%.3f", a + (c - b) }'; }

# hashes of a model, and for external-data models of the files beside it
fingerprint() {
  if [ "$2" = external ]; then
    (cd "$(dirname "$1")" && find . -maxdepth 1 -type f ! -name '.*' -print0 | sort -z | xargs -0 sha256sum)
  else
    sha256sum "$1"
  fi
}

for e in "${entries[@]}"; do
  IFS='|' read -r name in args kind <<<"$e"
  if [ -n "$ONLY" ] && ! grep -qE "$ONLY" <<<"$name"; then continue; fi
  log=$LOGDIR/${name//\//_}
  if [ "$kind" = external ]; then
    out=$OUTDIR/${name#gen/}.onnx
  else
    out=$OUTDIR/${name//\//_}.onnx
  fi
  mkdir -p "$(dirname "$out")"
  before=$(fingerprint "$in" "$kind")

  # compress (lossless no-op)
  t=$(now)
  timeout "$TMO" "$EDGEC" compress "$in" -o "$out" >"$log.compress.out" 2>"$log.compress.err"
  rc=$?
  t_edgec=$(add_time "$t_edgec" "$t")
  compressed=0
  if [ $rc -ne 0 ]; then
    notok "compress $name" "exit $rc: $(lastline "$log.compress.err")"
  elif [ ! -s "$out" ]; then
    notok "compress $name" "exit 0 but $out was not written"
  else
    ok "compress $name"
    compressed=1
  fi

  if [ "$before" = "$(fingerprint "$in" "$kind")" ]; then ok "intact $name"; else notok "intact $name" "input model or files beside it changed"; fi

  if [ $compressed -eq 1 ]; then
    t=$(now)
    # shellcheck disable=SC2086 # args is a word list
    v=$("$NODE" "$HERE/ort_compare.js" "$in" "$out" --exact $args 2>&1)
    rc=$?
    t_ort=$(add_time "$t_ort" "$t")
    if [ $rc -eq 0 ]; then ok "ort-exact $name"; else notok "ort-exact $name" "$(tail -n 1 <<<"$v" | cut -c1-400)"; fi

    v=$("$PY" "$HERE/check_onnx.py" "$out" 2>&1)
    rc=$?
    case $v in
      SKIP*) ok "checker $name # SKIP ${v#*: }" ;;
      *) if [ $rc -eq 0 ]; then ok "checker $name"; else notok "checker $name" "$(tail -n 1 <<<"$v" | cut -c1-400)"; fi ;;
    esac

    if [ "$kind" = external ]; then
      v=$("$PY" - "$out" <<'EOF' 2>&1
import os, sys
import onnx
from onnx.external_data_helper import _get_all_tensors, uses_external_data
out = sys.argv[1]
base = os.path.dirname(os.path.abspath(out))
m = onnx.load(out, load_external_data=False)
locs = set()
for t in _get_all_tensors(m):
    if uses_external_data(t):
        info = {e.key: e.value for e in t.external_data}
        loc = info.get("location", "")
        if not loc or os.path.isabs(loc) or ".." in loc.replace("\\", "/").split("/"):
            sys.exit("tensor %s: external data location %r is not a plain relative path" % (t.name, loc))
        p = os.path.realpath(os.path.join(base, loc))
        if os.path.dirname(p) != os.path.realpath(base) and not p.startswith(os.path.realpath(base) + os.sep):
            sys.exit("tensor %s: %r resolves outside %s" % (t.name, loc, base))
        if not os.path.isfile(p):
            sys.exit("tensor %s: external data file %s is missing" % (t.name, p))
        end = int(info.get("offset", 0)) + int(info.get("length", 0))
        if end > os.path.getsize(p):
            sys.exit("tensor %s: offset+length %d beyond the end of %s" % (t.name, end, p))
        locs.add(loc)
print("external data beside OUT: %s" % (", ".join(sorted(locs)) or "none (all inline)"))
EOF
      )
      rc=$?
      if [ $rc -eq 0 ]; then ok "extdata $name # $v"; else notok "extdata $name" "$(tail -n 1 <<<"$v")"; fi
    else
      if cmp -s "$in" "$out"; then
        ok "bytes $name"
      else
        notok "bytes $name" "OUT differs from IN ($(stat -c %s "$in") vs $(stat -c %s "$out") bytes; $(cmp "$in" "$out" 2>&1 | head -n 1 | sed 's/.*differ: //'))"
      fi
    fi
  fi

  # info, text and JSON
  t=$(now)
  timeout "$TMO" "$EDGEC" info "$in" >"$log.info.out" 2>"$log.info.err"
  rc=$?
  if [ $rc -eq 0 ]; then ok "info $name"; else notok "info $name" "exit $rc: $(lastline "$log.info.err")"; fi
  timeout "$TMO" "$EDGEC" info --json "$in" >"$log.info.json" 2>"$log.info-json.err"
  rc=$?
  t_edgec=$(add_time "$t_edgec" "$t")
  if [ $rc -ne 0 ]; then
    notok "info-json $name" "exit $rc: $(lastline "$log.info-json.err")"
  elif v=$("$PY" -c 'import json, sys; json.load(open(sys.argv[1]))' "$log.info.json" 2>&1); then
    ok "info-json $name"
  else
    notok "info-json $name" "stdout is not valid JSON: $(tail -n 1 <<<"$v")"
  fi
done

# ------------------------------------------------- external data on demand ---
# --external-data moves every tensor of 1 kB or more to OUT.data at 4096-aligned offsets;
# --no-external-data brings an external-data model back inline. Both must run in ONNX
# Runtime with bit-identical outputs.
xdir=$OUTDIR/forced-external
mkdir -p "$xdir"
for e in "models/digits_mlp|$ROOT/models/digits_mlp.onnx|--inputs $ROOT/models/digits-test.npz" \
         "gen/resnet18|$GEN/resnet18.onnx|--seed 0"; do
  IFS='|' read -r name in args <<<"$e"
  [ -f "$in" ] || continue
  if [ -n "$ONLY" ] && ! grep -qE "$ONLY" <<<"$name"; then continue; fi
  out=$xdir/$(basename "$in")
  if ! timeout "$TMO" "$EDGEC" compress "$in" -o "$out" --external-data -q 2>"$xdir/err"; then
    notok "external-data $name" "$(lastline "$xdir/err")"
    continue
  fi
  # shellcheck disable=SC2086 # args is a word list
  if v=$("$NODE" "$HERE/ort_compare.js" "$in" "$out" --exact $args 2>&1); then
    ok "external-data ort-exact $name"
  else
    notok "external-data ort-exact $name" "$(tail -n 1 <<<"$v")"
  fi
  v=$("$PY" - "$out" <<'EOF2' 2>&1
import os, sys
import onnx
from onnx.external_data_helper import _get_all_tensors, uses_external_data
out = sys.argv[1]
m = onnx.load(out, load_external_data=False)
n = 0
for t in _get_all_tensors(m):
    if uses_external_data(t):
        info = {e.key: e.value for e in t.external_data}
        if info["location"] != os.path.basename(out) + ".data":
            sys.exit("tensor %s: location %r" % (t.name, info["location"]))
        if int(info["offset"]) % 4096:
            sys.exit("tensor %s: offset %s is not 4096-aligned" % (t.name, info["offset"]))
        n += 1
    elif len(t.raw_data) >= 1024:
        sys.exit("tensor %s: %d bytes stayed inline" % (t.name, len(t.raw_data)))
if n == 0:
    sys.exit("no tensor went to external data")
print("%d tensors external, offsets 4096-aligned" % n)
EOF2
  )
  if [ $? -eq 0 ]; then ok "external-data layout $name # $v"; else notok "external-data layout $name" "$(tail -n 1 <<<"$v")"; fi
  back=$xdir/inline-$(basename "$in")
  if timeout "$TMO" "$EDGEC" compress "$out" -o "$back" --no-external-data -q 2>"$xdir/err" &&
     [ ! -e "$back.data" ] && v=$("$NODE" "$HERE/ort_compare.js" "$in" "$back" --exact $args 2>&1); then
    ok "external-data back inline $name"
  else
    notok "external-data back inline $name" "$(lastline "$xdir/err") $(tail -n 1 <<<"${v:-}")"
  fi
done

echo "# timing: total $(elapsed "$t_all")s, onnxruntime compares ${t_ort}s, edgec calls ${t_edgec}s; logs in $LOGDIR"
finish
