#!/usr/bin/env node
'use strict';
// Single-image, single-thread ONNX Runtime latency: the baseline of bench/interp.sh.
//
//   node bench/ort_latency.js MODEL IN.npz N [--opt disabled|basic|extended|all]
//                             [--warmup W] [--check OUT.npz]
//
// Loads MODEL into an InferenceSession (CPU, intraOpNumThreads 1, interOpNumThreads 1,
// executionMode 'sequential', graphOptimizationLevel --opt, default 'disabled'), feeds the
// arrays of IN.npz by input name (as one batch, like `edgec run`), runs W warm-up inferences
// (default 1, not timed), then times N inferences one by one and prints to stdout:
//
//   latency: median 12.345 ms per inference (N runs, W warm-up, opt all), min 12.001 ms, max 13.2 ms
//
// Each timed inference is one `await session.run(feeds)` (wall clock, process.hrtime), the
// same span as one `edgec run --repeat` sample. With --check, the outputs of the last run are
// compared with the arrays of the same name in OUT.npz (e.g. edgec's) and a line
//   check: max_abs_err 1.2e-06 max_rel_err 3.4e-07 (output NAME ...)
// follows; exit 1 if an output is missing or its shape differs.
// Exit 0 on success, 1 on error.

const path = require('path');
const lib = require('../tests/interop/ortlib');

const USAGE = 'usage: node bench/ort_latency.js MODEL IN.npz N [--opt disabled|basic|extended|all] ' +
  '[--warmup W] [--check OUT.npz]';
const LEVELS = ['disabled', 'basic', 'extended', 'all'];

function count(s, what, lo) {
  if (!/^\d+$/.test(String(s)) || Number(s) < lo || Number(s) > 1e6) {
    throw new Error(`${what} must be an integer from ${lo} to 1000000 (got '${s}')\n${USAGE}`);
  }
  return Number(s);
}

function median(xs) {
  const v = [...xs].sort((a, b) => a - b);
  const n = v.length;
  return n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

function compare(session, results, file) {
  const ref = lib.loadArrays(file);
  const lines = [];
  for (const name of session.outputNames) {
    const t = results[name];
    const r = ref[name];
    if (!r) throw new Error(`--check ${file}: no array named '${name}'`);
    if (r.dims.join('x') !== Array.from(t.dims).join('x')) {
      throw new Error(`--check ${file}: '${name}' has shape [${r.dims}], ONNX Runtime gave [${Array.from(t.dims)}]`);
    }
    let maxAbs = 0;
    let maxRef = 0;
    for (let i = 0; i < t.data.length; i++) {
      const a = Number(t.data[i]);
      const b = Number(r.data[i]);
      maxAbs = Math.max(maxAbs, Math.abs(a - b));
      maxRef = Math.max(maxRef, Math.abs(a));
    }
    // relative to the largest |output|, as tests/interop does
    const rel = maxRef > 0 ? maxAbs / maxRef : maxAbs;
    lines.push(`check: max_abs_err ${maxAbs.toExponential(2)} max_rel_err ${rel.toExponential(2)} ` +
      `(output ${name} [${Array.from(t.dims)}])`);
  }
  return lines;
}

async function main() {
  const { positional, opts } = lib.parseArgs(process.argv.slice(2),
    { opt: 'value', warmup: 'value', check: 'value', help: 'flag' });
  if (opts.help) { console.log(USAGE); return 0; }
  if (positional.length !== 3) throw new Error(USAGE);
  const [model, input, nStr] = positional;
  const n = count(nStr, 'N', 1);
  const warmup = opts.warmup === undefined ? 1 : count(opts.warmup, '--warmup', 0);
  const opt = opts.opt === undefined ? 'disabled' : opts.opt;
  if (!LEVELS.includes(opt)) throw new Error(`--opt must be one of ${LEVELS.join(', ')} (got '${opt}')`);

  const ort = lib.loadOrt();
  const session = await ort.InferenceSession.create(path.resolve(model), {
    graphOptimizationLevel: opt,
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    logSeverityLevel: 3,
  });
  const feeds = lib.feedsFromArrays(ort, session, lib.loadArrays(input), input);

  let results;
  for (let i = 0; i < warmup; i++) results = await session.run(feeds);
  const times = new Array(n);
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    results = await session.run(feeds);
    times[i] = Number(process.hrtime.bigint() - t0) / 1e6;
  }
  const out = [
    `latency: median ${median(times).toFixed(3)} ms per inference (${n} runs, ${warmup} warm-up, ` +
    `opt ${opt}), min ${Math.min(...times).toFixed(3)} ms, max ${Math.max(...times).toFixed(3)} ms`,
  ];
  if (opts.check) out.push(...compare(session, results, opts.check));
  process.stdout.write(out.join('\n') + '\n');
  await session.release();
  return 0;
}

main().then((rc) => { process.exitCode = rc; }, (e) => {
  process.stderr.write(`ort_latency: ${e && e.message ? e.message : e}\n`);
  process.exitCode = 1;
});
