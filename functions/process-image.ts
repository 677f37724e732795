/**
 * processImage (topic raw-arrived, fed by the raw bucket's object-finalize notifications): runs
 * the per-detector pipeline on a raw image and hands its alerts to alertFanout.
 *
 * Write-once order, so that any retry is safe: compute -> store the result in the work bucket
 * (create-only) -> hand off -> write the APDB (idempotent per visit and detector) -> mark the
 * record stored. The hand-off does not wait for the APDB write, which runs while alertFanout
 * publishes (brokers get the alerts ~1 s sooner): a retry after a failed write finds the stored
 * result, so it writes the same rows and re-sends the same alerts, which alertFanout's chunk
 * records then skip. Errors are classified (./errors.ts): transient ones (network, quota, 5xx, a
 * deadline) are retried up to `maxAttempts`, which is below the subscription's maxDeliveryAttempts
 * so that this function's own give-up path runs first; everything else (bad input of every kind)
 * is dead-lettered at once. Every dead letter carries `reason`, `stage` and `attempts`, and the
 * processing record ends `failed`. The whole invocation runs against a deadline below the trigger's.
 * Before any alert can exist the image claims its (visit, detector) (./identity-claim.ts).
 */
import type { CloudEvent } from '@google-cloud/functions-framework';
import { alertAttributes } from '../shared/alerts/attributes.js';
import { TOPICS } from '../shared/cloud/names.js';
import { FitsError } from '../shared/fits/errors.js';
import {
  readExposureFromHdus,
  readExposureWithHeader,
  readFitsNamed,
} from '../shared/fits/index.js';
import type { Exposure } from '../shared/image/exposure.js';
import {
  checkLimits,
  IdentityCollisionError,
  imageDigest,
  qualityProblem,
  processDetector,
  stderrJsonLogger,
  type PreparedImage,
  type RealBogusScorer,
} from '../shared/pipeline/index.js';
import { loadRealBogus } from '../shared/pipeline/load-realbogus.js';
import { warmPipelinePool } from '../shared/pipeline/warm-pool.js';
import { screenScienceAlone } from '../shared/pipeline/science-check.js';
import { MessageError } from '../shared/prompt/next-visit.js';
import { parseRawPath, processingKey, type RawImageKey } from '../shared/prompt/raw-path.js';
import { detectorFootprint } from '../shared/association/associate.js';
import { GcsObjectStore } from '../shared/adapters/storage.js';
import {
  tileOverlaps,
  type CandidateOutcome,
  type TemplateCandidate,
} from '../shared/template/candidates.js';
import { services, type Services } from './context.js';
import { deadLetter } from './dead-letter.js';
import { BusyError, isTransient, withDeadline } from './errors.js';
import { claimIdentity } from './identity-claim.js';
import type { BeginAction, ProcessingRecord } from './processing-record.js';
import {
  pubsubMessage,
  storageNotification,
  type PubsubDelivery,
  type StorageObjectEvent,
} from './events.js';
import { log } from './log.js';
import { orbitCatalog } from './known-objects.js';
import { findTemplate, loadPreload } from './preload.js';
import { cutOut, PreloadedApdb } from '../shared/prompt/preload.js';
import {
  encodeResult,
  resultKey,
  storeResultOnce,
  type AlertBatchMessage,
  type StoredResult,
} from './stored-result.js';
import { ARCSEC_PER_DEG } from '../shared/util/numeric.js';
import { codeVersionAsync } from '../shared/util/version.js';

/** Work-bucket folder of quarantined results: `quarantine/{key}/{generation}.bin`. */
export const QUARANTINE_PREFIX = 'quarantine/';

/** Bytes of a message-less event kept in its dead letter. */
const MAX_EVENT_KEPT = 64 * 1024;

/** The real/bogus model, loaded once per instance and kept warm between images. */
let realBogus: Promise<RealBogusScorer | null> | null = null;

/**
 * Starts what the pipeline would otherwise wait for on its critical path: the pool's worker with
 * its task modules loaded, the real/bogus model (once per instance) and the code version (from
 * sources a git call, ~0.3 s). Begun at the instance's start (warm.ts), else while the first image
 * downloads; a later call finds them under way or done.
 */
