/**
 * One processing record per (visit, detector), in Firestore, that makes at-least-once delivery safe
 * (after Rubin's DMTN-260, improved): retries before the APDB write redo the work for free; once the
 * visit's result is stored, a retry only re-sends the same alerts; once they are published, a replay
 * is a no-op. Alert fan-out records each published chunk so that a crash re-sends one chunk at most.
 */
import type { Firestore, Transaction } from '@google-cloud/firestore';

/** `noTemplate`: no template covers the image yet; it made no alerts and was offered as a template candidate. */
export type ProcessingState = 'started' | 'stored' | 'published' | 'failed' | 'noTemplate';

export interface ProcessingRecord {
  key: string;
  state: ProcessingState;
  /** Deliveries that started processing (a replay of a finished record does not count). */
  attempts: number;
  /** Work-bucket object holding the stored result (VisitBatch and alert frames). */
  resultKey: string | null;
  alertCount: number;
  /** The visit's rows are in the APDB (the hand-off comes first, so alerts may be published before). */
  apdbStored: boolean;
  /** Alert chunks already published by alertFanout, and already archived. */
  chunksDone: number[];
  chunksArchived: number[];
  /**
   * alertFanout deliveries that started on this record's alerts since the last one that made
   * progress, its last transient error and stage.
   */
  fanoutAttempts?: number;
  fanoutError?: string | null;
  fanoutStage?: string | null;
  /** Why the record failed, or the last transient error, and the stage it happened in. */
  error: string | null;
  /**
   * A failed record given up on transient errors (the infrastructure, not the image): a replay of
   * its dead letter starts it afresh instead of being dropped.
   */
  retryable?: boolean;
  stage?: string | null;
  /** Generation of the raw object the record's attempts read (a new upload starts afresh after a failure). */
  generation: string;
  /** Hash of the effective pipeline configuration (APCONFIG) and the code version (APVERSION) of the stored result. */
  configHash: string | null;
  codeVersion: string | null;
  /** The science zero point of the stored result and where it came from (PipelineStats.zeroPointSource, zeroPointOrigin). */
  zeroPoint?: { value: number; source: string; origin: string } | null;
  /** Until when the running attempt holds the record (ISO time; null when none runs): a concurrent delivery waits. */
  leaseUntil?: string | null;
  updatedAt: string;
}

/** What a delivery of a raw image should do, given the record. */
export type BeginAction =
  | { action: 'process'; record: ProcessingRecord }
  | { action: 'republish'; record: ProcessingRecord }
  | { action: 'duplicate'; record: ProcessingRecord }
  | { action: 'exhausted'; record: ProcessingRecord }
  /** Another delivery is processing the image now (its lease holds): try again later. */
  | { action: 'busy'; record: ProcessingRecord };

export const PROCESSING_COLLECTION = 'ProcessingRecord';

function withChunk(chunks: number[], chunk: number): number[] {
  return [...new Set([...chunks, chunk])].sort((a, b) => a - b);
}

function fresh(key: string): ProcessingRecord {
  return {
    key,
    state: 'started',
    attempts: 0,
    resultKey: null,
    alertCount: 0,
    apdbStored: false,
    chunksDone: [],
    chunksArchived: [],
    error: null,
    generation: '',
    configHash: null,
    codeVersion: null,
    updatedAt: '',
  };
}

export class ProcessingRecords {
  constructor(
    private readonly db: Firestore,
    private readonly collection = PROCESSING_COLLECTION,
  ) {}

  private doc(key: string) {
    return this.db.collection(this.collection).doc(key);
  }

  private async update(
    key: string,
    change: (r: ProcessingRecord) => ProcessingRecord,
    tx?: Transaction,
  ): Promise<ProcessingRecord> {
    const run = async (t: Transaction) => {
      const snap = await t.get(this.doc(key));
      const next = {
        ...change(snap.exists ? (snap.data() as ProcessingRecord) : fresh(key)),
        updatedAt: new Date().toISOString(),
      };
      t.set(this.doc(key), next);
      return next;
    };
    return tx ? run(tx) : this.db.runTransaction(run);
  }

  async get(key: string): Promise<ProcessingRecord | null> {
    const snap = await this.doc(key).get();
    return snap.exists ? (snap.data() as ProcessingRecord) : null;
  }

