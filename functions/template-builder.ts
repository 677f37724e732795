/**
 * templateBuilder (topic template-candidates). A candidate, from processImage, is recorded for each
 * tile it overlaps by at least AP_TEMPLATE_MIN_TILE_OVERLAP (./template-tiles.ts; slivers on
 * neighbouring tiles make no candidates); for each tile it makes due (`minInputs` candidates, or
 * AP_TEMPLATE_MIN_CANDIDATES when that is more: earliest templates against cleaner ones) a build
 * request (attribute `kind` = `build`, JSON `{band, tile}`) is published on the same topic, so that
 * each delivery builds one tile at most and its run time does not grow with the tiles. A build
 * request builds the tile's template (shared/template) under the tile's lease; the first successful
 * build is written create-only to `{band}/hpx8-{tile}.fits` in the templates bucket (what nextVisit
 * reads) and the tile is frozen: later candidates are recorded and never change it, and a
 * redelivered request finds nothing due. A new version comes only from a release (`releaseTile`,
 * called by templateApi). A build with too few usable inputs records why and waits for more
 * candidates (a new request when some arrived during it). Malformed messages are dead-lettered with
 * the reason; transient errors, and a request for a tile another build holds, are retried (builds
 * hold the tile's lease, renewed while they run; a killed build's lease lapses within
 * AP_LEASE_SECONDS and the next delivery takes the build over).
 */
import type { CloudEvent } from '@google-cloud/functions-framework';
import { GcsObjectStore, TRANSFER_VALIDATION } from '../shared/adapters/storage.js';
import { TOPICS } from '../shared/cloud/names.js';
import { readExposureWithHeader } from '../shared/fits/exposure.js';
import { MessageError } from '../shared/prompt/next-visit.js';
import { TILE_ORDER, templateKey } from '../shared/prompt/template-tiles.js';
import {
  BUILD_KIND,
  buildTemplate,
  CandidateError,
  DEFAULT_MIN_TILE_OVERLAP,
  parseBuildRequest,
  NotEnoughInputsError,
  parseCandidate,
  resolveTemplateConfig,
  templateInputFromBytes,
  templateToFits,
  tileFillFactor,
  type BuildRequest,
  type TemplateConfig,
  type TemplateInput,
  type UnreadableInput,
} from '../shared/template/index.js';
import { vettingHtml } from '../shared/template/vetting.js';
import { WorkerPool } from '../shared/util/worker-pool.js';
import { services, type Services } from './context.js';
import { deadLetter } from './dead-letter.js';
import { BusyError, isTransient, withDeadline } from './errors.js';
import { pubsubMessage, type PubsubDelivery } from './events.js';
import { log } from './log.js';
import { isDue, isLeased, TemplateTiles, tileDocId, type TileRecord } from './template-tiles.js';

/** The environment variable of the template knobs (shared/template/config.ts), JSON; empty: the defaults. */
export const TEMPLATE_CONFIG_ENV = 'AP_TEMPLATE_CONFIG';

/**
 * The environment variable of the candidates a tile collects before its first build (earliest
 * templates against cleaner ones): a non-negative integer; empty or below `minInputs`: `minInputs`.
 */
export const TEMPLATE_MIN_CANDIDATES_ENV = 'AP_TEMPLATE_MIN_CANDIDATES';

/**
 * The environment variable of the smallest overlap for which an image counts as a tile's candidate:
 * a share in [0, 1] of the smaller of the tile and the image (shared/template/candidates.ts
 * tileOverlaps); empty: DEFAULT_MIN_TILE_OVERLAP.
 */
export const TEMPLATE_MIN_TILE_OVERLAP_ENV = 'AP_TEMPLATE_MIN_TILE_OVERLAP';

/** Bytes of a message-less event kept in its dead letter. */
const MAX_EVENT_KEPT = 64 * 1024;

const FITS = 'application/fits';

/** Raw images downloaded at once for a build. */
const DOWNLOAD_CONCURRENCY = 4;

/**
 * Templates bucket: every version as built (create-only; once written, that version is the build)
 * and its vetting page (written just before it).
 */
export const versionKey = (band: string, tile: number, version: number) =>
  `versions/${band}/hpx${TILE_ORDER}-${tile}-v${version}.fits`;
export const vettingKey = (band: string, tile: number, version: number) =>
  `vetting/${band}/hpx${TILE_ORDER}-${tile}-v${version}.html`;