export function warmProcessImage(): {
  version: Promise<string>;
  model: Promise<RealBogusScorer | null>;
} {
  warmPipelinePool();
  if (!realBogus) {
    realBogus = loadRealBogus(stderrJsonLogger);
    // A failure surfaces where the pipeline awaits it, not as an unhandled rejection before.
    realBogus.catch(() => undefined);
  }
  return { version: codeVersionAsync(), model: realBogus };
}

/** No template covers the image yet: not an error of the input (see markNoTemplate). */
class NoTemplate extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoTemplate';
  }
}

/** Input that no retry can fix; named after the error that showed it (e.g. FitsError) when there is one. */
class BadInput extends Error {
  constructor(message: string, cause?: Error) {
    super(message);
    this.name = cause?.name ?? 'BadInput';
  }
}

/**
 * Reads the raw image, verifying its CHECKSUM/DATASUM when present; a FITS error here is the
 * file's fault (later ones, e.g. writing cutouts, are ours).
 */
function readRawImage(bytes: Buffer, name: string): ReturnType<typeof readExposureWithHeader> {
  try {
    return readExposureFromHdus(readFitsNamed(bytes, name, { verifyChecksums: true }), name);
  } catch (err) {
    if (err instanceof FitsError) throw new BadInput(err.message, err);
    throw err;
  }
}

/** The raw object's bytes; an object gone from the bucket (deleted, or named by a stray notification) is bad input. */
async function downloadRaw(s: Services, name: string): Promise<Buffer> {
  const bytes = await new GcsObjectStore(s.buckets.raw).get(name);
  if (bytes) return bytes;
  throw new BadInput(
    `gs://${s.buckets.raw.name}/${name}: no such object in the raw bucket (deleted, or named by a stray notification)`,
  );
}

/** Just in time: the notice was missed or late; the template is found from the science WCS. */
async function templateJustInTime(
  s: Services,
  key: RawImageKey,
  science: Exposure,
): Promise<Exposure | PreparedImage> {
  if (!science.wcs)
    throw new BadInput(
      `${key.instrument}/${key.groupId}: science image has no WCS and no preloaded template`,
    );
  const { cone } = detectorFootprint(science.wcs, science.width, science.height);
  const region = {
    center: [cone.ra, cone.dec] as [number, number],
    radiusDeg: cone.radiusDeg + 30 / ARCSEC_PER_DEG,
  };
  const found = await findTemplate(s, science.info.band, region);
  const cut = found
    ? cutOut(readExposureWithHeader(found.bytes, found.key).exposure, region)
    : null;
  if (!cut)
    throw new NoTemplate(
      `no template in band '${science.info.band}' covers detector ${key.detector}`,
    );
  return cut;
}

async function handOff(
  s: Services,
  key: string,
  alertCount: number,
  readoutTime: string,
): Promise<void> {
  const message: AlertBatchMessage = { key, resultKey: resultKey(key), alertCount, readoutTime };
  await s.pubsub.topic(TOPICS.alertBatches).publishMessage({ json: message, attributes: { key } });
}

/** Offers the image to templateBuilder as a candidate for the tiles it covers (shared/template/candidates.ts). */
async function offerCandidate(
  s: Services,
  object: StorageObjectEvent,
  key: string,
  science: Exposure,
  outcome: CandidateOutcome,
): Promise<void> {
  const covered = tileOverlaps(science);
  if (covered.length === 0) return;
  const { visit, detector, band, mjd } = science.info;
  const candidate: TemplateCandidate = {
    name: object.name,
    generation: object.generation || 'unknown',
    key,
    visit,
    detector,
    band,
    mjd,
    tiles: covered.map((c) => c.tile),
    overlaps: covered.map((c) => c.overlap),
    outcome,
  };
  await s.pubsub
    .topic(TOPICS.templateCandidates)
    .publishMessage({ json: candidate, attributes: { band, key, outcome } });
}

/**
 * Withholds an image's alerts (a flood): its result is kept in the work bucket for inspection,
 * apart from the results that are published, the record ends failed and a dead letter says why.
 */
