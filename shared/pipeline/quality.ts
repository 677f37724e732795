/**
 * Quality gate on a processed image: an image whose DIASources are far beyond a survey's normal
 * range (50 pixels at -1e6 ADU made 759 alerts where the clean image made 13; random byte flips
 * up to 1,599) is quarantined by the caller: its alerts are withheld from brokers and the APDB,
 * the result is kept for inspection, and the reason goes with a dead letter. One knob per test.
 */

/** The counts of a processed image the gate judges (a subset of PipelineStats). */
export interface QualityCounts {
  diaSources: number;
  negative: number;
  width: number;
  height: number;
}

export interface QualityConfig {
  /**
   * Most DIASources per million pixels (Mpix) of a normal image: `ap simulate` fields give ~50,
   * Rubin expects ~4 on average; the -1e6 ADU flood above gave ~1,350 at 512 x 512. Default 500.
   */
  maxDiaSourcesPerMpix: number;
  /** Largest fraction of negative DIASources (a science image with holes), judged from `minSourcesForFraction` sources on. Default 0.8. */
  maxNegativeFraction: number;
  minSourcesForFraction: number;
}

export const DEFAULT_QUALITY_CONFIG: QualityConfig = {
  maxDiaSourcesPerMpix: 500,
  maxNegativeFraction: 0.8,
  minSourcesForFraction: 50,
};

/** Why the image should be quarantined, or null when its DIASources look normal. */
export function qualityProblem(
  stats: QualityCounts,
  config: QualityConfig = DEFAULT_QUALITY_CONFIG,
): string | null {
  const mpix = (stats.width * stats.height) / 1e6;
  const density = stats.diaSources / mpix;
  if (density > config.maxDiaSourcesPerMpix) {
    return `${stats.diaSources} DIASources on ${mpix.toFixed(2)} Mpix (${Math.round(density)}/Mpix) is above the normal maximum ${config.maxDiaSourcesPerMpix}/Mpix`;
  }
  const fraction = stats.negative / Math.max(stats.diaSources, 1);
  if (stats.diaSources >= config.minSourcesForFraction && fraction > config.maxNegativeFraction) {
    return `${stats.negative} of ${stats.diaSources} DIASources are negative (${(100 * fraction).toFixed(0)} %), above ${100 * config.maxNegativeFraction} %`;
  }
  return null;
}
