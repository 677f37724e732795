/**
 * Small simulated image pairs for the subtraction tests: Gaussian stars on white noise,
 * already aligned, with known PSFs, photometric scale, differential background and transients.
 */
import { Exposure } from '../../shared/image/exposure.js';
import type { Psf, PsfStamp } from '../../shared/psf/types.js';

/** A circular Gaussian PSF, constant or with sigma varying linearly across x. */
export class TestGaussianPsf implements Psf {
  constructor(
    readonly sigma0: number,
    readonly stampSize = 2 * Math.ceil(4 * sigma0) + 1,
    /** d sigma / d x, per pixel. */
    readonly slope = 0,
  ) {}

  sigmaAt(x: number): number {
    return this.sigma0 + this.slope * x;
  }

  fwhmAt(x: number): number {
    return 2.3548200450309493 * this.sigmaAt(x);
  }

  stampAt(x: number, y: number, centered = false): PsfStamp {
    const size = this.stampSize,
      c = (size - 1) / 2;
    const dx = centered ? 0 : x - Math.round(x),
      dy = centered ? 0 : y - Math.round(y);
    const s = this.sigmaAt(x);
    const data = new Float32Array(size * size);
    let t = 0;
    for (let v = 0; v < size; v++) {
      for (let u = 0; u < size; u++) {
        const val = Math.exp(-((u - c - dx) ** 2 + (v - c - dy) ** 2) / (2 * s * s));
        data[v * size + u] = val;
        t += val;
      }
    }
    for (let i = 0; i < data.length; i++) data[i] /= t;
    return { size, data };
  }
}

export { mulberry32 as rng } from '../../shared/util/random.js';
import { mulberry32 as rng } from '../../shared/util/random.js';

export function gaussian(r: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(r() + 1e-300)) * Math.cos(2 * Math.PI * r());
}

export interface Source {
  x: number;
  y: number;
  /** Flux in science units. */
  flux: number;
}

/** The brightest of `stars` at least `margin` px inside an image of side `size`. */
export function brightestInside(stars: Source[], size: number, margin: number): Source {
  return stars
    .filter((s) => Math.min(s.x, s.y) > margin && Math.max(s.x, s.y) < size - margin)
    .sort((a, b) => b.flux - a.flux)[0];
}

export interface PairOptions {
  size: number;
  seed: number;
  sigmaScience: number;
  sigmaTemplate: number;
  /** Science flux per template flux. */
  scale: number;
  /** Sky noise per pixel (ADU) in science and template. */
  noiseScience: number;
  noiseTemplate: number;
  stars: number;
  transients: number;
  /** Science-only background: a + b * x / size. */
  background: [number, number];
  /** d sigma / dx of the science PSF (spatial variation). */
  scienceSlope?: number;
}

export interface Pair {
  science: Exposure;
  template: Exposure;
  stars: Source[];
  transients: Source[];
}

function render(
  size: number,
  psf: TestGaussianPsf,
  sources: Array<{ x: number; y: number; flux: number }>,
  image: Float32Array,
): void {
  for (const s of sources) {
    const st = psf.stampAt(s.x, s.y);
    const h = (st.size - 1) / 2,
      cx = Math.round(s.x),
      cy = Math.round(s.y);
    for (let v = 0; v < st.size; v++) {
      const y = cy - h + v;
      if (y < 0 || y >= size) continue;
      for (let u = 0; u < st.size; u++) {
        const x = cx - h + u;
        if (x >= 0 && x < size) image[y * size + x] += s.flux * st.data[v * st.size + u];
      }
    }
  }
}

export function makePair(o: PairOptions): Pair {
  const r = rng(o.seed);
  const g = gaussian(r);
  const margin = 20;
  const place = (): [number, number] => [
    margin + r() * (o.size - 2 * margin),
    margin + r() * (o.size - 2 * margin),
  ];
  const stars: Source[] = [];
  for (let i = 0; i < o.stars; i++) {
    const [x, y] = place();
    stars.push({ x, y, flux: 300 * Math.exp(r() * Math.log(300)) });
  }
  const transients: Source[] = [];
  while (transients.length < o.transients) {
    const [x, y] = place();
    if (
      stars.some((s) => Math.hypot(s.x - x, s.y - y) < 15) ||
      transients.some((s) => Math.hypot(s.x - x, s.y - y) < 15)
    )
      continue;
    transients.push({ x, y, flux: 20000 });
  }
  const sciPsf = new TestGaussianPsf(o.sigmaScience, undefined, o.scienceSlope ?? 0);
  const tmplPsf = new TestGaussianPsf(o.sigmaTemplate, 2 * Math.ceil(4 * o.sigmaTemplate) + 1);
  const make = (
    psf: TestGaussianPsf,
    srcs: Source[],
    fluxScale: number,
    sky: number,
    bg: [number, number],
  ): Exposure => {
    const e = Exposure.blank(o.size, o.size);
    const clean = new Float32Array(o.size * o.size);
    render(
      o.size,
      psf,
      srcs.map((s) => ({ ...s, flux: s.flux * fluxScale })),
      clean,
    );
    for (let y = 0; y < o.size; y++) {
      for (let x = 0; x < o.size; x++) {
        const i = y * o.size + x;
        // Gain 1: Poisson variance of the source counts plus the sky noise.
        const v = sky * sky + Math.max(0, clean[i]);
        e.variance.data[i] = v;
        e.image.data[i] = clean[i] + Math.sqrt(v) * g() + bg[0] + (bg[1] * x) / o.size;
      }
    }
    e.psf = psf;
    return e;
  };
  return {
    science: make(sciPsf, [...stars, ...transients], 1, o.noiseScience, o.background),
    template: make(tmplPsf, stars, 1 / o.scale, o.noiseTemplate, [0, 0]),
    stars,
    transients,
  };
}

/** PSF-fit flux and its error at a known position on an exposure with a PSF (white noise). */
export function psfFlux(e: Exposure, x: number, y: number): { flux: number; err: number } {
  const psf = e.psf;
  if (!psf) throw new Error('no PSF');
  const st = psf.stampAt(x, y);
  const h = (st.size - 1) / 2,
    cx = Math.round(x),
    cy = Math.round(y);
  let pd = 0,
    pp = 0,
    ppv = 0;
  for (let v = 0; v < st.size; v++) {
    for (let u = 0; u < st.size; u++) {
      const px = cx - h + u,
        py = cy - h + v;
      if (px < 0 || py < 0 || px >= e.width || py >= e.height) continue;
      const p = st.data[v * st.size + u];
      pd += p * e.image.get(px, py);
      pp += p * p;
      ppv += p * p * e.variance.get(px, py);
    }
  }
  return { flux: pd / pp, err: Math.sqrt(ppv) / pp };
}