async function quarantine(
  s: Services,
  message: PubsubDelivery,
  key: string,
  generation: string,
  result: StoredResult,
  problem: string,
  attempts: number,
): Promise<void> {
  const kept = `${QUARANTINE_PREFIX}${key}/${generation || 'unknown'}.bin`;
  await s.work.putIfAbsent(kept, encodeResult(result), 'application/octet-stream');
  const reason = `quarantined: ${problem}; ${result.alerts.length} alerts withheld, kept at ${kept}`;
  await s.records.markFailed(key, reason, 'quality');
  await deadLetter(s.pubsub, TOPICS.rawArrived, message, reason, { stage: 'quality', attempts });
}

/** Where an invocation stands, for dead letters and deadline errors. */
interface Progress {
  stage: string;
}

/** Claims the image's (visit, detector); false when it is a copy of the image that holds them (nothing to do). */
async function claim(
  s: Services,
  key: string,
  science: Exposure,
  digest: string,
  raw: RawImageKey,
  record: ProcessingRecord,
): Promise<boolean> {
  const { visit, detectorSource, detector: headerDetector } = science.info;
  if (detectorSource === 'header' && headerDetector !== raw.detector)
    throw new BadInput(
      `${key}: header detector ${headerDetector} differs from the raw path's detector ${raw.detector}`,
    );
  const mayChange = record.state === 'started' && record.chunksDone.length === 0;
  const c = await claimIdentity(
    s.firestore,
    { visit, detector: raw.detector, digest, key },
    mayChange,
  );
  if (c.outcome === 'conflict')
    throw new BadInput(
      `visit ${visit} detector ${raw.detector} already holds a different image (${c.holder.key}, sha256 ${c.holder.digest.slice(0, 12)}); alert ids would repeat`,
      new IdentityCollisionError(visit, raw.detector, c.holder.digest, digest),
    );
  if (c.outcome === 'copy') {
    log('INFO', 'copy of an image already processed ignored', {
      key,
      holder: c.holder.key,
      visit,
      detector: raw.detector,
    });
    await s.records.markFailed(
      key,
      `copy of ${c.holder.key} (same bytes, visit ${visit} detector ${raw.detector})`,
    );
    return false;
  }
  return true;
}

