/**
 * A PSF model's shape fitted over its image in this thread's idle moments: pixel models measure
 * their FWHM and width on a lattice of nodes, lazily, a profile fit each (psf/pixel-psf.ts
 * shapeAt), and the first cutouts to ask for them pay for all (~10 % of the detect stage for a
 * prepared template's model, through the warped PSF's FWHM). Asked here in slices of the event
 * loop's turns while the pipeline waits on the pool's worker (the science's characterization), the
 * same cached values cost the critical path nothing; a turn holds this thread at most
 * WARM_SLICE_MS (and one point's fits), so a worker's reply waits no longer than that.
 * @example
 *   warmPsfShape(prepared.exposure.psf, prepared.exposure); // returns at once
 */
import type { Exposure } from '../image/exposure.js';
import type { Psf } from '../psf/types.js';

/**
 * Longest run of fits per event-loop turn, ms: the pipeline's thread yields between its steps only
 * so often (a turn per point left most of a 4k template's fits to the cutouts under load), and a
 * worker's reply waits at most this long (plus one point's fits).
 */
const WARM_SLICE_MS = 15;

/** Points per image side where the shape is asked (16 steps: every node of a lattice of up to 17 x 17). */
const WARM_STEPS = 16;

/** Asks `psf` for its FWHM on a WARM_STEPS lattice over `exposure`'s pixels, WARM_SLICE_MS per event-loop turn. */
export function warmPsfShape(psf: Psf, exposure: Exposure): void {
  const { x0, y0 } = exposure.image;
  const points: Array<[number, number]> = [];
  for (let j = 0; j <= WARM_STEPS; j++)
    for (let i = 0; i <= WARM_STEPS; i++)
      points.push([
        x0 + (i / WARM_STEPS) * (exposure.width - 1),
        y0 + (j / WARM_STEPS) * (exposure.height - 1),
      ]);
  let k = 0;
  const next = (): void => {
    const until = performance.now() + WARM_SLICE_MS;
    while (k < points.length && performance.now() < until) psf.fwhmAt(...points[k++]);
    if (k < points.length) setImmediate(next).unref();
  };
  setImmediate(next).unref();
}
