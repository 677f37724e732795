/**
 * A set of compiled filters run together over each alert: what one instance of the filtering
 * service holds. Each frame is decoded once, projected to the fields some filter of the set
 * reads (./projection.ts), and every filter's predicate reads that one object.
 */
import type { Alert } from '../alerts/types.js';
import type { CompiledFilter } from './compile.js';
import { AlertProjection } from './projection.js';

export class FilterSet {
  private readonly filters = new Map<string, CompiledFilter>();
  private projection: AlertProjection | null = null;

  constructor(
    /** Paths read beside the filters' (the service's own: the visit, for its quota). */
    private readonly extraReads: ReadonlyArray<readonly string[]> = [],
  ) {}

  get size(): number {
    return this.filters.size;
  }

  set(id: string, filter: CompiledFilter): void {
    this.filters.set(id, filter);
    this.projection = null;
  }

  delete(id: string): void {
    this.filters.delete(id);
    this.projection = null;
  }

  /** The alert of a frame, with the fields the set's filters read; AlertDecodeError when it is not one. */
  decode(frame: Uint8Array): Alert {
    this.projection ??= new AlertProjection([
      ...this.extraReads,
      ...[...this.filters.values()].flatMap((f) => f.reads),
    ]);
    return this.projection.decode(frame);
  }

  /** Ids of the filters the alert matches, in insertion order. */
  match(alert: Alert): string[] {
    const ids: string[] = [];
    for (const [id, filter] of this.filters) if (filter.matches(alert)) ids.push(id);
    return ids;
  }
}
