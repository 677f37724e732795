/**
 * Replays: when the APDB already holds a (visit, detector), the pipeline reuses the processing
 * time of the stored rows, so that a replay's rows and alerts are identical to the first run's
 * (association already excludes the stored visit from the history it reads).
 */
import type { Apdb, SkyCone } from '../apdb/types.js';
import type { VisitInfo } from '../image/visit-info.js';

/** timeProcessedMjdTai of the stored rows of this (visit, detector) in the cone, or null if none are found. */
export async function storedProcessingTime(
  apdb: Apdb,
  cone: SkyCone,
  visit: VisitInfo,
): Promise<number | null> {
  const ids = (await apdb.getDiaObjectsInRegion(cone)).map((o) => o.diaObjectId);
  if (ids.length === 0) return null;
  const mine = (r: { visit: number; detector: number }): boolean =>
    r.visit === visit.visit && r.detector === visit.detector;
  const source = (await apdb.getDiaSourcesForObjects(ids, visit.mjd)).find(mine);
  if (source) return source.timeProcessedMjdTai;
  const forced = (await apdb.getForcedSourcesForObjects(ids, visit.mjd)).find(mine);
  return forced ? forced.timeProcessedMjdTai : null;
}
