# Shared by run.sh and interp.sh (sourced, not run): checks the prerequisites, installs
# onnxruntime-node when missing, and generates the test models into $GEN, regenerating
# them only when make_test_models.py or the package versions change. Expects EDGEC, NODE,
# NPM, PY, HERE, SCRATCH, GEN and LOGDIR, and the functions notok, finish, lastline, now
# and elapsed, from the script that sources it.

# ---------------------------------------------------------- prerequisites ---
pre_ok=1
if [ ! -x "$EDGEC" ]; then notok "prerequisites" "edgec binary '$EDGEC' not found or not executable"; pre_ok=0; fi
if ! command -v "$NODE" >/dev/null 2>&1; then notok "prerequisites" "node not found (apt-get install nodejs)"; pre_ok=0; fi
if ! "$PY" -c 'import onnx, numpy' >/dev/null 2>&1; then
  notok "prerequisites" "$PY cannot import onnx/numpy (apt-get install python3-onnx python3-numpy)"; pre_ok=0
fi
[ "$pre_ok" -eq 1 ] || finish

if [ ! -f "$HERE/node_modules/onnxruntime-node/package.json" ]; then
  echo "# installing onnxruntime-node into $HERE/node_modules"
  if ! "$NPM" install --ignore-scripts --no-package-lock --no-audit --no-fund --prefix "$HERE" >"$SCRATCH/npm-install.log" 2>&1; then
    notok "prerequisites" "npm install of onnxruntime-node failed: $(lastline "$SCRATCH/npm-install.log")"
    finish
  fi
fi

# ------------------------------------------------------- generate models ---
mkdir -p "$GEN" "$LOGDIR"
stamp=$( (cat "$HERE/make_test_models.py"; "$PY" -c 'import onnx, torch, torchvision; print(onnx.__version__, torch.__version__, torchvision.__version__)' 2>&1) | sha256sum | cut -d' ' -f1)
t_gen=$(now)
if [ "$(cat "$GEN/.stamp" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$GEN" && mkdir -p "$GEN"
  if "$PY" "$HERE/make_test_models.py" "$GEN" >"$LOGDIR/make_test_models.log" 2>&1; then
    echo "$stamp" >"$GEN/.stamp"
    echo "# generated test models into $GEN in $(elapsed "$t_gen")s"
  else
    notok "generate" "make_test_models.py failed: $(lastline "$LOGDIR/make_test_models.log")"
  fi
else
  echo "# test models in $GEN are up to date"
fi
