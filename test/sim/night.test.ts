/**
 * Acceptance of the simulated night: PSF, background, noise, star counts, defects, transients,
 * and the truth table's expected SNR against forced PSF photometry on the simulated noise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MaskPlane } from '../../shared/image/mask.js';
import { DEFAULT_SIM_CONFIG } from '../../shared/sim/config.js';
import { moffatAlpha } from '../../shared/sim/moffat.js';
import { simulateNight, type SimulatedImage } from '../../shared/sim/night.js';
import { magToAdu } from '../../shared/sim/render.js';
import { expectedSnr, type SnrContext } from '../../shared/sim/truth.js';

const CONFIG = { size: 768, seed: 11, visits: 2 };
const night = simulateNight(CONFIG);
/** The same night without transients: every other random stream is untouched. */
const quiet = simulateNight({ ...CONFIG, transientsPerMegapixel: 0 });
const size = CONFIG.size;

function snrContext(science: SimulatedImage, template: SimulatedImage): SnrContext {
  const e = science.exposure;
  const t = template.exposure;
  if (!e.psf || !e.wcs || !t.wcs) throw new Error('simulated exposures carry a PSF and a WCS');
  return {
    sciencePsf: e.psf,
    scienceVariance: e.variance,
    scienceWcs: e.wcs,
    templateVariance: t.variance,
    templateWcs: t.wcs,
    templateScale: 10 ** (0.4 * (e.info.zeroPoint - t.info.zeroPoint)),
  };
}

test('the same seed gives the same pixels; another seed does not', () => {
  const a = simulateNight({ size: 128, seed: 5, visits: 1 });
  const b = simulateNight({ size: 128, seed: 5, visits: 1 });
  const c = simulateNight({ size: 128, seed: 6, visits: 1 });
  assert.deepEqual(a.visits[0].exposure.image.data, b.visits[0].exposure.image.data);
  assert.deepEqual(a.truth, b.truth);
  assert.notDeepEqual(a.visits[0].exposure.image.data, c.visits[0].exposure.image.data);
});

test('visit parameters: FWHM, beta, template seeing, dithers, rotations, zero points and epochs as configured', () => {
  const [template, ...visits] = night.specs;
  const c = (size - 1) / 2;
  const sciFwhm = visits.map((v) => v.psf.fwhmAt(c, c));
  for (const f of sciFwhm)
    assert.ok(f >= DEFAULT_SIM_CONFIG.fwhmRangePx[0] && f <= DEFAULT_SIM_CONFIG.fwhmRangePx[1]);
  const tFwhm = template.psf.fwhmAt(c, c);
  assert.ok(
    tFwhm < Math.min(...sciFwhm) || tFwhm > Math.max(...sciFwhm),
    'template seeing is better or worse than every visit',
  );
  for (const spec of night.specs) {
    assert.ok(spec.psf.field.beta >= 3 && spec.psf.field.beta <= 4.5);
    const f = [0, size - 1].flatMap((x) => [0, size - 1].map((y) => spec.psf.fwhmAt(x, y)));
    const spread =
      (Math.max(...f, spec.psf.fwhmAt(c, c)) - Math.min(...f, spec.psf.fwhmAt(c, c))) /
      spec.psf.fwhmAt(c, c);
    assert.ok(spread > 0.03 && spread < 0.15, `FWHM spread across the detector ${spread}`);
    const jac = spec.wcs.jacobian(c, c);
    assert.ok(Math.abs(jac.pixelScaleArcsec - 0.2) < 0.002);
    const rot = Math.abs(jac.rotationDeg);
    assert.ok(rot >= 0.009 && rot <= 0.051, `rotation ${jac.rotationDeg}`);
  }
  // Dithers: the same sky lands tens of pixels apart in different visits.
  const sky = visits[0].wcs.pixelToSky({ x: Float64Array.of(c), y: Float64Array.of(c) });
  const p = visits[1].wcs.skyToPixel(sky);
  const shift = Math.hypot(p.x[0] - c, p.y[0] - c);
  assert.ok(shift > 1 && shift < 2 * Math.SQRT2 * DEFAULT_SIM_CONFIG.ditherPx, `dither ${shift}`);
  assert.ok(template.exposureTime === DEFAULT_SIM_CONFIG.templateDepth * visits[0].exposureTime);
  assert.ok(template.mjd < visits[0].mjd && visits[0].mjd < visits[1].mjd);
  for (const [i, image] of [night.template, ...night.visits].entries()) {
    assert.equal(image.exposure.info.zeroPoint, night.specs[i].zeroPoint);
    assert.equal(image.exposure.info.instrument, 'APSIM');
    assert.ok(
      image.exposure.mask.data.every((m) => m === 0),
      'the pipeline derives the mask',
    );
  }
});

