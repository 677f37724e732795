/**
 * Pub/Sub message attributes of an alert (strings, as Pub/Sub requires), so subscribers can filter
 * without decoding Avro. Pub/Sub filters compare strings only, so `snrBin` and `reliabilityBin`
 * give the lower edge of a coarse bin: filter e.g. `attributes.snrBin = "20" OR attributes.snrBin = "50"`.
 * Unknown values are the string "null".
 */
import { healpixNest } from '../healpix/index.js';
import { loadAlertSchema } from './schema.js';
import type { Alert } from './types.js';

/** Lower edges of the signed-SNR bins; a value below the first edge goes to the first bin. */
export const SNR_BIN_EDGES = [-1000, -100, -50, -20, -10, -5, 0, 5, 10, 20, 50, 100, 1000] as const;
/** Lower edges of the reliability bins (width 0.1). */
export const RELIABILITY_BIN_EDGES = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9] as const;
/** HEALPix order of the `healpix9` attribute (nested, ~6.9 arcmin pixels). */
export const ATTRIBUTE_HEALPIX_ORDER = 9;

export interface AlertAttributes {
  [name: string]: string;
  schemaId: string;
  diaSourceId: string;
  diaObjectId: string;
  band: string;
  snr: string;
  reliability: string;
  ra: string;
  dec: string;
  midpointMjdTai: string;
  healpix9: string;
  snrBin: string;
  reliabilityBin: string;
}

/** The bin's lower edge (as a string) holding `value`, or "null". */
export function binLowerEdge(value: number | null, edges: readonly number[]): string {
  if (value === null || !Number.isFinite(value)) return 'null';
  let edge = edges[0];
  for (const e of edges) if (value >= e) edge = e;
  return String(edge);
}

const str = (v: number | string | null): string =>
  v === null || (typeof v === 'number' && !Number.isFinite(v)) ? 'null' : String(v);

/** The attributes to publish with an alert (schemaId defaults to the current schema's). */
export function alertAttributes(
  alert: Alert,
  schemaId: number = loadAlertSchema().id,
): AlertAttributes {
  const s = alert.diaSource;
  return {
    schemaId: String(schemaId),
    diaSourceId: String(alert.diaSourceId),
    diaObjectId: str(s.diaObjectId),
    band: str(s.band),
    snr: str(s.snr),
    reliability: str(s.reliability),
    ra: str(s.ra),
    dec: str(s.dec),
    midpointMjdTai: str(s.midpointMjdTai),
    healpix9:
      Number.isFinite(s.ra) && Number.isFinite(s.dec)
        ? String(healpixNest(s.ra, s.dec, ATTRIBUTE_HEALPIX_ORDER))
        : 'null',
    snrBin: binLowerEdge(s.snr, SNR_BIN_EDGES),
    reliabilityBin: binLowerEdge(s.reliability, RELIABILITY_BIN_EDGES),
  };
}
