/**
 * Times the cloud calls a function makes, without changing them: the Services handed to the
 * functions are wrapped so that each call of interest adds its wall time (ms) to a category.
 * processImage logs its pipeline stages itself; these fill in the I/O around them (raw download,
 * preload read, result store, APDB write, hand-off publish).
 */
import type { Services } from '../context.js';
import { TOPICS } from '../../shared/cloud/names.js';

/** Milliseconds per category during one invocation (concurrent calls add up). */
export type CallTimings = Record<string, number>;

type Method = (...args: unknown[]) => unknown;

/** A proxy of `target` whose methods named in `categories` add their time to `into`. */
function timedMethods<T extends object>(
  target: T,
  into: CallTimings,
  categories: (method: string, args: unknown[]) => string | null,
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
        return result.finally(add);
      };
    },
  });
}

/** The services with the calls of interest timed into `into`. */
export function instrumentServices(s: Services, into: CallTimings): Services {
  const rawBucket = new Proxy(s.buckets.raw, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver) as unknown;
      if (prop !== 'file' || typeof value !== 'function') return value;
      return (...args: unknown[]) =>
        timedMethods((value as Method).apply(obj, args) as object, into, (m) =>
          m === 'download' ? 'download' : null,
        );
    },
  });
  const work = timedMethods(s.work, into, (method, args) => {
    const key = String(args[0]);
    if (method === 'get' && key.startsWith('preload/')) return 'preloadRead';
    if (method === 'putIfAbsent' && key.startsWith('results/')) return 'store';
    return null;
  });
  const apdb = timedMethods(s.apdb, into, (method) =>
    method === 'storeVisit' ? 'apdbWrite' : null,
  );
  const records = timedMethods(s.records, into, (method) => `record.${method}`);
  const pubsub = new Proxy(s.pubsub, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver) as unknown;
      if (prop !== 'topic' || typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const topic = (value as Method).apply(obj, args) as object;
        return args[0] === TOPICS.alertBatches
          ? timedMethods(topic, into, (m) => (m === 'publishMessage' ? 'handOff' : null))
          : topic;
      };
    },
  });
  return { ...s, buckets: { ...s.buckets, raw: rawBucket }, work, apdb, records, pubsub };
}
