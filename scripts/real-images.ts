/**
 * `node --import tsx scripts/real-images.ts [OUT_DIR]`: the real pairs of test/data through `ap
 * diff`'s pipeline (runDiff) and detection, printing the figures of docs/real-images/README.md and
 * writing its PNGs (science, warped template, difference IMAGE/sqrt(VARIANCE), each zscale +
 * asinh; for NIRCam a fourth panel, SFFT's reference SNR map, binned 2 x 2). OUT_DIR defaults to docs/real-images.
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadImage } from '../cli/image-inputs.js';
import { runDiff } from '../shared/diffim/pipeline.js';
import { DEFAULT_MODEL_ERROR_CONFIG } from '../shared/diffim/model-error.js';
import { normalisedNoise } from '../shared/diffim/noise.js';
import { detectDiaSources } from '../shared/detect/detect.js';
import { previewPng } from '../shared/diffim/preview.js';
import { readFits } from '../shared/fits/read.js';
import { Plane, type ImageF } from '../shared/image/plane.js';
import { UNUSABLE } from '../shared/image/mask.js';
import type { Exposure } from '../shared/image/exposure.js';

const data = (dir: string, name: string): string =>
  fileURLToPath(new URL(`../test/data/${dir}/${name}`, import.meta.url));
const out = process.argv[2] ?? fileURLToPath(new URL('../docs/real-images/', import.meta.url));
mkdirSync(out, { recursive: true });

/** IMAGE / sqrt(VARIANCE), clamped to +-10 for display, 0 where unusable. */
function snrPlane(d: Exposure): ImageF {
  const p = Plane.zeros(Float32Array, d.width, d.height);
  for (let i = 0; i < p.data.length; i++)
    p.data[i] =
      d.mask.data[i] & UNUSABLE || !(d.variance.data[i] > 0)
        ? 0
        : Math.max(-10, Math.min(10, d.image.data[i] / Math.sqrt(d.variance.data[i])));
  return p;
}

/** Mean of `f` x `f` blocks (keeps the committed PNGs small; non-finite pixels count as 0). */
function binned(p: ImageF, f: number): ImageF {
  if (f === 1) return p;
  const out = Plane.zeros(Float32Array, Math.floor(p.width / f), Math.floor(p.height / f));
  for (let y = 0; y < out.height * f; y++) {
    const row = p.row(y);
    for (let x = 0; x < out.width * f; x++)
      if (Number.isFinite(row[x]))
        out.data[Math.floor(y / f) * out.width + Math.floor(x / f)] += row[x] / (f * f);
  }
  return out;
}

const PAIRS = [
  {
    name: 'decam',
    dir: 'decam-mini',
    science: 'DEC-OBS04a.mini.fits',
    template: 'DEC-OBS18a.mini.fits',
    noise: null,
    reference: null,
    bin: 1,
  },
  {
    name: 'nircam',
    dir: 'nircam-a2744',
    science: 'science.fits',
    template: 'template.fits',
    noise: ['science.noise.fits', 'template.noise.fits'],
    reference: 'sfft_reference_diff_SNR.fits',
    bin: 2,
  },
] as const;

