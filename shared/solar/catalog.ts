/**
 * A catalogue of known objects ready for prediction: the orbits prepared once (orientation,
 * mean motion), then, per visit, the predictions of every object inside a sky cone.
 *
 * @example
 *   const catalog = new OrbitCatalog(parseOrbitsCsv(text, 'orbits.csv'));
 *   const inField = catalog.predictInCone({ ra: 150, dec: 2, radiusDeg: 1.8 }, 61000.2, RUBIN_SITE);
 *   inField[0].ra; inField[0].sigmaArcsec; catalog.orbits[inField[0].index].designation;
 */
import { prepareOrbit, type PreparedOrbit } from './kepler.js';
import { observerAt } from './observer.js';
import { ssObjectIdOf, type MpcOrbit } from './orbit.js';
import {
  DEFAULT_ERROR_MODEL,
  Predictor,
  type EphemerisErrorModel,
  type Prediction,
} from './ephemeris.js';
import type { Site } from './site.js';
import { ttFromTai } from './time.js';
import { RAD_PER_DEG } from '../util/numeric.js';

export interface Cone {
  ra: number;
  dec: number;
  radiusDeg: number;
}

export class OrbitCatalog {
  readonly prepared: PreparedOrbit[];
  /** ssObjectId of each orbit (same order). */
  readonly ssObjectIds: number[];

  constructor(
    readonly orbits: readonly MpcOrbit[],
    readonly errorModel: EphemerisErrorModel = DEFAULT_ERROR_MODEL,
  ) {
    this.prepared = orbits.map(prepareOrbit);
    this.ssObjectIds = orbits.map((o) => ssObjectIdOf(o.designation));
    const seen = new Map<number, string>();
    orbits.forEach((o, k) => {
      const other = seen.get(this.ssObjectIds[k]);
      if (other !== undefined)
        throw new RangeError(
          `designations ${other} and ${o.designation} share ssObjectId ${this.ssObjectIds[k]}`,
        );
      seen.set(this.ssObjectIds[k], o.designation);
    });
  }

  get size(): number {
    return this.orbits.length;
  }

  /** Full predictions at mjdTai (TAI) from `site` of the objects whose position lies within `cone`. */
  predictInCone(cone: Cone, mjdTai: number, site: Site | null): Prediction[] {
    const predictor = new Predictor(observerAt(ttFromTai(mjdTai), site), this.errorModel);
    const cosRadius = Math.cos(cone.radiusDeg * RAD_PER_DEG);
    const [ca, sa, cd, sd] = [
      Math.cos(cone.ra * RAD_PER_DEG),
      Math.sin(cone.ra * RAD_PER_DEG),
      Math.cos(cone.dec * RAD_PER_DEG),
      Math.sin(cone.dec * RAD_PER_DEG),
    ];
    const radec = new Float64Array(2);
    const out: Prediction[] = [];
    this.prepared.forEach((o, k) => {
      predictor.radec(o, radec);
      const [ra, dec] = [radec[0] * RAD_PER_DEG, radec[1] * RAD_PER_DEG];
      const cosSep =
        sd * Math.sin(dec) + cd * Math.cos(dec) * (ca * Math.cos(ra) + sa * Math.sin(ra));
      if (cosSep >= cosRadius) out.push(predictor.predict(o, k));
    });
    return out;
  }
}