async function process(s: Services, message: PubsubDelivery, progress: Progress): Promise<void> {
  const object = storageNotification(message);
  if (object.eventType !== 'OBJECT_FINALIZE') return;
  if (object.bucket !== s.buckets.raw.name)
    throw new MessageError(
      `message ${message.messageId}: notification for bucket '${object.bucket}', not the raw bucket '${s.buckets.raw.name}'`,
    );
  const raw = parseRawPath(object.name);
  const key = processingKey(raw);
  progress.stage = 'begin';
  const begin = await beginOrWait(s, key, object.generation);
  if (begin.action === 'busy') throw new BusyError(key, begin.record.leaseUntil ?? '');
  if (begin.action === 'duplicate') {
    log('INFO', 'replayed image ignored', { key, state: begin.record.state });
    return;
  }
  if (begin.action === 'exhausted') {
    const error =
      begin.record.error ??
      `no attempt finished or reported an error within the ${s.config.deadlineSeconds} s deadline (instance killed?)`;
    await s.records.markFailed(key, error, undefined, true);
    return deadLetter(
      s.pubsub,
      TOPICS.rawArrived,
      message,
      `gave up after ${begin.record.attempts} attempts: ${error}`,
      { stage: begin.record.stage ?? 'unknown', attempts: begin.record.attempts, retryable: true },
    );
  }
  if (begin.action === 'republish') {
    log('INFO', 'result already stored; re-sending its alerts', { key });
    progress.stage = 'handOff';
    return handOff(s, key, begin.record.alertCount, object.timeCreated.toISOString());
  }
  // The heartbeat: while this attempt runs its lease is renewed; a killed instance's lapses.
  const lease = s.config.leaseSeconds;
  const heartbeat = setInterval(
    () => void s.records.renewLease(key, begin.record.attempts, lease).catch(() => undefined),
    (lease * 1000) / 3,
  );
  try {
    const started = Date.now();
    progress.stage = 'download';
    // While the bytes arrive (unless the instance's start did it): the worker, the model, the version.
    const rawBytes = downloadRaw(s, object.name);
    const [bytes, preload] = await Promise.all([
      rawBytes,
      loadPreload(s, raw.groupId, raw.detector, rawBytes),
      warmProcessImage().version,
    ]);
    progress.stage = 'read';
    const { exposure: science, header } = readRawImage(bytes, object.name);
    const config = s.config.pipeline;
    checkLimits(science, 'science', config.limits);
    progress.stage = 'identity';
    // The raw image's sha256 (~0.1 s on 64 MB), taken once: it claims the identity and goes into the batch.
    const digest = imageDigest(bytes);
    if (!(await claim(s, key, science, digest, raw, begin.record))) return;
    progress.stage = 'template';
    // The preloaded template is still being read: the pipeline awaits it once the science's
    // characterization has started on the pool's worker.
    let template: Exposure | PreparedImage | Promise<Exposure | PreparedImage>;
    try {
      template = preload.template
        ? preload.template.then((t) => t ?? templateJustInTime(s, raw, science))
        : await templateJustInTime(s, raw, science);
      // Handled where the pipeline awaits it; a failure before that must not go unhandled.
      if (template instanceof Promise) template.catch(() => undefined);
    } catch (err) {
      if (!(err instanceof NoTemplate)) throw err;
      // Without a template nothing downstream would judge the pixels: screen them here.
      progress.stage = 'screen';
      screenScienceAlone(
        { science, scienceHeader: header, detector: raw.detector },
        config.limits,
        config.characterize,
        stderrJsonLogger,
      );
      await offerCandidate(s, object, key, science, 'no template');
      await s.records.markNoTemplate(key, err.message);
      log('INFO', 'no template yet: no alerts; offered as a template candidate', { key });
      return;
    }
    const apdb = preload.snapshot ? new PreloadedApdb(s.apdb, preload.snapshot) : s.apdb;
    progress.stage = 'pipeline';
    const r = await processDetector(
      {
        science,
        scienceHeader: header,
        template,
        detector: raw.detector,
        apdb,
        realBogus: await realBogus,
        knownObjects: preload.knownObjects ?? (await orbitCatalog(s)),
        refcat: preload.refcat?.band === science.info.band ? preload.refcat.stars : null,
        imageDigest: digest,
      },
      config,
      {
        log: (entry) => {
          if (typeof entry.stage === 'string') progress.stage = `pipeline:${entry.stage}`;
          stderrJsonLogger(entry);
        },
      },
    );
    const result: StoredResult = {
      key,
      batch: r.association.batch,
      alerts: r.alerts.map((alert, i) => ({
        diaSourceId: alert.diaSourceId,
        frame: r.frames[i],
        attributes: { ...alertAttributes(alert) },
      })),
      readoutTime: object.timeCreated.toISOString(),
    };
    progress.stage = 'quality';
    const problem = qualityProblem(r.stats, config.quality);
    if (problem)
      return await quarantine(
        s,
        message,
        key,
        object.generation,
        result,
        problem,
        begin.record.attempts,
      );
    progress.stage = 'store';
    const stored = await storeResultOnce(s.work, result);
    progress.stage = 'handOff';
    await handOff(s, key, stored.alerts.length, stored.readoutTime);
    const handedOffAt = Date.now();
    progress.stage = 'apdbWrite';
    await s.apdb.storeVisit(stored.batch);
    progress.stage = 'candidate';
    await offerCandidate(s, object, key, science, 'processed');
    progress.stage = 'record';
    await s.records.markStored(key, resultKey(key), stored.alerts.length, {
      configHash: r.stats.configHash,
      codeVersion: r.stats.codeVersion,
      zeroPoint: {
        value: r.stats.zeroPoint,
        source: r.stats.zeroPointSource,
        origin: r.stats.zeroPointOrigin,
      },
    });
    log('INFO', 'detector processed', {
      key,
      alerts: stored.alerts.length,
      method: r.method,
      tfBackend: r.tfBackend,
      warpResampler: r.warpResampler,
      fftEngine: r.fftEngine,
      kernelArithmetic: r.kernelArithmetic,
      stagesMs: r.timingsMs,
      downloadToHandOffSeconds: (handedOffAt - started) / 1000,
      readoutToHandOffSeconds: (handedOffAt - object.timeCreated.getTime()) / 1000,
    });
  } catch (err) {
    const reason = `${(err as Error).name}: ${(err as Error).message}`;
    if (!isTransient(err)) {
      await s.records.markFailed(key, reason, progress.stage);
      return deadLetter(s.pubsub, TOPICS.rawArrived, message, reason, {
        stage: progress.stage,
        attempts: begin.record.attempts,
      });
    }
    await s.records.noteError(key, reason, progress.stage);
    throw err;
  } finally {
    clearInterval(heartbeat);
  }
}

