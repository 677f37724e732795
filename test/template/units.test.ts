/**
 * shared/template units: config validation, the DP1 rule and each quality cut, the INPUTS table
 * (round trip and astropy), tile grids, CoaddPsf, and stacking with rejection on synthetic planes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveTemplateConfig, DEFAULT_TEMPLATE_CONFIG } from '../../shared/template/config.js';
import { selectInputs, type SelectionCandidate } from '../../shared/template/select.js';
import {
  inputsTableHdu,
  readInputsTable,
  type InputRow,
} from '../../shared/template/inputs-table.js';
import { cropGrid, tileCentre, tileGrid } from '../../shared/template/grid.js';
import { coaddPsfStamp, fitCoaddPsf } from '../../shared/template/coadd-psf.js';
import { stackInputs, type StackInput } from '../../shared/template/stack.js';
import { psfFluxVariance } from '../../shared/template/measure.js';
import { MAX_TILT_RATIO, targetMoment, tiltedWeights } from '../../shared/template/psf-weights.js';
import { GaussianPsf } from '../../shared/psf/gaussian-psf.js';
import { MoffatPsf } from '../../shared/sim/moffat.js';
import { MaskPlane } from '../../shared/image/mask.js';
import { writeFits } from '../../shared/fits/index.js';
import { tileOf } from '../../shared/prompt/template-tiles.js';
import { runPython, skipWithout } from '../helpers/python.js';
import { corners_nest, order2nside, vec2ang } from '@hscmap/healpix';

test('config: defaults validate; each bad knob is named', () => {
  assert.equal(resolveTemplateConfig().minInputs, 3);
  assert.throws(() => resolveTemplateConfig({ minInputs: 0 }), /minInputs/);
  assert.throws(() => resolveTemplateConfig({ rejection: 'median' as 'clip' }), /rejection/);
  assert.throws(() => resolveTemplateConfig({ bestFraction: 1.5 }), /bestFraction/);
  assert.throws(
    () => resolveTemplateConfig({ coaddPsfGrid: 2, coaddPsfDegree: 2 }),
    /coaddPsfGrid/,
  );
  assert.throws(() => resolveTemplateConfig({ maxFwhmArcsec: Number.NaN }), /maxFwhmArcsec/);
});

const good = (
  fwhmArcsec: number,
  over: Partial<SelectionCandidate['quality']> = {},
  zeroPoint = 30,
): SelectionCandidate => ({
  zeroPoint,
  quality: {
    fwhmPx: fwhmArcsec / 0.2,
    fwhmArcsec,
    ellipticity: 0.05,
    psfChi2: 1,
    psfStars: 50,
    pixelScaleArcsec: 0.2,
    skyAdu: 500,
    medianVariance: 400,
    depthAdu: 500,
    wcsRmsArcsec: Number.NaN,
    ...over,
  },
});

test('selection: the DP1 rule keeps the best-seeing third, or the best 12 below 36 inputs', () => {
  const cfg = resolveTemplateConfig({ maxFwhmRatio: 10 });
  for (const [n, kept] of [
    [5, 5],
    [20, 12],
    [36, 12],
    [45, 15],
  ] as const) {
    const cands = Array.from({ length: n }, (_, i) => good(0.5 + ((i * 7) % n) * 0.01));
    const reasons = selectInputs(cands, cfg);
    assert.equal(reasons.filter((r) => r === null).length, kept, `${n} inputs`);
    const worstKept = Math.max(
      ...cands.filter((_, i) => reasons[i] === null).map((c) => c.quality.fwhmArcsec),
    );
    const bestDropped = Math.min(
      ...cands.filter((_, i) => reasons[i] !== null).map((c) => c.quality.fwhmArcsec),
    );
    if (kept < n) assert.ok(worstKept < bestDropped, 'the kept ones are the best-seeing');
  }
});

test('selection: every quality cut rejects with its own reason', () => {
  const cfg = resolveTemplateConfig();
  const cands = [
    good(0.8),
    good(0.8),
    good(2.5),
    good(0.8, { ellipticity: 0.4 }),
    good(0.8, { psfChi2: 9 }),
    good(0.8, { psfStars: 2 }),
    good(0.8, { wcsRmsArcsec: 0.3 }),
    good(0.8, { depthAdu: 500 * 10 ** (0.4 * 2) }),
    good(0.8, { skyAdu: 500 * 10 }),
    good(1.7),
  ];
  const reasons = selectInputs(cands, cfg);
  assert.deepEqual(reasons.slice(0, 2), [null, null]);
  const expected = [
    /PSF FWHM/,
    /ellipticity/,
    /chi2/,
    /PSF stars/,
    /astrometric rms/,
    /depth/,
    /sky/,
    /maxFwhmRatio 2 x the best 0.80/,
  ];
  expected.forEach((re, k) => assert.match(reasons[k + 2] ?? '', re));
});

test('selection: sky-subtracted inputs (skies near 0, some negative) are not cut by maxSkyRatio', () => {
  // Their median sky is negative: a ratio against it was read backwards ("sky 3.00x the median > maxSkyRatio 4").
  const cands = [-3, -2, -1, 1, 2].map((skyAdu) => good(0.8, { skyAdu }));
  assert.deepEqual(selectInputs(cands, resolveTemplateConfig()), [null, null, null, null, null]);
  // ... and one of them among inputs with a sky does not move the median of those.
  const mixed = [good(0.8), good(0.8), good(0.8, { skyAdu: -5 }), good(0.8, { skyAdu: 500 * 5 })];
  assert.deepEqual(selectInputs(mixed, resolveTemplateConfig()).slice(0, 3), [null, null, null]);
  assert.match(selectInputs(mixed, resolveTemplateConfig())[3] ?? '', /sky 5.00x the median/);
});

const row = (i: number): InputRow => ({
  file: `input-${i}.fits`,
  visit: 100 + i,
  detector: 42,
  mjd: 61000.5 + i,
  used: i % 2 === 0,
  reason: i % 2 ? 'seeing 1.20" not among the best 12' : '',
  weight: 0.25,
  fwhmArcsec: 0.7 + i / 10,
  ellipticity: 0.03,
  depthMag: 24.5,
  skyAdu: 812.5,
  zeroPoint: 30.1,
  zeroPointSource: 'header',
  wcsRmsArcsec: Number.NaN,
  psfChi2: 1.1,
  psfStars: 77,
  coverage: 0.9,
  rejectedFraction: 0.01,
});

test('INPUTS table: written after the images and read back; readers of the images are unaffected', () => {
  const rows = [0, 1, 2].map(row);
  const images = writeFits([
    { data: null },
    { name: 'IMAGE', data: new Float32Array(4), width: 2, height: 2 },
  ]);
  const bytes = new Uint8Array([...images, ...inputsTableHdu(rows)]);
  const back = readInputsTable(bytes);
  assert.equal(back.length, 3);
  assert.equal(back[1].reason, rows[1].reason);
  assert.equal(back[2].visit, 102);
  assert.equal(back[0].used, true);
  assert.ok(Number.isNaN(back[0].wcsRmsArcsec));
  assert.equal(back[1].fwhmArcsec, rows[1].fwhmArcsec);
});

test('INPUTS table read by astropy', { skip: skipWithout('astropy') }, () => {
  const images = writeFits([
    { data: null },
    { name: 'IMAGE', data: new Float32Array(4), width: 2, height: 2 },
  ]);
  const bytes = Buffer.from([...images, ...inputsTableHdu([0, 1].map(row))]);
  const out = runPython(
    'astropy',
    'import sys, io\nfrom astropy.io import fits\nh = fits.open(io.BytesIO(sys.stdin.buffer.read()))\nt = h["INPUTS"].data\nprint(len(t), t["FILE"][1], bool(t["USED"][0]), t["VISIT"][1], t["REASON"][1])',
    [],
    bytes,
  );
  assert.equal(out.trim(), '2 input-1.fits True 101.0 seeing 1.20" not among the best 12');
});

test('tile grid: covers its tile; a crop keeps the lattice', () => {
  const tile = tileOf(150.1, 2.2);
  const grid = tileGrid(tile, 0.2, 0.05);
  const [ra, dec] = tileCentre(tile);
  assert.equal(tileOf(ra, dec), tile);
  // Order-8 tiles are diamonds of ~0.23 deg sides (~0.33 deg corner to corner): ~5900 px at 0.2"/px, plus 2 x 900 px margins.
  assert.ok(grid.width > 5900 && grid.width < 8500, `${grid.width}`);
  const corners = corners_nest(order2nside(8), tile).map((v) => vec2ang(v));
  const c = grid.wcs.skyToPixel({
    ra: Float64Array.from(corners, (a) => (a.phi * 180) / Math.PI),
    dec: Float64Array.from(corners, (a) => 90 - (a.theta * 180) / Math.PI),
  });
  for (let k = 0; k < 4; k++)
    assert.ok(
      c.x[k] > 800 && c.x[k] < grid.width - 800 && c.y[k] > 800 && c.y[k] < grid.height - 800,
      `corner ${k} inside with its margin`,
    );
  const crop = cropGrid(grid, { x0: 1000, y0: 1200, x1: 1500, y1: 1600 });
  assert.equal(crop.width, 500);
  const sky = grid.wcs.pixelToSky({ x: Float64Array.of(1100.25), y: Float64Array.of(1300.5) });
  const p = crop.wcs.skyToPixel(sky);
  assert.ok(Math.abs(p.x[0] - 100.25) < 1e-6 && Math.abs(p.y[0] - 100.5) < 1e-6);
});

test('CoaddPsf: the weighted sum of the inputs covering each position, fitted within 1e-3 of the peak', () => {
  const narrow = new GaussianPsf(2, 2, 0, 25);
  const wide = new GaussianPsf(6, 5, 0.5, 25);
  const inputs = [
    { psf: narrow, weight: 3, moment: 4, covers: () => true },
    { psf: wide, weight: 1, moment: 30, covers: (x: number) => x < 500 },
  ];
  const left = coaddPsfStamp(inputs, 100, 100, 25)!;
  const right = coaddPsfStamp(inputs, 900, 100, 25)!;
  const n = narrow.stampAt(0, 0, true).data;
  const w = wide.stampAt(0, 0, true).data;
  for (const k of [312, 300, 200]) {
    assert.ok(Math.abs(left[k] - (3 * n[k] + w[k]) / 4) < 1e-6);
    assert.ok(Math.abs(right[k] - n[k]) < 1e-6);
  }
  const same = fitCoaddPsf(
    [{ psf: wide, weight: 1, moment: 30, covers: () => true }],
    1000,
    1000,
    2,
    6,
  );
  assert.ok(same.maxResidual < 1e-3, `${same.maxResidual}`);
});

test('psfFluxVariance: white noise gives variance / sum(p^2); positive correlation raises it', () => {
  const stamp = new GaussianPsf(4, 4, 0, 21).stampAt(0, 0, true);
  let sumSq = 0;
  for (const v of stamp.data) sumSq += v * v;
  assert.ok(Math.abs(psfFluxVariance(10, stamp, null) - 10 / sumSq) < 1e-9);
  assert.ok(Math.abs(psfFluxVariance(10, stamp, { x: [1], y: [1] }) - 10 / sumSq) < 1e-9);
  assert.ok(
    psfFluxVariance(10, stamp, { x: [1, 0.3], y: [1, 0.3] }) >
      1.5 * psfFluxVariance(10, stamp, null),
  );
});

/** Seeded unit normal deviates (a sum of 12 uniforms of an LCG, minus 6). */
function normals(seed: number): () => number {
  let s = seed;
  return () => {
    let u = 0;
    for (let k = 0; k < 12; k++) u += (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
    return u - 6;
  };
}

/** N noisy flat inputs (sigma 1) on a 200x200 grid; input 0 carries a bright blob at (100, 100). */
function inputs(n: number, seed = 1): StackInput[] {
  const gauss = normals(seed);
  return Array.from({ length: n }, (_, i) => {
    const image = new Float32Array(new SharedArrayBuffer(4 * 40000));
    const variance = new Float32Array(new SharedArrayBuffer(4 * 40000)).fill(1);
    const mask = new Int32Array(new SharedArrayBuffer(4 * 40000));
    for (let p = 0; p < 40000; p++) image[p] = 10 + gauss();
    if (i === 0)
      for (let y = 95; y <= 105; y++)
        for (let x = 95; x <= 105; x++)
          image[y * 200 + x] += 40 * Math.exp(-((x - 100) ** 2 + (y - 100) ** 2) / 8);
    return {
      image,
      variance,
      mask,
      weight: i === 1 ? 2 : 1,
      pixelVariance: 1,
      fwhmPx: 3 + i * 0.2,
      psf: GaussianPsf.fromFwhm(3 + i * 0.2),
      noiseCorrelation: null,
    };
  });
}

for (const rejection of ['compareWarp', 'clip'] as const) {
  test(`stacking with ${rejection}: what is in one input only is rejected; elsewhere the weighted mean and its variance`, async () => {
    const cfg = resolveTemplateConfig({ rejection });
    const ins = inputs(6);
    const expected = (p: number) => ins.reduce((s, x) => s + x.weight * x.image[p], 0) / 7;
    const out = await stackInputs(200, 200, ins, cfg, null);
    assert.ok(
      Math.abs(out.image[100 * 200 + 100] - 10) < 1.5,
      `blob rejected: ${out.image[100 * 200 + 100]}`,
    );
    assert.ok(out.rejectedFraction[0] > 0 && out.rejectedFraction[0] < 0.05);
    const far = 20 * 200 + 20;
    if (out.count[far] === 6) {
      assert.ok(Math.abs(out.image[far] - expected(far)) < 1e-4);
      assert.ok(Math.abs(out.variance[far] - (4 + 5) / 49) < 1e-6);
    }
    const kept = Array.from(out.count).filter((c) => c === 6).length / 40000;
    assert.ok(kept > 0.97, `fraction of pixels with every input: ${kept}`);
  });
}

test('stacking without rejection keeps the blob (the rejection tests can fail)', async () => {
  const out = await stackInputs(
    200,
    200,
    inputs(6),
    resolveTemplateConfig({ rejection: 'none' }),
    null,
  );
  assert.ok(out.image[100 * 200 + 100] > 14);
});

test('stacking: masked inputs are replaced by the others; SAT in enough of the weight is propagated; nothing covering is NO_DATA', async () => {
  const ins = inputs(4);
  ins[0].mask[500] = MaskPlane.SAT;
  for (const s of ins) s.mask[700] = MaskPlane.NO_DATA;
  ins[2].mask[900] = MaskPlane.CR;
  const out = await stackInputs(200, 200, ins, resolveTemplateConfig({ rejection: 'none' }), null);
  assert.equal(out.count[500], 3);
  assert.ok(out.mask[500] & MaskPlane.SAT, 'SAT in 1 of 5 weight units >= 0.1');
  assert.equal(out.count[900], 3);
  assert.equal(out.mask[900], 0, 'a CR in one input is replaced, not propagated');
  assert.equal(out.mask[700], MaskPlane.NO_DATA);
  assert.ok(Number.isNaN(out.image[700]));
  assert.equal(DEFAULT_TEMPLATE_CONFIG.maskPropagationFraction, 0.1);
});

test('stacking: a pixel fewer than minPixelInputs inputs cover is NO_DATA (no median to reject with, a one-input PSF)', async () => {
  // Dithered edges: input 0 alone covers x < 10, inputs 0-1 cover x < 20, inputs 0-2 x < 30.
  const ins = inputs(4);
  for (let y = 0; y < 200; y++)
    for (let x = 0; x < 30; x++)
      for (let k = 1 + Math.floor(x / 10); k < 4; k++) ins[k].mask[y * 200 + x] = MaskPlane.NO_DATA;
  const at = (x: number) => 100 * 200 + x;
  const cfg = resolveTemplateConfig({ rejection: 'none' });
  assert.equal(cfg.minPixelInputs, 3);
  const out = await stackInputs(200, 200, ins, cfg, null);
  for (const x of [5, 15]) {
    assert.equal(out.mask[at(x)], MaskPlane.NO_DATA, `x ${x}`);
    assert.ok(Number.isNaN(out.image[at(x)]));
    assert.equal(out.count[at(x)], 0);
  }
  assert.equal(out.count[at(25)], 3);
  assert.equal(out.mask[at(25)], 0);
  const all = await stackInputs(
    200,
    200,
    ins,
    resolveTemplateConfig({ rejection: 'none', minPixelInputs: 1 }),
    null,
  );
  assert.equal(all.count[at(5)], 1, 'minPixelInputs 1 keeps the one-input edge');
  assert.throws(() => resolveTemplateConfig({ minPixelInputs: 0 }), /minPixelInputs/);
});

test('tiltedWeights: the present inputs weighted to the target PSF moment, within MAX_TILT_RATIO', () => {
  const w = [1, 1, 1];
  const m = [4, 9, 16];
  const target = targetMoment(w, m);
  const mean = (t: Float64Array) =>
    t.reduce((s, v, k) => s + v * m[k], 0) / t.reduce((s, v) => s + v);
  const right = tiltedWeights(w, m, [false, true, true], target);
  assert.equal(right[0], 0);
  assert.ok(Math.abs(mean(right) - target) < 1e-9, `${mean(right)} vs ${target}`);
  // 9.67 is beyond the moments of 4 and 9: the nearest reachable, at the tilt's limit.
  const left = tiltedWeights(w, m, [true, true, false], target);
  assert.ok(Math.abs(left[1] / left[0] - MAX_TILT_RATIO) < 1e-6 && mean(left) < 9);
});

/** Three noiseless inputs of unit-flux Gaussian stars of sigma 1.5, 2.5 and 3.5 px; the sharpest covers the left half only. */
function starInputs(): StackInput[] {
  return [1.5, 2.5, 3.5].map((sigma, i) => {
    const image = new Float32Array(new SharedArrayBuffer(4 * 40000));
    const variance = new Float32Array(new SharedArrayBuffer(4 * 40000)).fill(1);
    const mask = new Int32Array(new SharedArrayBuffer(4 * 40000));
    for (let y = 0; y < 200; y++) {
      for (let x = 0; x < 200; x++) {
        const p = y * 200 + x;
        for (const cx of [50, 150])
          image[p] +=
            Math.exp(-((x - cx) ** 2 + (y - 100) ** 2) / (2 * sigma * sigma)) /
            (2 * Math.PI * sigma * sigma);
        if (i === 0 && x >= 100) mask[p] = MaskPlane.NO_DATA;
      }
    }
    return {
      image,
      variance,
      mask,
      weight: 1,
      pixelVariance: 1,
      fwhmPx: sigma * 2.3548,
      psf: GaussianPsf.fromFwhm(sigma * 2.3548),
      noiseCorrelation: null,
    };
  });
}

/** Second moment (x^2 + y^2) / 2 of the coadd's star at (cx, 100). */
function starMoment(image: Float32Array, cx: number): number {
  let s = 0;
  let s2 = 0;
  for (let y = 80; y <= 120; y++) {
    for (let x = cx - 20; x <= cx + 20; x++) {
      const v = image[y * 200 + x];
      s += v;
      s2 += (v * ((x - cx) ** 2 + (y - 100) ** 2)) / 2;
    }
  }
  return s2 / s;
}

test('stacking: where the sharpest input ends, the coadd PSF keeps its width (psfContinuousWeights)', async () => {
  const run = async (psfContinuousWeights: boolean) => {
    // Two inputs cover the right half: kept (minPixelInputs 2) to see their PSF.
    const cfg = resolveTemplateConfig({
      rejection: 'none',
      psfContinuousWeights,
      minPixelInputs: 2,
    });
    const out = await stackInputs(200, 200, starInputs(), cfg, null);
    return starMoment(out.image, 150) / starMoment(out.image, 50);
  };
  const tilted = await run(true);
  assert.ok(Math.abs(tilted - 1) < 0.02, `width ratio right / left ${tilted}`);
  const plain = await run(false);
  assert.ok(plain > 1.15, `without the tilt the PSF jumps: ${plain}`);
});

/**
 * Noisy inputs (sigma 1) of one star at (80, 80), with true Moffat PSFs as their models: by default
 * five, three sharp (FWHM 3 px, beta 4.5), two broad with heavier wings (FWHM 5 px, beta 3), as the
 * simulator's seeing and beta spread make them, the star of 2e5 ADU in each (`starFlux(i)` else);
 * input 0 also holds a transient at (40, 120).
 */
function moffatInputs(
  fwhms: number[] = [3, 3, 3, 5, 5],
  starFlux: (i: number) => number = () => 2e5,
): StackInput[] {
  const gauss = normals(7);
  const size = 160;
  return fwhms.map((fwhm, i) => {
    const psf = MoffatPsf.uniform(size, fwhm, fwhm === 3 ? 4.5 : 3);
    const image = new Float32Array(new SharedArrayBuffer(4 * size * size));
    for (let p = 0; p < image.length; p++) image[p] = gauss();
    const add = (cx: number, cy: number, flux: number) => {
      const st = psf.stampAt(cx, cy);
      const h = (st.size - 1) / 2;
      for (let j = 0; j < st.size; j++)
        for (let k = 0; k < st.size; k++)
          image[(cy - h + j) * size + cx - h + k] += flux * st.data[j * st.size + k];
    };
    add(80, 80, starFlux(i));
    if (i === 0) add(40, 120, 2000);
    return {
      image,
      variance: new Float32Array(new SharedArrayBuffer(4 * size * size)).fill(1),
      mask: new Int32Array(new SharedArrayBuffer(4 * size * size)),
      weight: 1,
      pixelVariance: 1,
      fwhmPx: fwhm,
      psf,
      noiseCorrelation: null,
    };
  });
}

test("compareWarp: broad inputs' Moffat wings are kept with PSF-model matching, rejected with Gaussian matching; a transient is rejected with both", async () => {
  const rejectedAround = async (compareMatch: 'model' | 'gaussian') => {
    const out = await stackInputs(
      160,
      160,
      moffatInputs(),
      resolveTemplateConfig({ compareMatch }),
      null,
    );
    // Share of the pixels within 25 px of the star (its wings) where some input was rejected.
    let disc = 0;
    let rejected = 0;
    for (let y = 55; y <= 105; y++) {
      for (let x = 55; x <= 105; x++) {
        if ((x - 80) ** 2 + (y - 80) ** 2 > 625) continue;
        disc++;
        if (out.count[y * 160 + x] < 5) rejected++;
      }
    }
    return { wings: rejected / disc, transient: out.count[120 * 160 + 40] };
  };
  assert.equal(DEFAULT_TEMPLATE_CONFIG.compareMatch, 'gaussian');
  const model = await rejectedAround('model');
  // What is left is a noise peak of the 5-sigma rule, grown by a FWHM.
  assert.ok(model.wings < 0.1, `model matching keeps the wings: ${model.wings}`);
  assert.equal(model.transient, 4, 'model matching: the transient rejected');
  const gaussian = await rejectedAround('gaussian');
  assert.ok(gaussian.wings > 0.5, `gaussian matching rejects the wings: ${gaussian.wings}`);
  assert.equal(gaussian.transient, 4);
  assert.throws(() => resolveTemplateConfig({ compareMatch: 'x' as 'model' }), /compareMatch/);
});

test('INEXACT_PSF: a bright star whose broad inputs CompareWarp dropped in its wings is flagged over its footprint; nothing where every input is used', async () => {
  const flagged = async (rejection: 'compareWarp' | 'none') => {
    const out = await stackInputs(
      160,
      160,
      moffatInputs(),
      resolveTemplateConfig({ rejection }),
      null,
    );
    const at = (x: number, y: number) => (out.mask[y * 160 + x] & MaskPlane.INEXACT_PSF) !== 0;
    let total = 0;
    for (const m of out.mask) if (m & MaskPlane.INEXACT_PSF) total++;
    // The core (all inputs), a wing pixel (the broad ones rejected), the one-visit transient's place (rejected in input 0: no light left).
    return { core: at(80, 80), wing: at(86, 80), transient: at(40, 120), total };
  };
  const cw = await flagged('compareWarp');
  assert.ok(cw.core && cw.wing, `the star, core and wings, is flagged: ${JSON.stringify(cw)}`);
  assert.equal(cw.transient, false, 'the rejected transient leaves no light to flag');
  assert.ok(cw.total < 0.2 * 160 * 160, `only the star's footprint: ${cw.total} px`);
  assert.equal((await flagged('none')).total, 0, "every input used: the PSF is CoaddPsf's");
  assert.throws(() => resolveTemplateConfig({ inexactPsfPeakSigma: -1 }), /inexactPsfPeakSigma/);
});

test('INEXACT_PSF: a variable star whose bright epoch CompareWarp rejected (1 of 6 inputs, core and wings) is not flagged; with inexactPsfMissingFraction 0 (any input missing) it is', async () => {
  // Six inputs of one seeing; input 2 caught the star twice as bright (0.75 mag).
  const inputs = moffatInputs([3, 3, 3, 3, 3, 3], (i) => (i === 2 ? 4e5 : 2e5));
  const run = (inexactPsfMissingFraction: number) =>
    stackInputs(160, 160, inputs, resolveTemplateConfig({ inexactPsfMissingFraction }), null);
  const out = await run(DEFAULT_TEMPLATE_CONFIG.inexactPsfMissingFraction);
  assert.equal(out.count[80 * 160 + 80], 5, 'the bright epoch is rejected at the core');
  let flagged = 0;
  for (const m of out.mask) if (m & MaskPlane.INEXACT_PSF) flagged++;
  assert.equal(flagged, 0, 'one input of six missing: the coadd PSF is still close to CoaddPsf');
  const any = await run(0);
  assert.ok(
    any.mask[80 * 160 + 80] & MaskPlane.INEXACT_PSF,
    'flagged when any missing input counts',
  );
  assert.throws(
    () => resolveTemplateConfig({ inexactPsfMissingFraction: 1.5 }),
    /inexactPsfMissingFraction/,
  );
});
