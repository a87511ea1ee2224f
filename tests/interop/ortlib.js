'use strict';
// Shared helpers for ort_run.js and ort_compare.js: a small .npy/.npz reader,
// seeded synthetic inputs from a model's input metadata, and one deterministic
// ONNX Runtime run (CPU, optimizations disabled, one thread).

const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

function loadOrt() {
  try {
    return require('onnxruntime-node');
  } catch (e) {
    const hint = `npm install --ignore-scripts --no-package-lock --prefix ${__dirname}`;
    throw new Error(`onnxruntime-node is not installed (${e.message.split('\n')[0]}); run: ${hint}`);
  }
}

// ---------------------------------------------------------------- .npy ---

// numpy descr -> ONNX Runtime tensor type and element size
const NPY_TYPES = {
  f4: ['float32', 4], f8: ['float64', 8], f2: ['float16', 2],
  i1: ['int8', 1], i2: ['int16', 2], i4: ['int32', 4], i8: ['int64', 8],
  u1: ['uint8', 1], u2: ['uint16', 2], u4: ['uint32', 4], u8: ['uint64', 8],
  b1: ['bool', 1],
};

const TYPED_ARRAYS = {
  float32: Float32Array, float64: Float64Array, float16: Uint16Array,
  int8: Int8Array, int16: Int16Array, int32: Int32Array, int64: BigInt64Array,
  uint8: Uint8Array, uint16: Uint16Array, uint32: Uint32Array, uint64: BigUint64Array,
  bool: Uint8Array,
};

function elemSize(type) {
  const T = TYPED_ARRAYS[type];
  if (!T) throw new Error(`unsupported tensor type ${type}`);
  return T.BYTES_PER_ELEMENT;
}

// Parse one .npy file held in a Buffer. Returns {type, dims, data: TypedArray}.
function parseNpy(buf, what) {
  const magic = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY
  if (buf.length < 10 || !buf.subarray(0, 6).equals(magic)) throw new Error(`${what}: not a .npy array`);
  const major = buf[6];
  let hlen, hstart;
  if (major === 1) { hlen = buf.readUInt16LE(8); hstart = 10; }
  else if (major === 2 || major === 3) {
    if (buf.length < 12) throw new Error(`${what}: truncated .npy header`);
    hlen = buf.readUInt32LE(8); hstart = 12;
  } else throw new Error(`${what}: unsupported .npy version ${major}`);
  if (hstart + hlen > buf.length) throw new Error(`${what}: truncated .npy header`);
  const header = buf.subarray(hstart, hstart + hlen).toString('latin1');
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header);
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shape) throw new Error(`${what}: cannot parse .npy header ${header.trim()}`);
  if (fortran[1] === 'True') throw new Error(`${what}: fortran_order arrays are not supported`);
  const d = descr[1];
  const order = d[0];
  const kind = d.slice(1);
  if (!NPY_TYPES[kind] || order === '>') throw new Error(`${what}: unsupported dtype '${d}'`);
  const [type, size] = NPY_TYPES[kind];
  const dims = shape[1].split(',').map((s) => s.trim()).filter((s) => s.length).map((s) => {
    const v = Number(s.replace(/L$/, ''));
    if (!Number.isSafeInteger(v) || v < 0) throw new Error(`${what}: bad dimension '${s}'`);
    return v;
  });
  const count = dims.reduce((a, b) => a * b, 1);
  const start = hstart + hlen;
  if (!Number.isSafeInteger(count * size) || start + count * size > buf.length) {
    throw new Error(`${what}: data shorter than shape ${JSON.stringify(dims)} needs`);
  }
  // copy so the typed array is aligned and owns its memory
  const bytes = Buffer.from(buf.subarray(start, start + count * size));
  const T = TYPED_ARRAYS[type];
  const data = new T(bytes.buffer, bytes.byteOffset, count);
  return { type, dims, data };
}

// ---------------------------------------------------------------- .npz ---

