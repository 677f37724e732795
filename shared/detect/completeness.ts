/**
 * Completeness of a detection run against known injected sources: binned fractions and a
 * maximum-likelihood fit of C(snr) = Phi((snr - snr50) / width), the shape a matched-filter
 * detector with Gaussian noise predicts (Phi the normal CDF; for a threshold t the theory gives
 * snr50 = t and width = 1).
 */
import { erf } from '../util/numeric.js';

export interface CompletenessBin {
  /** Bin limits in injected SNR. */
  lo: number;
  hi: number;
  injected: number;
  detected: number;
  /** detected / injected (NaN for an empty bin). */
  completeness: number;
}

export interface CompletenessFit {
  /** SNR at which half the sources are detected. */
  snr50: number;
  /** Width of the transition (sigma of the normal CDF), in SNR. */
  width: number;
}

function normalCdf(z: number): number {
  return 0.5 * (1 + erf(z / Math.SQRT2));
}

/** Fractions detected in bins of SNR with the given edges (ascending). */
export function completenessBins(
  snr: ArrayLike<number>,
  detected: ArrayLike<boolean>,
  edges: number[],
): CompletenessBin[] {
  const bins = edges
    .slice(0, -1)
    .map((lo, i) => ({ lo, hi: edges[i + 1], injected: 0, detected: 0, completeness: Number.NaN }));
  for (let i = 0; i < snr.length; i++) {
    const bin = bins.find((b) => snr[i] >= b.lo && snr[i] < b.hi);
    if (!bin) continue;
    bin.injected++;
    if (detected[i]) bin.detected++;
  }
  for (const b of bins) b.completeness = b.injected > 0 ? b.detected / b.injected : Number.NaN;
  return bins;
}

/** Maximum-likelihood snr50 and width over the individual detected / missed outcomes (grid search then refinement). */
export function fitCompleteness(
  snr: ArrayLike<number>,
  detected: ArrayLike<boolean>,
): CompletenessFit {
  const logLike = (s50: number, w: number): number => {
    let ll = 0;
    for (let i = 0; i < snr.length; i++) {
      const c = Math.min(1 - 1e-9, Math.max(1e-9, normalCdf((snr[i] - s50) / w)));
      ll += detected[i] ? Math.log(c) : Math.log(1 - c);
    }
    return ll;
  };
  let best = { snr50: Number.NaN, width: Number.NaN, ll: -Infinity };
  let [s50Lo, s50Hi, wLo, wHi] = [0, 20, 0.1, 5];
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i <= 40; i++) {
      const s50 = s50Lo + ((s50Hi - s50Lo) * i) / 40;
      for (let j = 0; j <= 20; j++) {
        const w = wLo + ((wHi - wLo) * j) / 20;
        const ll = logLike(s50, w);
        if (ll > best.ll) best = { snr50: s50, width: w, ll };
      }
    }
    const ds = (s50Hi - s50Lo) / 20;
    const dw = (wHi - wLo) / 10;
    [s50Lo, s50Hi, wLo, wHi] = [
      best.snr50 - ds,
      best.snr50 + ds,
      Math.max(0.02, best.width - dw),
      best.width + dw,
    ];
  }
  return { snr50: best.snr50, width: best.width };
}