for (const pair of PAIRS) {
  const [science, template] = await Promise.all([
    loadImage(data(pair.dir, pair.science), pair.noise ? data(pair.dir, pair.noise[0]) : undefined),
    loadImage(
      data(pair.dir, pair.template),
      pair.noise ? data(pair.dir, pair.noise[1]) : undefined,
    ),
  ]);
  const r = await runDiff(science.exposure, template.exposure);
  const snr = snrPlane(r.difference);
  const found = detectDiaSources(r.difference, r.differencePsf).sources.filter(
    (s) => Math.abs(s.snr) >= 6,
  );
  const panels: ImageF[] = [science.exposure.image, r.warpedTemplate.image, snr];
  const figures: Record<string, unknown> = {
    pair: pair.dir,
    method: r.method,
    kernelSum: +r.kernelSum.toFixed(4),
    apertureCorrected: r.stats.apertureCorrected,
    kernelFallback: r.stats.kernelFallback || 'none',
    scienceFwhmPx: +r.stats.scienceFwhmPx.toFixed(2),
    templateFwhmPx: +r.stats.templateFwhmPx.toFixed(2),
    differenceFwhmPx: +r.psfFwhmPx.toFixed(2),
    noiseRatio: +normalisedNoise(r.difference).ratio.toFixed(3),
    variance: [science.varianceOrigin || 'derived', template.varianceOrigin || 'derived'],
    detectionsSnr6: found.length,
    detections: found
      .map((s) => `${s.x.toFixed(0)},${s.y.toFixed(0)}:${s.snr.toFixed(1)}${s.isDipole ? 'D' : ''}`)
      .join(' '),
  };
  if (pair.reference) {
    const ref = readFits(readFileSync(data(pair.dir, pair.reference)))[0];
    const refData = Float32Array.from(ref.data as Float32Array, (v) =>
      Number.isFinite(v) ? v : 0,
    );
    const refPlane = new Plane(
      refData.map((v) => Math.max(-10, Math.min(10, v))),
      ref.width,
      ref.height,
    );
    panels.push(refPlane);
    // Per pixel, on usable pixels: correlation of the two SNR maps, each one's std, and pixels beyond 6 sigma.
    let n = 0,
      sa = 0,
      sb = 0,
      saa = 0,
      sbb = 0,
      sab = 0,
      beyondOurs = 0,
      beyondRef = 0;
    for (let i = 0; i < refData.length; i++) {
      if (r.difference.mask.data[i] & UNUSABLE || !(r.difference.variance.data[i] > 0)) continue;
      const a = r.difference.image.data[i] / Math.sqrt(r.difference.variance.data[i]),
        b = refData[i];
      n++;
      sa += a;
      sb += b;
      saa += a * a;
      sbb += b * b;
      sab += a * b;
      if (Math.abs(a) >= 6) beyondOurs++;
      if (Math.abs(b) >= 6) beyondRef++;
    }
    const cov = sab / n - (sa / n) * (sb / n),
      va = saa / n - (sa / n) ** 2,
      vb = sbb / n - (sb / n) ** 2;
    const refAt = (x: number, y: number): number => {
      let best = 0;
      for (let v = Math.round(y) - 3; v <= Math.round(y) + 3; v++)
        for (let u = Math.round(x) - 3; u <= Math.round(x) + 3; u++)
          if (
            u >= 0 &&
            v >= 0 &&
            u < ref.width &&
            v < ref.height &&
            Math.abs(refData[v * ref.width + u]) > Math.abs(best)
          )
            best = refData[v * ref.width + u];
      return best;
    };
    Object.assign(figures, {
      sfft: {
        pixelCorrelation: +(cov / Math.sqrt(va * vb)).toFixed(3),
        pixelStdOurs: +Math.sqrt(va).toFixed(3),
        pixelStdSfft: +Math.sqrt(vb).toFixed(3),
        pixelsBeyond6SigmaOurs: beyondOurs,
        pixelsBeyond6SigmaSfft: beyondRef,
        sfftPeakAtOurDetections: found.map((s) => refAt(s.x, s.y).toFixed(1)).join(' '),
      },
    });
  }
  if (pair.reference) {
    // The gate's figures, and the same pair without the model-error variance (shared/diffim/model-error.ts).
    Object.assign(figures, {
      modelError: {
        cores: r.modelError.cores,
        coresBeyondNoise: +r.modelError.coresBeyondNoise.toFixed(3),
        fluxFraction: +r.modelError.fluxFraction.toFixed(4),
        astrometricSigmaPx: +r.modelError.astrometricSigmaPx.toFixed(4),
        pixels: r.modelError.pixels,
      },
    });
    // Read afresh: runDiff characterizes (background-subtracts) its inputs in place.
    const [s, t] = await Promise.all([
      loadImage(data(pair.dir, pair.science), data(pair.dir, pair.noise[0])),
      loadImage(data(pair.dir, pair.template), data(pair.dir, pair.noise[1])),
    ]);
    const m = await runDiff(s.exposure, t.exposure, {
      subtract: { modelError: { ...DEFAULT_MODEL_ERROR_CONFIG, measure: false } },
    });
    const strong = detectDiaSources(m.difference, m.differencePsf).sources.filter(
      (s) => Math.abs(s.snr) >= 6,
    );
    figures.withoutModelError = {
      noiseRatio: +normalisedNoise(m.difference).ratio.toFixed(3),
      detectionsSnr6: strong.length,
      detections: strong
        .map(
          (s) => `${s.x.toFixed(0)},${s.y.toFixed(0)}:${s.snr.toFixed(1)}${s.isDipole ? 'D' : ''}`,
        )
        .join(' '),
    };
  }
  writeFileSync(join(out, `${pair.name}.png`), previewPng(panels.map((p) => binned(p, pair.bin))));
  console.log(JSON.stringify(figures, null, 1));
}
