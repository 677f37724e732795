/**
 * Cold start: what an instance's first event would otherwise wait for, begun when the instance
 * starts. Cloud Run functions name the entry point an instance serves in `FUNCTION_TARGET` (the
 * local runner, functions/night/instances.ts, sets it the same way); without it nothing is warmed.
 *
 * The Firestore and Pub/Sub clients load their protos and open their channels on their first call:
 * in the e2e bench's profile a cold alertFanout spent ~1.3 s (loaded machine) of its first batch
 * there and parsing the alert schema, before its first publish. processImage starts its worker
 * pool and loads the real/bogus model while its first image downloads; warmed, the download has
 * the cores to itself. Best effort: a failure is logged, and the first event does the work as before.
 */
import { TOPICS } from '../shared/cloud/names.js';
import { warmAlertFanout } from './alert-fanout.js';
import { services, type Services } from './context.js';
import { log } from './log.js';
import { warmProcessImage } from './process-image.js';

/** A document read once per instance to open the Firestore client's channel (it need not exist). */
export const WARM_DOCUMENT = 'instanceWarmUp/read';

/** Each entry point's warm-up, beyond the clients every instance opens. */
const WARM_UPS: Record<string, (s: Services) => Promise<unknown>> = {
  processImage: (s) => {
    const { version, model } = warmProcessImage();
    return Promise.all([version, model, warmClients(s, TOPICS.alertBatches)]);
  },
  alertFanout: (s) => Promise.all([warmAlertFanout(s), warmClients(s, TOPICS.alerts)]),
};

/**
 * The Firestore client's and the Pub/Sub publisher client's first calls: a read, and a GetTopic of
 * `topic`, whose answer does not matter (the publisher role lacks pubsub.topics.get): the attempt
 * has loaded the client and opened its channel.
 */
async function warmClients(s: Services, topic: string): Promise<void> {
  await Promise.all([
    s.firestore.doc(WARM_DOCUMENT).get(),
    s.pubsub
      .topic(topic)
      .getMetadata()
      .catch(() => undefined),
  ]);
}

/** Warms the instance of entry point `target`; resolves when done (never rejects). */
export async function warmInstance(target = process.env.FUNCTION_TARGET): Promise<void> {
  const warm = target ? WARM_UPS[target] : undefined;
  if (!warm) return;
  const started = performance.now();
  try {
    await warm(services());
    log('INFO', 'instance warmed', { target, ms: Math.round(performance.now() - started) });
  } catch (err) {
    log('WARNING', 'instance warm-up failed; the first event does its work', {
      target,
      error: (err as Error).message,
    });
  }
}
