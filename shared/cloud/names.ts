/**
 * Names of the cloud resources the code uses; docs/contracts.md documents the public ones and
 * terraform/ declares them all (test/terraform checks both directions).
 */
export const TOPICS = {
  /** JSON next_visit notices from the observatory's scheduler. */
  nextVisit: 'next-visit',
  /** Object-finalize notifications of the raw bucket. */
  rawArrived: 'raw-arrived',
  /** Internal: processImage hands a detector's alert batch to alertFanout. */
  alertBatches: 'alert-batches',
  /** One alert a message, Confluent-framed Avro, for brokers. */
  alerts: 'alerts',
  /** Users' filter matches: the alert's frame and attributes plus `filterId` (shared/filter). */
  filteredAlerts: 'filtered-alerts',
  /** Internal: processImage offers each processed (or template-less) image to templateBuilder (shared/template/candidates.ts). */
  templateCandidates: 'template-candidates',
} as const;

/** The dead-letter topic of a function's input topic. */
export function deadLetterTopic(topic: string): string {
  return `${topic}-dead-letter`;
}

export type BucketRole = 'raw' | 'templates' | 'alerts' | 'work' | 'orbits' | 'refcats';

/** Bucket `<prefix>-<role>`: raw images, templates, the alert archive, the pipeline's work area, known objects' orbits, reference catalogs. */
export function bucketName(prefix: string, role: BucketRole): string {
  return `${prefix}-${role}`;
}

export const BUCKET_ROLES: readonly BucketRole[] = [
  'raw',
  'templates',
  'alerts',
  'work',
  'orbits',
  'refcats',
];

/** Function entry points (exported from functions/index.ts) and what drives each. */
export const ENTRY_POINTS = {
  nextVisit: { trigger: 'pubsub', topic: TOPICS.nextVisit },
  nextVisitHttp: { trigger: 'http' },
  processImage: { trigger: 'pubsub', topic: TOPICS.rawArrived },
  alertFanout: { trigger: 'pubsub', topic: TOPICS.alertBatches },
  alertArchive: { trigger: 'http' },
  filterAlerts: { trigger: 'pubsub', topic: TOPICS.alerts },
  filterApi: { trigger: 'http' },
  templateBuilder: { trigger: 'pubsub', topic: TOPICS.templateCandidates },
  templateApi: { trigger: 'http' },
} as const;

export type EntryPoint = keyof typeof ENTRY_POINTS;
