/**
 * adaptiveMoments of many points, in bands of points shared with a helper thread when one is free
 * (../util/shared-bands.ts): each point's moments are measured on their own, so they are the ones
 * a loop on one thread gives. The source's planes must be on SharedArrayBuffers for the helper to
 * read them in place.
 * @example
 *   const moments = adaptiveMomentsBands(src, peaks, 2, helper); // = peaks.map((p) => adaptiveMoments(src, p.x, p.y, 2))
 */
import { poolTask } from '../util/pool-task.js';
import { runClaimed, shareBands, type BandClaim, type Helper } from '../util/shared-bands.js';
import { adaptiveMoments, type Moments, type PixelSource } from './moments.js';

/** Points per band (a few ms of work: small against a thread's share, large against a claim). */
const BAND_POINTS = 32;
/** Numbers stored per point: x, y, ixx, iyy, ixy, flux, snr, ok. */
const FIELDS = 8;

interface MomentsJob {
  src: PixelSource;
  /** The points' x and y, interleaved. */
  points: Float64Array;
  sigma0: number;
  /** Receives FIELDS numbers per point. */
  out: Float64Array;
}

function measureBand(job: MomentsJob, band: number): void {
  const { src, points, sigma0, out } = job;
  for (
    let k = band * BAND_POINTS, end = Math.min(points.length / 2, k + BAND_POINTS);
    k < end;
    k++
  ) {
    const m = adaptiveMoments(src, points[2 * k], points[2 * k + 1], sigma0);
    out.set([m.x, m.y, m.ixx, m.iyy, m.ixy, m.flux, m.snr, m.ok ? 1 : 0], FIELDS * k);
  }
}

/** Helper side of adaptiveMomentsBands: the claimed bands of points. */
export function momentsTask(job: MomentsJob & { claim: BandClaim }): void {
  runClaimed(job.claim, (b) => measureBand(job, b));
}

/** True when a helper reads the source's planes in place (not a copy of each). */
const onShared = (src: PixelSource): boolean =>
  [src.data, src.bad, src.variance].every(
    (a) => a === null || typeof a === 'number' || a.buffer instanceof SharedArrayBuffer,
  );

/** adaptiveMoments(src, p.x, p.y, sigma0) of each point, the points shared with `helper`. */
export function adaptiveMomentsBands(
  src: PixelSource,
  points: ReadonlyArray<{ x: number; y: number }>,
  sigma0: number,
  helper: Helper | null,
): Moments[] {
  const n = points.length;
  const job: MomentsJob = {
    src,
    points: new Float64Array(new SharedArrayBuffer(16 * n)),
    sigma0,
    out: new Float64Array(new SharedArrayBuffer(8 * FIELDS * n)),
  };
  points.forEach((p, k) => job.points.set([p.x, p.y], 2 * k));
  const count = Math.ceil(n / BAND_POINTS);
  shareBands(
    onShared(src) ? helper : null,
    poolTask(import.meta.url, { momentsTask }),
    job,
    count,
    (b) => measureBand(job, b),
  );
  const o = job.out;
  return Array.from({ length: n }, (_, k) => {
    const f = FIELDS * k;
    const [x, y, ixx, iyy, ixy, flux, snr] = o.subarray(f, f + FIELDS - 1);
    return { x, y, ixx, iyy, ixy, flux, snr, ok: o[f + FIELDS - 1] === 1 };
  });
}
