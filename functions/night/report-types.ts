/**
 * The night report's figures (`night-report/report.json`), in a module of their own: report.ts
 * builds them and page.ts renders them, and neither imports the other for its types.
 */
import type { Concurrency } from './cloud.js';
import type { FilterOutcome, FilterRun } from './filters.js';
import type { KnownObjectFigures } from './known-objects.js';
import type { ImageStages, Percentiles, ScienceFigures } from './metrics.js';
import type { TemplateFigures } from './templates.js';

export interface NightFacts {
  visits: number;
  detectors: number[];
  size: number;
  seed: number;
  cores: number;
  concurrency: Concurrency;
  tfBackend: string | null;
  wallSeconds: number;
  renderSeconds: number;
  observeSeconds: number;
  complete: boolean;
  /** Longest stall of the main thread (emulators, broker), seconds: latencies are only as good as it is small. */
  mainThreadMaxStallSeconds: number;
}

export interface NightReport {
  night: NightFacts;
  alerts: {
    received: number;
    duplicates: number;
    undecodable: number;
    bright: { filter: string; received: number; expected: number; duplicates: number };
    perVisit: Array<{ visit: number; groupId: string; alerts: number; deadLettered: number }>;
  };
  deadLetters: Array<{ topic: string; reason: string | null; objectId: string | null }>;
  latency: { readoutToBroker: Percentiles; stages: Record<string, Percentiles> };
  images: ImageStages[];
  science: ScienceFigures;
  /** Known solar-system objects: association completeness, wrong associations, residuals. */
  knownObjects: KnownObjectFigures;
  /** The example user filters (./filters.ts): what each matched and what its stream received. */
  filters?: FilterOutcome[];
  /** The filtering service's night: alerts it finished, its dead letters, why the night stopped waiting for it. */
  filtering?: Omit<FilterRun, 'outcomes'>;
  /** The night's templates: TMPLID, fill factor per tile and band, images without one (./templates.ts). */
  templates?: TemplateFigures;
}
