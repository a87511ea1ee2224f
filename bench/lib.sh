# shellcheck shell=bash
# Shared helpers for bench/*.sh (bash; source it, don't run it).
#   bench_root                  repo root (absolute)
#   bench_die MSG...            print "bench: error: MSG" to stderr, exit 1
#   bench_stats                 numbers on stdin -> "median min max" (median of an even count =
#                               mean of the two middle values; nothing is dropped)
#   bench_env_md EDGEC_BIN      one markdown line: date, machine, edgec version/commit/build type
#   bench_update_doc NAME FILE  replace the text between <!-- bench:NAME:begin --> and
#                               <!-- bench:NAME:end --> in $BENCH_DOC with FILE (appended if the
#                               markers are absent; the doc is created with an intro if missing)

export LC_ALL=C   # '.' as decimal point in EPOCHREALTIME, printf and awk

bench_root() { (cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd); }

bench_die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

bench_stats() {
    sort -g | awk '{ v[NR] = $1 }
        END {
            if (NR == 0) { print "nan nan nan"; exit }
            m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            printf "%.6f %.6f %.6f\n", m, v[1], v[NR]
        }'
}

bench_cpu_model() {
    local m
    m=$(grep -m1 -E '^(model name|Model|cpu model)[[:space:]]*:' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')
    printf '%s' "${m:-unknown CPU}"
}

bench_edgec_version() {
    local v
    v=$(timeout 10 "$1" --version 2>&1 | head -n1) || v=""
    printf '%s' "${v:-unknown (\`--version\` failed)}"
}

bench_build_info() {   # build type + compiler, if EDGEC_BIN sits in a CMake build dir
    local cache dir t cc
    dir=$(dirname "$1")
    for cache in "$dir/CMakeCache.txt" "$dir/../CMakeCache.txt"; do
        [ -f "$cache" ] || continue
        t=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$cache")
        cc=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$cache")
        [ -n "$cc" ] && cc=$("$cc" --version 2>/dev/null | head -n1)
        printf '%s build%s' "${t:-default (no CMAKE_BUILD_TYPE)}" "${cc:+, $cc}"
        return
    done
    printf 'build type unknown'
}

bench_git_rev() {
    local root rev dirty
    root=$(bench_root)
    rev=$(git -C "$root" rev-parse --short HEAD 2>/dev/null) || rev="no commit yet"
    # Benchmark outputs themselves do not make the tree dirty.
    dirty=$(git -C "$root" status --porcelain -- . ':(exclude)docs/BENCHMARKS.md' \
            ':(exclude)bench/.cache' 2>/dev/null | head -n1)
    printf '%s%s' "$rev" "${dirty:+ + uncommitted changes}"
}

bench_env_md() {
    local mem os
    mem=$(awk '/^MemTotal:/ { printf "%.1f GiB RAM", $2 / 1048576 }' /proc/meminfo 2>/dev/null)
    os=$(. /etc/os-release 2>/dev/null && printf '%s' "$PRETTY_NAME")
    # shellcheck disable=SC2016  # literal backticks (markdown code)
    printf '%s · %s × %s, %s, %s %s%s · edgec: `%s` (git %s, %s)\n' \
        "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(nproc)" "$(bench_cpu_model)" "$mem" \
        "$(uname -s)" "$(uname -r)" "${os:+, $os}" \
        "$(bench_edgec_version "$1")" "$(bench_git_rev)" "$(bench_build_info "$1")"
}

bench_doc_intro() {
    cat <<'EOF'
# edgec benchmarks

Measured by the scripts in `bench/`. Each section below is rewritten in place by its script
(between its `<!-- bench:NAME:begin -->` / `<!-- bench:NAME:end -->` markers; text outside the
markers is kept) and states the date, machine (cores, CPU model, RAM, kernel) and edgec version
it was measured with, so sections from different runs can be told apart.

Rerun everything: `bench/run` (builds `build/edgec` in Release first if it is missing).
Rerun one benchmark: `bench/load_save.sh [EDGEC_BIN]` or `bench/interp.sh [EDGEC_BIN]`
(default `build/edgec`).
Knobs (environment): `BENCH_RUNS` (runs per tool, default 5), `BENCH_MB` (load_save model size
in MiB, default 100), `BENCH_REPEAT` (interp: inferences per process, default 50),
`BENCH_MODELS` (interp: default `resnet18 mobilenet_v2`), `BENCH_SEED` (default 0),
`BENCH_DOC` (file to update, default this one), `BENCH_TIMEOUT` (seconds per run, default
none), `BENCH_STRICT=1` (exit 3 when a target is missed). Needs `/usr/bin/time` (apt `time`)
and `/usr/bin/python3` with `python3-onnx` and `python3-numpy` (to generate the models once;
they are cached in `bench/.cache/`); interp also needs torch + torchvision for the exports,
and Node.js with onnxruntime-node (`npm install --ignore-scripts --no-package-lock --prefix
tests/interop`).
EOF
}

bench_update_doc() {
    local name=$1 body=$2 doc=${BENCH_DOC:-$(bench_root)/docs/BENCHMARKS.md}
    local begin="<!-- bench:$name:begin -->" end="<!-- bench:$name:end -->"
    local nb ne tmp
    mkdir -p "$(dirname "$doc")"
    if [ ! -f "$doc" ]; then bench_doc_intro >"$doc"; fi
    nb=$(grep -cxF -- "$begin" "$doc" || true)
    ne=$(grep -cxF -- "$end" "$doc" || true)
    tmp=$(mktemp "$doc.XXXXXX")
    if [ "$nb" = 0 ] && [ "$ne" = 0 ]; then
        { cat "$doc"; printf '\n%s\n' "$begin"; cat "$body"; printf '%s\n' "$end"; } >"$tmp"
    elif [ "$nb" = 1 ] && [ "$ne" = 1 ] &&
         [ "$(grep -nxF -- "$begin" "$doc" | cut -d: -f1)" -lt "$(grep -nxF -- "$end" "$doc" | cut -d: -f1)" ]; then
        awk -v b="$begin" -v e="$end" -v f="$body" '
            $0 == b { print; while ((getline l < f) > 0) print l; skip = 1; next }
            $0 == e { skip = 0 }
            !skip' "$doc" >"$tmp"
    else
        rm -f "$tmp"
        bench_die "$doc: markers for '$name' are unbalanced ($nb begin, $ne end); fix them by hand"
    fi
    chmod --reference="$doc" "$tmp"
    mv "$tmp" "$doc"
    printf 'bench: updated %s (section %s)\n' "$doc" "$name" >&2
}
