/**
 * The independent pairs' changes as the issue counts them (issue 15 item 7: completeness is of the
 * changes the pipeline should find, before and after the real/bogus cut), where the labelled set counts
 * only the DIASources found: each true change at |expected S/N| >= a floor, whether a DIASource at
 * |S/N| >= minSnr found it (within the labels' match radius), and if not, why. Measured in
 * shared/rb/README.md ("What the independent 80 % is made of, and which bogus set the cut"); printed
 * by `npm run bench -- rb`.
 * @example
 *   const outcomes = await independentTruthOutcomes(1, 6);
 *   outcomes.filter((o) => o.outcome === 'found').length;
 */
import { MaskPlane } from '../image/mask.js';
import { TRAINING_NIGHT, type ChangeTruth } from './dataset.js';
import {
  diffIndependentPair,
  INDEPENDENT_PAIR,
  independentSourceId,
  type IndependentPairConfig,
} from './independent-pair.js';

/**
 * Why a true change has, or has not, a DIASource at |S/N| >= minSnr (first that applies). A DIASource
 * finds one change, the nearest of those it matches.
 */
export const TRUTH_OUTCOMES = [
  'found',
  'blended with a nearer change',
  'no template coverage',
  'masked',
  'detected below the S/N floor',
  'a DIASource 1.5-8 px away',
  'no DIASource within 8 px',
] as const;
export type TruthOutcome = (typeof TRUTH_OUTCOMES)[number];

export interface TruthChange {
  kind: string;
  expectedSnr: number;
  outcome: TruthOutcome;
  /** The matched DIASource's id in the pair's labelled set (independentSourceId), or null. */
  id: string | null;
}

/** A change this far from its nearest DIASource counts as found off-centre (a host or a blend pulled it). */
const OFFSET_PX = 8;
/** Mask bits under the change (3 x 3 pixels) that keep it from being found. */
const MASKED = MaskPlane.BAD | MaskPlane.SAT | MaskPlane.CR | MaskPlane.EDGE;

/** Every true change of independent pair `seed` at |expected S/N| >= `minExpectedSnr`, with its outcome. */
export async function independentTruthOutcomes(
  seed: number,
  minSnr: number,
  minExpectedSnr = minSnr,
  cfg: IndependentPairConfig = INDEPENDENT_PAIR,
): Promise<TruthChange[]> {
  const { pair, diff, sources } = await diffIndependentPair(seed, cfg);
  const mask = diff.difference.mask;
  const maskAround = (x: number, y: number): number => {
    let bits = 0;
    for (let v = Math.round(y) - 1; v <= Math.round(y) + 1; v++)
      for (let u = Math.round(x) - 1; u <= Math.round(x) + 1; u++)
        if (u >= 0 && v >= 0 && u < mask.width && v < mask.height) bits |= mask.get(u, v);
    return bits;
  };
  const nearestChange = (x: number, y: number): ChangeTruth =>
    pair.truth.reduce((a, b) =>
      Math.hypot(b.x - x, b.y - y) < Math.hypot(a.x - x, a.y - y) ? b : a,
    );
  return pair.truth
    .filter((t) => Math.abs(t.expectedSnr) >= minExpectedSnr)
    .map((t) => {
      let [nearest, distance] = [-1, Infinity];
      sources.forEach((s, n) => {
        const d = Math.hypot(s.x - t.x, s.y - t.y);
        if (d < distance) [nearest, distance] = [n, d];
      });
      const matched = distance <= TRAINING_NIGHT.realMatchPx ? sources[nearest] : null;
      const bits = maskAround(t.x, t.y);
      const outcome: TruthOutcome =
        matched && nearestChange(matched.x, matched.y) !== t
          ? 'blended with a nearer change'
          : matched && Math.abs(matched.snr) >= minSnr
            ? 'found'
            : bits & MaskPlane.NO_DATA
              ? 'no template coverage'
              : bits & MASKED
                ? 'masked'
                : matched
                  ? 'detected below the S/N floor'
                  : distance <= OFFSET_PX
                    ? 'a DIASource 1.5-8 px away'
                    : 'no DIASource within 8 px';
      return {
        kind: t.kind,
        expectedSnr: t.expectedSnr,
        outcome,
        id: outcome === 'found' && matched ? independentSourceId(seed, matched.index) : null,
      };
    });
}
