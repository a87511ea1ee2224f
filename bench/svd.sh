#!/usr/bin/env bash
# Low-rank factorization benchmark (issue 6): `edgec compress --svd rank:256` of a model holding
# one 4096x4096 float32 MatMul weight, against the target of <= 3 s single-threaded.
#
#   bench/svd.sh [EDGEC_BIN]        (default: build/edgec in the repo root)
#
# The weight is built with a known SVD, W = U diag(s) V^T (U, V Haar-random orthogonal from
# numpy's QR of a seeded Gaussian; s_i = exp(-i/200) + 0.05, a decaying head over a flat floor,
# the hard case for a randomized SVD), so the optimal rank-256 error (Eckart-Young) is known
# exactly and the factors edgec writes are checked against it. Times: BENCH_RUNS runs of the
# whole `edgec compress` process (read 64 MiB, factorize, write; wall and user+sys CPU time from
# /usr/bin/time), and as many of the same command without --svd (read + write only) to show the
# factorization's own share; medians. The target is judged on CPU time: the process is
# single-threaded, and on a shared machine its wall time includes waiting for a core.
# edgec's factorization runs on one thread (its GEMMs are called with threads = 1).
# Rewrites the svd section of docs/BENCHMARKS.md.
#
# Environment: BENCH_RUNS (5), BENCH_SEED (0), BENCH_CACHE (bench/.cache), BENCH_DOC
# (docs/BENCHMARKS.md), BENCH_PYTHON (/usr/bin/python3), BENCH_STRICT=1 (exit 3 when the
# 3 s target or the 1.01x error bound is missed).
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROOT=$(bench_root)
RUNS=${BENCH_RUNS:-5}
SEED=${BENCH_SEED:-0}
CACHE=${BENCH_CACHE:-$ROOT/bench/.cache}
PY=${BENCH_PYTHON:-/usr/bin/python3}
N=4096
RANK=256
TARGET_S=3
ERR_BOUND=1.01

EDGEC=${1:-$ROOT/build/edgec}
case $EDGEC in /*) ;; */*) EDGEC=$PWD/$EDGEC ;; *) EDGEC=$(command -v "$EDGEC" || echo "$EDGEC") ;; esac
[ "$#" -le 1 ] || bench_die "usage: $0 [EDGEC_BIN]"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || bench_die "BENCH_RUNS must be a positive integer (got '$RUNS')"
[ -x "$EDGEC" ] || bench_die "edgec binary '$EDGEC' not found or not executable"

mkdir -p "$CACHE"
MODEL=$CACHE/svd_${N}_seed${SEED}.onnx
if [ ! -s "$MODEL" ] || [ "${BASH_SOURCE[0]}" -nt "$MODEL" ]; then
    echo "bench: generating $MODEL (two ${N}x${N} QRs in numpy)" >&2
    "$PY" - "$MODEL" "$N" "$SEED" <<'EOF' || bench_die "model generation failed (needs $PY with onnx and numpy)"
import sys
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
path, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(seed)
u, _ = np.linalg.qr(rng.standard_normal((n, n)))
v, _ = np.linalg.qr(rng.standard_normal((n, n)))
s = np.exp(-np.arange(n) / 200.0) + 0.05
w = ((u * s) @ v.T).astype(np.float32)
g = helper.make_graph(
    [helper.make_node("MatMul", ["x", "w"], ["y"], name="fc")], "svd_bench",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, n])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, n])],
    [numpy_helper.from_array(w, "w")])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="edgec-bench")
m.ir_version = 8
onnx.save(m, path)
np.save(path + ".s.npy", s)
EOF
fi

OUT=$CACHE/svd_out.onnx
PLAIN=$CACHE/svd_plain.onnx
svd_t=()
plain_t=()
cpu_t=()
load_before=$(cut -d' ' -f1 /proc/loadavg)
for r in $(seq "$RUNS"); do
    sync
    t0=$EPOCHREALTIME
    /usr/bin/time -f '%U %S' -o "$CACHE/svd.cpu" "$EDGEC" compress "$MODEL" -o "$OUT" --svd "rank:$RANK" 2>"$CACHE/svd.log" ||
        bench_die "edgec --svd failed: $(cat "$CACHE/svd.log")"
    t1=$EPOCHREALTIME
    cpu_t+=("$(awk '{ printf "%.2f", $1 + $2 }' "$CACHE/svd.cpu")")
    rm -f "$PLAIN"
    sync
    t2=$EPOCHREALTIME
    "$EDGEC" compress "$MODEL" -o "$PLAIN" -q || bench_die "edgec (no pass) failed"
    t3=$EPOCHREALTIME
    svd_t+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')")
    plain_t+=("$(awk -v a="$t2" -v b="$t3" 'BEGIN { printf "%.4f", b - a }')")
    echo "bench: run $r: --svd ${svd_t[-1]} s (CPU ${cpu_t[-1]} s), no pass ${plain_t[-1]} s" >&2
    [ "$r" = "$RUNS" ] || rm -f "$OUT"
