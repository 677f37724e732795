/**
 * The saturation level of an image whose header has no SATURATE, from its pixels: saturated
 * pixels pile up at one value (an integer format's full scale, 65535 after BZERO, or a full well
 * that flat-tops every bright star's core at the same level), so the top of the pixel histogram
 * shows a spike that no unsaturated image has, where the counts otherwise thin out towards the
 * brightest star's peak. The lowest edge of that spike is the level (HOTPANTS' -tu/-iu, which
 * users otherwise read off by eye).
 */

export interface SaturationEstimate {
  /** The level, image units; NaN when the histogram shows no pile-up. */
  level: number;
  /** Pixels at or above it. */
  nPixels: number;
}

/** Histogram bins between the median and the maximum. */
const BINS = 2000;
/** A pile-up holds at least this many pixels... */
const MIN_PILEUP_PIXELS = 8;
/** ...and this many times the mean count of the bins just below it. */
const PILEUP_CONTRAST = 5;
/** Bins below the spike the contrast is measured against. */
const REFERENCE_BINS = 20;

export function estimateSaturation(data: ArrayLike<number>): SaturationEstimate {
  let max = -Infinity;
  const sample: number[] = [];
  const step = Math.max(1, Math.floor(data.length / 100_000));
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isFinite(v)) continue;
    if (v > max) max = v;
    if (i % step === 0) sample.push(v);
  }
  const none = { level: Number.NaN, nPixels: 0 };
  if (sample.length === 0) return none;
  sample.sort((a, b) => a - b);
  const median = sample[sample.length >> 1];
  if (!(max > median)) return none;
  const width = (max - median) / BINS;
  const counts = new Float64Array(BINS + 1);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (Number.isFinite(v) && v > median)
      counts[Math.min(BINS, Math.floor((v - median) / width))]++;
  }
  // Bins holding the top value (and up to two below it, for a full well blurred by the flat field).
  let top = BINS,
    pile = counts[BINS];
  for (let b = BINS - 1; b >= BINS - 2 && counts[b] >= counts[b + 1] / PILEUP_CONTRAST; b--) {
    top = b;
    pile += counts[b];
  }
  let reference = 0;
  for (let b = top - REFERENCE_BINS; b < top; b++) reference += counts[b];
  reference /= REFERENCE_BINS;
  if (pile < MIN_PILEUP_PIXELS || pile < PILEUP_CONTRAST * Math.max(reference, 1)) return none;
  return { level: median + top * width, nPixels: pile };
}
