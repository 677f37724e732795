// The WebAssembly SIMD kernel arithmetic gives the JavaScript's bits: the kernel fit's prepared stamps
// (shared/diffim/stamps-wasm.ts: columns and normal equations, full and border stamps, one and two threads)
// and the kernel field's convolved image and the difference written from it (field-wasm.ts: plain, divided
// by the kernel sum, with garbage zeroed, odd row widths for the module's one-pixel tail, one and two threads),
// and the decorrelated difference (white and correlated input noise, one and two threads).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { alardLuptonBasis } from '../../shared/diffim/basis.js';
import { convolveKernelField, type FieldDifference } from '../../shared/diffim/convolve-field.js';
import { decorrelate, type NoiseModels } from '../../shared/diffim/decorrelate.js';
import { kernelEngine } from '../../shared/diffim/kernel-engine.js';
import { jsFieldArithmetic } from '../../shared/diffim/field-js.js';
import { prepareStamps, type PreparedStamp } from '../../shared/diffim/kernel-fit.js';
import { wasmStampPreparer, wasmStampsUnavailableReason } from '../../shared/diffim/stamps-wasm.js';
import { wasmFieldArithmetic, wasmFieldUnavailableReason } from '../../shared/diffim/field-wasm.js';
import { KernelSolution } from '../../shared/diffim/kernel-solution.js';
import { Plane } from '../../shared/image/plane.js';
import { WorkerPool } from '../../shared/util/worker-pool.js';
import { gaussian, rng } from './render.js';

/** Odd sides: every tile row has an odd count of pixels somewhere. */
const [W, H] = [301, 203];

function fixture(order: number): { solution: KernelSolution; img: Plane<Float32Array> } {
  const basis = alardLuptonBasis({ size: 11, sigmas: [0.8, 1.6, 3.2], degrees: [2, 1, 1] });
  const r = rng(17 + order);
  const count = ((order + 1) * (order + 2)) / 2;
  const coefficients = basis.terms
    .slice(1)
    .map(() => Float64Array.from({ length: count }, () => r() - 0.5));
  const solution = new KernelSolution(
    basis,
    order,
    order === 0 ? 0 : 1,
    1.2,
    coefficients,
    order === 0 ? Float64Array.of(3) : Float64Array.of(3, -1, 2),
    W,
    H,
  );
  const g = gaussian(rng(8));
  const img = Plane.zeros(Float32Array, W, H);
  img.data.forEach((_v, i) => (img.data[i] = 100 * g()));
  return { solution, img };
}

