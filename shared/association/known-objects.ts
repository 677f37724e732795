/**
 * Association of DiaSources with known solar-system objects, before DiaObject association (as
 * Rubin's ap_association does with its ssoAssociation step): each prediction of the visit
 * (shared/solar) claims the nearest DiaSource within max(minRadiusArcsec, nSigma x its one-sigma
 * uncertainty), one source per object and one object per source, closest in units of the radius
 * first. A matched source gets ssObjectId, an ssSource record (Rubin's field names) and the
 * object's mpc_orbits record; it never joins or creates a DiaObject.
 */
import type { DiaSource } from '../apdb/types.js';
import type { Prediction } from '../solar/ephemeris.js';
import type { MpcOrbit } from '../solar/orbit.js';
import { equatorialToEcliptic, equatorialToGalactic } from '../solar/coords.js';
import { separationDeg } from '../healpix/index.js';
import { ARCSEC_PER_DEG } from '../util/numeric.js';

export interface KnownObjectConfig {
  /** Match radius in one-sigma prediction uncertainties. Default 3. */
  nSigma: number;
  /** Smallest match radius, arcsec: the DiaSource centroid's own error. Default 1. */
  minRadiusArcsec: number;
  /** Largest match radius, arcsec, however uncertain the orbit. Default 30. */
  maxRadiusArcsec: number;
}

export const DEFAULT_KNOWN_OBJECT_CONFIG: KnownObjectConfig = {
  nSigma: 3,
  minRadiusArcsec: 1,
  maxRadiusArcsec: 30,
};

/** The predictions of a visit with the orbits and ids they come from. */
export interface KnownObjectsInField {
  predictions: readonly Prediction[];
  /** Orbit and ssObjectId by Prediction.index. */
  orbitOf(index: number): MpcOrbit;
  ssObjectIdOf(index: number): number;
}

/** ssSource and mpc_orbits records of one matched DiaSource (schema/1/1 field names). */
export interface KnownObjectMatch {
  ssSource: Record<string, unknown>;
  mpc_orbits: Record<string, unknown>;
}

export function matchRadiusArcsec(p: Prediction, config: KnownObjectConfig): number {
  return Math.min(
    config.maxRadiusArcsec,
    Math.max(config.minRadiusArcsec, config.nSigma * p.sigmaArcsec),
  );
}

/**
 * Sets ssObjectId on the matched sources (in place) and returns their records by diaSourceId.
 * Sources without a finite position are never matched.
 */
export function associateKnownObjects(
  sources: DiaSource[],
  known: KnownObjectsInField,
  config: KnownObjectConfig = DEFAULT_KNOWN_OBJECT_CONFIG,
): Map<number, KnownObjectMatch> {
  const pairs: Array<{ score: number; sep: number; i: number; k: number }> = [];
  const perPrediction = new Map<number, number[]>();
  known.predictions.forEach((p, k) => {
    const radius = matchRadiusArcsec(p, config);
    sources.forEach((s, i) => {
      if (!Number.isFinite(s.ra) || !Number.isFinite(s.dec)) return;
      if (Math.abs(s.dec - p.dec) * ARCSEC_PER_DEG > radius) return;
      const sep = separationDeg(s.ra, s.dec, p.ra, p.dec) * ARCSEC_PER_DEG;
      if (sep > radius) return;
      pairs.push({ score: sep / radius, sep, i, k });
      const list = perPrediction.get(k) ?? [];
      list.push(sep);
      perPrediction.set(k, list);
    });
  });
  pairs.sort(
    (a, b) => a.score - b.score || sources[a.i].diaSourceId - sources[b.i].diaSourceId || a.k - b.k,
  );
  const taken = new Set<number>();
  const out = new Map<number, KnownObjectMatch>();
  for (const { sep, i, k } of pairs) {
    const s = sources[i];
    if (s.ssObjectId !== null || taken.has(k)) continue;
    taken.add(k);
    const p = known.predictions[k];
    s.ssObjectId = known.ssObjectIdOf(p.index);
    const rank = 1 + (perPrediction.get(k) ?? []).filter((d) => d < sep).length;
    out.set(s.diaSourceId, {
      ssSource: ssSourceRecord(s, p, known.orbitOf(p.index), s.ssObjectId, rank),
      mpc_orbits: mpcOrbitsRecord(known.orbitOf(p.index), s.ssObjectId),
    });
  }
  return out;
}

