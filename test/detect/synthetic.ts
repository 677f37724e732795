/**
 * Synthetic difference images for detection tests: white Gaussian noise of a known variance
 * plane plus PSF-shaped sources of known flux (positive, negative or dipole pairs).
 */
import { Exposure } from '../../shared/image/exposure.js';
import type { Psf } from '../../shared/psf/types.js';
import { mulberry32 } from '../../shared/util/random.js';

/** Standard normal deviates from a seeded generator (Box-Muller). */
export function gaussian(seed: number): () => number {
  const uniform = mulberry32(seed);
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** A width x height exposure of pure noise with variance `variance(x, y)` (ADU^2) in its variance plane. */
export function noiseExposure(
  width: number,
  height: number,
  variance: (x: number, y: number) => number,
  seed: number,
  psf: Psf | null = null,
): Exposure {
  const exposure = Exposure.blank(width, height);
  const normal = gaussian(seed);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = variance(x, y);
      const k = y * width + x;
      exposure.variance.data[k] = v;
      exposure.image.data[k] = Math.sqrt(v) * normal();
    }
  }
  exposure.psf = psf;
  return exposure;
}

/** Adds flux * PSF(x, y) to the image (no noise added: the variance plane stays the background's). */
export function addPointSource(
  exposure: Exposure,
  psf: Psf,
  x: number,
  y: number,
  flux: number,
): void {
  const stamp = psf.stampAt(x, y);
  const r = (stamp.size - 1) / 2;
  for (let j = 0; j < stamp.size; j++) {
    const py = Math.round(y) + j - r;
    if (py < 0 || py >= exposure.height) continue;
    for (let i = 0; i < stamp.size; i++) {
      const px = Math.round(x) + i - r;
      if (px < 0 || px >= exposure.width) continue;
      exposure.image.data[py * exposure.width + px] += flux * stamp.data[j * stamp.size + i];
    }
  }
}

/** The PSF-flux error of a point source at (x, y) on a white-noise image: 1 / sqrt(sum P^2 / V). */
export function predictedFluxErr(psf: Psf, x: number, y: number, variance: number): number {
  const { data } = psf.stampAt(x, y);
  let s = 0;
  for (const p of data) s += p * p;
  return Math.sqrt(variance / s);
}

/** `count` positions on a jittered grid at least `spacing` px apart and `margin` px from the edges. */
export function gridPositions(
  width: number,
  height: number,
  count: number,
  margin: number,
  seed: number,
): Array<{ x: number; y: number }> {
  const uniform = mulberry32(seed);
  const nx = Math.ceil(Math.sqrt((count * (width - 2 * margin)) / (height - 2 * margin)));
  const ny = Math.ceil(count / nx);
  const cellW = (width - 2 * margin) / nx;
  const cellH = (height - 2 * margin) / ny;
  const out: Array<{ x: number; y: number }> = [];
  for (let j = 0; j < ny && out.length < count; j++) {
    for (let i = 0; i < nx && out.length < count; i++) {
      out.push({
        x: margin + (i + 0.25 + 0.5 * uniform()) * cellW,
        y: margin + (j + 0.25 + 0.5 * uniform()) * cellH,
      });
    }
  }
  return out;
}
