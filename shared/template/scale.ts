/**
 * Relative photometric scaling of an input that has no zero point: its PSF stars matched on the sky
 * to those of an input that has one; zp = zp_ref + 2.5 log10(median(flux / flux_ref)).
 */
import type { PsfStarFit } from '../psf/fit-psf.js';
import type { Wcs } from '../wcs/types.js';
import { median } from '../util/stats.js';

export interface StarCatalog {
  wcs: Wcs;
  stars: readonly PsfStarFit[];
}

export interface RelativeZeroPoint {
  zeroPoint: number;
  matched: number;
}

/** The zero point of `input` from `reference` (whose zero point is `referenceZp`), matching within radiusPx of the reference's pixels. */
export function relativeZeroPoint(
  input: StarCatalog,
  reference: StarCatalog,
  referenceZp: number,
  radiusPx: number,
): RelativeZeroPoint {
  const own = input.stars.filter((s) => s.used && s.flux > 0);
  const ref = reference.stars.filter((s) => s.used && s.flux > 0);
  if (own.length === 0 || ref.length === 0) return { zeroPoint: Number.NaN, matched: 0 };
  const mapped = reference.wcs.skyToPixel(
    input.wcs.pixelToSky({
      x: Float64Array.from(own, (s) => s.x),
      y: Float64Array.from(own, (s) => s.y),
    }),
  );
  const ratios: number[] = [];
  own.forEach((s, k) => {
    let best: PsfStarFit | null = null;
    let bestD = radiusPx;
    for (const r of ref) {
      const d = Math.hypot(r.x - mapped.x[k], r.y - mapped.y[k]);
      if (d < bestD) {
        bestD = d;
        best = r;
      }
    }
    if (best) ratios.push(s.flux / best.flux);
  });
  return {
    zeroPoint: ratios.length > 0 ? referenceZp + 2.5 * Math.log10(median(ratios)) : Number.NaN,
    matched: ratios.length,
  };
}
