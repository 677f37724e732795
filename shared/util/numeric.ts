/**
 * Named constants and small numerical helpers used across the stages, defined once.
 */

/** FWHM of a Gaussian per unit sigma: 2 sqrt(2 ln 2) = 2.35482. */
export const FWHM_PER_SIGMA = 2 * Math.sqrt(2 * Math.LN2);

/**
 * Gaussian sigma per median absolute deviation: 1 / Phi^-1(3/4) = 1.4826 (the MAD of a normal
 * distribution is 0.6745 sigma), the robust scatter estimator's scale.
 */
export const MAD_TO_SIGMA = 1.4826;

/** Arcseconds per degree. */
export const ARCSEC_PER_DEG = 3600;

/** Radians per degree (pi / 180). */
export const RAD_PER_DEG = Math.PI / 180;

/** Degrees per radian (180 / pi). */
export const DEG_PER_RAD = 180 / Math.PI;

/** The error function to 1.5e-7 (Abramowitz & Stegun 7.1.26). */
export function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const poly =
    t *
    (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign * (1 - poly * Math.exp(-a * a));
}

/** Fourth-order central difference f'(0) from samples at -2, -1, +1, +2 (unit spacing). */
export function derivative(m2: number, m1: number, p1: number, p2: number): number {
  return (m2 - 8 * m1 + 8 * p1 - p2) / 12;
}
