/**
 * The observatory: geodetic latitude, longitude and height on the WGS84 ellipsoid, from a FITS
 * header's OBSGEO-B/L/H (degrees, degrees east, metres) or OBSGEO-X/Y/Z (geocentric ITRS metres,
 * converted by Bowring's method; Bowring 1976, Survey Review 23, 323), else a configured site.
 */

export interface Site {
  /** Geodetic latitude, degrees north. */
  latitudeDeg: number;
  /** Longitude, degrees east. */
  longitudeDeg: number;
  /** Height above the ellipsoid, metres. */
  heightM: number;
  /** Where it came from: 'OBSGEO-B/L/H', 'OBSGEO-X/Y/Z' or 'configured'. */
  source: string;
}

/** The Rubin Observatory on Cerro Pachon (LSST's obs_lsst site): the default site. */
export const RUBIN_SITE: Site = {
  latitudeDeg: -30.2446,
  longitudeDeg: -70.7494,
  heightM: 2663,
  source: 'configured',
};

/** WGS84 equatorial radius (m) and flattening. */
const WGS84_A = 6378137;
const WGS84_F = 1 / 298.257223563;

/** Reads header cards; any object with get(key) returning a number, string or undefined. */
export interface CardSource {
  get(key: string): unknown;
}

/** Geodetic coordinates of a geocentric ITRS position (m), Bowring's formula (sub-millimetre on Earth's surface). */
export function geodeticFromGeocentric(
  x: number,
  y: number,
  z: number,
): { latitudeDeg: number; longitudeDeg: number; heightM: number } {
  const e2 = WGS84_F * (2 - WGS84_F);
  const b = WGS84_A * (1 - WGS84_F);
  const ep2 = e2 / (1 - e2);
  const p = Math.hypot(x, y);
  const theta = Math.atan2(z * WGS84_A, p * b);
  const lat = Math.atan2(
    z + ep2 * b * Math.sin(theta) ** 3,
    p - e2 * WGS84_A * Math.cos(theta) ** 3,
  );
  const n = WGS84_A / Math.sqrt(1 - e2 * Math.sin(lat) ** 2);
  const h = Math.abs(Math.cos(lat)) > 1e-9 ? p / Math.cos(lat) - n : Math.abs(z) - b;
  return {
    latitudeDeg: (lat * 180) / Math.PI,
    longitudeDeg: (Math.atan2(y, x) * 180) / Math.PI,
    heightM: h,
  };
}

/** Geocentric ITRS position (m) of a geodetic site. */
export function geocentricFromGeodetic(
  site: Pick<Site, 'latitudeDeg' | 'longitudeDeg' | 'heightM'>,
): [number, number, number] {
  const e2 = WGS84_F * (2 - WGS84_F);
  const lat = (site.latitudeDeg * Math.PI) / 180;
  const lon = (site.longitudeDeg * Math.PI) / 180;
  const n = WGS84_A / Math.sqrt(1 - e2 * Math.sin(lat) ** 2);
  const r = (n + site.heightM) * Math.cos(lat);
  return [r * Math.cos(lon), r * Math.sin(lon), (n * (1 - e2) + site.heightM) * Math.sin(lat)];
}

/** The site of a header (OBSGEO-B/L/H first, then OBSGEO-X/Y/Z), else `fallback`; throws RangeError on impossible values. */
export function siteFromHeader(
  header: CardSource | null | undefined,
  fallback: Site = RUBIN_SITE,
): Site {
  const num = (k: string): number => {
    const v = header?.get(k);
    return typeof v === 'number'
      ? v
      : typeof v === 'string' && v.trim() !== ''
        ? Number(v)
        : Number.NaN;
  };
  const [b, l, h] = [num('OBSGEO-B'), num('OBSGEO-L'), num('OBSGEO-H')];
  if (Number.isFinite(b) && Number.isFinite(l)) {
    if (Math.abs(b) > 90)
      throw new RangeError(`OBSGEO-B ${b} is not a latitude in [-90, 90] degrees`);
    return {
      latitudeDeg: b,
      longitudeDeg: ((((l + 180) % 360) + 360) % 360) - 180,
      heightM: Number.isFinite(h) ? h : 0,
      source: 'OBSGEO-B/L/H',
    };
  }
  const [x, y, z] = [num('OBSGEO-X'), num('OBSGEO-Y'), num('OBSGEO-Z')];
  if (Number.isFinite(x) && Number.isFinite(y) && Number.isFinite(z)) {
    const r = Math.hypot(x, y, z);
    if (r < 6.3e6 || r > 6.5e6)
      throw new RangeError(
        `OBSGEO-X/Y/Z is ${Math.round(r)} m from the geocentre, not on the Earth's surface`,
      );
    return { ...geodeticFromGeocentric(x, y, z), source: 'OBSGEO-X/Y/Z' };
  }
  return fallback;
}
