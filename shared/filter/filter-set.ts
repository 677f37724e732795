/**
 * A set of compiled filters run together over each alert: what one instance of the filtering
 * service holds. The alert is decoded once and every active filter's predicate reads it.
 */
import type { Alert } from '../alerts/types.js';
import type { CompiledFilter } from './compile.js';

export class FilterSet {
  private readonly filters = new Map<string, CompiledFilter>();

  get size(): number {
    return this.filters.size;
  }

  set(id: string, filter: CompiledFilter): void {
    this.filters.set(id, filter);
  }

  delete(id: string): void {
    this.filters.delete(id);
  }

  /** Ids of the filters the alert matches, in insertion order. */
  match(alert: Alert): string[] {
    const ids: string[] = [];
    for (const [id, filter] of this.filters) if (filter.matches(alert)) ids.push(id);
    return ids;
  }
}
