// The row work of likelihoodImage (likelihood.ts) on any thread, and the pool-task side of
// likelihoodImageParallel: weights, correlations and significance of row bands in shared planes.
import { Plane, type ImageF, type MaskI } from '../image/plane.js';
import { correlateSeparableRows, type SeparableTerm } from './separable.js';

/** Which pixels get zero weight: any of `excludeBits`, or within `growRadius` px of `growBits`. */
export interface MaskRule {
  excludeBits: number;
  growBits: number;
  growRadius: number;
}

/** The planes the likelihood reads, as weightRows and finishRows take them (any thread). */
export interface LikelihoodPlanes {
  image: ImageF;
  variance: ImageF;
  mask: MaskI;
}

/** Weighted image D/V and weight 1/V of rows [y0, y1) (left 0 where excluded by `rule`). */
export function weightRows(
  planes: LikelihoodPlanes,
  rule: MaskRule,
  weighted: Float32Array,
  weight: Float32Array,
  y0: number,
  y1: number,
): void {
  const { width } = planes.image;
  const { excludeBits, growBits, growRadius } = rule;
  const grown =
    growBits !== 0 && growRadius > 0
      ? grownMaskRows(planes.mask, growBits, growRadius, y0, y1)
      : null;
  for (let y = y0; y < y1; y++) {
    const img = planes.image.row(y);
    const vr = planes.variance.row(y);
    const mk = planes.mask.row(y);
    const base = y * width;
    const gBase = (y - y0) * width;
    for (let x = 0; x < width; x++) {
      const v = vr[x];
      const d = img[x];
      if (
        (mk[x] & excludeBits) === 0 &&
        (grown === null || grown[gBase + x] === 0) &&
        v > 0 &&
        Number.isFinite(v) &&
        Number.isFinite(d)
      ) {
        weight[base + x] = 1 / v;
        weighted[base + x] = d / v;
      }
    }
  }
}

/**
 * grownMask's rows [y0, y1) (out[(y - y0) * width + x]), from the mask rows within `radius` of
 * them: a band of the whole plane's answer, so that threads can each grow their own.
 */
export function grownMaskRows(
  mask: MaskI,
  bits: number,
  radius: number,
  y0: number,
  y1: number,
): Uint8Array {
  const { width, height } = mask;
  const out = new Uint8Array(width * (y1 - y0));
  const r = Math.max(0, Math.floor(radius));
  const spans = Array.from({ length: 2 * r + 1 }, (_, k) =>
    Math.floor(Math.sqrt(radius * radius - (k - r) ** 2 + 1e-9)),
  );
  for (let y = Math.max(0, y0 - r); y < Math.min(height, y1 + r); y++) {
    const mk = mask.row(y);
    for (let x = 0; x < width; x++) {
      if ((mk[x] & bits) === 0) continue;
      for (let dy = -r; dy <= r; dy++) {
        const yy = y + dy;
        if (yy < y0 || yy >= y1) continue;
        const half = spans[dy + r];
        out.fill(
          1,
          (yy - y0) * width + Math.max(0, x - half),
          (yy - y0) * width + Math.min(width - 1, x + half) + 1,
        );
      }
    }
  }
  return out;
}

/**
 * Rows [y0, y1) of the significance: num / sqrt(den) in place where the usable pixels give at least
 * `minInformation` of a clean neighbourhood's information (den * V / sumSquared), else 0.
 */
export function finishRows(
  variance: ImageF,
  num: Float32Array,
  den: Float32Array,
  sumSquared: number,
  minInformation: number,
  y0: number,
  y1: number,
): void {
  const { width } = variance;
  for (let y = y0; y < y1; y++) {
    const vr = variance.row(y);
    for (let x = 0, i = y * width; x < width; x++, i++) {
      const d = den[i];
      const usable = d > 0 && (minInformation <= 0 || (d * vr[x]) / sumSquared >= minInformation);
      num[i] = usable ? num[i] / Math.sqrt(d) : 0;
    }
  }
}

/** One separable correlation of `input` into `output` (both shared planes), output rows [y0, y1). */
export interface CorrelationJob {
  input: SharedArrayBuffer;
  output: SharedArrayBuffer;
  width: number;
  height: number;
  terms: SeparableTerm[];
  y0: number;
  y1: number;
}

export function correlateBands(jobs: CorrelationJob[]): void {
  for (const j of jobs)
    correlateSeparableRows(
      new Float32Array(j.input),
      j.width,
      j.height,
      j.terms,
      new Float32Array(j.output),
      j.y0,
      j.y1,
    );
}

/** The likelihood's input planes, contiguous on SharedArrayBuffers. */
export interface SharedLikelihoodPlanes {
  image: SharedArrayBuffer;
  variance: SharedArrayBuffer;
  mask: SharedArrayBuffer;
  width: number;
  height: number;
}

function planesOf(p: SharedLikelihoodPlanes): LikelihoodPlanes {
  return {
    image: new Plane(new Float32Array(p.image), p.width, p.height),
    variance: new Plane(new Float32Array(p.variance), p.width, p.height),
    mask: new Plane(new Int32Array(p.mask), p.width, p.height),
  };
}

/** weightRows of one band into shared planes. */
export function weightBand(job: {
  planes: SharedLikelihoodPlanes;
  rule: MaskRule;
  weighted: SharedArrayBuffer;
  weight: SharedArrayBuffer;
  y0: number;
  y1: number;
}): void {
  weightRows(
    planesOf(job.planes),
    job.rule,
    new Float32Array(job.weighted),
    new Float32Array(job.weight),
    job.y0,
    job.y1,
  );
}

/** A band's two correlations (numerator and denominator, rows y0..y1 of both) and its significance. */
export interface BandJob {
  correlations: CorrelationJob[];
  finish: {
    planes: SharedLikelihoodPlanes;
    num: SharedArrayBuffer;
    den: SharedArrayBuffer;
    sumSquared: number;
    minInformation: number;
  };
}

export function correlateAndFinishBand(job: BandJob): void {
  correlateBands(job.correlations);
  const { y0, y1 } = job.correlations[0];
  const f = job.finish;
  finishRows(
    planesOf(f.planes).variance,
    new Float32Array(f.num),
    new Float32Array(f.den),
    f.sumSquared,
    f.minInformation,
    y0,
    y1,
  );
}
