/**
 * Times the cloud calls a function makes, without changing them: the Services handed to the
 * functions are wrapped so that each call of interest adds its wall time (ms) to a category.
 * processImage logs its pipeline stages itself; these fill in the I/O around them (raw download,
 * preload read, result store, APDB write, hand-off publish; the prepared template's read overlaps
 * the pipeline and is `preloadTemplate`); nextVisit's and templateBuilder's
 * template reads and writes and preload writes are timed too (the crash rehearsal's points).
 */
import type { Bucket } from '@google-cloud/storage';
import type { Services } from '../context.js';
import { TOPICS } from '../../shared/cloud/names.js';

/** Milliseconds per category during one invocation (concurrent calls add up). */
export type CallTimings = Record<string, number>;

type Method = (...args: unknown[]) => unknown;

/** Called with a timed call's category once the call succeeded. */
export type AfterCall = (category: string) => void;

/** A proxy of `target` whose methods named in `categories` add their time to `into`. */
function timedMethods<T extends object>(
  target: T,
  into: CallTimings,
  categories: (method: string, args: unknown[]) => string | null,
  afterCall: AfterCall,
): T {
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver) as unknown;
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      return (...args: unknown[]) => {
        const category = categories(prop, args);
        const result = (value as Method).apply(obj, args);
        if (!category || !(result instanceof Promise)) return result;
        const started = performance.now();
        const add = () => (into[category] = (into[category] ?? 0) + performance.now() - started);
        return result.finally(add).then((value: unknown) => {
          afterCall(category);
          return value;
        });
      };
    },
  });
}

/**
 * The services with the calls of interest timed into `into`; `afterCall` sees each one succeed
 * (the crash rehearsal's checkpoints). Alerts published to topic `alerts` are `alertPublish`.
 */
export function instrumentServices(
  s: Services,
  into: CallTimings,
  afterCall: AfterCall = () => {},
): Services {
  /** The bucket whose files' methods named in `categories` are timed. */
  const timedFiles = (bucket: Bucket, categories: Record<string, string>) =>
    new Proxy(bucket, {
      get(obj, prop, receiver) {
        const value = Reflect.get(obj, prop, receiver) as unknown;
        if (prop !== 'file' || typeof value !== 'function') return value;
        return (...args: unknown[]) =>
          timedMethods(
            (value as Method).apply(obj, args) as object,
            into,
            (m) => categories[m] ?? null,
            afterCall,
          );
      },
    });
  const rawBucket = timedFiles(s.buckets.raw, { download: 'download' });
  const templates = timedFiles(s.buckets.templates, {
    download: 'templateRead',
    save: 'templateWrite',
  });
  const work = timedMethods(
    s.work,
    into,
    (method, args) => {
      const key = String(args[0]);
      // The prepared template is read while the pipeline runs: its wait is the pipeline's characterizeTemplate.
      if (method === 'get' && key.startsWith('preload/'))
        return key.endsWith('/template.fits') ? 'preloadTemplate' : 'preloadRead';
      if (method === 'putIfAbsent' && key.startsWith('results/')) return 'store';
      if (method === 'putIfAbsent' && key.startsWith('preload/')) return 'preloadWrite';
      return null;
    },
    afterCall,
  );
  const apdb = timedMethods(
    s.apdb,
    into,
    (method) => (method === 'storeVisit' ? 'apdbWrite' : null),
    afterCall,
  );
  const records = timedMethods(s.records, into, (method) => `record.${method}`, afterCall);
  const published: Record<string, string> = {
    [TOPICS.alertBatches]: 'handOff',
    [TOPICS.alerts]: 'alertPublish',
  };
  const pubsub = new Proxy(s.pubsub, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver) as unknown;
      if (prop !== 'topic' || typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const topic = (value as Method).apply(obj, args) as object;
        const category = published[String(args[0])];
        return category
          ? timedMethods(topic, into, (m) => (m === 'publishMessage' ? category : null), afterCall)
          : topic;
      };
    },
  });
  return {
    ...s,
    buckets: { ...s.buckets, raw: rawBucket, templates },
    work,
    apdb,
    records,
    pubsub,
  };
}
