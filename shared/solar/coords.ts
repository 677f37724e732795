/**
 * Coordinate conversions of J2000 equatorial (ICRS to within the 0.02 arcsec frame bias) directions:
 * to ecliptic (J2000 mean obliquity, IAU 1976) and galactic (Hipparcos definition, ESA 1997 vol. 1, 1.5.3:
 * the north galactic pole at RA 192.85948, Dec 27.12825, and l of the north celestial pole 122.93192).
 */
import { OBLIQUITY_J2000_DEG } from './kepler.js';
import { RAD_PER_DEG } from '../util/numeric.js';

const NGP_RA = 192.85948 * RAD_PER_DEG;
const NGP_DEC = 27.12825 * RAD_PER_DEG;
const L_NCP = 122.93192 * RAD_PER_DEG;

function wrap360(deg: number): number {
  return ((deg % 360) + 360) % 360;
}

/** Ecliptic longitude and latitude (degrees) of an equatorial direction (degrees). */
export function equatorialToEcliptic(
  raDeg: number,
  decDeg: number,
): { lambda: number; beta: number } {
  const [ra, dec, eps] = [
    raDeg * RAD_PER_DEG,
    decDeg * RAD_PER_DEG,
    OBLIQUITY_J2000_DEG * RAD_PER_DEG,
  ];
  const beta = Math.asin(
    Math.sin(dec) * Math.cos(eps) - Math.cos(dec) * Math.sin(eps) * Math.sin(ra),
  );
  const lambda = Math.atan2(
    Math.sin(ra) * Math.cos(eps) + Math.tan(dec) * Math.sin(eps),
    Math.cos(ra),
  );
  return { lambda: wrap360(lambda / RAD_PER_DEG), beta: beta / RAD_PER_DEG };
}

/** Galactic longitude and latitude (degrees) of an equatorial direction (degrees). */
export function equatorialToGalactic(raDeg: number, decDeg: number): { l: number; b: number } {
  const [ra, dec] = [raDeg * RAD_PER_DEG, decDeg * RAD_PER_DEG];
  const sinB =
    Math.sin(dec) * Math.sin(NGP_DEC) + Math.cos(dec) * Math.cos(NGP_DEC) * Math.cos(ra - NGP_RA);
  const y = Math.cos(dec) * Math.sin(ra - NGP_RA);
  const x =
    Math.sin(dec) * Math.cos(NGP_DEC) - Math.cos(dec) * Math.sin(NGP_DEC) * Math.cos(ra - NGP_RA);
  return { l: wrap360((L_NCP - Math.atan2(y, x)) / RAD_PER_DEG), b: Math.asin(sinB) / RAD_PER_DEG };
}
