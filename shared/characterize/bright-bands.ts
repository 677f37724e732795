/**
 * cosmic-rays.ts brightPixels in row bands shared with a helper thread when one is free
 * (../util/shared-bands.ts): each band flags its bright pixels in a shared byte plane, and the
 * list is read back in index order, the order of the one-thread scan.
 * @example
 *   const bright = brightPixelsBands(residual, variance, mask, w, h, 6, zeros, helper);
 */
import { poolTask } from '../util/pool-task.js';
import { runClaimed, shareBands, type BandClaim, type Helper } from '../util/shared-bands.js';
import { brightPixels } from './cosmic-rays.js';

/** Image rows per band. */
const BAND_ROWS = 64;

interface BrightJob {
  residual: Float32Array;
  variance: Float32Array;
  mask: Int32Array;
  width: number;
  height: number;
  minSigma: number;
  /** Zeros (width * height) that receive 1 at each bright pixel. */
  flags: Uint8Array;
}

function flagBand(job: BrightJob, band: number): void {
  const { residual, variance, mask, width, height, minSigma, flags } = job;
  const y0 = band * BAND_ROWS;
  const found = brightPixels(residual, variance, mask, width, height, minSigma, y0, y0 + BAND_ROWS);
  for (let k = 0; k < found.length; k++) flags[found[k]] = 1;
}

/** Helper side of brightPixelsBands: the claimed bands of rows. */
export function brightTask(job: BrightJob & { claim: BandClaim }): void {
  runClaimed(job.claim, (b) => flagBand(job, b));
}

/**
 * brightPixels(residual, variance, mask, w, h, minSigma): the rows shared with `helper` (when the
 * planes and `flags` are on SharedArrayBuffers); `flags` (w * h zeros) is lent, and zeros again on return.
 */
export function brightPixelsBands(
  residual: Float32Array,
  variance: Float32Array,
  mask: Int32Array,
  width: number,
  height: number,
  minSigma: number,
  flags: Uint8Array,
  helper: Helper | null,
): Int32Array {
  const job: BrightJob = { residual, variance, mask, width, height, minSigma, flags };
  const shared = [residual, variance, mask, flags].every(
    (a) => a.buffer instanceof SharedArrayBuffer,
  );
  if (!shared || !helper) return brightPixels(residual, variance, mask, width, height, minSigma);
  const count = Math.ceil(height / BAND_ROWS);
  shareBands(helper, poolTask(import.meta.url, { brightTask }), job, count, (b) =>
    flagBand(job, b),
  );
  return takeFlagged(flags);
}

/** The indices of the non-zero bytes, in order, each cleared (four at a time where the plane is aligned). */
function takeFlagged(flags: Uint8Array): Int32Array {
  const words = new Uint32Array(
    flags.buffer,
    flags.byteOffset,
    flags.byteOffset % 4 ? 0 : flags.length >> 2,
  );
  let out = new Int32Array(1024);
  let n = 0;
  const take = (i: number): void => {
    if (!flags[i]) return;
    flags[i] = 0;
    if (n === out.length) {
      const grown = new Int32Array(2 * n);
      grown.set(out);
      out = grown;
    }
    out[n++] = i;
  };
  for (let k = 0; k < words.length; k++)
    if (words[k]) for (let i = 4 * k; i < 4 * k + 4; i++) take(i);
  for (let i = 4 * words.length; i < flags.length; i++) take(i);
  return out.slice(0, n);
}
