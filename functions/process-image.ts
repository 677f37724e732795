/**
 * processImage (topic raw-arrived, fed by the raw bucket's object-finalize notifications): runs
 * the per-detector pipeline on a raw image and hands its alerts to alertFanout.
 *
 * Write-once order, so that any retry is safe: compute -> store the result in the work bucket
 * (create-only) -> hand off -> write the APDB (idempotent per visit and detector) -> mark the
 * record stored. The hand-off does not wait for the APDB write, which runs while alertFanout
 * publishes (brokers get the alerts ~1 s sooner): a retry after a failed write finds the stored
 * result, so it writes the same rows and re-sends the same alerts, which alertFanout's chunk
 * records then skip. Bad input (malformed event, corrupt FITS, no WCS, no template, no overlap) is
 * dead-lettered with its reason at once; other errors are retried up to the attempt limit.
 */
import type { CloudEvent } from '@google-cloud/functions-framework';
import { alertAttributes } from '../shared/alerts/attributes.js';
import { TOPICS } from '../shared/cloud/names.js';
import { FitsError } from '../shared/fits/errors.js';
import { readExposureWithHeader } from '../shared/fits/index.js';
import type { Exposure } from '../shared/image/exposure.js';
import { InsufficientCoverageError, PipelineInputError, processDetector, stderrJsonLogger, type PreparedImage, type RealBogusScorer } from '../shared/pipeline/index.js';
import { loadRealBogus } from '../shared/pipeline/load-realbogus.js';
import { MessageError } from '../shared/prompt/next-visit.js';
import { parseRawPath, processingKey, type RawImageKey } from '../shared/prompt/raw-path.js';
import { detectorFootprint } from '../shared/association/associate.js';
import { TRANSFER_VALIDATION } from '../shared/adapters/storage.js';
import { services, type Services } from './context.js';
import { deadLetter } from './dead-letter.js';
import { pubsubMessage, storageNotification, type PubsubDelivery } from './events.js';
import { log } from './log.js';
import { orbitCatalog } from './known-objects.js';
import { cutOut, findTemplate, loadPreload, PreloadedApdb, type Preload } from './preload.js';
import { resultKey, storeResultOnce, type AlertBatchMessage } from './stored-result.js';

/** The real/bogus model, loaded once per instance and kept warm between images. */
let realBogus: Promise<RealBogusScorer | null> | null = null;

/** Input that no retry can fix; named after the error that showed it (e.g. FitsError) when there is one. */
class BadInput extends Error {
  constructor(message: string, cause?: Error) {
    super(message);
    this.name = cause?.name ?? 'BadInput';
  }
}

/** Reads the raw image; a FITS error here is the file's fault (later ones, e.g. writing cutouts, are ours). */
function readRawImage(bytes: Buffer, name: string): ReturnType<typeof readExposureWithHeader> {
  try {
    return readExposureWithHeader(bytes, name);
  } catch (err) {
    if (err instanceof FitsError) throw new BadInput(err.message, err);
    throw err;
  }
}

function isPermanent(err: unknown): boolean {
  return err instanceof BadInput || err instanceof MessageError || err instanceof PipelineInputError || err instanceof InsufficientCoverageError;
}

async function templateFor(s: Services, key: RawImageKey, science: Exposure, preload: Preload): Promise<Exposure | PreparedImage> {
  if (preload.template) return preload.template;
  // Just in time: the notice was missed or late; find the template from the science WCS.
  if (!science.wcs) throw new BadInput(`${key.instrument}/${key.groupId}: science image has no WCS and no preloaded template`);
  const { cone } = detectorFootprint(science.wcs, science.width, science.height);
  const region = { center: [cone.ra, cone.dec] as [number, number], radiusDeg: cone.radiusDeg + 30 / 3600 };
  const found = await findTemplate(s, science.info.band, region);
  const cut = found ? cutOut(readExposureWithHeader(found.bytes, found.key).exposure, region) : null;
  if (!cut) throw new BadInput(`no template in band '${science.info.band}' covers detector ${key.detector}`);
  return cut;
}