  /**
   * Starts a delivery of raw object `generation`: counts the attempt unless the work is already
   * done or given up. `maxAttempts` bounds deliveries that keep failing (they go to the dead-letter
   * topic); a failed record starts afresh when a new generation of the image is uploaded (fixed
   * input) or when it was given up on transient errors (`retryable`: a replay of its dead letter),
   * while a replay of the same generation of bad input stays dropped. With `leaseSeconds` > 0 the
   * attempt holds the record that long (the invocation deadline), so that a concurrent delivery
   * of the same image gets 'busy' instead of processing it a second time.
   */
  async begin(
    key: string,
    maxAttempts: number,
    generation = '',
    leaseSeconds = 0,
  ): Promise<BeginAction> {
    return this.db.runTransaction(async (tx) => {
      const snap = await tx.get(this.doc(key));
      const stored = snap.exists
        ? { ...fresh(key), ...(snap.data() as ProcessingRecord) }
        : fresh(key);
      const ended = stored.state === 'failed' || stored.state === 'noTemplate';
      const current =
        ended &&
        ((generation !== '' && stored.generation !== generation) ||
          (stored.state === 'failed' && stored.retryable === true))
          ? fresh(key)
          : stored;
      // Published before its APDB write finished (that write failed): process again, which writes the stored rows.
      if (
        current.state === 'failed' ||
        current.state === 'noTemplate' ||
        (current.state === 'published' && current.apdbStored)
      )
        return { action: 'duplicate', record: current };
      if (current.state === 'stored') return { action: 'republish', record: current };
      if (
        current.state === 'started' &&
        current.leaseUntil &&
        Date.parse(current.leaseUntil) > Date.now()
      )
        return { action: 'busy', record: current };
      if (current.attempts >= maxAttempts) return { action: 'exhausted', record: current };
      const leaseUntil =
        leaseSeconds > 0 ? new Date(Date.now() + leaseSeconds * 1000).toISOString() : null;
      const record = await this.update(
        key,
        () => ({
          ...current,
          attempts: current.attempts + 1,
          generation: generation || current.generation,
          leaseUntil,
        }),
        tx,
      );
      return { action: 'process', record };
    });
  }

  /**
   * Extends attempt `attempt`'s lease (the running attempt's heartbeat); a no-op once the
   * attempt ended (stored, failed, an error noted) or another attempt took the record over.
   */
  renewLease(key: string, attempt: number, leaseSeconds: number): Promise<ProcessingRecord> {
    return this.update(key, (r) =>
      r.state === 'started' && r.attempts === attempt && r.leaseUntil
        ? { ...r, leaseUntil: new Date(Date.now() + leaseSeconds * 1000).toISOString() }
        : r,
    );
  }

  /** The result is in the work bucket and the APDB: from now on retries only re-send. */
  markStored(
    key: string,
    resultKey: string,
    alertCount: number,
    provenance: {
      configHash: string;
      codeVersion: string;
      zeroPoint?: { value: number; source: string; origin: string };
    } | null = null,
  ): Promise<ProcessingRecord> {
    return this.update(key, (r) => ({
      ...r,
      state: r.state === 'published' ? r.state : 'stored',
      resultKey,
      alertCount,
      apdbStored: true,
      error: null,
      configHash: provenance?.configHash ?? r.configHash ?? null,
      codeVersion: provenance?.codeVersion ?? r.codeVersion ?? null,
      zeroPoint: provenance?.zeroPoint ?? r.zeroPoint ?? null,
      leaseUntil: null,
    }));
  }

  /** Counts an alertFanout delivery of the record's alerts (a killed one counts too). */
  beginFanout(key: string): Promise<ProcessingRecord> {
    return this.update(key, (r) => ({ ...r, fanoutAttempts: (r.fanoutAttempts ?? 0) + 1 }));
  }

  /** alertFanout made progress and hands the rest on: its attempts count again from zero. */
  continueFanout(key: string): Promise<ProcessingRecord> {
    return this.update(key, (r) => ({ ...r, fanoutAttempts: 0, fanoutError: null }));
  }

  /** Notes alertFanout's transient error, the reason of a later give-up. */
  noteFanoutError(key: string, reason: string, stage: string): Promise<ProcessingRecord> {
    return this.update(key, (r) => ({ ...r, fanoutError: reason, fanoutStage: stage }));
  }

  markChunkPublished(key: string, chunk: number): Promise<ProcessingRecord> {
    return this.update(key, (r) => ({ ...r, chunksDone: withChunk(r.chunksDone, chunk) }));
  }

  markChunkArchived(key: string, chunk: number): Promise<ProcessingRecord> {
    return this.update(key, (r) => ({
      ...r,
      chunksArchived: withChunk(r.chunksArchived ?? [], chunk),
    }));
  }

  markPublished(key: string): Promise<ProcessingRecord> {
    return this.update(key, (r) => ({ ...r, state: 'published' }));
  }

  /** Gives up on the record (bad input; or, `retryable`, transient errors on every attempt). */
  markFailed(
    key: string,
    reason: string,
    stage?: string,
    retryable = false,
  ): Promise<ProcessingRecord> {
    return this.update(key, (r) => ({
      ...r,
      state: r.state === 'started' ? 'failed' : r.state,
      error: reason,
      stage: stage ?? r.stage ?? null,
      retryable,
      leaseUntil: null,
    }));
  }

  /** No template covers the image yet: it ends without alerts and without a dead letter, saying why. */
  markNoTemplate(key: string, reason: string): Promise<ProcessingRecord> {
    return this.update(key, (r) => ({
      ...r,
      state: 'noTemplate',
      error: reason,
      stage: 'template',
      leaseUntil: null,
    }));
  }

  /** Notes a transient error; the delivery will be retried. */
  noteError(key: string, reason: string, stage?: string): Promise<ProcessingRecord> {
    return this.update(key, (r) => ({
      ...r,
      error: reason,
      stage: stage ?? null,
      leaseUntil: null,
    }));
  }
}
