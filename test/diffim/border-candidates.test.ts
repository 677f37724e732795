/**
 * Kernel candidates at the border (issue 15): a star too near the edge for a full stamp plus the kernel's reach is
 * still a candidate on the largest stamp that fits there, so the kernel's spatial polynomial is constrained where it
 * would otherwise extrapolate (ip_diffim and HOTPANTS spread stamps over the whole image for the same reason); a
 * border stamp whose own fit is much worse than the full stamps' (a cut or odd star) is rejected.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alardLuptonBasis } from '../../shared/diffim/basis.js';
import { selectCandidates, type CandidateStamp } from '../../shared/diffim/candidates.js';
import { fitKernel, type KernelFitOptions } from '../../shared/diffim/kernel-fit.js';
import { Exposure } from '../../shared/image/exposure.js';
import { mulberry32 } from '../../shared/util/random.js';

const N = 120,
  SH = 8,
  KH = 3;

/** A pair of identical noisy frames with Gaussian stars (sigma 1.5 px) at `stars`. */
function frame(stars: Array<[number, number]>, seed: number): Exposure {
  const e = Exposure.blank(N, N);
  const rand = mulberry32(seed);
  for (let y = 0; y < N; y++)
    for (let x = 0; x < N; x++) {
      let v = 100 + (rand() - 0.5) * Math.sqrt(12);
      for (const [sx, sy] of stars)
        v += (5000 / (2 * Math.PI * 2.25)) * Math.exp(-((x - sx) ** 2 + (y - sy) ** 2) / 4.5);
      e.image.set(x, y, v);
      e.variance.set(x, y, 1);
    }
  return e;
}

const options = { grid: 1, perCell: 3, minSnr: 30, stampHalf: SH, kernelHalf: KH, fwhm: 3.5 };

test('a star too near the border for a full stamp is a candidate on a smaller stamp, only when asked', () => {
  const stars: Array<[number, number]> = [
    [60, 60],
    [60, 8],
  ];
  const [t, s] = [frame(stars, 1), frame(stars, 2)];
  const off = selectCandidates(t, s, { ...options, borderStampHalf: SH });
  assert.deepEqual(
    off.map((c) => [c.x, c.y]),
    [[60, 60]],
  );
  const on = selectCandidates(t, s, { ...options, borderStampHalf: 4 });
  const border = on.find((c) => c.y === 8);
  assert.ok(border, 'the border star is a candidate');
  const half = 8 - KH; // the largest stamp whose source reaches no further than the edge
  assert.equal(border.target.length, (2 * half + 1) ** 2);
  assert.equal(border.source.length, (2 * (half + KH) + 1) ** 2);
  assert.equal(border.weight.length, border.target.length);
  assert.equal(
    on.find((c) => c.y === 60)?.target.length,
    (2 * SH + 1) ** 2,
    'full stamps unchanged',
  );
});

const basis = alardLuptonBasis({ size: 2 * KH + 1, sigmas: [0.8, 1.6], degrees: [1, 1] });
const rand = mulberry32(7);
const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
const gaussian = (n: number, sigma: number): Float64Array => {
  const h = (n - 1) / 2;
  return Float64Array.from(
    { length: n * n },
    (_, i) =>
      (1e4 / (2 * Math.PI * sigma * sigma)) *
      Math.exp(-(((i % n) - h) ** 2 + (Math.floor(i / n) - h) ** 2) / (2 * sigma * sigma)),
  );
};
/** A candidate at (x, y) on a stamp of half-side `half`, its target with Gaussian noise `spread` (unit weights). */
const candidate = (x: number, y: number, half: number, spread: number): CandidateStamp => {
  const side = 2 * half + 1;
  return {
    x,
    y,
    snr: 100,
    source: gaussian(2 * (half + KH) + 1, 1.2),
    target: gaussian(side, 1.8).map((v) => v + spread * gauss()),
    weight: new Float64Array(side * side).fill(1),
  };
};
const OPT: KernelFitOptions = {
  spatialOrder: 0,
  backgroundOrder: 0,
  residualMeanMax: 0.25,
  residualStdMax: 3,
  kernelSumSigmaMax: Infinity, // the noisier stamp's kernel sum is further out too: these tests are about other things
  maxIterations: 0,
};

test('a border stamp whose own fit is far worse than the full stamps is rejected', () => {
  const stamps = [20, 60, 100].flatMap((x) => [20, 60, 100].map((y) => candidate(x, y, SH, 1)));
  stamps.push(candidate(60, 6, 4, 2.5)); // its residual scatter ~2.5 against the full stamps' ~1
  const last = (o: KernelFitOptions) =>
    fitKernel(stamps, basis, N, N, o).candidates.at(-1)?.rejected;
  assert.equal(last(OPT), '');
  assert.equal(last({ ...OPT, borderResidualStdMax: 1.5 }), 'singleResidual');
});

test('a small border stamp counts for its pixels, not as a full candidate, when the spatial order is set by the count', () => {
  // Order 1 needs 2 x 3 candidates: five full stamps and a sixth, full or on the border.
  const five = [20, 40, 60, 80, 100].map((x) => candidate(x, 60, SH, 1));
  const order = (sixth: CandidateStamp) =>
    fitKernel([...five, sixth], basis, N, N, { ...OPT, spatialOrder: 1 }).solution.spatialOrder;
  assert.equal(order(candidate(60, 100, SH, 1)), 1);
  assert.equal(order(candidate(60, 6, 3, 1)), 0);
});
