/**
 * The kernel's spatial order chosen per pair by cross-validation (issue 15): the order 0..max whose fit
 * best predicts held-out candidates (Hastie, Tibshirani & Friedman 2009, sect. 7.10). A spatially
 * constant kernel seen through noisy candidates needs no polynomial (a fixed order 2 fits the noise
 * and extrapolates it); a PSF that widens quadratically towards the corners keeps order 2.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alardLuptonBasis } from '../../shared/diffim/basis.js';
import type { CandidateStamp } from '../../shared/diffim/candidates.js';
import { fitKernel, type KernelFitOptions } from '../../shared/diffim/kernel-fit.js';
import { mulberry32 } from '../../shared/util/random.js';

const SIZE = 400;
const SH = 8,
  KH = 3;
const basis = alardLuptonBasis({ size: 2 * KH + 1, sigmas: [0.8, 1.6, 3.2], degrees: [2, 1, 1] });
const FIXED: KernelFitOptions = {
  spatialOrder: 2,
  backgroundOrder: 0,
  residualMeanMax: 0.25,
  residualStdMax: 1.5,
  kernelSumSigmaMax: 3,
  maxIterations: 3,
};
const CV: KernelFitOptions = { ...FIXED, spatialOrderSelection: 'cv' };

/** A unit-flux Gaussian of `sigma` times `flux` on an n x n stamp centred at its middle. */
function star(n: number, sigma: number, flux: number): Float64Array {
  const h = (n - 1) / 2;
  return Float64Array.from(
    { length: n * n },
    (_, i) =>
      (flux / (2 * Math.PI * sigma * sigma)) *
      Math.exp(-(((i % n) - h) ** 2 + (Math.floor(i / n) - h) ** 2) / (2 * sigma * sigma)),
  );
}

/** 5 x 5 candidates; the target's sigma at normalised position (xi, eta) is `sigmaAt`; Gaussian noise `noise` on the target. */
function stamps(sigmaAt: (xi: number, eta: number) => number, noise: number): CandidateStamp[] {
  const rand = mulberry32(15);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const side = 2 * SH + 1,
    big = 2 * (SH + KH) + 1;
  const out: CandidateStamp[] = [];
  for (const fx of [0.1, 0.3, 0.5, 0.7, 0.9])
    for (const fy of [0.1, 0.3, 0.5, 0.7, 0.9]) {
      const [x, y] = [fx * (SIZE - 1), fy * (SIZE - 1)];
      const sigma = sigmaAt(2 * fx - 1, 2 * fy - 1);
      out.push({
        x,
        y,
        snr: 100,
        source: star(big, 1.2, 10000),
        target: star(side, sigma, 10000).map((v) => v + noise * gauss()),
        weight: new Float64Array(side * side).fill(1 / (noise * noise)),
      });
    }
  return out;
}

test("cross-validation drops the spatial polynomial of a constant kernel seen through noise; 'fixed' keeps order 2", () => {
  const flat = stamps(() => 1.8, 5);
  assert.equal(fitKernel(flat, basis, SIZE, SIZE, FIXED).solution.spatialOrder, 2);
  assert.equal(fitKernel(flat, basis, SIZE, SIZE, CV).solution.spatialOrder, 0);
});

test('cross-validation keeps order 2 for a PSF widening quadratically towards the corners', () => {
  const varying = stamps((xi, eta) => 1.5 + 0.4 * (xi * xi + eta * eta), 1);
  assert.equal(fitKernel(varying, basis, SIZE, SIZE, CV).solution.spatialOrder, 2);
});
