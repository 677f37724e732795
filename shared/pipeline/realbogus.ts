/**
 * The real/bogus stage's contract with the pipeline: whatever model scores DIASources fills
 * `record.reliability` in [0, 1] from the three images around each source, and names itself
 * (stored with every DiaSource as `reliabilityModel`). Without a scorer the stage is skipped
 * with a logged reason and reliabilities stay unknown (null in the APDB and alerts).
 */
import type { DiaSourceRecord } from '../detect/types.js';
import type { Exposure } from '../image/exposure.js';

/** The science image, the template warped to its grid, and their difference. */
export interface ScoringImages {
  science: Exposure;
  template: Exposure;
  difference: Exposure;
}

export interface RealBogusScorer {
  /** Model name and version, e.g. 'rb-cnn 1.0'. */
  readonly version: string;
  /**
   * Sets `reliability` of every record. Positions are read before the first await, so the caller
   * may start it and go on measuring the records (not moving them) until it resolves.
   */
  score(records: DiaSourceRecord[], images: ScoringImages): Promise<void>;
}
