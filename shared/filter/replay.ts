/**
 * Replay of a filter over the alert archive's last N days: every archived alert whose
 * midpointMjdTai is within N days of now is decoded and, when the filter matches, published to
 * the filter's stream exactly as it was first published. The archive is keyed by diaSourceId
 * only (v1/alerts/{id}.avro.gz), so a replay reads every archived alert: its cost grows with the
 * archive, which is why replays are bounded to a few days and run on request, one at a time.
 */
import { gunzipSync } from 'node:zlib';
import { alertAttributes } from '../alerts/attributes.js';
import type { ObjectStore } from '../alerts/archive.js';
import { decodeAlert, frameSchemaId } from '../alerts/wire.js';
import type { CompiledFilter } from './compile.js';

/** Unix epoch as MJD (UTC; TAI is 37 s ahead, negligible at a day's scale). */
const MJD_UNIX_EPOCH = 40587;
const MS_PER_DAY = 86_400_000;

export function mjdNow(nowMs: number = Date.now()): number {
  return MJD_UNIX_EPOCH + nowMs / MS_PER_DAY;
}

export interface ReplayResult {
  read: number;
  inWindow: number;
  published: number;
}

/** Publishes the archive's matching alerts of the last `days` days; returns the counts. */
export async function replayArchive(
  archive: ObjectStore,
  filter: CompiledFilter,
  days: number,
  publish: (frame: Buffer, attributes: Record<string, string>) => Promise<void>,
  nowMjd: number = mjdNow(),
): Promise<ReplayResult> {
  const result: ReplayResult = { read: 0, inWindow: 0, published: 0 };
  for (const key of await archive.list('v1/alerts/')) {
    const gz = await archive.get(key);
    if (!gz) continue;
    const frame = gunzipSync(gz);
    const alert = decodeAlert(frame);
    result.read++;
    if (alert.diaSource.midpointMjdTai < nowMjd - days) continue;
    result.inWindow++;
    if (!filter.matches(alert)) continue;
    await publish(frame, { ...alertAttributes(alert, frameSchemaId(frame)), replay: 'true' });
    result.published++;
  }
  return result;
}
