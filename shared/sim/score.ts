/**
 * A difference's detections scored against the simulator's truth, as the acceptance figures are
 * stated: raw false positives (DIASources farther than one FWHM from every
 * real change) per 2048 x 2048 pixels ("per 4 Mpix"), completeness of the real changes at |expected SNR| >= 6 on usable pixels, and the
 * sky sources' noise ratio (std of blank-sky PSF fluxes over their errors).
 */
import type { Exposure } from '../image/exposure.js';
import { MaskPlane } from '../image/mask.js';
import type { TruthRow } from './truth.js';

/** Truth kinds that are real changes on the difference. */
export const REAL_KINDS: ReadonlySet<string> = new Set(['transient', 'variable', 'moving']);
/** Pixels on which a change cannot be seen. */
export const UNUSABLE =
  MaskPlane.SAT | MaskPlane.NO_DATA | MaskPlane.EDGE | MaskPlane.CR | MaskPlane.BAD;
const AREA_4MPIX = 2048 * 2048;
/** Completeness counts changes at least this significant. */
export const COMPLETENESS_SNR = 6;

export interface PairScore {
  diaSources: number;
  falsePositives: number;
  falsePositivesPer4Mpix: number;
  found: number;
  visible: number;
  completeness: number;
  /** Positions of the false positives (for diagnostics). */
  falseAt: Array<{ x: number; y: number; snr: number }>;
}

/** Whether any pixel within `radius` (a square) of (x, y) has an UNUSABLE mask bit. */
export function maskedNear(exposure: Exposure, x: number, y: number, radius: number): boolean {
  for (
    let py = Math.max(0, Math.round(y) - radius);
    py <= Math.min(exposure.height - 1, Math.round(y) + radius);
    py++
  )
    for (
      let px = Math.max(0, Math.round(x) - radius);
      px <= Math.min(exposure.width - 1, Math.round(x) + radius);
      px++
    )
      if (exposure.mask.get(px, py) & UNUSABLE) return true;
  return false;
}

/** Scores `sources` (x, y, snr in the science frame) found on `difference` against one visit's truth rows. */
export function scoreAgainstTruth(
  difference: Exposure,
  sources: ReadonlyArray<{ x: number; y: number; snr: number }>,
  truth: readonly TruthRow[],
  fwhmPx: number,
): PairScore {
  const real = truth.filter((r) => REAL_KINDS.has(r.kind));
  const near = (a: { x: number; y: number }, b: { x: number; y: number }): boolean =>
    Math.hypot(a.x - b.x, a.y - b.y) < fwhmPx;
  const falseAt = sources
    .filter((s) => !real.some((r) => near(r, s)))
    .map((s) => ({ x: s.x, y: s.y, snr: s.snr }));
  const visible = real.filter(
    (r) => Math.abs(r.expectedSnr) >= COMPLETENESS_SNR && !maskedNear(difference, r.x, r.y, 2),
  );
  const found = visible.filter((r) => sources.some((s) => near(r, s))).length;
  const scale = AREA_4MPIX / (difference.width * difference.height);
  return {
    diaSources: sources.length,
    falsePositives: falseAt.length,
    falsePositivesPer4Mpix: falseAt.length * scale,
    found,
    visible: visible.length,
    completeness: visible.length ? found / visible.length : Number.NaN,
    falseAt,
  };
}
