// The WebAssembly SIMD correlation (separable-wasm.ts) gives the JavaScript's bits: random planes with
// special values (signed zeros, huge and tiny numbers), widths even, odd and narrower than the kernel,
// row bands at the top, middle and bottom, one symmetric term, two, and a non-symmetric one beside a
// symmetric one (which then run in the JavaScript and WebAssembly in turn, into the same output).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { correlateSeparableRows, type SeparableTerm } from '../../shared/detect/separable.js';
import { separableDescription, wasmSeparable } from '../../shared/detect/separable-wasm.js';

function random(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

const SPECIAL = [0, -0, 1e30, -1e-30, 1e-45, 1, -1];

function plane(length: number, seed: number): Float32Array {
  const uniform = random(seed);
  const out = Float32Array.from({ length }, () => 200 * (uniform() - 0.5));
  for (let k = 0; k < Math.min(16, length >> 2); k++)
    out[Math.floor(uniform() * length)] = SPECIAL[k % SPECIAL.length];
  return out;
}

/** A mirror-symmetric factor of 2r + 1 taps (a sampled Gaussian), or a lopsided one. */
function factor(r: number, sigma: number, symmetric = true): Float64Array {
  return Float64Array.from({ length: 2 * r + 1 }, (_, i) =>
    symmetric ? Math.exp(-(((i - r) / sigma) ** 2) / 2) : 1 / (1 + i),
  );
}

function sameBits(actual: Float32Array, expected: Float32Array, what: string): void {
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const e = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let i = 0; i < a.length; i++)
    if (a[i] !== e[i])
      assert.fail(`${what}: pixel ${i} is ${actual[i]}, JavaScript ${expected[i]}`);
}

const skip = wasmSeparable() ? false : separableDescription();

test(
  'symmetric terms in WebAssembly SIMD: the JavaScript bits, every size and band',
  { skip },
  () => {
    const cases: Array<{ width: number; height: number; terms: SeparableTerm[] }> = [
      { width: 64, height: 40, terms: [{ u: factor(5, 1.9), v: factor(5, 1.9) }] },
      { width: 61, height: 33, terms: [{ u: factor(3, 1.2), v: factor(3, 1.5) }] },
      { width: 7, height: 20, terms: [{ u: factor(5, 2), v: factor(5, 2) }] },
      {
        width: 50,
        height: 30,
        terms: [
          { u: factor(4, 1.4), v: factor(4, 1.7) },
          { u: factor(4, 3), v: factor(4, 0.8) },
        ],
      },
      {
        width: 45,
        height: 26,
        terms: [
          { u: factor(2, 1, false), v: factor(2, 1) },
          { u: factor(2, 1.3), v: factor(2, 0.9) },
        ],
      },
    ];
    for (const [n, { width, height, terms }] of cases.entries()) {
      const input = plane(width * height, 7 + n);
      for (const [y0, y1] of [
        [0, height],
        [0, 3],
        [5, 17],
        [height - 4, height],
      ]) {
        const js = new Float32Array(width * height);
        const wasm = new Float32Array(width * height);
        correlateSeparableRows(input, width, height, terms, js, y0, y1, 'js');
        correlateSeparableRows(input, width, height, terms, wasm, y0, y1, 'wasm');
        sameBits(wasm, js, `case ${n}, rows ${y0}-${y1}`);
      }
    }
  },
);