/** Second moment <r^2> of a circular Moffat inside radius R (continuous): alpha^2 <u>, u = r^2/alpha^2. */
function truncatedMoment(alpha: number, beta: number, radius: number): number {
  const U = (radius * radius) / (alpha * alpha);
  const p = (k: number) => (Math.pow(1 + U, k) - 1) / k;
  // int_0^U u (1+u)^-b du = p(2-b) - p(1-b);  int_0^U (1+u)^-b du = p(1-b).
  return (alpha * alpha * (p(2 - beta) - p(1 - beta))) / p(1 - beta);
}

test('bright isolated stars in the noiseless images have the FWHM of the true PSF (second moments, Moffat fit)', (t) => {
  let worst = 0;
  // A sparse field of bright stars only, so that isolated stars exist in every image.
  const sparse = simulateNight({
    size: 384,
    seed: 4,
    visits: 2,
    starsPerMegapixel: 250,
    starMag: [16.5, 19],
    galaxiesPerMegapixel: 0,
    transientsPerMegapixel: 0,
    variablesPerMegapixel: 0,
    movingPerMegapixel: 0,
  });
  const radius = 14;
  const edge = sparse.config.size;
  for (const [k, image] of [sparse.template, ...sparse.visits].entries()) {
    const spec = sparse.specs[k];
    const stars = spec.wcs.skyToPixel({ ra: sparse.field.stars.ra, dec: sparse.field.stars.dec });
    let checked = 0;
    for (let i = 0; i < stars.x.length; i++) {
      const x = stars.x[i];
      const y = stars.y[i];
      if (x < 30 || y < 30 || x > edge - 31 || y > edge - 31) continue;
      let isolated = true;
      for (let j = 0; j < stars.x.length; j++)
        if (j !== i && Math.hypot(stars.x[j] - x, stars.y[j] - y) < 3 * radius) isolated = false;
      if (!isolated) continue;
      let s = 0;
      let srr = 0;
      for (let py = Math.ceil(y - radius); py <= Math.floor(y + radius); py++) {
        for (let px = Math.ceil(x - radius); px <= Math.floor(x + radius); px++) {
          const r2 = (px - x) ** 2 + (py - y) ** 2;
          if (r2 > radius * radius) continue;
          const v = image.noiseless.get(px, py) - image.background.get(px, py);
          s += v;
          srr += v * r2;
        }
      }
      // Pixel integration adds 1/12 px^2 per axis; then solve <r^2>_R(alpha) for alpha (beta known).
      const moment = srr / s - 2 / 12;
      const beta = spec.psf.field.beta;
      let lo = 0.3;
      let hi = 20;
      for (let it = 0; it < 60; it++) {
        const mid = (lo + hi) / 2;
        if (truncatedMoment(mid, beta, radius) < moment) lo = mid;
        else hi = mid;
      }
      const measured = 2 * lo * Math.sqrt(2 ** (1 / beta) - 1);
      const truth = spec.psf.fwhmAt(x, y);
      worst = Math.max(worst, Math.abs(measured / truth - 1));
      assert.ok(
        Math.abs(measured / truth - 1) < 0.03,
        `${spec.name} star at (${x.toFixed(1)}, ${y.toFixed(1)}): FWHM ${measured} vs ${truth}`,
      );
      assert.ok(Math.abs(moffatAlpha(truth, beta) - lo) / lo < 0.03);
      checked++;
    }
    assert.ok(checked >= 3, `${spec.name}: only ${checked} isolated bright stars`);
  }
  t.diagnostic(`largest |measured / true FWHM - 1| = ${worst.toFixed(4)}`);
});

