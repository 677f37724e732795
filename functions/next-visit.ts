/**
 * nextVisit (topic next-visit) and nextVisitHttp (POST): preload each detector of the coming visit
 * (template cut-out and APDB rows of its predicted footprint) into the per-visit preload cache.
 */
import type { CloudEvent, Request, Response } from '@google-cloud/functions-framework';
import { TOPICS } from '../shared/cloud/names.js';
import { MessageError, parseNextVisit, type NextVisit } from '../shared/prompt/next-visit.js';
import { deadLetter } from './dead-letter.js';
import { pubsubMessage } from './events.js';
import { log } from './log.js';
import { services } from './context.js';
import { preloadDetector, type PreloadSummary } from './preload.js';

/** Detectors preloaded at once by one instance. */
const PRELOAD_CONCURRENCY = 8;

export async function preloadVisit(visit: NextVisit): Promise<PreloadSummary[]> {
  const s = services();
  const started = Date.now();
  const queue = [...visit.detectors];
  const summaries: PreloadSummary[] = [];
  const worker = async () => {
    for (let d = queue.shift(); d !== undefined; d = queue.shift()) {
      try {
        summaries.push(await preloadDetector(s, visit, d));
      } catch (err) {
        // A detector without preload is processed just in time; the visit's other detectors go on.
        log('WARNING', 'preload failed', {
          groupId: visit.groupId,
          detector: d,
          error: (err as Error).message,
        });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PRELOAD_CONCURRENCY, queue.length) }, worker));
  log('INFO', 'visit preloaded', {
    groupId: visit.groupId,
    detectors: visit.detectors.length,
    preloaded: summaries.length,
    withTemplate: summaries.filter((p) => p.template).length,
    seconds: (Date.now() - started) / 1000,
  });
  return summaries.sort((a, b) => a.detector - b.detector);
}

export async function nextVisit(event: CloudEvent<unknown>): Promise<void> {
  const message = pubsubMessage(event);
  let visit: NextVisit;
  try {
    visit = parseNextVisit(message.data);
  } catch (err) {
    if (err instanceof MessageError)
      return deadLetter(services().pubsub, TOPICS.nextVisit, message, err.message, {
        stage: 'parse',
        attempts: 0,
      });
    throw err;
  }
  await preloadVisit(visit);
}

export async function nextVisitHttp(req: Request, res: Response): Promise<void> {
  if (req.method !== 'POST') {
    res.status(405).set('Allow', 'POST').json({ error: 'POST a next_visit JSON body' });
    return;
  }
  let visit: NextVisit;
  try {
    const body =
      req.rawBody ??
      Buffer.from(typeof req.body === 'string' ? req.body : JSON.stringify(req.body ?? null));
    visit = parseNextVisit(body);
  } catch (err) {
    if (err instanceof MessageError) {
      res.status(400).json({ error: err.message });
      return;
    }
    throw err;
  }
  res.status(200).json({ groupId: visit.groupId, detectors: await preloadVisit(visit) });
}
