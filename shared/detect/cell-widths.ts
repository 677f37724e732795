/**
 * A PSF model's FWHM at the centres of a CachedPsf's cells, found on a pool worker: each is a
 * profile fit (psf/profile-fit.ts) of the model's stamps, ~10 ms, and an alert's cutouts ask for
 * one per cell and image (the PSF extension's PSFFWHM card). The model goes to the worker in its
 * stored form (psf/persist.ts), so it computes the very numbers this thread would.
 * @example
 *   const cached = new CachedPsf(science.psf, 512);
 *   const widths = cellWidthsAsync(cached, science, pool); // null: the model has no stored form
 *   ...; await widths; cached.fwhmAt(x, y);
 */
import { psfFromHdu, psfToHdu, type PsfHdu } from '../psf/persist.js';
import { poolTask } from '../util/pool-task.js';
import type { WorkerPool } from '../util/worker-pool.js';
import type { CachedPsf } from './cached-psf.js';

interface WidthsJob {
  psf: PsfHdu;
  x: Float64Array;
  y: Float64Array;
}

/** Worker side: the model's FWHM at each (x, y). */
export function cellWidthsShared(job: WidthsJob): Float64Array {
  const cards = new Map(job.psf.cards);
  const model = psfFromHdu((k) => cards.get(k), job.psf.data, job.psf.width, job.psf.height);
  return job.x.map((x, k) => model.fwhmAt(x, job.y[k]));
}

/**
 * Starts the FWHMs of `cached`'s model at the centres of the cells over `area` on a worker of
 * `pool`; once the promise resolves, `cached.fwhmAt` returns them. Null when there is no worker or
 * the model has no stored form (then fwhmAt fits the profile here, as before).
 */
export function cellWidthsAsync(
  cached: CachedPsf,
  area: { image: { x0: number; y0: number }; width: number; height: number },
  pool: WorkerPool | null,
): Promise<void> | null {
  if (!pool || pool.size === 0) return null;
  let psf: PsfHdu;
  try {
    psf = psfToHdu(cached.model);
  } catch {
    return null;
  }
  const { x, y } = cached.cellCentres(area.image.x0, area.image.y0, area.width, area.height);
  return pool
    .runTask(poolTask(import.meta.url, { cellWidthsShared }), { psf, x, y })
    .then((fwhm) => cached.knowFwhm(x, y, fwhm));
}
