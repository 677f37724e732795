/**
 * A DiaObject row recomputed from its DiaSources and DiaForcedSources: mean position (the
 * normalised mean of unit vectors, as lsst.geom.averageSpherePoint), source count, first and
 * last times, and the per-band features of ./features.ts.
 */
import {
  BANDS,
  BAND_FEATURES,
  type DiaForcedSource,
  type DiaObject,
  type DiaSource,
} from '../apdb/types.js';
import { bandFeatures, type FluxPoint } from './features.js';
import { RAD_PER_DEG } from '../util/numeric.js';

/** Mean sky position of points, degrees; ra in [0, 360). */
export function meanPosition(points: ReadonlyArray<{ ra: number; dec: number }>): {
  ra: number;
  dec: number;
} {
  let x = 0;
  let y = 0;
  let z = 0;
  for (const p of points) {
    const c = Math.cos(p.dec * RAD_PER_DEG);
    x += c * Math.cos(p.ra * RAD_PER_DEG);
    y += c * Math.sin(p.ra * RAD_PER_DEG);
    z += Math.sin(p.dec * RAD_PER_DEG);
  }
  const ra = Math.atan2(y, x) / RAD_PER_DEG;
  return { ra: ra < 0 ? ra + 360 : ra, dec: Math.atan2(z, Math.hypot(x, y)) / RAD_PER_DEG };
}

/**
 * The DiaObject row summarising `sources` (all of its DiaSources in the history window, newest
 * included) and `forced` (its DiaForcedSources in the window).
 * @param previous the stored row, whose firstDiaSourceMjdTai survives a history window that no
 *                 longer reaches back to it
 */
export function summarizeDiaObject(
  diaObjectId: number,
  sources: readonly DiaSource[],
  forced: readonly DiaForcedSource[],
  previous: DiaObject | null,
  validityStartMjdTai: number,
): DiaObject {
  if (sources.length === 0)
    throw new RangeError(`DiaObject ${diaObjectId} needs at least one DiaSource`);
  const { ra, dec } = meanPosition(sources);
  let first = previous?.firstDiaSourceMjdTai ?? Infinity;
  let last = previous?.lastDiaSourceMjdTai ?? -Infinity;
  for (const s of sources) {
    first = Math.min(first, s.midpointMjdTai);
    last = Math.max(last, s.midpointMjdTai);
  }
  const row: Record<string, number | null> = {
    diaObjectId,
    validityStartMjdTai,
    ra,
    dec,
    raErr: null,
    decErr: null,
    ra_dec_Cov: null,
    firstDiaSourceMjdTai: first,
    lastDiaSourceMjdTai: last,
    nDiaSources: sources.length,
  };
  for (const band of BANDS) {
    const inBand = sources.filter((s) => s.band === band);
    const psf: FluxPoint[] = inBand.map((s) => ({
      flux: s.psfFlux,
      fluxErr: s.psfFluxErr,
      mjd: s.midpointMjdTai,
    }));
    const science: FluxPoint[] = inBand.map((s) => ({
      flux: s.scienceFlux,
      fluxErr: s.scienceFluxErr,
      mjd: s.midpointMjdTai,
    }));
    const fp: FluxPoint[] = forced
      .filter((f) => f.band === band)
      .map((f) => ({ flux: f.psfFlux, fluxErr: f.psfFluxErr, mjd: f.midpointMjdTai }));
    const features = bandFeatures(psf, science, fp);
    row[`${band}_psfFluxNdata`] = features.psfFluxNdata;
    for (const name of BAND_FEATURES) row[`${band}_${name}`] = features[name];
  }
  return row as unknown as DiaObject;
}