// Minimal zip reader (what numpy.savez / savez_compressed write: stored or
// deflate entries, possibly with zip64 extra fields). Returns {name: Buffer}.
function readZip(buf, what) {
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 65535); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) { eocd = i; break; }
  }
  if (eocd < 0) throw new Error(`${what}: not a zip/npz file (no end of central directory)`);
  let nEntries = buf.readUInt16LE(eocd + 10);
  let cdOffset = buf.readUInt32LE(eocd + 16);
  if (cdOffset === 0xffffffff || nEntries === 0xffff) {
    const loc = eocd - 20;
    if (loc < 0 || buf.readUInt32LE(loc) !== 0x07064b50) throw new Error(`${what}: bad zip64 locator`);
    const z64 = Number(buf.readBigUInt64LE(loc + 8));
    if (z64 + 56 > buf.length || buf.readUInt32LE(z64) !== 0x06064b50) throw new Error(`${what}: bad zip64 record`);
    nEntries = Number(buf.readBigUInt64LE(z64 + 32));
    cdOffset = Number(buf.readBigUInt64LE(z64 + 48));
  }
  const files = {};
  let p = cdOffset;
  for (let n = 0; n < nEntries; n++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== 0x02014b50) throw new Error(`${what}: bad central directory`);
    const method = buf.readUInt16LE(p + 10);
    let csize = buf.readUInt32LE(p + 20);
    let usize = buf.readUInt32LE(p + 24);
    const nlen = buf.readUInt16LE(p + 28);
    const xlen = buf.readUInt16LE(p + 30);
    const clen = buf.readUInt16LE(p + 32);
    let loff = buf.readUInt32LE(p + 42);
    const name = buf.subarray(p + 46, p + 46 + nlen).toString('utf8');
    // zip64 extended information: present fields appear in this order
    let x = p + 46 + nlen;
    const xend = x + xlen;
    while (x + 4 <= xend) {
      const id = buf.readUInt16LE(x);
      const sz = buf.readUInt16LE(x + 2);
      if (id === 0x0001) {
        let q = x + 4;
        if (usize === 0xffffffff) { usize = Number(buf.readBigUInt64LE(q)); q += 8; }
        if (csize === 0xffffffff) { csize = Number(buf.readBigUInt64LE(q)); q += 8; }
        if (loff === 0xffffffff) { loff = Number(buf.readBigUInt64LE(q)); q += 8; }
      }
      x += 4 + sz;
    }
    p = xend + clen;
    if (loff + 30 > buf.length || buf.readUInt32LE(loff) !== 0x04034b50) throw new Error(`${what}: bad local header for ${name}`);
    const dstart = loff + 30 + buf.readUInt16LE(loff + 26) + buf.readUInt16LE(loff + 28);
    if (dstart + csize > buf.length) throw new Error(`${what}: entry ${name} is truncated`);
    const comp = buf.subarray(dstart, dstart + csize);
    let data;
    if (method === 0) data = comp;
    else if (method === 8) data = zlib.inflateRawSync(comp, { maxOutputLength: Math.max(usize, 1) });
    else throw new Error(`${what}: entry ${name} uses unsupported compression method ${method}`);
    if (data.length !== usize) throw new Error(`${what}: entry ${name} size mismatch`);
    files[name] = data;
  }
  return files;
}

// Load a .npz or .npy file: returns {name: {type, dims, data}}. A .npy file
// yields one array named '' (matched to the model's only input).
function loadArrays(file) {
  const buf = fs.readFileSync(file);
  if (file.endsWith('.npy')) return { '': parseNpy(buf, file) };
  const files = readZip(buf, file);
  const out = {};
  for (const [name, data] of Object.entries(files)) {
    const key = name.endsWith('.npy') ? name.slice(0, -4) : name;
    out[key] = parseNpy(data, `${file}:${name}`);
  }
  return out;
}

// ------------------------------------------------------ synthetic inputs ---