test('background level and gradient, and unbiased noise with the true variance', (t) => {
  for (const [k, image] of [night.template, ...night.visits].entries()) {
    const spec = night.specs[k];
    const bg = image.background.data;
    const mean = bg.reduce((a, b) => a + b, 0) / bg.length;
    assert.ok(
      Math.abs(mean / spec.skyAdu - 1) < 1e-4,
      `${spec.name} sky ${mean} vs ${spec.skyAdu}`,
    );
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of bg) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
    const ptp = (hi - lo) / mean;
    assert.ok(Math.abs(ptp - DEFAULT_SIM_CONFIG.skyGradient) < 1e-3, `gradient ${ptp}`);
    const range = spec.isTemplate ? DEFAULT_SIM_CONFIG.templateDepth : 1;
    assert.ok(
      spec.skyAdu >= DEFAULT_SIM_CONFIG.skyAdu[0] * range &&
        spec.skyAdu <= DEFAULT_SIM_CONFIG.skyAdu[1] * range,
    );
    let n = 0;
    let sum = 0;
    let sumSq = 0;
    let sumVar = 0;
    const img = image.exposure.image.data;
    const variance = image.exposure.variance.data;
    for (let i = 0; i < img.length; i++) {
      if (image.crMask.data[i] !== 0) continue;
      const r = img[i] - image.noiseless.data[i];
      n++;
      sum += r;
      sumSq += r * r;
      sumVar += variance[i];
    }
    const bias = sum / n;
    const ratio = (sumSq / n - bias * bias) / (sumVar / n);
    assert.ok(Math.abs(bias) < 5 * Math.sqrt(sumVar / n / n), `${spec.name} noise bias ${bias}`);
    assert.ok(Math.abs(ratio - 1) < 0.01, `${spec.name} noise variance / true variance = ${ratio}`);
    t.diagnostic(
      `${spec.name}: sky ${spec.skyAdu.toFixed(1)} ADU, noise bias ${bias.toFixed(3)} ADU, variance ratio ${ratio.toFixed(4)}`,
    );
  }
});

test('star counts follow the requested density and luminosity function; bright stars are visible peaks', () => {
  const { stars } = night.field;
  const sidePx = size + 2 * (DEFAULT_SIM_CONFIG.ditherPx + 64);
  const expected = (DEFAULT_SIM_CONFIG.starsPerMegapixel * sidePx * sidePx) / 1e6;
  assert.ok(
    Math.abs(stars.mag.length - expected) < 4 * Math.sqrt(expected),
    `${stars.mag.length} stars, ${expected} expected`,
  );
  // Maximum-likelihood slope of dN/dm ~ 10^(a m) truncated to [m0, m1], by bisection on the score.
  const [m0, m1] = DEFAULT_SIM_CONFIG.starMag;
  const meanMag = stars.mag.reduce((a, b) => a + b, 0) / stars.mag.length;
  const expectedMean = (a: number) => {
    const k = a * Math.LN10;
    return m1 - 1 / k - (m1 - m0) / (Math.exp(k * (m1 - m0)) - 1);
  };
  let lo = 0.05;
  let hi = 1;
  for (let it = 0; it < 60; it++) {
    const mid = (lo + hi) / 2;
    if (expectedMean(mid) < meanMag) lo = mid;
    else hi = mid;
  }
  assert.ok(Math.abs(lo - DEFAULT_SIM_CONFIG.starSlope) < 0.03, `luminosity-function slope ${lo}`);
  // Every star brighter than 100 sky sigma, inside the science image, is a local maximum of the noiseless image within 1.5 px.
  const image = night.visits[0];
  const spec = night.specs[1];
  const pix = spec.wcs.skyToPixel({ ra: stars.ra, dec: stars.dec });
  const threshold = 100 * Math.sqrt(spec.skyAdu);
  let bright = 0;
  let found = 0;
  for (let i = 0; i < stars.mag.length; i++) {
    const x = Math.round(pix.x[i]);
    const y = Math.round(pix.y[i]);
    if (
      x < 3 ||
      y < 3 ||
      x > size - 4 ||
      y > size - 4 ||
      magToAdu(stars.mag[i], spec.zeroPoint) < threshold * 20
    )
      continue;
    bright++;
    let best = -Infinity;
    let bx = 0;
    let by = 0;
    for (let dy = -3; dy <= 3; dy++) {
      for (let dx = -3; dx <= 3; dx++) {
        const v = image.noiseless.get(x + dx, y + dy);
        if (v > best) [best, bx, by] = [v, x + dx, y + dy];
      }
    }
    if (Math.hypot(bx - pix.x[i], by - pix.y[i]) < 1.5) found++;
  }
  assert.ok(bright >= 10 && found >= 0.95 * bright, `${found} of ${bright} bright stars found`);
});

