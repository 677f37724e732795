// The WebAssembly SIMD resampler gives the JavaScript one's bits: image, variance and mask planes,
// covered pixels, sum of squared weights and phase histograms, over affine maps that keep a piece
// of rows one tile (small rotation), cut it into tiles (45 degrees, a 1.7x scale), cross the
// template's edges, and with the Lanczos-2 kernel (the general path only).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MaskPlane } from '../../shared/image/mask.js';
import type { KernelName } from '../../shared/warp/lanczos.js';
import { phaseHistograms, resampleRows, type ResampleJob } from '../../shared/warp/resample.js';
import { wasmResampler, wasmUnavailableReason } from '../../shared/warp/resample-wasm.js';

const NODE_SPACING = 16;

/** Template and output sides, pixels. */
type Sizes = [number, number];

function random(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

/** Template pixel = offset + R(rotation) * scale * output pixel, on mapping nodes every NODE_SPACING pixels. */
function affineJob(
  kernel: KernelName,
  rotationDeg: number,
  scale: number,
  offset: [number, number],
  [SRC, OUT]: Sizes,
): ResampleJob {
  const uniform = random(7);
  const n = SRC * SRC;
  const srcImage = Float32Array.from({ length: n }, () => 100 * (uniform() - 0.3));
  const srcVariance = Float32Array.from({ length: n }, () => 10 + uniform());
  const srcMask = new Int32Array(n);
  for (let k = 0; k < 40; k++) srcMask[Math.floor(uniform() * n)] = MaskPlane.SAT;
  for (let k = 0; k < 5; k++) {
    const i = Math.floor(uniform() * n);
    srcVariance[i] = NaN;
    srcMask[i] |= MaskPlane.NO_DATA;
  }
  const nodes = Float64Array.from({ length: Math.ceil((OUT - 1) / NODE_SPACING) + 1 }, (_v, i) =>
    Math.min(OUT - 1, i * NODE_SPACING),
  );
  const theta = (rotationDeg * Math.PI) / 180;
  const [c, s] = [scale * Math.cos(theta), scale * Math.sin(theta)];
  const grid = (f: (x: number, y: number) => number) =>
    Float64Array.from({ length: nodes.length ** 2 }, (_v, i) =>
      f(nodes[i % nodes.length], nodes[Math.floor(i / nodes.length)]),
    );
  return {
    kernel,
    srcWidth: SRC,
    srcHeight: SRC,
    srcImage,
    srcVariance,
    srcMask,
    mapping: {
      nodesX: nodes,
      nodesY: nodes,
      srcX: grid((x, y) => offset[0] + c * x - s * y),
      srcY: grid((x, y) => offset[1] + s * x + c * y),
      area: grid(() => scale * scale),
    },
    outWidth: OUT,
    outImage: new Float32Array(OUT * OUT),
    outVariance: new Float32Array(OUT * OUT),
    outMask: new Int32Array(OUT * OUT),
    noDataValue: NaN,
  };
}

const bits = (a: Float32Array | Int32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

const cases: Array<[string, KernelName, number, number, [number, number], Sizes]> = [
  ['0.05 deg rotation inside the template', 'lanczos3', 0.05, 1, [4.3, 3.7], [160, 150]],
  ['0.05 deg rotation over the edges', 'lanczos3', 0.05, 1, [-20.2, 30.6], [160, 150]],
  // A piece of 32 rows 500 wide reaches ~600 x 600 template pixels: cut into tiles.
  ['45 deg rotation, 1.7x scale (tiles)', 'lanczos3', 45, 1.7, [300.1, -40.4], [600, 500]],
  ['Lanczos-2, 10 deg rotation', 'lanczos2', 10, 1.02, [12.5, -3.2], [160, 150]],
];

for (const [name, kernel, rotation, scale, offset, sizes] of cases) {
  test(`WebAssembly and JavaScript resamplers give the same bits: ${name}`, (t) => {
    if (!wasmResampler()) {
      t.skip(`WebAssembly SIMD unavailable here: ${wasmUnavailableReason()}`);
      return;
    }
    const jobs = {
      js: affineJob(kernel, rotation, scale, offset, sizes),
      wasm: affineJob(kernel, rotation, scale, offset, sizes),
    };
    // Two bands of rows, the second not starting on a piece or cell boundary.
    const stats = (engine: 'js' | 'wasm') => {
      const job = jobs[engine];
      const histograms = phaseHistograms(job);
      const first = resampleRows(job, 0, 77, histograms, engine);
      const second = resampleRows(job, 77, sizes[1], histograms, engine);
      return { first, second };
    };
    const js = stats('js');
    const wasm = stats('wasm');
    assert.deepEqual(bits(jobs.wasm.outImage), bits(jobs.js.outImage));
    assert.deepEqual(bits(jobs.wasm.outVariance), bits(jobs.js.outVariance));
    assert.deepEqual(jobs.wasm.outMask, jobs.js.outMask);
    for (const band of ['first', 'second'] as const) {
      assert.equal(wasm[band].covered, js[band].covered);
      assert.ok(Object.is(wasm[band].sumSquaredWeights, js[band].sumSquaredWeights));
    }
    assert.deepEqual(wasm.second.phasesX, js.second.phasesX);
    assert.deepEqual(wasm.second.phasesY, js.second.phasesY);
    // The case exercises what its name says: covered and uncovered pixels, edges, data.
    const covered = js.first.covered + js.second.covered;
    assert.ok(covered > 0 && covered < sizes[1] ** 2);
  });
}
