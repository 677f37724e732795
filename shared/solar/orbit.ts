/**
 * Osculating orbital elements of known solar-system objects, in MPCORB's form with the field
 * names of Rubin's `mpc_orbits` table (lsst/sdm_schemas): heliocentric, J2000 ecliptic and
 * equinox, angles in degrees, times MJD TT. The orbit catalogue is a CSV whose header names these
 * columns (any order; extra columns ignored).
 */

/** Above this eccentricity the universal-variable solver is used (and peri_time is required). */
export const NEAR_PARABOLIC_E = 0.98;

export interface MpcOrbit {
  /** Unpacked primary provisional designation (or number/name). */
  designation: string;
  /** Epoch of osculation, MJD TT. */
  epoch_mjd: number;
  /** Semi-major axis, au (negative or NaN for e >= 1: q is used). */
  a: number;
  /** Perihelion distance, au. */
  q: number;
  e: number;
  /** Inclination, longitude of the ascending node, argument of perihelion: degrees, J2000 ecliptic. */
  i: number;
  node: number;
  argperi: number;
  /** Mean anomaly at epoch_mjd, degrees (elliptic orbits; NaN to use peri_time). */
  mean_anomaly: number;
  /** Time of perihelion passage, MJD TT. */
  peri_time: number;
  /** Absolute magnitude and slope parameter of the H, G system (Bowell et al. 1989). */
  h: number;
  g: number;
  /**
   * MPC's uncertainty parameter U, 0-9 (the letter codes D, E, F read as 9); NaN or absent when the
   * catalogue gives none (the orbit taken as exact: the simulator's). Sets the prediction's sigma.
   */
  u_param?: number;
}

/** Columns of the orbit CSV, as the contract names them. */
export const ORBIT_COLUMNS = [
  'designation',
  'epoch_mjd',
  'a',
  'q',
  'e',
  'i',
  'node',
  'argperi',
  'mean_anomaly',
  'peri_time',
  'h',
  'g',
  'u_param',
] as const;

/** Columns that must be present and finite in every row (a follows from q and e; g defaults to 0.15). */
const REQUIRED = ['epoch_mjd', 'q', 'e', 'i', 'node', 'argperi', 'h'] as const;

/** Default slope parameter when a row leaves g empty (the MPC's convention). */
export const DEFAULT_SLOPE_G = 0.15;

export class OrbitFileError extends Error {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`${file}: ${detail}`);
    this.name = 'OrbitFileError';
  }
}

/** Parses an orbit CSV; throws OrbitFileError naming the file, line and cause. */
export function parseOrbitsCsv(text: string, file: string): MpcOrbit[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.startsWith('#'));
  if (lines.length === 0) throw new OrbitFileError(file, 'empty orbit file (no header row)');
  const header = lines[0].split(',').map((c) => c.trim());
  const missing = ['designation', ...REQUIRED, 'peri_time'].filter((c) => !header.includes(c));
  if (missing.length > 0)
    throw new OrbitFileError(file, `orbit file lacks column(s) ${missing.join(', ')}`);
  const index = new Map(header.map((c, k) => [c, k]));
  const seen = new Set<string>();
  return lines.slice(1).map((line, k) => {
    const cells = line.split(',');
    const lineNo = k + 2;
    const num = (name: string): number => {
      const at = index.get(name);
      const raw = at === undefined ? '' : (cells[at] ?? '').trim();
      return raw === '' ? Number.NaN : Number(raw);
    };
    const designation = (cells[index.get('designation') ?? 0] ?? '').trim();
    if (designation === '') throw new OrbitFileError(file, `line ${lineNo}: empty designation`);
    if (seen.has(designation))
      throw new OrbitFileError(file, `line ${lineNo}: designation ${designation} appears twice`);
    seen.add(designation);
    const g = num('g');
    const uRaw = (cells[index.get('u_param') ?? -1] ?? '').trim();
    const u = uParamOf(uRaw);
    if (Number.isNaN(u) && uRaw !== '')
      throw new OrbitFileError(file, `line ${lineNo}: u_param must be 0-9 or D, E, F`);
    const row: MpcOrbit = {
      designation,
      epoch_mjd: num('epoch_mjd'),
      a: num('a'),
      q: num('q'),
      e: num('e'),
      i: num('i'),
      node: num('node'),
      argperi: num('argperi'),
      mean_anomaly: num('mean_anomaly'),
      peri_time: num('peri_time'),
      h: num('h'),
      g: Number.isFinite(g) ? g : DEFAULT_SLOPE_G,
      u_param: u,
    };
    for (const c of REQUIRED) {
      if (!Number.isFinite(row[c]))
        throw new OrbitFileError(file, `line ${lineNo}: ${c} is not a number`);
    }
    if (!(row.q > 0))
      throw new OrbitFileError(file, `line ${lineNo}: q must be > 0 au (got ${row.q})`);
    if (!(row.e >= 0))
      throw new OrbitFileError(file, `line ${lineNo}: e must be >= 0 (got ${row.e})`);
    // Where the object is on its orbit: mean_anomaly at epoch (elliptic), else the time of perihelion.
    if (
      !Number.isFinite(row.peri_time) &&
      !(Number.isFinite(row.mean_anomaly) && row.e < NEAR_PARABOLIC_E)
    ) {
      throw new OrbitFileError(
        file,
        `line ${lineNo}: peri_time is not a number (needed when mean_anomaly is empty or e >= ${NEAR_PARABOLIC_E})`,
      );
    }
    return row;
  });
}

/** U from its MPCORB text: a digit, or 9 for the letter codes (D, E, F: orbit not determined); '' -> NaN. */
function uParamOf(raw: string): number {
  if (/^[0-9]$/.test(raw)) return Number(raw);
  return /^[DEF]$/i.test(raw) ? 9 : Number.NaN;
}

/** The orbit CSV of a list of orbits (full double precision). */
export function formatOrbitsCsv(orbits: readonly MpcOrbit[]): string {
  const rows = orbits.map((o) =>
    ORBIT_COLUMNS.map((c) =>
      c === 'designation' ? o.designation : Number.isFinite(o[c] ?? NaN) ? String(o[c]) : '',
    ).join(','),
  );
  return [ORBIT_COLUMNS.join(','), ...rows].join('\n') + '\n';
}

/**
 * ssObjectId of a designation: a 53-bit FNV-1a hash of its characters (stable across catalogue
 * versions and row orders, exact as an Avro long and a JS number).
 */
export function ssObjectIdOf(designation: string): number {
  let lo = 0x811c9dc5;
  let hi = 0x050c5d1f;
  for (let k = 0; k < designation.length; k++) {
    const c = designation.charCodeAt(k);
    lo = Math.imul(lo ^ c, 0x01000193) >>> 0;
    hi = Math.imul(hi ^ c ^ (lo >>> 24), 0x01000193) >>> 0;
  }
  return (hi & 0x1fffff) * 2 ** 32 + lo;
}
