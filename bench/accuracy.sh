#!/usr/bin/env bash
# Accuracy vs size benchmark: for the digits sample models, top-1 accuracy on the held-out test
# set (`edgec eval REF CAND --data models/digits-test*.npz`) against bytes, for every pipeline of
# bench/digits_lib.sh plus sweeps of --prune (with --calib), --cluster, --int8 and --int4.
# Calibration data: models/digits-calib*.npz (disjoint from the test set).
#
#   bench/accuracy.sh [EDGEC_BIN]        (default: build/edgec in the repo root)
#
# Writes a table and an SVG scatter chart (bytes on a log x-axis vs top-1) into the accuracy
# section of docs/BENCHMARKS.md, and the same chart to docs/accuracy_vs_size.svg. Everything
# here is deterministic (seeded passes, exact interpreter), so each point is measured once.
#
# Environment: BENCH_CACHE (bench/.cache), BENCH_DOC (docs/BENCHMARKS.md), BENCH_SVG
# (docs/accuracy_vs_size.svg), BENCH_PYTHON (/usr/bin/python3, draws the chart).
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=digits_lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/digits_lib.sh"

ROOT=$(bench_root)
CACHE=${BENCH_CACHE:-$ROOT/bench/.cache}
SVG=${BENCH_SVG:-$ROOT/docs/accuracy_vs_size.svg}
PY=${BENCH_PYTHON:-/usr/bin/python3}
EDGEC=${1:-$ROOT/build/edgec}
case $EDGEC in /*) ;; */*) EDGEC=$PWD/$EDGEC ;; *) EDGEC=$(command -v "$EDGEC" || echo "$EDGEC") ;; esac
[ "$#" -le 1 ] || bench_die "usage: $0 [EDGEC_BIN]"
[ -x "$EDGEC" ] || bench_die "edgec binary '$EDGEC' not found or not executable"

# The issue's pipelines first, then the sweeps; a sweep point equal to an earlier row is skipped.
ROWS=("${DIGITS_PIPELINES[@]}")
for r in 0.5 0.7 0.8 0.9; do ROWS+=("prune$r|--prune $r --calib @CALIB@|mlp cnn"); done
for k in 4 8 16 32; do ROWS+=("cluster$k|--cluster $k|mlp cnn"); done