done
read -r svd_med svd_min svd_max < <(printf '%s\n' "${svd_t[@]}" | bench_stats)
read -r plain_med plain_min plain_max < <(printf '%s\n' "${plain_t[@]}" | bench_stats)
read -r cpu_med cpu_min cpu_max < <(printf '%s\n' "${cpu_t[@]}" | bench_stats)
load_after=$(cut -d' ' -f1 /proc/loadavg)
for v in svd_med svd_min svd_max plain_med plain_min plain_max cpu_med cpu_min cpu_max; do
    printf -v "$v" '%.3f' "${!v}"
done
pass_s=$(awk -v a="$svd_med" -v b="$plain_med" 'BEGIN { printf "%.3f", a - b }')

# Error of the written factors against the known optimum.
read -r err opt ratio bytes_in bytes_out < <("$PY" - "$MODEL" "$OUT" "$RANK" <<'EOF'
import os, sys
import numpy as np
import onnx
from onnx import numpy_helper
model, out, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
w = numpy_helper.to_array(onnx.load(model).graph.initializer[0]).astype(np.float64)
s = np.load(model + ".s.npy")
inits = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in onnx.load(out).graph.initializer}
a, b = inits["w_lowrank_a"], inits["w_lowrank_b"]
err = np.linalg.norm(w - a @ b)
opt = np.sqrt(np.sum(s[k:] ** 2))
print(f"{err:.6f} {opt:.6f} {err / opt:.6f} {os.path.getsize(model)} {os.path.getsize(out)}")
EOF
)
CPU=$(bench_cpu_model)
time_ok=$(awk -v t="$cpu_med" -v g="$TARGET_S" 'BEGIN { print (t <= g) ? "met" : "**not met**" }')
err_ok=$(awk -v r="$ratio" -v g="$ERR_BOUND" 'BEGIN { print (r <= g) ? "met" : "**not met**" }')

body=$(mktemp)
{
    cat <<EOF
## Low-rank factorization: 4096x4096 at rank 256 (\`--svd rank:256\`)

\`edgec compress svd_4096.onnx -o out.onnx --svd rank:256\` on a model with one 4096x4096 float32
MatMul weight, W = U diag(s) V^T with Haar-random U, V (seeded) and s_i = exp(-i/200) + 0.05: a
decaying head over a flat floor, where a bare randomized sketch is far from optimal. edgec runs a
randomized SVD (Gaussian sketch, oversampling 16, 3 power iterations with blocked Householder
re-orthonormalization through its SGEMM, one thread), then an exact one-sided Jacobi SVD of the
272x272 core. $RUNS runs, medians; wall time of the whole process, which reads and writes the
64 MiB model; "read + write only" is the same command without \`--svd\`.

$(bench_env_md "$EDGEC")

| | median | min – max |
|---|---:|---:|
| \`edgec compress --svd rank:$RANK\` (whole process) | **${svd_med} s** | ${svd_min} – ${svd_max} s |
| same without \`--svd\` (read + write only) | ${plain_med} s | ${plain_min} – ${plain_max} s |
| factorization share (difference of medians) | ${pass_s} s | |
| CPU time (user + sys) of \`--svd rank:$RANK\` | **${cpu_med} s** | ${cpu_min} – ${cpu_max} s |

Load average (1 min) before / after the runs: ${load_before} / ${load_after} on $(nproc) cores. On a
shared machine wall time includes waiting for a core; the process is single-threaded, so its
CPU time is the time it needs on one dedicated core.

- Target ≤ ${TARGET_S} s single-threaded (issue 6): **${time_ok}** (CPU ${cpu_med} s for the whole
  process, wall ${svd_med} s).
- Error of the written factors: ‖W − A·B‖_F = ${err}, optimal rank-${RANK} error (Eckart-Young, from
  the known s) ${opt}: **${ratio}×** optimal (bound ${ERR_BOUND}×: ${err_ok}).
- Size: ${bytes_in} → ${bytes_out} bytes.
EOF
} >"$body"
cat "$body"
bench_update_doc svd "$body"
rm -f "$body"
if [ "${BENCH_STRICT:-0}" = 1 ] && { [ "$time_ok" != met ] || [ "$err_ok" != met ]; }; then
    exit 3
fi
