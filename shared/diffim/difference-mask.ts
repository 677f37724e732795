/**
 * The difference image's mask: the science's bits, the template's spread over the filters' reach
 * (the kernel or ZOGY filter carries a template defect that far), and EDGE where the filters see
 * past the border. Detection bits of the inputs are not carried. Pure pixel work on whole planes,
 * so subtractImages runs it on a pool worker while it selects candidates and fits the kernel.
 * @example
 *   const mask = await differenceMaskAsync(science.mask, warped.mask, kernelHalfWidth, pool);
 */
import { MaskPlane } from '../image/mask.js';
import { Plane } from '../image/plane.js';
import { dilateBits } from '../util/convolve.js';
import { sharedBuffer } from '../util/buffer-pool.js';
import { sharedOrCopy } from '../util/shared-plane.js';
import type { WorkerPool } from '../util/worker-pool.js';
import { poolTask } from '../util/pool-task.js';

type MaskI = Plane<Int32Array>;

/** Bits a template pixel carries into the difference: all but detections. */
const CARRY = ~(MaskPlane.DETECTED | MaskPlane.DETECTED_NEGATIVE);
/**
 * Of those, the bits spread to its neighbours: all but INEXACT_PSF, which flags a bright source's
 * own footprint (its light above 5 sigma, shared/template/inexact-psf.ts), already wider than
 * its residual: spread over the kernel's reach it lost ten times its area.
 */
const SPREAD = CARRY & ~MaskPlane.INEXACT_PSF;

/**
 * Fills `out` (contiguous, the inputs' size) with the difference's mask; reach in pixels. The
 * template's bits are spread in `out` itself, then the science's and EDGE are added.
 */
export function differenceMask(
  scienceMask: MaskI,
  templateMask: MaskI,
  reach: number,
  out: MaskI,
): void {
  const { width, height } = scienceMask;
  const grown = out.data;
  for (let y = 0; y < height; y++) {
    const mt = templateMask.row(y);
    for (let x = 0, i = y * width; x < width; x++, i++) grown[i] = mt[x] & CARRY;
  }
  dilateBits(grown, width, height, SPREAD, reach);
  for (let y = 0; y < height; y++) {
    const ms = scienceMask.row(y);
    for (let x = 0, i = y * width; x < width; x++, i++) {
      const edge =
        x < reach || y < reach || x >= width - reach || y >= height - reach ? MaskPlane.EDGE : 0;
      grown[i] |= (ms[x] & CARRY) | edge;
    }
  }
}

interface MaskJob {
  science: Int32Array;
  template: Int32Array;
  out: Int32Array;
  width: number;
  height: number;
  reach: number;
}

/** Worker side: the planes arrive contiguous on SharedArrayBuffers. */
export function differenceMaskShared(job: MaskJob): void {
  const plane = (data: Int32Array): MaskI => new Plane(data, job.width, job.height);
  differenceMask(plane(job.science), plane(job.template), job.reach, plane(job.out));
}

/** differenceMask on a worker of `pool` (here when the pool has none); a new contiguous plane. */
export async function differenceMaskAsync(
  scienceMask: MaskI,
  templateMask: MaskI,
  reach: number,
  pool: WorkerPool | null,
): Promise<MaskI> {
  const { width, height } = scienceMask;
  if (!pool || pool.size === 0) {
    const out = Plane.zeros(Int32Array, width, height);
    differenceMask(scienceMask, templateMask, reach, out);
    return out;
  }
  const out = new Int32Array(sharedBuffer(4 * width * height, false));
  const job: MaskJob = {
    science: sharedOrCopy(scienceMask).data,
    template: sharedOrCopy(templateMask).data,
    out,
    width,
    height,
    reach,
  };
  await pool.runTask(poolTask(import.meta.url, { differenceMaskShared }), job);
  return new Plane(out, width, height);
}
