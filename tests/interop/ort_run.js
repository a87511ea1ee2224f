#!/usr/bin/env node
'use strict';
// Run one ONNX model in ONNX Runtime (CPU, graphOptimizationLevel 'disabled',
// one thread) and dump its outputs as JSON.
//
//   node ort_run.js MODEL.onnx [--inputs IN.npz|IN.npy | --seed N] [--out OUT.json]
//
// Inputs: arrays from --inputs matched by input name (first axis = samples,
// fed as one batch; `labels` is ignored), or seeded synthetic inputs from the
// model's input metadata (default seed 0). Output JSON:
//   {"model", "inputs": [{name,dtype,dims}], "source": "npz:FILE"|"seed:N",
//    "outputs": [{name, dtype, dims, encoding: "base64", data}]}
// `data` is the raw little-endian tensor bytes. Exit 0 on success, 1 on error.

const fs = require('fs');
const lib = require('./ortlib');

const USAGE = 'usage: node ort_run.js MODEL.onnx [--inputs IN.npz|--seed N] [--out OUT.json]';

async function main() {
  const { positional, opts } = lib.parseArgs(process.argv.slice(2), { inputs: 'value', seed: 'value', out: 'value', help: 'flag' });
  if (opts.help) { console.log(USAGE); return 0; }
  if (positional.length !== 1) throw new Error(USAGE);
  if (opts.inputs && opts.seed !== undefined) throw new Error('--inputs and --seed are exclusive');
  const model = positional[0];
  const ort = lib.loadOrt();
  const session = await lib.createSession(ort, model);
  let feeds, source;
  if (opts.inputs) {
    feeds = lib.feedsFromArrays(ort, session, lib.loadArrays(opts.inputs), opts.inputs);
    source = `npz:${opts.inputs}`;
  } else {
    const seed = lib.parseSeed(opts.seed);
    feeds = lib.syntheticInputs(ort, session, seed);
    source = `seed:${seed}`;
  }
  const results = await session.run(feeds);
  const doc = {
    model,
    source,
    inputs: lib.describeFeeds(feeds),
    outputs: lib.describeOutputs(session, results).map((o) => ({
      name: o.name, dtype: o.dtype, dims: o.dims, encoding: 'base64', data: o.bytes.toString('base64'),
    })),
  };
  const text = JSON.stringify(doc) + '\n';
  if (opts.out) fs.writeFileSync(opts.out, text);
  else process.stdout.write(text);
  await session.release();
  return 0;
}

main().then((rc) => { process.exitCode = rc; }, (e) => {
  process.stderr.write(`ort_run: ${e && e.message ? e.message : e}\n`);
  process.exitCode = 1;
});
