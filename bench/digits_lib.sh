# shellcheck shell=bash
# Shared by bench/sizes.sh and bench/accuracy.sh (source it after lib.sh, don't run it): the
# digits sample models, their data, the pipelines both benchmarks measure, and one function that
# compresses a model with a pipeline into both output formats.
#
#   DIGITS_MODELS                       model keys: mlp cnn
#   digits_model KEY / digits_calib KEY / digits_test KEY    paths (absolute)
#   DIGITS_PIPELINES                    "KEY|FLAGS|MODELS" rows: KEY names the pipeline,
#                                       FLAGS are compress options (@CALIB@ = calibration file),
#                                       MODELS is "mlp cnn", "mlp" or "cnn"
#   digits_flags ROW MODEL_KEY          the row's flags for that model (@CALIB@ substituted)
#   digits_applies ROW MODEL_KEY        true if the row is measured on that model
#   digits_compress EDGEC MODEL OUTBASE FLAGS...
#                                       writes OUTBASE.onnx and OUTBASE.edgec (--huffman);
#                                       stderr of a failure is left in OUTBASE.err

# shellcheck disable=SC2034  # used by the scripts that source this file
DIGITS_MODELS=(mlp cnn)

digits_model() { printf '%s/models/digits_%s.onnx' "$(bench_root)" "$1"; }
digits_calib() {
    case $1 in mlp) printf '%s/models/digits-calib.npz' "$(bench_root)" ;;
               *) printf '%s/models/digits-calib-%s.npz' "$(bench_root)" "$1" ;; esac
}
digits_test() {
    case $1 in mlp) printf '%s/models/digits-test.npz' "$(bench_root)" ;;
               *) printf '%s/models/digits-test-%s.npz' "$(bench_root)" "$1" ;; esac
}

# The pipelines of issue 10, in table order. `none` is the lossless pass-through.
# shellcheck disable=SC2034
DIGITS_PIPELINES=(
    "none||mlp cnn"
    "int8|--int8|mlp cnn"
    "int4|--int4|mlp cnn"
    "prune0.5+int8|--prune 0.5 --int8|mlp cnn"
    "prune0.8+cluster16|--prune 0.8 --calib @CALIB@ --cluster 16|mlp cnn"
    "svd16|--svd rank:16|mlp"
    "pruneS0.25|--prune-structured 0.25 --calib @CALIB@|cnn"
)

digits_applies() { local m=${1##*|}; [[ " $m " == *" $2 "* ]]; }

digits_flags() {
    local f=${1#*|}
    f=${f%|*}
    printf '%s' "${f//@CALIB@/$(digits_calib "$2")}"
}

digits_compress() {   # EDGEC MODEL OUTBASE FLAGS...
    local edgec=$1 model=$2 base=$3
    shift 3
    rm -f "$base.onnx" "$base.edgec" "$base.err"
    # The ONNX and the container come from two runs of the same deterministic pipeline.
    "$edgec" compress "$model" -q -o "$base.onnx" "$@" 2>"$base.err" &&
        "$edgec" compress "$model" -q -o "$base.edgec" --huffman "$@" 2>>"$base.err" &&
        rm -f "$base.err"
}