export function templateConfigFromEnv(env: NodeJS.ProcessEnv = process.env): TemplateConfig {
  const text = env[TEMPLATE_CONFIG_ENV] ?? '';
  try {
    return resolveTemplateConfig(text ? (JSON.parse(text) as Partial<TemplateConfig>) : {});
  } catch (err) {
    throw new Error(`environment ${TEMPLATE_CONFIG_ENV}: ${(err as Error).message}`);
  }
}

/** Candidates a tile needs before a build is tried: TEMPLATE_MIN_CANDIDATES_ENV, at least `minInputs`. */
export function minCandidatesFromEnv(
  minInputs: number,
  env: NodeJS.ProcessEnv = process.env,
): number {
  const text = env[TEMPLATE_MIN_CANDIDATES_ENV] ?? '';
  const n = text === '' ? 0 : Number(text);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new Error(
      `environment ${TEMPLATE_MIN_CANDIDATES_ENV}: '${text}' is not a non-negative integer`,
    );
  return Math.max(minInputs, n);
}

/** Smallest overlap for a candidate: TEMPLATE_MIN_TILE_OVERLAP_ENV, or DEFAULT_MIN_TILE_OVERLAP. */
export function minTileOverlapFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const text = env[TEMPLATE_MIN_TILE_OVERLAP_ENV] ?? '';
  const f = text === '' ? DEFAULT_MIN_TILE_OVERLAP : Number(text);
  if (!(f >= 0 && f <= 1))
    throw new Error(
      `environment ${TEMPLATE_MIN_TILE_OVERLAP_ENV}: '${text}' is not a number in [0, 1]`,
    );
  return f;
}

/** What a build attempt came to. */
export type BuildOutcome =
  | { status: 'frozen'; record: TileRecord }
  | { status: 'waiting'; reason: string }
  | { status: 'busy' }
  | { status: 'not due' };

const tileStores = new WeakMap<Services['firestore'], TemplateTiles>();
/** The tile records of the services' database. */
export function templateTiles(s: Services): TemplateTiles {
  let tiles = tileStores.get(s.firestore);
  if (!tiles) tileStores.set(s.firestore, (tiles = new TemplateTiles(s.firestore)));
  return tiles;
}

async function readInputs(
  s: Services,
  names: string[],
): Promise<{ inputs: TemplateInput[]; unreadable: UnreadableInput[] }> {
  const inputs: TemplateInput[] = [];
  const unreadable: UnreadableInput[] = [];
  for (let k = 0; k < names.length; k += DOWNLOAD_CONCURRENCY) {
    const read = await Promise.all(
      names.slice(k, k + DOWNLOAD_CONCURRENCY).map(async (name) => {
        const file = s.buckets.raw.file(name);
        if (!(await file.exists())[0])
          return { name, reason: 'raw image no longer in the raw bucket' };
        const [bytes] = await file.download({ validation: TRANSFER_VALIDATION });
        return templateInputFromBytes(bytes, name);
      }),
    );
    for (const r of read) {
      if ('exposure' in r) inputs.push(r);
      else unreadable.push(r);
    }
  }
  return { inputs, unreadable };
}

/** A template already at the tile's key (put there before this tile had a record): adopted, never overwritten. */
async function adopt(s: Services, band: string, tile: number, bytes: Buffer): Promise<TileRecord> {
  const key = templateKey(band, tile);
  const { exposure, header } = readExposureWithHeader(bytes, key);
  return templateTiles(s).markFrozen(band, tile, {
    version: header.getNumber('TMPLVER') ?? 1,
    tmplId: exposure.info.templateVersion ?? null,
    nUsed: header.getNumber('NINPUTS') ?? 0,
    rejected: [],
    fillFactor: tileFillFactor(exposure, tile),
    buildSeconds: null,
  });
}

/** Publishes a built version at the tile's key (a release replaces; a first version is created only where nothing is) and freezes the tile from it. */
async function publish(
  s: Services,
  band: string,
  tile: number,
  bytes: Buffer,
  release: boolean,
): Promise<TileRecord> {
  const key = templateKey(band, tile);
  if (release) await s.buckets.templates.file(key).save(bytes, { contentType: 'application/fits' });
  else if (!(await new GcsObjectStore(s.buckets.templates).putIfAbsent(key, bytes, FITS)))
    return adopt(s, band, tile, (await new GcsObjectStore(s.buckets.templates).get(key))!);
  return adopt(s, band, tile, bytes);
}