test('saturation, bleed trails, cosmic rays, hot pixels and the hot column are where the truth says', () => {
  const saturation = DEFAULT_SIM_CONFIG.saturation;
  let saturated = 0;
  for (const image of [night.template, ...night.visits]) {
    const img = image.exposure.image.data;
    for (let i = 0; i < img.length; i++) {
      const sat = (image.crMask.data[i] & MaskPlane.SAT) !== 0;
      if (img[i] >= saturation) assert.ok(sat, 'pixels at the saturation level are SAT');
      else if (sat) {
        // Below the level only at the partly filled end of a bleed trail, next to a saturated pixel in its column.
        const up = i + size < img.length && img[i + size] >= saturation;
        const down = i - size >= 0 && img[i - size] >= saturation;
        assert.ok(up || down, `SAT pixel ${i % size},${Math.floor(i / size)} off a bleed trail`);
      }
      if (sat) saturated++;
    }
  }
  assert.ok(saturated > 0, 'some stars saturate');
  // The template is cosmic-ray and defect free; science visits carry them.
  assert.ok(night.template.crMask.data.every((m) => (m & (MaskPlane.CR | MaskPlane.BAD)) === 0));
  for (const [k, image] of night.visits.entries()) {
    const visit = k + 1;
    const rows = night.truth.filter((r) => r.visit === visit);
    const rays = rows.filter((r) => r.kind === 'cosmic_ray');
    const expected = (DEFAULT_SIM_CONFIG.cosmicRaysPerMegapixel * size * size) / 1e6;
    assert.ok(
      Math.abs(rays.length - expected) < 5 * Math.sqrt(expected),
      `${rays.length} cosmic rays`,
    );
    for (const r of rays) {
      // Each ray is masked near its centroid and stands out of the noise.
      let peak = -Infinity;
      for (let dy = -2; dy <= 2; dy++) {
        for (let dx = -2; dx <= 2; dx++) {
          const x = Math.round(r.x) + dx;
          const y = Math.round(r.y) + dy;
          if (x < 0 || y < 0 || x >= size || y >= size || !(image.crMask.get(x, y) & MaskPlane.CR))
            continue;
          peak = Math.max(
            peak,
            (image.exposure.image.get(x, y) - image.noiseless.get(x, y)) /
              Math.sqrt(image.exposure.variance.get(x, y)),
          );
        }
      }
      assert.ok(
        peak > 5 || r.fluxScienceAdu < 500,
        `cosmic ray ${r.id} at ${r.x},${r.y}: peak ${peak} sigma`,
      );
    }
    const hot = rows.filter((r) => r.kind === 'hot_pixel');
    assert.deepEqual(
      hot.map((r) => [r.x, r.y]),
      night.truth.filter((r) => r.visit === 1 && r.kind === 'hot_pixel').map((r) => [r.x, r.y]),
      'hot pixels are the same in every visit',
    );
    for (const r of hot) assert.ok(image.crMask.get(r.x, r.y) & MaskPlane.BAD);
    const column = rows.find((r) => r.kind === 'bad_column');
    assert.ok(column);
    assert.ok(image.crMask.get(column.x, size - 1) & MaskPlane.BAD);
  }
});

