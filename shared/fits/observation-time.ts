/**
 * The exposure midpoint (MJD) a header states, from the first of: MJD-AVG (a midpoint); MJD-OBS,
 * MJD, DATE-OBS (ISO 8601, with TIME-OBS when DATE-OBS holds the date only) or JD (each an
 * exposure start, FITS Standard 4.0 sect. 9.2) plus half of EXPTIME. A MJD-AVG more than an
 * exposure away from MJD-OBS (cards copied from another file) yields to MJD-OBS. The time scale
 * is taken as given (TAI or UTC: 37 s apart, far below association's needs).
 */
import type { FitsHeader } from './header.js';

const MJD_OF_UNIX_EPOCH = 40587;
const MJD_MINUS_JD = -2400000.5;
const SECONDS_PER_DAY = 86400;

export interface ObservationTime {
  /** Exposure midpoint, MJD; NaN when the header states no time. */
  mjd: number;
  /** The cards used ('MJD-OBS + EXPTIME/2', 'DATE-OBS', ...), '' when none. */
  origin: string;
}

/** MJD of an ISO 8601 date (and time), or NaN. */
export function mjdOfIso(date: string, time = ''): number {
  const text = date.trim();
  const full = /T\d/.test(text) || !time.trim() ? text : `${text}T${time.trim()}`;
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}(?:\.\d*)?))?)?Z?$/.exec(full);
  if (!m) return Number.NaN;
  const ms =
    Date.UTC(+m[1], +m[2] - 1, +m[3], +(m[4] ?? 0), +(m[5] ?? 0)) + Number(m[6] ?? 0) * 1000;
  return Number.isFinite(ms) ? MJD_OF_UNIX_EPOCH + ms / 1000 / SECONDS_PER_DAY : Number.NaN;
}

export function observationTime(header: FitsHeader): ObservationTime {
  const exptime = header.getNumber('EXPTIME');
  const half = exptime !== undefined && exptime > 0 ? exptime / 2 / SECONDS_PER_DAY : 0;
  const num = (key: string): number => {
    const v = header.getNumber(key);
    return v !== undefined && Number.isFinite(v) ? v : Number.NaN;
  };
  const avg = num('MJD-AVG');
  const starts: Array<[string, number]> = [
    ['MJD-OBS', num('MJD-OBS')],
    ['MJD', num('MJD')],
    ['DATE-OBS', mjdOfIso(header.getString('DATE-OBS') ?? '', header.getString('TIME-OBS') ?? '')],
    ['JD', num('JD') + MJD_MINUS_JD],
  ];
  const start = starts.find(([, v]) => Number.isFinite(v));
  const withHalf = (key: string): string => (half ? `${key} + EXPTIME/2` : key);
  if (Number.isFinite(avg) && (!start || Math.abs(avg - start[1] - half) <= Math.max(half, 1 / 24)))
    return { mjd: avg, origin: 'MJD-AVG' };
  if (start) return { mjd: start[1] + half, origin: withHalf(start[0]) };
  return { mjd: Number.NaN, origin: '' };
}

/** The band: FILTER, else FILTER1 / FILTER2 (the first not CLEAR/OPEN/EMPTY), else BAND; '' when none. */
export function filterName(header: FitsHeader): string {
  const open = /^(clear|open|empty|none|air|blank)\w*$/i;
  for (const key of ['FILTER', 'FILTER1', 'FILTER2', 'BAND']) {
    const v = (header.getString(key) ?? '').trim();
    if (v && !open.test(v)) return v;
  }
  return '';
}