/**
 * Claims the tile's build; while another build holds it, waits up to one lease (and a poll) for
 * that lease to end or lapse (a killed build stops renewing it), so that the delivery after a
 * crash takes the build over instead of leaving the tile to the next candidate after the lease.
 */
async function claimOrWait(
  s: Services,
  band: string,
  tile: number,
  minCandidates: number,
  release: boolean,
): ReturnType<TemplateTiles['claimBuild']> {
  const lease = s.config.leaseSeconds;
  const poll = (lease * 1000) / 3;
  const until = Date.now() + lease * 1000 + poll;
  for (;;) {
    const claim = await templateTiles(s).claimBuild(band, tile, minCandidates, lease, release);
    if (!claim.busy || Date.now() >= until) return claim;
    await new Promise((r) => setTimeout(r, Math.min(poll, until - Date.now())));
  }
}

/**
 * Builds the tile's template when due (or, with `release`, its next version) under the tile's
 * lease, renewed while it runs; see the module comment. A version object already written (a build
 * killed before it froze the tile) is published as it is, never built a second time. Transient
 * errors give the lease back and are rethrown.
 */
export async function buildTile(
  s: Services,
  band: string,
  tile: number,
  release = false,
): Promise<BuildOutcome> {
  const config = templateConfigFromEnv();
  const tiles = templateTiles(s);
  const claim = await claimOrWait(s, band, tile, minCandidatesFromEnv(config.minInputs), release);
  if (claim.busy) return { status: 'busy' };
  if (!claim.record) return { status: 'not due' };
  const version = claim.record.version + 1;
  log('INFO', 'template build started', { band, tile, version, release });
  const lease = s.config.leaseSeconds;
  let held = claim.record.leaseUntil!;
  const heartbeat = setInterval(
    () =>
      void tiles.renewLease(band, tile, held, lease).then(
        (until) => (held = until ?? held),
        () => undefined,
      ),
    (lease * 1000) / 3,
  );
  const store = new GcsObjectStore(s.buckets.templates);
  const key = templateKey(band, tile);
  const started = Date.now();
  try {
    if (!release && claim.record.version === 0) {
      const existing = await store.get(key);
      if (existing) return { status: 'frozen', record: await adopt(s, band, tile, existing) };
    }
    const built = await store.get(versionKey(band, tile, version));
    if (built) return { status: 'frozen', record: await publish(s, band, tile, built, release) };
    const candidates = await tiles.candidates(band, tile);
    const { inputs, unreadable } = await readInputs(
      s,
      candidates.map((c) => c.name),
    );
    let build;
    try {
      build = await buildTemplate(inputs, {
        tile,
        band,
        config,
        version,
        unreadable,
        pool: WorkerPool.shared(),
      });
    } catch (err) {
      if (!(err instanceof NotEnoughInputsError)) throw err;
      const rejected = err.inputs.map((r) => ({ file: r.file, reason: r.reason }));
      if (release) await tiles.release(band, tile, err.message);
      else await tiles.markWaiting(band, tile, candidates.length, err.message, rejected);
      log('INFO', 'template not built', { band, tile, release, reason: err.message });
      return { status: 'waiting', reason: err.message };
    }
    const bytes = Buffer.from(templateToFits(build));
    // The vetting page first (a killed build's is replaced), then the version object, which ends the build.
    await s.buckets.templates
      .file(vettingKey(band, tile, version))
      .save(Buffer.from(vettingHtml(build)), { resumable: false, contentType: 'text/html' });
    if (!(await store.putIfAbsent(versionKey(band, tile, version), bytes, FITS))) {
      const other = (await store.get(versionKey(band, tile, version)))!;
      return { status: 'frozen', record: await publish(s, band, tile, other, release) };
    }
    // The first version is created only where nothing is (a template that got there first is adopted); a release replaces.
    if (release) await s.buckets.templates.file(key).save(bytes, { contentType: FITS });
    else if (!(await store.putIfAbsent(key, bytes, FITS)))
      return { status: 'frozen', record: await adopt(s, band, tile, (await store.get(key))!) };
    const record = await tiles.markFrozen(band, tile, {
      version,
      tmplId: build.tmplId,
      nUsed: build.nUsed,
      rejected: build.inputs
        .filter((r) => !r.used)
        .map((r) => ({ file: r.file, reason: r.reason })),
      fillFactor: tileFillFactor(build.exposure, tile),
      buildSeconds: (Date.now() - started) / 1000,
    });
    log('INFO', release ? 'template released' : 'template built and frozen', {
      band,
      tile,
      tmplId: build.tmplId,
      used: build.nUsed,
      of: build.inputs.length,
      fillFactor: record.fillFactor,
      buildSeconds: record.buildSeconds,
    });
    return { status: 'frozen', record };
  } catch (err) {
    await tiles.release(band, tile, `${(err as Error).name}: ${(err as Error).message}`);
    throw err;
  } finally {
    clearInterval(heartbeat);
  }
}