/**
 * Begins a delivery; when another attempt holds the record, waits up to one lease for it to end
 * or lapse (a killed instance stops renewing it), so that a crash is taken over instead of
 * burning the subscription's delivery attempts on 'busy' until a reason-less dead letter.
 */
async function beginOrWait(s: Services, key: string, generation: string): Promise<BeginAction> {
  const lease = s.config.leaseSeconds;
  const until = Date.now() + lease * 1000;
  for (;;) {
    const begin = await s.records.begin(key, s.config.maxAttempts, generation, lease);
    if (begin.action !== 'busy' || Date.now() >= until) return begin;
    const lapse = Date.parse(begin.record.leaseUntil ?? '') - Date.now();
    await new Promise((r) =>
      setTimeout(r, Math.min(Math.max(lapse, 0) + 100, until - Date.now(), (lease * 1000) / 3)),
    );
  }
}

/** The event's Pub/Sub message; an event without one is dead-lettered with the event itself as data. */
async function messageOf(s: Services, event: CloudEvent<unknown>): Promise<PubsubDelivery | null> {
  try {
    return pubsubMessage(event);
  } catch (err) {
    if (!(err instanceof MessageError)) throw err;
    const delivery = {
      data: Buffer.from(JSON.stringify(event).slice(0, MAX_EVENT_KEPT)),
      attributes: {},
      messageId: String(event.id),
      publishTime: new Date(),
    };
    await deadLetter(s.pubsub, TOPICS.rawArrived, delivery, err.message, {
      stage: 'decode',
      attempts: 0,
    });
    return null;
  }
}

export async function processImage(event: CloudEvent<unknown>): Promise<void> {
  const s = services();
  const message = await messageOf(s, event);
  if (!message) return;
  const progress: Progress = { stage: 'decode' };
  const seconds = s.config.deadlineSeconds;
  try {
    await withDeadline(
      process(s, message, progress),
      Date.now() + seconds * 1000,
      seconds,
      () => progress.stage,
    );
  } catch (err) {
    if (err instanceof MessageError)
      return deadLetter(s.pubsub, TOPICS.rawArrived, message, err.message, {
        stage: progress.stage,
        attempts: 0,
      });
    const delivery = message.deliveryAttempt ?? 0;
    if (!isTransient(err) || err instanceof BusyError || delivery <= s.config.maxAttempts)
      throw err;
    return giveUpOnDelivery(s, message, err as Error, progress.stage, delivery);
  }
}

/** Longest wait for the record to close after a give-up on a delivery's transient error, seconds. */
const CLOSE_RECORD_SECONDS = 5;

/**
 * The give-up of a delivery beyond the function's attempts (Pub/Sub's count, which holds when
 * the processing record cannot even be read, e.g. the database unreachable for the whole delivery
 * budget): a dead letter with the reason, stage and delivery count, marked retryable, before the
 * subscription's reason-less one; then the record is marked failed (retryable) if the database
 * answers within CLOSE_RECORD_SECONDS. Either way a replay of the dead letter processes the image.
 */
async function giveUpOnDelivery(
  s: Services,
  message: PubsubDelivery,
  err: Error,
  stage: string,
  delivery: number,
): Promise<void> {
  const reason = `gave up after ${delivery} deliveries: ${err.name}: ${err.message}`;
  await deadLetter(s.pubsub, TOPICS.rawArrived, message, reason, {
    stage,
    attempts: delivery,
    retryable: true,
  });
  const key = processingKey(parseRawPath(storageNotification(message).name));
  const close = s.records.markFailed(key, reason, stage, true);
  await withDeadline(
    close,
    Date.now() + CLOSE_RECORD_SECONDS * 1000,
    CLOSE_RECORD_SECONDS,
    () => 'record',
  ).catch((e: Error) =>
    log('WARNING', 'processing record left open after the give-up', { key, error: e.message }),
  );
}
