// The WebAssembly SIMD FFT gives fft.js's bits: one complex transform (forward and inverse) at every
// power-of-two size 4 .. 4096 (both of fft.js's first steps, radix 2 and radix 4), and each pass of
// RealFft2 (forward with full, partial and wrapped row bands, inverse, inverseColumns, inverseRows,
// inverseColumn, inverseConjugateColumn, filterColumns) on random images of sizes 4 .. 256, with
// special values (signed zeros, huge and tiny numbers) in the inputs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import FFT from 'fft.js';
import { RealFft2 } from '../../shared/util/fft-real.js';
import { wasmFft, wasmFftUnavailableReason } from '../../shared/util/fft-wasm.js';

function random(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

const SPECIAL = [0, -0, 1e300, -1e-300, 5e-324, 1, -1];

/** `length` random values (with a few special ones), from `seed`. */
function values(length: number, seed: number): Float64Array {
  const uniform = random(seed);
  const out = Float64Array.from({ length }, () => 200 * (uniform() - 0.5));
  for (let k = 0; k < Math.min(8, length >> 2); k++)
    out[Math.floor(uniform() * length)] = SPECIAL[k % SPECIAL.length];
  return out;
}

/** Asserts two arrays hold the same bits. */
function sameBits(actual: Float64Array, expected: Float64Array, what: string): void {
  const a = new BigUint64Array(actual.buffer, actual.byteOffset, actual.length);
  const e = new BigUint64Array(expected.buffer, expected.byteOffset, expected.length);
  assert.equal(a.length, e.length, what);
  for (let i = 0; i < a.length; i++)
    if (a[i] !== e[i]) assert.fail(`${what}: value ${i} is ${actual[i]}, fft.js ${expected[i]}`);
}

const wasm = wasmFft();
const skip = wasm ? false : `WebAssembly SIMD unavailable: ${wasmFftUnavailableReason()}`;

test('one complex transform, forward and inverse, sizes 4 .. 4096: fft.js bits', { skip }, () => {
  for (let n = 4; n <= 4096; n *= 2) {
    const fft = new FFT(n);
    const data = values(2 * n, n);
    for (const inverse of [false, true]) {
      const expected = new Float64Array(2 * n);
      if (inverse) fft.inverseTransform(expected, data);
      else fft.transform(expected, data);
      const actual = new Float64Array(2 * n);
      wasm!.transform(n, actual, data, inverse);
      sameBits(actual, expected, `n ${n} ${inverse ? 'inverse' : 'forward'}`);
    }
  }
});

test("RealFft2's passes in WebAssembly, sizes 4 .. 256: fft.js bits", { skip }, () => {
  for (let n = 4; n <= 256; n *= 2) {
    const [js, wa] = [new RealFft2(n, 'js'), new RealFft2(n, 'wasm')];
    const image = values(n * n, 3 * n);
    const bands: Array<[number, number]> = [
      [0, n],
      [1, n - 1],
      [n - 1, 2],
      [n / 2, n / 2 + 1],
      [0, 0],
    ];
    const both = (
      run: (fft: RealFft2, out: Float64Array) => void,
      length: number,
      what: string,
    ) => {
      const [e, a] = [new Float64Array(length), new Float64Array(length)];
      run(js, e);
      run(wa, a);
      sameBits(a, e, `n ${n} ${what}`);
    };
    for (const [y0, y1] of bands)
      both(
        (f, out) => f.forward(image, out, y0, y1),
        js.allocSpectrum().length,
        `forward ${y0}..${y1}`,
      );
    const spectrum = values(js.allocSpectrum().length, 5 * n);
    both((f, out) => f.inverseColumns(spectrum, out), spectrum.length, 'inverseColumns');
    for (const [y0, y1] of [
      [0, n],
      [1, n - 1],
      [1, n],
      [2, 3],
    ]) {
      both((f, out) => f.inverse(spectrum, out, y0, y1), n * n, `inverse ${y0}..${y1}`);
      both((f, out) => f.inverseRows(spectrum, out, y0, y1), n * n, `inverseRows ${y0}..${y1}`);
    }
    // A band reaching outside [0, n) runs fft.js's passes in both.
    both((f, out) => f.inverse(spectrum, out, -1, n), n * n, 'inverse -1..n');
    const column = spectrum.subarray(0, 2 * n);
    both((f, out) => f.inverseColumn(column, out), 2 * n, 'inverseColumn');
    both((f, out) => f.inverseConjugateColumn(column, out), 2 * n, 'inverseConjugateColumn');
    const filter = (kx: number, c: Float64Array) => {
      for (let i = 0; i < c.length; i++) c[i] *= 1 / (1 + kx + i);
    };
    for (const [y0, y1, r0, r1] of [
      [0, n, 0, n],
      [n - 1, 1, 1, n - 1],
    ])
      both(
        (f, out) => f.filterColumns(image, y0, y1, filter, out, r0, r1),
        n * n,
        `filterColumns ${y0}..${y1} -> ${r0}..${r1}`,
      );
  }
});