function ssSourceRecord(
  s: DiaSource,
  p: Prediction,
  orbit: MpcOrbit,
  ssObjectId: number,
  rank: number,
): Record<string, unknown> {
  const ecl = equatorialToEcliptic(s.ra, s.dec);
  const gal = equatorialToGalactic(s.ra, s.dec);
  // Offsets observed - predicted on the tangent plane, arcsec; along and across the predicted motion.
  let dRa = (s.ra - p.ra) * Math.cos((p.dec * Math.PI) / 180);
  if (dRa > 180) dRa -= 360;
  if (dRa < -180) dRa += 360;
  const offRa = dRa * ARCSEC_PER_DEG;
  const offDec = (s.dec - p.dec) * ARCSEC_PER_DEG;
  const rate = Math.hypot(p.raRate, p.decRate);
  const [ux, uy] = rate > 0 ? [p.raRate / rate, p.decRate / rate] : [1, 0];
  const [h, t] = [p.helio, p.topo];
  return {
    diaSourceId: s.diaSourceId,
    ssObjectId,
    designation: orbit.designation,
    eclLambda: ecl.lambda,
    eclBeta: ecl.beta,
    galLon: gal.l,
    galLat: gal.b,
    elongation: p.elongation,
    phaseAngle: p.phaseAngle,
    topoRange: p.topoRange,
    topoRangeRate: p.topoRangeRate,
    helioRange: p.helioRange,
    helioRangeRate: p.helioRangeRate,
    ephRa: p.ra,
    ephDec: p.dec,
    ephVmag: Number.isFinite(p.vMag) ? p.vMag : null,
    ephRate: rate,
    ephRateRa: p.raRate,
    ephRateDec: p.decRate,
    ephOffset: Math.hypot(offRa, offDec),
    ephOffsetRa: offRa,
    ephOffsetDec: offDec,
    ephOffsetAlongTrack: offRa * ux + offDec * uy,
    ephOffsetCrossTrack: -offRa * uy + offDec * ux,
    helio_x: h[0],
    helio_y: h[1],
    helio_z: h[2],
    helio_vx: h[3],
    helio_vy: h[4],
    helio_vz: h[5],
    helio_vtot: Math.hypot(h[3], h[4], h[5]),
    topo_x: t[0],
    topo_y: t[1],
    topo_z: t[2],
    topo_vx: t[3],
    topo_vy: t[4],
    topo_vz: t[5],
    topo_vtot: Math.hypot(t[3], t[4], t[5]),
    diaDistanceRank: rank,
  };
}

/** The mpc_orbits record; its int `id` is the ssObjectId's low 31 bits (stable across catalogues). */
function mpcOrbitsRecord(o: MpcOrbit, ssObjectId: number): Record<string, unknown> {
  const num = (v: number): number | null => (Number.isFinite(v) ? v : null);
  return {
    id: ssObjectId % 2 ** 31,
    designation: o.designation,
    packed_primary_provisional_designation: o.designation,
    unpacked_primary_provisional_designation: o.designation,
    a: num(o.a),
    q: num(o.q),
    e: num(o.e),
    i: num(o.i),
    node: num(o.node),
    argperi: num(o.argperi),
    epoch_mjd: num(o.epoch_mjd),
    h: num(o.h),
    g: num(o.g),
    mean_anomaly: num(o.mean_anomaly),
    peri_time: num(o.peri_time),
  };
}