function mulberry32(seed) {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

// Seeded inputs from the model's input metadata: symbolic/unknown dims -> 1;
// floats uniform in [-1, 1) (24-bit grid, exact in float32); integers in [0, 4);
// bools 0/1. One PRNG stream, inputs in model order.
function syntheticInputs(ort, session, seed) {
  const rnd = mulberry32(seed);
  const feeds = {};
  const meta = session.inputMetadata;
  for (let i = 0; i < session.inputNames.length; i++) {
    const name = session.inputNames[i];
    const m = meta && meta[i];
    if (!m || !m.isTensor) throw new Error(`input ${name}: not a tensor, synthetic inputs unsupported`);
    const dims = m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : 1));
    const count = dims.reduce((a, b) => a * b, 1);
    const type = m.type;
    let data;
    switch (type) {
      case 'float32': case 'float64': {
        data = new TYPED_ARRAYS[type](count);
        for (let k = 0; k < count; k++) data[k] = (rnd() >>> 8) / 8388608 - 1;
        break;
      }
      case 'int64': case 'uint64': {
        data = new TYPED_ARRAYS[type](count);
        for (let k = 0; k < count; k++) data[k] = BigInt(rnd() & 3);
        break;
      }
      case 'int8': case 'int16': case 'int32': case 'uint8': case 'uint16': case 'uint32': {
        data = new TYPED_ARRAYS[type](count);
        for (let k = 0; k < count; k++) data[k] = rnd() & 3;
        break;
      }
      case 'bool': {
        data = new Uint8Array(count);
        for (let k = 0; k < count; k++) data[k] = rnd() & 1;
        break;
      }
      default:
        throw new Error(`input ${name}: synthetic inputs of type ${type} are unsupported`);
    }
    feeds[name] = new ort.Tensor(type, data, dims);
  }
  return feeds;
}

// Feeds from a loaded .npz/.npy: arrays matched by input name (a single-input
// model also takes a lone array of any name; `labels` is ignored).
function feedsFromArrays(ort, session, arrays, file) {
  const feeds = {};
  const names = session.inputNames;
  const candidates = Object.keys(arrays).filter((k) => k !== 'labels');
  for (const name of names) {
    let key = name;
    if (!(key in arrays)) {
      if (names.length === 1 && candidates.length === 1) key = candidates[0];
      else throw new Error(`${file}: no array named '${name}' (has: ${Object.keys(arrays).join(', ') || 'none'})`);
    }
    const a = arrays[key];
    feeds[name] = new ort.Tensor(a.type, a.data, a.dims);
  }
  return feeds;
}

// ------------------------------------------------------------------ run ---

async function createSession(ort, modelPath) {
  return ort.InferenceSession.create(path.resolve(modelPath), {
    graphOptimizationLevel: 'disabled',
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    logSeverityLevel: 3,
  });
}

function tensorBytes(t) {
  if (t.type === 'string') return Buffer.from(JSON.stringify(t.data), 'utf8');
  const d = t.data;
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
}

function describeOutputs(session, results) {
  return session.outputNames.map((name) => {
    const t = results[name];
    return { name, dtype: t.type, dims: Array.from(t.dims), bytes: tensorBytes(t) };
  });
}

function describeFeeds(feeds) {
  return Object.entries(feeds).map(([name, t]) => ({ name, dtype: t.type, dims: Array.from(t.dims) }));
}

// Common option parsing. Returns {positional, opts}.
function parseArgs(argv, spec) {
  const positional = [];
  const opts = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const key = eq > 0 ? a.slice(2, eq) : a.slice(2);
      if (!(key in spec)) throw new Error(`unknown option ${a}`);
      if (spec[key] === 'flag') { opts[key] = true; continue; }
      const val = eq > 0 ? a.slice(eq + 1) : argv[++i];
      if (val === undefined) throw new Error(`option --${key} needs a value`);
      opts[key] = val;
    } else positional.push(a);
  }
  return { positional, opts };
}

function parseSeed(s) {
  const v = s === undefined ? 0 : (/^\d+$/.test(String(s)) ? Number(s) : NaN);
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`bad --seed '${s}'`);
  return v;
}

// "3", "0,1,5" or "0-7" -> [seeds]; default [0].
function parseSeeds(s) {
  if (s === undefined) return [0];
  const out = [];
  for (const part of String(s).split(',')) {
    const m = /^(\d+)-(\d+)$/.exec(part.trim());
    if (m) {
      const lo = parseSeed(m[1]);
      const hi = parseSeed(m[2]);
      if (hi < lo || hi - lo > 1000) throw new Error(`bad seed range '${part}'`);
      for (let v = lo; v <= hi; v++) out.push(v);
    } else out.push(parseSeed(part.trim()));
  }
  return out;
}

module.exports = {
  loadOrt, parseNpy, readZip, loadArrays, mulberry32, syntheticInputs, feedsFromArrays,
  createSession, describeOutputs, describeFeeds, tensorBytes, elemSize, parseArgs, parseSeed, parseSeeds,
};
