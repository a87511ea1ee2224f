#!/usr/bin/env node
'use strict';
// Run two ONNX models on the same inputs in ONNX Runtime (CPU, optimizations
// disabled, one thread) and compare every output.
//
//   node ort_compare.js A.onnx B.onnx [--seed S | --inputs IN.npz] [--exact | --rtol R --atol A]
//
// S is one seed (default 0), a list "0,1,5" or a range "0-7": one synthetic
// input set per seed (use several for models with If/Loop control inputs).
// --exact (the default when no tolerance is given): outputs must be
// bit-identical. Otherwise |a-b| <= atol + rtol*|a| elementwise (NaN == NaN).
// Output names, dtypes and dims must always match. Prints one verdict line
// (SAME/DIFFERENT/ERROR); exit 0 if equal, 1 if different or on error.

const lib = require('./ortlib');

const USAGE = 'usage: node ort_compare.js A.onnx B.onnx [--seed N[,N..|-M]|--inputs IN.npz] [--exact | --rtol R --atol A]';

const NUMERIC = {
  float32: Float32Array, float64: Float64Array, int8: Int8Array, int16: Int16Array, int32: Int32Array,
  uint8: Uint8Array, uint16: Uint16Array, uint32: Uint32Array, bool: Uint8Array,
  int64: BigInt64Array, uint64: BigUint64Array,
};

function toNumbers(o) {
  const T = NUMERIC[o.dtype];
  if (!T) return null;
  const b = Buffer.from(o.bytes); // aligned copy
  const arr = new T(b.buffer, b.byteOffset, b.byteLength / T.BYTES_PER_ELEMENT);
  return T === BigInt64Array || T === BigUint64Array ? Array.from(arr, Number) : arr;
}

// Returns a list of problem strings (empty if the outputs match).
function compareOutputs(oa, ob, tolerant, rtol, atol) {
  const problems = [];
  const namesA = oa.map((o) => o.name).join(',');
  const namesB = ob.map((o) => o.name).join(',');
  if (namesA !== namesB) problems.push(`output names differ: [${namesA}] vs [${namesB}]`);
  for (const a of oa) {
    const b = ob.find((o) => o.name === a.name);
    if (!b) continue;
    if (a.dtype !== b.dtype) { problems.push(`${a.name}: dtype ${a.dtype} vs ${b.dtype}`); continue; }
    if (JSON.stringify(a.dims) !== JSON.stringify(b.dims)) {
      problems.push(`${a.name}: dims [${a.dims}] vs [${b.dims}]`);
      continue;
    }
    if (a.bytes.equals(b.bytes)) continue;
    const na = toNumbers(a);
    const nb = toNumbers(b);
    if (!tolerant || !na) {
      if (!na) { problems.push(`${a.name}: bytes differ`); continue; }
      let diff = 0;
      let first = -1;
      let maxAbs = 0;
      for (let i = 0; i < na.length; i++) {
        if (!Object.is(na[i], nb[i])) {
          if (first < 0) first = i;
          diff++;
          const e = Math.abs(na[i] - nb[i]);
          if (e > maxAbs) maxAbs = e;
        }
      }
      if (diff === 0) { problems.push(`${a.name}: bytes differ (NaN payloads)`); continue; }
      problems.push(`${a.name}: ${diff} of ${na.length} elements differ, max abs diff ${maxAbs} (first at ${first}: ${na[first]} vs ${nb[first]})`);
      continue;
    }
    let bad = 0;
    let worst = -1;
    let worstExcess = 0;
    let maxAbs = 0;
    for (let i = 0; i < na.length; i++) {
      const x = na[i];
      const y = nb[i];
      if (Number.isNaN(x) && Number.isNaN(y)) continue;
      const err = Math.abs(x - y);
      const lim = atol + rtol * Math.abs(x);
      if (!(err <= lim)) {
        bad++;
        const excess = Number.isNaN(err) ? Infinity : err - lim;
        if (worst < 0 || excess > worstExcess) { worst = i; worstExcess = excess; }
      }
      if (err > maxAbs) maxAbs = err;
    }
    if (bad) {
      problems.push(`${a.name}: ${bad} of ${na.length} elements out of tolerance, max abs diff ${maxAbs} (worst at ${worst}: ${na[worst]} vs ${nb[worst]})`);
    }
  }
  return problems;
}

async function main() {
  const { positional, opts } = lib.parseArgs(process.argv.slice(2), {
    inputs: 'value', seed: 'value', exact: 'flag', rtol: 'value', atol: 'value', help: 'flag',
  });
  if (opts.help) { console.log(USAGE); return 0; }
  if (positional.length !== 2) throw new Error(USAGE);
  if (opts.inputs && opts.seed !== undefined) throw new Error('--inputs and --seed are exclusive');
  const tolerant = opts.rtol !== undefined || opts.atol !== undefined;
  if (tolerant && opts.exact) throw new Error('--exact and --rtol/--atol are exclusive');
  const rtol = tolerant ? Number(opts.rtol || 0) : 0;
  const atol = tolerant ? Number(opts.atol || 0) : 0;
  if (!(rtol >= 0) || !(atol >= 0)) throw new Error('--rtol/--atol must be nonnegative numbers');

  const [fa, fb] = positional;
  const ort = lib.loadOrt();
  const sa = await lib.createSession(ort, fa).catch((e) => { throw new Error(`${fa}: ${e.message}`); });
  const sb = await lib.createSession(ort, fb).catch((e) => { throw new Error(`${fb}: ${e.message}`); });

  // one or more input sets: the --inputs file, or one synthetic set per seed
  const cases = [];
  if (opts.inputs) {
    const arrays = lib.loadArrays(opts.inputs);
    cases.push({
      label: `inputs ${opts.inputs}`,
      a: lib.feedsFromArrays(ort, sa, arrays, opts.inputs),
      b: lib.feedsFromArrays(ort, sb, arrays, opts.inputs),
    });
  } else {
    for (const seed of lib.parseSeeds(opts.seed)) {
      const a = lib.syntheticInputs(ort, sa, seed);
      const b = {};
      for (const name of sb.inputNames) {
        if (!(name in a)) throw new Error(`${fb} has input '${name}' that ${fa} does not have`);
        b[name] = a[name];
      }
      cases.push({ label: `seed ${seed}`, a, b });
    }
  }
  const problems = [];
  let summary = [];
  for (const c of cases) {
    const oa = lib.describeOutputs(sa, await sa.run(c.a));
    const ob = lib.describeOutputs(sb, await sb.run(c.b));
    const p = compareOutputs(oa, ob, tolerant, rtol, atol);
    for (const x of p) problems.push(cases.length > 1 ? `${c.label}: ${x}` : x);
    summary = oa.map((o) => `${o.name}[${o.dims}]`);
  }
  await sa.release();
  await sb.release();
  const mode = tolerant ? `rtol=${rtol} atol=${atol}` : 'exact';
  const source = opts.inputs ? `inputs ${opts.inputs}` : `seed ${opts.seed === undefined ? 0 : opts.seed}`;
  if (problems.length) {
    console.log(`DIFFERENT (${mode}, ${source}): ${problems.join('; ')}`);
    return 1;
  }
  console.log(`SAME (${mode}, ${source}): ${summary.length} output(s) match: ${summary.join(' ')}`);
  return 0;
}

main().then((rc) => { process.exitCode = rc; }, (e) => {
  console.log(`ERROR: ${e && e.message ? e.message : e}`);
  process.exitCode = 1;
});