test('transients: 60% on hosts, offset from the nucleus; absent from the template; in every visit', () => {
  const { transients, galaxies } = night.field;
  const hosted = transients.filter((t) => t.hostId >= 0);
  const n = transients.length;
  assert.ok(n >= 20);
  assert.ok(
    Math.abs(hosted.length / n - 0.6) < 4 * Math.sqrt(0.24 / n),
    `${hosted.length} of ${n} hosted`,
  );
  for (const t of hosted) {
    const host = galaxies[t.hostId];
    const sep =
      Math.hypot((t.ra - host.ra) * Math.cos((host.dec * Math.PI) / 180), t.dec - host.dec) * 3600;
    assert.ok(
      sep > 0.1 * host.reArcsec && sep < (1.6 * host.reArcsec) / Math.sqrt(host.axisRatio),
      `offset ${sep}" vs r_e ${host.reArcsec}"`,
    );
  }
  assert.deepEqual(
    night.template.noiseless.data,
    quiet.template.noiseless.data,
    'the template has no transient light',
  );
  for (const visit of [1, 2]) {
    const rows = night.truth.filter((r) => r.visit === visit && r.kind === 'transient');
    assert.equal(rows.length, n);
    for (const r of rows) {
      assert.equal(r.fluxTemplateAdu, 0);
      assert.equal(r.host, transients[r.id].hostId >= 0 ? 1 : 0);
    }
  }
  const variables = night.truth.filter((r) => r.kind === 'variable');
  assert.ok(
    variables.length > 0 &&
      variables.every(
        (r) =>
          r.fluxTemplateAdu > 0 &&
          Math.abs(r.deltaFluxAdu - (r.fluxScienceAdu - r.fluxTemplateAdu)) < 1e-6,
      ),
  );
  const moving = night.truth.filter((r) => r.kind === 'moving');
  const first = moving.filter((r) => r.visit === 1);
  const moved = first.filter((a) =>
    moving.some((b) => b.visit === 2 && b.id === a.id && Math.hypot(b.x - a.x, b.y - a.y) > 5),
  );
  assert.ok(moved.length > 0, 'asteroids move between visits');
});

/**
 * Forced PSF photometry at (x, y) on D = signal + science noise - s * template noise (the template
 * noise taken at the nearest template pixel to each science pixel), weighted by the inverse
 * variance: flux = sum(psf D / var) / sum(psf^2 / var), sigma = 1 / sqrt(sum(psf^2 / var)).
 * Returns null where a masked pixel (cosmic ray, defect, saturation) touches the stamp.
 */
function forcedPhotometry(
  ctx: SnrContext,
  science: SimulatedImage,
  template: SimulatedImage,
  signal: Float32Array | null,
  x: number,
  y: number,
): { flux: number; sigma: number } | null {
  const stamp = ctx.sciencePsf.stampAt(x, y);
  const half = (stamp.size - 1) / 2;
  const t = ctx.templateWcs.skyToPixel(
    ctx.scienceWcs.pixelToSky({ x: Float64Array.of(x), y: Float64Array.of(y) }),
  );
  const s = ctx.templateScale;
  let num = 0;
  let den = 0;
  for (let j = 0; j < stamp.size; j++) {
    for (let i = 0; i < stamp.size; i++) {
      const px = Math.round(x) - half + i;
      const py = Math.round(y) - half + j;
      const tx = Math.round(t.x[0] + (px - x));
      const ty = Math.round(t.y[0] + (py - y));
      if (
        px < 0 ||
        py < 0 ||
        px >= size ||
        py >= size ||
        tx < 0 ||
        ty < 0 ||
        tx >= size ||
        ty >= size
      )
        return null;
      if (science.crMask.get(px, py) || template.crMask.get(tx, ty)) return null;
      const noise =
        science.exposure.image.get(px, py) -
        science.noiseless.get(px, py) -
        s * (template.exposure.image.get(tx, ty) - template.noiseless.get(tx, ty));
      const d = noise + (signal ? signal[py * size + px] : 0);
      const variance =
        science.exposure.variance.get(px, py) + s * s * template.exposure.variance.get(tx, ty);
      const psf = stamp.data[j * stamp.size + i];
      num += (psf * d) / variance;
      den += (psf * psf) / variance;
    }
  }
  return { flux: num / den, sigma: 1 / Math.sqrt(den) };
}

