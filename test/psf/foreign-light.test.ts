/**
 * Foreign light in the PSF stars' stamps (undetected faint sources, galaxies' outskirts) adds
 * b / f to a star's normalised stamp and would widen the model's wings, lowering its core under the
 * unit-sum normalisation: PSF fluxes measured with it would come out high. The fit takes the limit
 * f -> infinity of the stack (see shared/psf/fit-psf.ts), so the PSF-fit flux of the true PSF with
 * the model is the truth's fraction within the model's stamp, to a few tenths of a percent.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fitPixelPsf } from '../../shared/psf/fit-psf.js';
import type { Psf } from '../../shared/psf/types.js';
import { MoffatPsf } from '../../shared/sim/moffat.js';
import { rngStream } from '../../shared/sim/random.js';
import { simulateNight } from '../../shared/sim/index.js';
import { characterizeImage } from '../../shared/characterize/characterize.js';
import { Exposure } from '../../shared/image/exposure.js';

const POSITIONS: Array<[number, number]> = [
  [0.5, 0.5],
  [0.2, 0.8],
  [0.8, 0.2],
  [0.3, 0.3],
];

/**
 * Mean over POSITIONS (fractions of the frame) of the noise-free PSF-fit flux of the true PSF
 * with the model, sum(p q) / sum(p^2), and of the truth's flux within the model's stamp.
 */
function fluxOfTruth(
  model: Psf,
  truth: Psf,
  width: number,
  height: number,
): { ratio: number; inStamp: number } {
  let ratio = 0;
  let inStamp = 0;
  for (const [fx, fy] of POSITIONS) {
    const x = Math.round(fx * (width - 1));
    const y = Math.round(fy * (height - 1));
    const p = model.stampAt(x, y, true);
    const q = truth.stampAt(x, y, true);
    const hp = (p.size - 1) / 2;
    const hq = (q.size - 1) / 2;
    let spq = 0;
    let spp = 0;
    for (let v = -hp; v <= hp; v++) {
      for (let u = -hp; u <= hp; u++) {
        const pv = p.data[(v + hp) * p.size + u + hp];
        const qv = q.data[(v + hq) * q.size + u + hq];
        spq += pv * qv;
        spp += pv * pv;
        inStamp += qv / POSITIONS.length;
      }
    }
    ratio += spq / spp / POSITIONS.length;
  }
  return { ratio, inStamp };
}

describe('PSF model under foreign light', () => {
  test('stars over a sea of undetected faint stars: the model recovers the truth; without the foreign-light fit it is >1% bright', () => {
    const size = 768;
    const truth = new MoffatPsf({
      size,
      fwhm: 4.5,
      beta: 2.5,
      gradU: 0.03,
      gradV: -0.02,
      curvature: 0.02,
      e1c: 0.03,
      e2c: -0.02,
      astig: 0.02,
    });
    const rng = rngStream(5, 'foreign-light');
    const image = new Float32Array(size * size);
    const draw = (x: number, y: number, flux: number): void => {
      const q = truth.stampAt(x, y);
      const h = (q.size - 1) / 2;
      for (let v = -h; v <= h; v++) {
        for (let u = -h; u <= h; u++) {
          const xx = Math.round(x) + u;
          const yy = Math.round(y) + v;
          if (xx >= 0 && yy >= 0 && xx < size && yy < size)
            image[yy * size + xx] += flux * q.data[(v + h) * q.size + u + h];
        }
      }
    };
    // PSF stars 7e3-2e5 ADU (SNR ~35-1000) on a jittered grid; 1,700 stars of 300-3,000 ADU (below
    // a 5-sigma detection) add ~1 ADU per pixel on average, as in the crowded simulated fields.
    const stars: Array<{ x: number; y: number; flux: number }> = [];
    for (let gy = 40; gy < size - 40; gy += 64) {
      for (let gx = 40; gx < size - 40; gx += 64) {
        const star = {
          x: gx + 10 * rng.uniform(),
          y: gy + 10 * rng.uniform(),
          flux: 7e3 * Math.pow(30, rng.uniform()),
        };
        draw(star.x, star.y, star.flux);
        stars.push(star);
      }
    }
    for (let k = 0; k < 1700; k++)
      draw(size * rng.uniform(), size * rng.uniform(), 300 * Math.pow(10, rng.uniform()));
    const sky = 27;
    for (let k = 0; k < image.length; k++) image[k] += sky * rng.normal();
    const input = {
      residual: image,
      variance: new Float32Array(size * size).fill(sky * sky),
      bad: new Uint8Array(size * size),
      width: size,
      height: size,
    };
    const fwhm = truth.fwhmAt(size / 2, size / 2);
    const fitted = fluxOfTruth(fitPixelPsf(input, stars, stars, fwhm).psf, truth, size, size);
    const unfitted = fluxOfTruth(
      fitPixelPsf(input, stars, stars, fwhm, { foreignLightFwhm: Infinity }).psf,
      truth,
      size,
      size,
    );
    assert.ok(
      unfitted.ratio - unfitted.inStamp > 0.01,
      `without the foreign-light fit ${unfitted.ratio.toFixed(4)} vs ${unfitted.inStamp.toFixed(4)} in the stamp`,
    );
    assert.ok(
      Math.abs(fitted.ratio - fitted.inStamp) < 0.003,
      `PSF-fit flux of the truth ${fitted.ratio.toFixed(4)} vs ${fitted.inStamp.toFixed(4)} in the stamp`,
    );
  });

  test('a crowded simulated field (2,000 stars and 300 galaxies per Mpix): PSF-fit flux of the true PSF within 0.5% of 1', () => {
    const night = simulateNight({
      size: 1024,
      seed: 11,
      visits: 1,
      templateSeeing: 'better',
      starsPerMegapixel: 2000,
      galaxiesPerMegapixel: 300,
      streakProbability: 0,
      movingPerMegapixel: 0,
      transientsPerMegapixel: 150,
      transientMagSpan: [5, 0],
    });
    const sim = night.visits[0].exposure;
    const exposure = new Exposure(
      sim.image.clone(),
      sim.mask.clone(),
      sim.variance.clone(),
      sim.wcs,
      sim.psf,
      sim.info,
    );
    characterizeImage(exposure);
    const { ratio } = fluxOfTruth(
      exposure.psf as Psf,
      sim.psf as Psf,
      exposure.width,
      exposure.height,
    );
    // Before the foreign-light fit: 1.0121.
    assert.ok(
      Math.abs(ratio - 1) < 0.005,
      `PSF-fit flux of the true PSF with the model ${ratio.toFixed(4)}`,
    );
  });
});