mkdir -p "$CACHE"
WORK=$(mktemp -d "$CACHE/accuracy.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
POINTS=$WORK/points.tsv   # model key flags onnx_bytes edgec_bytes top1 ref_top1 cosine samples
: >"$POINTS"

jnum() {   # jnum JSON PATH: a number from `edgec eval --json` (PATH like candidate.top1)
    "$PY" -c 'import json, sys
v = json.loads(sys.argv[1])
for k in sys.argv[2].split("."):
    v = v[k]
print("nan" if v is None else repr(float(v)))' "$1" "$2"
}

declare -A SEEN
for mk in "${DIGITS_MODELS[@]}"; do
    model=$(digits_model "$mk")
    test=$(digits_test "$mk")
    for row in "${ROWS[@]}"; do
        digits_applies "$row" "$mk" || continue
        key=${row%%|*}
        flags=$(digits_flags "$row" "$mk")
        [ -z "${SEEN[$mk $flags]:-}" ] || continue
        SEEN[$mk $flags]=1
        read -ra fa <<<"$flags"
        base=$WORK/$mk.$key
        digits_compress "$EDGEC" "$model" "$base" "${fa[@]}" ||
            bench_die "$mk $key failed: $(tail -n3 "$base.err")"
        json=$("$EDGEC" eval "$model" "$base.onnx" --data "$test" --json) ||
            bench_die "edgec eval failed on $mk $key"
        shown=${flags//$ROOT\//}
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$mk" "$key" "${shown:-(none)}" \
            "$(stat -c %s "$base.onnx")" "$(stat -c %s "$base.edgec")" \
            "$(jnum "$json" candidate.top1)" "$(jnum "$json" reference.top1)" \
            "$(jnum "$json" fidelity.cosine)" "$(jnum "$json" samples | cut -d. -f1)" >>"$POINTS"
        printf 'bench: accuracy %-4s %-20s %s\n' "$mk" "$key" "$(tail -n1 "$POINTS" | cut -f4-8)" >&2
    done
done

# The chart: one colour per model, filled = .edgec container, hollow = edgec ONNX, square =
# the float model. Drawn by python so that the axis ticks and labels are computed, not typed.
mkdir -p "$(dirname "$SVG")"
"$PY" - "$POINTS" "$SVG" <<'PYEOF'
import csv, math, sys
rows = list(csv.reader(open(sys.argv[1]), delimiter="\t"))
W, H, L, R, T, B = 760, 440, 64, 170, 30, 50
xs = [float(r[i]) for r in rows for i in (3, 4)]
ys = [float(r[j]) for r in rows for j in (5, 6)]
x0, x1 = 10 ** math.floor(math.log10(min(xs))), 10 ** math.ceil(math.log10(max(xs)))
y0, y1 = 5 * math.floor(min(ys) / 5 - 0.01), 100.0
px = lambda b: L + (math.log10(b) - math.log10(x0)) / (math.log10(x1) - math.log10(x0)) * (W - L - R)
py = lambda a: T + (y1 - a) / (y1 - y0) * (H - T - B)
col = {"mlp": "#1f77b4", "cnn": "#d62728"}
o = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" '
     'font-family="sans-serif" font-size="11">' % (W, H, W, H),
     '<rect width="100%" height="100%" fill="white"/>',
     '<text x="%d" y="18" font-size="13">digits models: top-1 on the test set vs bytes on disk</text>' % L]
d = x0
while d <= x1:
    for m in range(1, 10):
        b = d * m
        if b > x1:
            break
        x = px(b)
        o.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s"/>' % (x, T, x, H - B, "#ccc" if m == 1 else "#eee"))
        if m in (1, 2, 5):
            lab = ("%g kB" % (b / 1000)) if b >= 1000 else "%d B" % b
            o.append('<text x="%.1f" y="%d" text-anchor="middle">%s</text>' % (x, H - B + 14, lab))
    d *= 10
a = y0
while a <= y1 + 1e-9:
    y = py(a)
    o.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ccc"/>' % (L, y, W - R, y))
    o.append('<text x="%d" y="%.1f" text-anchor="end">%g %%</text>' % (L - 4, y + 4, a))
    a += 5
o.append('<text x="%d" y="%d" text-anchor="middle">bytes (log scale)</text>' % ((L + W - R) // 2, H - 12))
o.append('<text transform="translate(14 %d) rotate(-90)" text-anchor="middle">top-1 accuracy</text>' % ((T + H - B) // 2))
for r in rows:
    mk, key, flags, ob, eb, top1, ref = r[0], r[1], r[2], float(r[3]), float(r[4]), float(r[5]), float(r[6])
    c = col.get(mk, "#555")
    tip = "%s %s: %.2f %% top-1" % (mk, flags, top1)
    o.append('<circle cx="%.1f" cy="%.1f" r="3.5" fill="none" stroke="%s"><title>%s, edgec ONNX %d B</title></circle>' % (px(ob), py(top1), c, tip, ob))
    o.append('<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"><title>%s, .edgec %d B</title></circle>' % (px(eb), py(top1), c, tip, eb))
    o.append('<text x="%.1f" y="%.1f" fill="%s" font-size="9">%s</text>' % (px(eb) + 5, py(top1) - 4, c, key))
    if key == "none":
        o.append('<rect x="%.1f" y="%.1f" width="8" height="8" fill="%s"><title>%s float model %d B: %.2f %%</title></rect>'
                 % (px(ob) - 4, py(ref) - 4, c, mk, ob, ref))
lx = W - R + 14
for i, (t, k) in enumerate([("MLP", "mlp"), ("CNN", "cnn")]):
    o.append('<circle cx="%d" cy="%d" r="4" fill="%s"/><text x="%d" y="%d">%s</text>' % (lx, T + 10 + 16 * i, col[k], lx + 10, T + 14 + 16 * i, t))
o.append('<rect x="%d" y="%d" width="8" height="8" fill="#555"/><text x="%d" y="%d">float model</text>' % (lx - 4, T + 42, lx + 10, T + 50))
o.append('<circle cx="%d" cy="%d" r="4" fill="#555"/><text x="%d" y="%d">.edgec container</text>' % (lx, T + 62, lx + 10, T + 66))
o.append('<circle cx="%d" cy="%d" r="4" fill="none" stroke="#555"/><text x="%d" y="%d">edgec ONNX</text>' % (lx, T + 78, lx + 10, T + 82))
o.append("</svg>")
open(sys.argv[2], "w").write("\n".join(o) + "\n")
PYEOF

SECTION=$WORK/section.md
REL=$(realpath --relative-to="$(dirname "${BENCH_DOC:-$ROOT/docs/BENCHMARKS.md}")" "$SVG")
{
    echo "## Accuracy vs size: digits models"
    echo
    echo "Top-1 on the held-out test sets (\`models/digits-test.npz\`, $(cut -f9 "$POINTS" | head -n1) samples, for the MLP;"
    echo "\`models/digits-test-cnn.npz\`, $(cut -f9 "$POINTS" | tail -n1) samples, for the CNN) of each compressed model, by \`edgec eval REF CAND"
    echo "--data TEST --json\`; calibration with \`models/digits-calib*.npz\` (disjoint from the test"
    echo "sets). No retraining anywhere. Bytes: the edgec ONNX (\`-o X.onnx\`) and the \`.edgec\`"
    echo "container (same flags + \`--huffman\`; \`edgec unpack\` gives back that exact ONNX, so the"
    echo "accuracy is the same). Drop = float top-1 − compressed top-1, in points; cosine = output"
    echo "cosine similarity to the float model over the test set. Deterministic: measured once."
    echo
    echo "Measured $(bench_env_md "$EDGEC")"
    echo
    echo "| model | flags | edgec ONNX bytes | .edgec bytes | float / .edgec | top-1 | drop | cosine |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|"
    awk -F'\t' '$2 == "none" { fb[$1] = $4 }
        { printf "| %s | `%s` | %d | %d | %.1f× | %.2f %% | %+.2f | %.5f |\n",
              $1, $3, $4, $5, fb[$1] / $5, $6, $7 - $6, $8 }' "$POINTS"
    echo
    echo "Chart ([$(basename "$SVG")]($REL)): x = bytes on a log scale, y = top-1; blue = MLP,"
    echo "red = CNN; filled dots = \`.edgec\` container, hollow = edgec ONNX, squares = the float model."
    echo
    cat "$SVG"
} >"$SECTION"

awk -F'\t' '{ printf "%-4s %-22s onnx %7d  edgec %7d  top1 %6.2f (float %6.2f)  cos %.5f\n", $1, $2, $4, $5, $6, $7, $8 }' "$POINTS"
bench_update_doc accuracy "$SECTION"