test('expected SNR: forced PSF photometry on pure difference noise scatters by the predicted sigma', (t) => {
  const pulls: number[] = [];
  for (const [k, science] of night.visits.entries()) {
    const ctx = snrContext(science, night.template);
    const positions = night.truth
      .filter((r) => r.visit === k + 1 && r.kind === 'transient')
      .map((r) => [r.x, r.y]);
    for (let i = 0; i < 400; i++)
      positions.push([
        25 + ((i * 0.6180339887) % 1) * (size - 50),
        25 + ((i * 0.7548776662) % 1) * (size - 50),
      ]);
    for (const [x, y] of positions) {
      const m = forcedPhotometry(ctx, science, night.template, null, x, y);
      if (!m) continue;
      const predicted = 1 / expectedSnr(ctx, x, y, 1);
      assert.ok(
        Math.abs(m.sigma / predicted - 1) < 1e-6,
        'the photometry sigma is the truth formula',
      );
      pulls.push(m.flux / predicted);
    }
  }
  const n = pulls.length;
  const mean = pulls.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(pulls.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  assert.ok(n > 500, `${n} positions`);
  assert.ok(Math.abs(mean) < 4 / Math.sqrt(n), `mean pull ${mean}`);
  assert.ok(
    Math.abs(sd - 1) < 0.1,
    `scatter of flux / predicted sigma = ${sd} over ${n} positions`,
  );
  t.diagnostic(
    `pure noise: flux / predicted sigma has mean ${mean.toFixed(3)}, sd ${sd.toFixed(3)} over ${n} positions`,
  );
});

test('expected SNR: each transient measured on its own light plus both noise realisations matches the truth on average', (t) => {
  const ratios: number[] = [];
  const pulls: number[] = [];
  for (const [k, science] of night.visits.entries()) {
    const ctx = snrContext(science, night.template);
    // The transients' light alone: the noiseless science image minus the same night without them.
    const signal = new Float32Array(size * size);
    for (let i = 0; i < signal.length; i++)
      signal[i] = science.noiseless.data[i] - quiet.visits[k].noiseless.data[i];
    const changes = night.truth.filter(
      (r) => r.visit === k + 1 && ['transient', 'moving', 'variable'].includes(r.kind),
    );
    const reach = ctx.sciencePsf.stampSize;
    for (const row of changes.filter((r) => r.kind === 'transient')) {
      // Blends (another change within a stamp) are not what this checks.
      if (changes.some((o) => o !== row && Math.hypot(o.x - row.x, o.y - row.y) < reach)) continue;
      const m = forcedPhotometry(ctx, science, night.template, signal, row.x, row.y);
      if (!m) continue;
      assert.ok(
        Math.abs(row.deltaFluxAdu / m.sigma / row.expectedSnr - 1) < 1e-3,
        'truth.csv expected_snr is delta / sigma',
      );
      pulls.push((m.flux - row.deltaFluxAdu) / m.sigma);
      ratios.push(m.flux / m.sigma / row.expectedSnr);
    }
  }
  const n = ratios.length;
  assert.ok(n >= 20, `${n} transients measured`);
  const meanRatio = ratios.reduce((a, b) => a + b, 0) / n;
  assert.ok(
    Math.abs(meanRatio - 1) < 0.1,
    `measured / expected SNR = ${meanRatio} on average over ${n}`,
  );
  t.diagnostic(
    `transients: measured / expected SNR = ${meanRatio.toFixed(3)} on average over ${n}`,
  );
  const meanPull = pulls.reduce((a, b) => a + b, 0) / n;
  assert.ok(Math.abs(meanPull) < 4 / Math.sqrt(n), `flux bias ${meanPull} sigma`);
});

test('elongated galaxies keep their sky position angle in every image, whatever the dither, rotation and PSF', (t) => {
  // Bright galaxies alone, round PSFs: what remains of a galaxy's orientation is the rendering's.
  const galaxiesOnly = simulateNight({
    size: 512,
    seed: 12,
    visits: 2,
    starsPerMegapixel: 0,
    galaxiesPerMegapixel: 120,
    galaxyMag: [17, 20],
    psfEllipticity: 0,
    transientsPerMegapixel: 0,
    variablesPerMegapixel: 0,
    movingPerMegapixel: 0,
    streakProbability: 0,
  });
  const edge = galaxiesOnly.config.size;
  const all = galaxiesOnly.field.galaxies;
  const candidates = all.filter((g) => g.axisRatio < 0.6 && g.reArcsec > 0.6);
  let checked = 0;
  let worst = 0;
  for (const g of candidates) {
    const radius = (2.5 * g.reArcsec) / 0.2;
    const crowded = all.some(
      (o) =>
        o !== g &&
        Math.hypot(o.xi - g.xi, o.eta - g.eta) < (radius + (3 * o.reArcsec) / 0.2 + 10) * 0.2,
    );
    if (crowded) continue;
    for (const [k, image] of [galaxiesOnly.template, ...galaxiesOnly.visits].entries()) {
      const spec = galaxiesOnly.specs[k];
      const p = spec.wcs.skyToPixel({ ra: Float64Array.of(g.ra), dec: Float64Array.of(g.dec) });
      const x = p.x[0];
      const y = p.y[0];
      if (x < radius || y < radius || x > edge - 1 - radius || y > edge - 1 - radius) continue;
      let s = 0;
      let mxx = 0;
      let myy = 0;
      let mxy = 0;
      for (let py = Math.ceil(y - radius); py <= Math.floor(y + radius); py++) {
        for (let px = Math.ceil(x - radius); px <= Math.floor(x + radius); px++) {
          if (Math.hypot(px - x, py - y) > radius) continue;
          const v = image.noiseless.get(px, py) - image.background.get(px, py);
          s += v;
          mxx += v * (px - x) ** 2;
          myy += v * (py - y) ** 2;
          mxy += v * (px - x) * (py - y);
        }
      }
      // Pixel moments to the sky (east, north) through the local Jacobian: M_sky = J M J^T.
      const [[a, b], [c, d]] = spec.wcs.jacobian(x, y).matrix;
      const [pxx, pyy, pxy] = [mxx / s, myy / s, mxy / s];
      const ee = a * a * pxx + 2 * a * b * pxy + b * b * pyy;
      const nn = c * c * pxx + 2 * c * d * pxy + d * d * pyy;
      const en = a * c * pxx + (a * d + b * c) * pxy + b * d * pyy;
      // Angle of the major axis from north toward east.
      const pa = ((0.5 * Math.atan2(2 * en, nn - ee) * 180) / Math.PI + 180) % 180;
      const diff = Math.abs(((pa - g.paDeg + 270) % 180) - 90);
      worst = Math.max(worst, diff);
      assert.ok(
        diff < 2,
        `galaxy ${g.id} in ${spec.name}: PA ${pa.toFixed(1)} vs ${g.paDeg.toFixed(1)}`,
      );
      checked++;
    }
  }
  assert.ok(checked >= 6, `${checked} galaxy images checked`);
  t.diagnostic(
    `${checked} galaxy images: position angle within ${worst.toFixed(2)} deg of the catalogue`,
  );
});
