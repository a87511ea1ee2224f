#!/usr/bin/env bash
# A CI step that compresses a model before each release and fails the job when accuracy
# drops too far. It leaves the report for the pull request (report.md) and for tooling
# (report.json) in OUTDIR, whether the gate passed or not.
#
#   docs/examples/ci.sh MODEL EVAL_DATA OUTDIR [MAX_DROP] [-- extra compress options]
#
# Exit status: 0 gate passed (OUTDIR/model.edgec.onnx written), 3 gate failed (no model
# written), anything else an error (bad input, I/O).
set -u
EDGEC=${EDGEC:-edgec}
if [[ $# -lt 3 ]]; then
    echo "usage: $0 MODEL EVAL_DATA OUTDIR [MAX_DROP] [-- compress options]" >&2
    exit 2
fi
model=$1 data=$2 outdir=$3
shift 3
max_drop=1.0
if [[ $# -gt 0 && $1 != -- ]]; then max_drop=$1; shift; fi
[[ $# -gt 0 && $1 == -- ]] && shift
passes=("$@")
[[ ${#passes[@]} -eq 0 ]] && passes=(--prune 0.5)
mkdir -p -- "$outdir" || exit 4

# The Markdown report is for humans (a PR comment), the JSON one for scripts; the gate
# is checked on the result in memory, so a failed gate leaves no model behind.
"$EDGEC" compress "$model" -o "$outdir/model.edgec.onnx" "${passes[@]}" \
    --eval "$data" --max-drop "$max_drop" \
    --report "$outdir/report.json" --report "$outdir/report.md" -q
rc=$?
case $rc in
0) echo "ci: gate passed (--max-drop $max_drop); report in $outdir/report.md" ;;
3) echo "ci: quality gate failed (--max-drop $max_drop); see $outdir/report.md" >&2 ;;
*) echo "ci: edgec failed with exit $rc" >&2 ;;
esac
exit $rc
