/**
 * Time scales for ephemerides: UTC, TAI and TT as Modified Julian Dates.
 *
 * TT = TAI + 32.184 s exactly (IAU 1991); TAI - UTC from the IERS leap-second table (Bulletin C),
 * valid from 1972-01-01 (earlier dates take the 1972 value: UTC before 1972 had no whole-second
 * steps and is outside this pipeline's use).
 */

/** TT - TAI, seconds. */
export const TT_MINUS_TAI_S = 32.184;
export const SECONDS_PER_DAY = 86400;
/** MJD of J2000.0 (2000 January 1.5 TT): JD 2451545.0. */
export const MJD_J2000 = 51544.5;

/** [MJD (UTC) of the step, TAI - UTC in seconds from then on], IERS Bulletin C; no step announced after 2017-01-01. */
const LEAP_SECONDS: ReadonlyArray<readonly [number, number]> = [
  [41317, 10],
  [41499, 11],
  [41683, 12],
  [42048, 13],
  [42413, 14],
  [42778, 15],
  [43144, 16],
  [43509, 17],
  [43874, 18],
  [44239, 19],
  [44786, 20],
  [45151, 21],
  [45516, 22],
  [46247, 23],
  [47161, 24],
  [47892, 25],
  [48257, 26],
  [48804, 27],
  [49169, 28],
  [49534, 29],
  [50083, 30],
  [50630, 31],
  [51179, 32],
  [53736, 33],
  [54832, 34],
  [56109, 35],
  [57204, 36],
  [57754, 37],
];

/** TAI - UTC in seconds at a UTC MJD. */
export function taiMinusUtcSeconds(mjdUtc: number): number {
  let value = LEAP_SECONDS[0][1];
  for (const [start, seconds] of LEAP_SECONDS) if (mjdUtc >= start) value = seconds;
  return value;
}

export function taiFromUtc(mjdUtc: number): number {
  return mjdUtc + taiMinusUtcSeconds(mjdUtc) / SECONDS_PER_DAY;
}

/** UTC from TAI (the table is indexed by UTC; one correction step is exact away from the step itself). */
export function utcFromTai(mjdTai: number): number {
  const guess = mjdTai - taiMinusUtcSeconds(mjdTai) / SECONDS_PER_DAY;
  return mjdTai - taiMinusUtcSeconds(guess) / SECONDS_PER_DAY;
}

export function ttFromTai(mjdTai: number): number {
  return mjdTai + TT_MINUS_TAI_S / SECONDS_PER_DAY;
}

export function taiFromTt(mjdTt: number): number {
  return mjdTt - TT_MINUS_TAI_S / SECONDS_PER_DAY;
}