async function handOff(s: Services, key: string, alertCount: number, readoutTime: string): Promise<void> {
  const message: AlertBatchMessage = { key, resultKey: resultKey(key), alertCount, readoutTime };
  await s.pubsub.topic(TOPICS.alertBatches).publishMessage({ json: message, attributes: { key } });
}

async function process(s: Services, message: PubsubDelivery): Promise<void> {
  const object = storageNotification(message);
  if (object.eventType !== 'OBJECT_FINALIZE') return;
  const raw = parseRawPath(object.name);
  const key = processingKey(raw);
  const begin = await s.records.begin(key, s.config.maxAttempts, object.generation);
  if (begin.action === 'duplicate') {
    log('INFO', 'replayed image ignored', { key, state: begin.record.state });
    return;
  }
  if (begin.action === 'exhausted') {
    await s.records.markFailed(key, begin.record.error ?? 'too many attempts');
    return deadLetter(s.pubsub, TOPICS.rawArrived, message, `gave up after ${begin.record.attempts} attempts: ${begin.record.error ?? 'unknown error'}`);
  }
  if (begin.action === 'republish') {
    log('INFO', 'result already stored; re-sending its alerts', { key });
    return handOff(s, key, begin.record.alertCount, object.timeCreated.toISOString());
  }
  try {
    const started = Date.now();
    const [[bytes], preload] = await Promise.all([s.buckets.raw.file(object.name).download({ validation: TRANSFER_VALIDATION }), loadPreload(s, raw.groupId, raw.detector)]);
    const { exposure: science, header } = readRawImage(bytes, object.name);
    const template = await templateFor(s, raw, science, preload);
    const apdb = preload.snapshot ? new PreloadedApdb(s.apdb, preload.snapshot) : s.apdb;
    realBogus ??= loadRealBogus(stderrJsonLogger);
    const r = await processDetector({ science, scienceHeader: header, template, detector: raw.detector, apdb, realBogus: await realBogus, knownObjects: preload.knownObjects ?? (await orbitCatalog(s)) }, s.config.pipeline, { log: stderrJsonLogger });
    const stored = await storeResultOnce(s.work, {
      key,
      batch: r.association.batch,
      alerts: r.alerts.map((alert, i) => ({ diaSourceId: alert.diaSourceId, frame: r.frames[i], attributes: { ...alertAttributes(alert) } })),
      readoutTime: object.timeCreated.toISOString(),
    });
    await handOff(s, key, stored.alerts.length, stored.readoutTime);
    const handedOffAt = Date.now();
    await s.apdb.storeVisit(stored.batch);
    await s.records.markStored(key, resultKey(key), stored.alerts.length, { configHash: r.stats.configHash, codeVersion: r.stats.codeVersion });
    log('INFO', 'detector processed', {
      key,
      alerts: stored.alerts.length,
      method: r.method,
      tfBackend: r.tfBackend,
      stagesMs: r.timingsMs,
      downloadToHandOffSeconds: (handedOffAt - started) / 1000,
      readoutToHandOffSeconds: (handedOffAt - object.timeCreated.getTime()) / 1000,
    });
  } catch (err) {
    const reason = `${(err as Error).name}: ${(err as Error).message}`;
    if (isPermanent(err)) {
      await s.records.markFailed(key, reason);
      return deadLetter(s.pubsub, TOPICS.rawArrived, message, reason);
    }
    await s.records.noteError(key, reason);
    throw err;
  }
}

export async function processImage(event: CloudEvent<unknown>): Promise<void> {
  const s = services();
  const message = pubsubMessage(event);
  try {
    await process(s, message);
  } catch (err) {
    if (err instanceof MessageError) return deadLetter(s.pubsub, TOPICS.rawArrived, message, err.message);
    throw err;
  }
}
