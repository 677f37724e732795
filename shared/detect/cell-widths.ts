/**
 * A PSF model's FWHM at the centres of a CachedPsf's cells, found on a pool worker: each is a
 * profile fit (psf/profile-fit.ts) of the model's stamps, ~10-25 ms, and an alert's cutouts ask
 * for one per cell and image (the PSF extension's PSFFWHM card). The model goes to the worker in
 * its stored form (psf/persist.ts), so it computes the very numbers this thread would.
 *
 * The worker yields its event loop after each cell, so the tasks posted to it meanwhile run between
 * the cells (a worker runs each message's task as it arrives): the fits can start long before they
 * are needed (the pipeline starts them after the warp) and fill the worker's idle moments, holding
 * up another task by one cell's fits at most.
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
  /** One Int32: non-zero once the caller no longer needs the widths (the worker stops). */
  stop: SharedArrayBuffer;
}

/** Resolves after the messages already queued to this thread have been handled. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Worker side: the model's FWHM at each (x, y), a turn of the event loop each (NaN once stopped). */
export async function cellWidthsShared(job: WidthsJob): Promise<Float64Array> {
  const cards = new Map(job.psf.cards);
  const model = psfFromHdu((k) => cards.get(k), job.psf.data, job.psf.width, job.psf.height);
  const stop = new Int32Array(job.stop);
  const fwhm = new Float64Array(job.x.length).fill(Number.NaN);
  for (let k = 0; k < fwhm.length && Atomics.load(stop, 0) === 0; k++) {
    fwhm[k] = model.fwhmAt(job.x[k], job.y[k]);
    await nextTurn();
  }
  return fwhm;
}

/**
 * Starts the FWHMs of `cached`'s model at the centres of the cells over `area` on a worker of
 * `pool`; once the promise resolves, `cached.fwhmAt` returns them. Null when there is no worker or
 * the model has no stored form (then fwhmAt fits the profile here, as before). Once `signal` is
 * aborted the worker stops and nothing is learnt.
 */
export function cellWidthsAsync(
  cached: CachedPsf,
  area: { image: { x0: number; y0: number }; width: number; height: number },
  pool: WorkerPool | null,
  signal?: AbortSignal,
): Promise<void> | null {
  if (!pool || pool.size === 0) return null;
  let psf: PsfHdu;
  try {
    psf = psfToHdu(cached.model);
  } catch {
    return null;
  }
  const { x, y } = cached.cellCentres(area.image.x0, area.image.y0, area.width, area.height);
  const stop = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
  signal?.addEventListener('abort', () => Atomics.store(new Int32Array(stop), 0, 1), {
    once: true,
  });
  return pool
    .runTask(poolTask(import.meta.url, { cellWidthsShared }), { psf, x, y, stop })
    .then((fwhm) => {
      if (!signal?.aborted) cached.knowFwhm(x, y, fwhm);
    });
}
