/**
 * Apparent V magnitude of an asteroid from its absolute magnitude H and slope G: the IAU H, G
 * system of Bowell et al. 1989 ("Application of photometric models to asteroids", Asteroids II,
 * 524), V = H + 5 log10(r Delta) - 2.5 log10((1 - G) Phi1 + G Phi2),
 * Phi_i = exp(-A_i tan(alpha/2)^B_i) with A = (3.33, 1.87), B = (0.63, 1.22).
 */

export function hgMagnitude(
  h: number,
  g: number,
  helioRangeAu: number,
  topoRangeAu: number,
  phaseAngleDeg: number,
): number {
  const t = Math.tan((phaseAngleDeg * Math.PI) / 360);
  const phi1 = Math.exp(-3.33 * Math.pow(t, 0.63));
  const phi2 = Math.exp(-1.87 * Math.pow(t, 1.22));
  return (
    h + 5 * Math.log10(helioRangeAu * topoRangeAu) - 2.5 * Math.log10((1 - g) * phi1 + g * phi2)
  );
}

/** H from an apparent V magnitude at a known geometry: the inverse of hgMagnitude. */
export function absoluteMagnitude(
  v: number,
  g: number,
  helioRangeAu: number,
  topoRangeAu: number,
  phaseAngleDeg: number,
): number {
  return v - hgMagnitude(0, g, helioRangeAu, topoRangeAu, phaseAngleDeg);
}
