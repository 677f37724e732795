import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  characterizeOverridesFor,
  DEFAULT_ILLUMINATION_CONFIG,
  fineSky,
  isStructuredSky,
  readIllumination,
  resubtractFineSky,
  subtractResidualBackground,
} from '../../shared/diffim/illumination.js';
import { characterizeImage } from '../../shared/characterize/characterize.js';
import { MaskPlane } from '../../shared/image/mask.js';
import { simulateNight } from '../../shared/sim/night.js';
import { Plane } from '../../shared/image/plane.js';
import { mulberry32 } from '../../shared/util/random.js';
import { median } from '../../shared/util/stats.js';

/** A 512^2 sky of 1000 with Poisson-like noise (sigma 30), times `response(x, y)`. */
function sky(response: (x: number, y: number) => number) {
  const rand = mulberry32(7);
  const image = Plane.zeros(Float32Array, 512, 512);
  for (let y = 0; y < 512; y++) {
    const row = image.row(y);
    for (let x = 0; x < 512; x++) {
      const gauss = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
      row[x] = response(x, y) * (1000 + 30 * gauss);
    }
  }
  return image;
}

// The illumination (a 16 px mesh of both images, ~1.5 CPU-s each at 4k) is modelled only on structured skies.
test('isStructuredSky: a flat sky or a 6 % gradient is not structured; a vignetted corner or a 70 px dimmed band is', () => {
  const structured = (response: (x: number, y: number) => number): boolean =>
    isStructuredSky({ image: sky(response) });
  assert.equal(
    structured(() => 1),
    false,
  );
  assert.equal(
    structured((x) => 1 - (0.06 * x) / 512),
    false,
  );
  assert.equal(
    structured((x, y) => (Math.hypot(x - 256, y - 256) > 260 ? 0.5 : 1)),
    true,
  );
  assert.equal(
    structured((x) => (x >= 200 && x < 270 ? 0.7 : 1)),
    true,
  );
});

test('resubtractFineSky: on a vignetted frame without a variance plane, the edge gets its CCD variance and its cosmic rays flagged', () => {
  // An unflattened small-telescope frame as the issue describes: no variance plane (derived from
  // the CCD equation and the background), cosmic rays on the fall-off edge, where the
  // characterization's mesh background is off by up to hundreds of ADU.
  const size = 512;
  const image = simulateNight({ size, seed: 2, visits: 1, vignetteRadius: 0.8 }).visits[0];
  const trueVariance = Float32Array.from(image.exposure.variance.data);
  image.exposure.variance.data.fill(0);
  const c = characterizeImage(image.exposure, characterizeOverridesFor(true, {}));
  assert.equal(c.variance.origin, 'ccd');
  const fine = fineSky(
    image.exposure,
    c.background.map,
    DEFAULT_ILLUMINATION_CONFIG.responseMeshPx,
  );
  const illumination = readIllumination(image.exposure, c.background.map, fine);
  assert.ok(illumination?.sky, 'the radial model holds');
  resubtractFineSky(image.exposure, c, illumination.sky);
  // Derived over truth, on blank sky: on the edge (response 0.2-0.8) as in the clear field.
  const edge: number[] = [];
  const clear: number[] = [];
  let crs = 0;
  let missed = 0;
  for (let i = 0; i < size * size; i++) {
    const r = image.response!.data[i];
    const onEdge = r > 0.2 && r < 0.8;
    if (image.crMask.data[i] & MaskPlane.CR) {
      if (onEdge) crs++;
      if (onEdge && !(image.exposure.mask.data[i] & MaskPlane.CR)) missed++;
    } else if (!image.exposure.mask.data[i] && (onEdge || r === 1))
      (onEdge ? edge : clear).push(image.exposure.variance.data[i] / trueVariance[i]);
  }
  const quantile = (v: number[], q: number): number =>
    v.sort((a, b) => a - b)[Math.floor(q * (v.length - 1))];
  assert.ok(crs >= 20, `${crs} cosmic-ray pixels on the edge`);
  // Before: 9 of 31 unflagged, and the 2 % lowest edge variances 17 % below the clear field's.
  assert.ok(missed <= 1, `${missed} of ${crs} cosmic-ray pixels on the edge unflagged`);
  const low = quantile(edge, 0.02) / quantile(clear, 0.5);
  assert.ok(low > 0.95, `edge variance (2nd percentile) / clear field's ${low.toFixed(3)}`);
});

test('subtractResidualBackground: a 1-sigma pedestal of 512 px period under a 7 px PSF is taken out to < 0.15 sigma rms in 32 px blocks', async () => {
  // The independent pairs' curved difference skies (shared/diffim/README.md): an 8-FWHM mesh left 0.29 sigma rms here.
  const n = 512;
  const rand = mulberry32(11);
  const image = Plane.zeros(Float32Array, n, n);
  const variance = Plane.zeros(Float32Array, n, n).fill(1);
  const mask = Plane.zeros(Int32Array, n, n);
  const pedestal = (x: number, y: number) =>
    Math.cos((2 * Math.PI * x) / n) * Math.cos((2 * Math.PI * y) / n);
  for (let y = 0; y < n; y++) {
    const row = image.row(y);
    for (let x = 0; x < n; x++) {
      const gauss = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
      row[x] = pedestal(x, y) + gauss;
    }
  }
  assert.ok((await subtractResidualBackground(image, mask, variance, 7)).applied);
  let sum2 = 0;
  let blocks = 0;
  for (let by = 0; by < n; by += 32) {
    for (let bx = 0; bx < n; bx += 32) {
      const block: number[] = [];
      for (let y = by; y < by + 32; y++)
        for (let x = bx; x < bx + 32; x++) block.push(image.get(x, y));
      sum2 += median(block) ** 2;
      blocks++;
    }
  }
  const rms = Math.sqrt(sum2 / blocks);
  assert.ok(rms < 0.15, `rms of the 32 px block medians ${rms.toFixed(2)} sigma`);
});

test('subtractResidualBackground: a sky curvature rising to the edges (1.5 sigma at the corners) is followed inside the EDGE band to < 0.03 sigma', async () => {
  // The independent pairs' skies (science and template drawn with different curvature): the mesh's median filter
  // cut the outer cells' rise and left 0.10 sigma here in the first 12 px inside the band (main at 704d3bc).
  const [n, edge] = [512, 17];
  const rand = mulberry32(11);
  const image = Plane.zeros(Float32Array, n, n);
  const variance = Plane.zeros(Float32Array, n, n).fill(1);
  const mask = Plane.zeros(Int32Array, n, n);
  for (let y = 0; y < n; y++)
    for (let x = 0; x < n; x++) {
      const [u, v] = [x / n - 0.5, y / n - 0.5];
      const gauss = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
      image.set(x, y, 1.5 * 4 * (u * u + v * v) + 0.3 * u + gauss);
      if (Math.min(x, y, n - 1 - x, n - 1 - y) < edge) mask.set(x, y, MaskPlane.EDGE);
    }
  assert.ok((await subtractResidualBackground(image, mask, variance, 6)).applied);
  const band: number[] = [];
  for (let y = 0; y < n; y++)
    for (let x = 0; x < n; x++)
      if (!mask.get(x, y) && Math.min(x, y, n - 1 - x, n - 1 - y) < edge + 12)
        band.push(image.get(x, y));
  const mean = band.reduce((a, b) => a + b, 0) / band.length;
  assert.ok(
    Math.abs(mean) < 0.03,
    `mean of the first 12 px inside the EDGE band ${mean.toFixed(3)} sigma`,
  );
});