function bits(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

test('the WebAssembly kernel field gives the JavaScript bits', async (t) => {
  if (!wasmFieldArithmetic()) {
    t.skip(`WebAssembly SIMD unavailable: ${wasmFieldUnavailableReason()}`);
    return;
  }
  const g = gaussian(rng(9));
  const target = Plane.zeros(Float32Array, W, H);
  target.data.forEach((_v, i) => (target.data[i] = 50 * g()));
  const garbage = Plane.zeros(Int32Array, W, H);
  for (let i = 0; i < garbage.data.length; i += 37) garbage.data[i] = i % 3 === 0 ? 4 : 2;
  const pool = new WorkerPool(1);
  try {
    for (const order of [0, 1, 2]) {
      const { solution, img } = fixture(order);
      const differences: Array<FieldDifference | undefined> = [
        undefined,
        { target, divisor: null },
        { target, divisor: 1.2, garbage: { mask: garbage, bits: 4 } },
        {
          target,
          divisor: null,
          sourceGarbage: { mask: garbage, bits: 2 },
          garbage: { mask: garbage, bits: 4 },
        },
      ];
      for (const difference of differences)
        for (const p of [null, pool]) {
          const js = await convolveKernelField(img, solution, 64, p, difference, 'js');
          const wasm = await convolveKernelField(img, solution, 64, p, difference, 'wasm');
          assert.deepEqual(
            bits(wasm.data),
            bits(js.data),
            `order ${order}, difference ${difference ? JSON.stringify(difference.divisor) : 'none'}, pool ${!!p}`,
          );
        }
    }
  } finally {
    await pool.close();
  }
});

test('the WebAssembly decorrelation filter gives the JavaScript bits', async (t) => {
  if (!wasmFieldArithmetic()) {
    t.skip(`WebAssembly SIMD unavailable: ${wasmFieldUnavailableReason()}`);
    return;
  }
  // A warped template's correlated noise, varying over the image, beside white noise.
  const lags = (a: number) => ({ x: [1, a, 0.1 * a], y: [1, 0.5 * a] });
  const models: NoiseModels = [
    null,
    {
      x0: 0,
      y0: 0,
      cellSize: 100,
      nx: 3,
      ny: 2,
      cells: [0.1, 0.2, 0.3, 0.2, 0.25, 0.15].map(lags),
    },
  ];
  const noiseAt = (x: number, y: number): [number, number] => [4 + x / W, 9 + y / H];
  const pool = new WorkerPool(1);
  try {
    for (const order of [0, 1, 2]) {
      const { solution, img } = fixture(order);
      for (const p of [null, pool]) {
        const opt = { fftSize: 64, blend: 4, models };
        const js = await decorrelate(img, solution, noiseAt, { ...opt, engine: 'js' }, p);
        const wasm = await decorrelate(img, solution, noiseAt, { ...opt, engine: 'wasm' }, p);
        assert.deepEqual(bits(wasm.data), bits(js.data), `order ${order}, pool ${!!p}`);
      }
    }
  } finally {
    await pool.close();
  }
});

/** The bit patterns of float64 values. */
function bits64(a: Float64Array): BigUint64Array {
  return new BigUint64Array(a.buffer, a.byteOffset, a.length);
}

test('the WebAssembly products and weights keep the JavaScript signs of zero, infinities and roundings', (t) => {
  const wasm = wasmFieldArithmetic();
  if (!wasm) {
    t.skip(`WebAssembly SIMD unavailable: ${wasmFieldUnavailableReason()}`);
    return;
  }
  // No NaN among the inputs (an FFT of loadTile's finite windows gives none): x86 propagates an input NaN's
  // sign by operand order, which the JIT chooses.
  const values = [0, -0, 1, -1, 1e-300, -3.5, 1e300, Math.PI, -Math.E, Infinity];
  const length = 2 * values.length ** 2;
  const [a, b, out, column, weight, g] = wasm.buffers(
    [length, length, length, length, length / 2, length],
    1,
  );
  values.forEach((u, i) =>
    values.forEach((v, j) => {
      const k = 2 * (i * values.length + j);
      [a[k], a[k + 1], b[k], b[k + 1]] = [u, v, v, -u];
      [column[k], column[k + 1]] = [u * 0.7, -v];
      weight[k / 2] = values[(i + j) % values.length];
    }),
  );
  const want = new Float64Array(length);
  jsFieldArithmetic.multiplyColumn(a, b, 0, want);
  wasm.multiplyColumn(a, b, 0, out);
  assert.deepEqual(bits64(out), bits64(want));
  const gJs = Float64Array.from(g);
  for (const set of [true, false]) {
    jsFieldArithmetic.weightRows(column, weight, gJs, 0, 1, length / 2 - 1, set);
    wasm.weightRows(column, weight, g, 0, 1, length / 2 - 1, set);
    assert.deepEqual(bits64(g), bits64(gJs), `set ${set}`);
  }
});

/** Every float64 of the prepared stamps, in order. */
function preparedBits(prepared: PreparedStamp[]): BigUint64Array[] {
  return prepared.flatMap((p) => [...p.columns, p.normal, p.rhs].map(bits64));
}

test('the WebAssembly stamp preparation gives the JavaScript columns and normal equations', async (t) => {
  if (!wasmStampPreparer()) {
    t.skip(`WebAssembly SIMD unavailable: ${wasmStampsUnavailableReason()}`);
    return;
  }
  const r = rng(31);
  const basis = alardLuptonBasis({ size: 9, sigmas: [0.8, 1.6, 3.2], degrees: [4, 2, 2] });
  // Full stamps (half 6) and smaller border ones, some pixels weighted 0.
  const stamps = [6, 6, 3, 6, 4, 6].map((half, k) => {
    const side = 2 * half + 1,
      big = side + basis.size - 1;
    const values = (length: number, scale: number) =>
      Float64Array.from({ length }, () => scale * (r() - 0.2));
    return {
      x: k,
      y: k,
      snr: 20,
      target: values(side * side, 100),
      source: values(big * big, 100),
      weight: values(side * side, 1).map((v) => (v < 0 ? 0 : v)),
    };
  });
  const pool = new WorkerPool(1);
  try {
    for (const p of [null, pool]) {
      const js = await prepareStamps(stamps, basis, p, 'js');
      const wasm = await prepareStamps(stamps, basis, p, 'wasm');
      assert.deepEqual(preparedBits(wasm), preparedBits(js), `pool ${!!p}`);
    }
  } finally {
    await pool.close();
  }
});

test('AP_KERNEL_ARITHMETIC forces the engine and rejects others', () => {
  const saved = process.env.AP_KERNEL_ARITHMETIC;
  try {
    process.env.AP_KERNEL_ARITHMETIC = 'js';
    assert.equal(kernelEngine(), 'js');
    process.env.AP_KERNEL_ARITHMETIC = 'gpu';
    assert.throws(() => kernelEngine(), /expected wasm or js/);
  } finally {
    if (saved === undefined) delete process.env.AP_KERNEL_ARITHMETIC;
    else process.env.AP_KERNEL_ARITHMETIC = saved;
  }
});