/** Asks for one build of the tile, in a delivery of its own. */
async function requestBuild(s: Services, band: string, tile: number): Promise<void> {
  const request: BuildRequest = { band, tile };
  await s.pubsub.topic(TOPICS.templateCandidates).publishMessage({
    json: request,
    attributes: { kind: BUILD_KIND, band, tile: String(tile) },
  });
}

/** Records the candidate for the tiles it overlaps enough, then requests a build of each tile it makes due. */
async function handleCandidate(s: Services, message: PubsubDelivery, progress: { stage: string }) {
  const candidate = parseCandidate(message.data, message.messageId);
  const minOverlap = minTileOverlapFromEnv();
  const minCandidates = minCandidatesFromEnv(templateConfigFromEnv().minInputs);
  progress.stage = 'record';
  const tiles = templateTiles(s);
  const due: number[] = [];
  for (const [k, tile] of candidate.tiles.entries()) {
    if (candidate.overlaps[k] < minOverlap) continue;
    const record = await tiles.record(candidate, tile, candidate.overlaps[k]);
    log('INFO', 'template candidate recorded', { band: candidate.band, tile, key: candidate.key });
    // A build holding the tile asks again itself when it ends waiting (handleBuild).
    if (isDue(record, minCandidates) && !isLeased(record)) due.push(tile);
  }
  progress.stage = 'request';
  for (const tile of due) await requestBuild(s, candidate.band, tile);
}

/** One build; a tile another build holds is retried later, one that got candidates while waiting is asked again. */
async function handleBuild(s: Services, message: PubsubDelivery, progress: { stage: string }) {
  const { band, tile } = parseBuildRequest(message.data, message.messageId);
  progress.stage = 'build';
  const outcome = await buildTile(s, band, tile);
  if (outcome.status === 'busy') {
    const r = await templateTiles(s).get(band, tile);
    throw new BusyError(tileDocId(band, tile), r?.leaseUntil ?? 'now');
  }
  if (outcome.status !== 'waiting') return;
  const r = await templateTiles(s).get(band, tile);
  if (r && isDue(r, minCandidatesFromEnv(templateConfigFromEnv().minInputs))) {
    progress.stage = 'request';
    await requestBuild(s, band, tile);
  }
}

async function handle(s: Services, message: PubsubDelivery, progress: { stage: string }) {
  const kind = message.attributes.kind;
  if (kind === BUILD_KIND) return handleBuild(s, message, progress);
  if (kind === undefined) return handleCandidate(s, message, progress);
  throw new CandidateError(
    `message ${message.messageId}: attribute kind '${kind}' is not '${BUILD_KIND}' (or absent, a candidate)`,
  );
}

export async function templateBuilder(event: CloudEvent<unknown>): Promise<void> {
  const s = services();
  let message: PubsubDelivery;
  try {
    message = pubsubMessage(event);
  } catch (err) {
    if (!(err instanceof MessageError)) throw err;
    const data = Buffer.from(JSON.stringify(event).slice(0, MAX_EVENT_KEPT));
    const delivery = { data, attributes: {}, messageId: String(event.id), publishTime: new Date() };
    return deadLetter(s.pubsub, TOPICS.templateCandidates, delivery, err.message, {
      stage: 'decode',
      attempts: 0,
    });
  }
  const progress = { stage: 'decode' };
  const seconds = s.config.deadlineSeconds;
  try {
    await withDeadline(
      handle(s, message, progress),
      Date.now() + seconds * 1000,
      seconds,
      () => progress.stage,
    );
  } catch (err) {
    if (isTransient(err)) throw err;
    const reason =
      err instanceof CandidateError
        ? err.message
        : `${(err as Error).name}: ${(err as Error).message}`;
    return deadLetter(s.pubsub, TOPICS.templateCandidates, message, reason, {
      stage: progress.stage,
      attempts: 0,
    });
  }
}
