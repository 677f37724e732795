/**
 * Rubin's trail fields of the DiaSources matched to known solar-system objects: a trailed-PSF fit
 * (trail.ts) on the difference image, started from the object's predicted motion over the
 * exposure, reported on the sky (trailRa, trailDec, trailLength in arcsec, trailAngle as a
 * bearing east of north in [0, 180) degrees, trailFlux in nJy).
 */
import type { DiaSource } from '../apdb/types.js';
import type { Exposure } from '../image/exposure.js';
import type { Psf } from '../psf/types.js';
import { finiteOrNull, nanojanskyPerAdu } from '../association/calibration.js';
import type { KnownObjectMatch } from '../association/known-objects.js';
import { fitTrail, type TrailFit } from './trail.js';

const RAD_TO_DEG = 180 / Math.PI;
/** Sources within the trail's half-length plus this many PSF FWHMs of its centre are subtracted before its fit (the fit box's margin, 2, plus a PSF's reach). */
const NEIGHBOUR_REACH_FWHM = 5;

/**
 * Fits the trail of every source in `sources` with an entry in `matches` (in place); returns how
 * many were fitted. Needs the difference's WCS, exposure time and zero point.
 */
export function measureKnownObjectTrails(
  sources: DiaSource[],
  matches: ReadonlyMap<number, KnownObjectMatch>,
  difference: Exposure,
  psf: Psf,
): number {
  const wcs = difference.wcs;
  const { exposureTime, zeroPoint } = difference.info;
  if (!wcs || !(exposureTime > 0) || !Number.isFinite(zeroPoint) || matches.size === 0) return 0;
  const nJy = nanojanskyPerAdu(zeroPoint);
  let fitted = 0;
  for (const s of sources) {
    const match = matches.get(s.diaSourceId);
    if (!match) continue;
    // The predicted motion over the exposure on the tangent plane (east, north; degrees) -> pixels.
    const days = exposureTime / 86400;
    const east = Number(match.ssSource.ephRateRa) * days;
    const north = Number(match.ssSource.ephRateDec) * days;
    const [[a, b], [c, d]] = wcs.jacobian(s.x, s.y).matrix;
    const det = a * d - b * c;
    const dx = (d * east - b * north) / det;
    const dy = (-c * east + a * north) / det;
    if (!Number.isFinite(dx) || !Number.isFinite(dy)) continue;
    const fit = fitTrail(difference.image, difference.variance, difference.mask, psf, {
      x: s.x,
      y: s.y,
      dx,
      dy,
      neighbours: neighboursOf(
        s,
        sources,
        Math.hypot(dx, dy) / 2 + NEIGHBOUR_REACH_FWHM * psf.fwhmAt(s.x, s.y),
        nJy,
      ),
    });
    if (!fit) continue;
    Object.assign(s, trailFields(fit, difference, nJy));
    fitted++;
  }
  return fitted;
}

/** The other point sources within `reach` pixels of `s`, with their PSF fluxes in image units. */
function neighboursOf(
  s: DiaSource,
  sources: DiaSource[],
  reach: number,
  nJy: number,
): Array<{ x: number; y: number; flux: number }> {
  return sources
    .filter(
      (o) => o !== s && Math.hypot(o.x - s.x, o.y - s.y) < reach && Number.isFinite(o.psfFlux),
    )
    .map((o) => ({ x: o.x, y: o.y, flux: Number(o.psfFlux) / nJy }));
}

function trailFields(fit: TrailFit, difference: Exposure, nJy: number): Partial<DiaSource> {
  const wcs = difference.wcs!;
  const sky = wcs.pixelToSky({ x: Float64Array.of(fit.x), y: Float64Array.of(fit.y) });
  const dec = sky.dec[0];
  const [[a, b], [c, d]] = wcs.jacobian(fit.x, fit.y).matrix;
  const cov = fit.shapeCov;
  // Linear maps of the pixel covariance: var(M v) = M C M^T for the centre (rows 0-1) and the trail vector (rows 2-3).
  const varOf = (p: number, q: number, i: number): number =>
    p * p * cov[i * 4 + i] + 2 * p * q * cov[i * 4 + i + 1] + q * q * cov[(i + 1) * 4 + i + 1];
  const angle = fit.angleDeg / RAD_TO_DEG;
  const [ux, uy] = [Math.cos(angle), Math.sin(angle)];
  const east = a * ux + b * uy;
  const north = c * ux + d * uy;
  const degPerPx = Math.hypot(east, north);
  const bearing = (((Math.atan2(east, north) * RAD_TO_DEG) % 180) + 180) % 180;
  return {
    trailFlux: finiteOrNull(fit.flux * nJy),
    trailFluxErr: finiteOrNull(fit.fluxErr * nJy),
    trailRa: finiteOrNull(sky.ra[0]),
    trailRaErr: finiteOrNull(Math.sqrt(varOf(a, b, 0)) / Math.cos(dec / RAD_TO_DEG)),
    trailDec: finiteOrNull(dec),
    trailDecErr: finiteOrNull(Math.sqrt(varOf(c, d, 0))),
    trailLength: finiteOrNull(fit.lengthPx * degPerPx * 3600),
    trailLengthErr: finiteOrNull(fit.lengthErrPx * degPerPx * 3600),
    trailAngle: finiteOrNull(bearing),
    trailAngleErr: finiteOrNull(fit.angleErrDeg),
    trailChi2: finiteOrNull(fit.chi2),
    trailNdata: fit.ndata,
    trail_flag_edge: fit.edge,
  };
}
