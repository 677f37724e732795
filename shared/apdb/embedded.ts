/**
 * Embedded APDB for offline runs (`ap process`) and benchmarks: in memory, optionally persisted
 * to a folder as append-only JSON lines, one file per table:
 *
 *     DIR/DiaObject.jsonl        one DiaObject row a line; a later line for an id replaces the earlier
 *     DIR/DiaSource.jsonl        one DiaSource row a line
 *     DIR/DiaForcedSource.jsonl  one DiaForcedSource row a line
 *     DIR/visits.jsonl           {"visit":V,"detector":D,"imageDigest":H} a line, written last, once a visit is stored
 *
 * Rows are the alert schema's records (see ./types.ts); unknown values are null. A HEALPix grid
 * (nested, order 10, ~3.4 arcmin cells) indexes DiaObjects for cone reads.
 */
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { conePixels, coverOrder, healpixNest, separationDeg } from '../healpix/index.js';
import type { Apdb, DiaForcedSource, DiaObject, DiaSource, SkyCone, VisitBatch } from './types.js';

const INDEX_ORDER = 10;
const FILES = {
  objects: 'DiaObject.jsonl',
  sources: 'DiaSource.jsonl',
  forced: 'DiaForcedSource.jsonl',
  visits: 'visits.jsonl',
};

export class EmbeddedApdb implements Apdb {
  private readonly objects = new Map<number, DiaObject>();
  private readonly cellOf = new Map<number, number>();
  private readonly cells = new Map<number, Set<number>>();
  private readonly sources = new Map<number, DiaSource[]>();
  private readonly forced = new Map<number, DiaForcedSource[]>();
  private readonly rowIds = new Set<string>();
  /** Stored (visit, detector) keys, with the digest of their image (null when not given). */
  private readonly visits = new Map<string, string | null>();

  /** An APDB in memory only, or persisted under `dir` when given (see `open`). */
  constructor(private readonly dir: string | null = null) {}

  /** Opens (creating if needed) the APDB persisted in `dir`. */
  static async open(dir: string): Promise<EmbeddedApdb> {
    const apdb = new EmbeddedApdb(dir);
    await mkdir(dir, { recursive: true });
    const lines = async (name: string): Promise<unknown[]> => {
      let text = '';
      try {
        text = await readFile(join(dir, name), 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      return text
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line, k) => {
          try {
            return JSON.parse(line) as unknown;
          } catch {
            throw new SyntaxError(`${join(dir, name)}:${k + 1}: not a JSON row`);
          }
        });
    };
    apdb.load({
      diaObjects: (await lines(FILES.objects)) as DiaObject[],
      diaSources: (await lines(FILES.sources)) as DiaSource[],
      forcedSources: (await lines(FILES.forced)) as DiaForcedSource[],
    });
    for (const v of (await lines(FILES.visits)) as Array<{
      visit: number;
      detector: number;
      imageDigest?: string | null;
    }>) {
      apdb.visits.set(visitKey(v.visit, v.detector), v.imageDigest ?? null);
    }
    return apdb;
  }

  /**
   * Adds rows to memory without marking a visit (bulk loading, e.g. for benchmarks). Source rows
   * whose id is already held are skipped (lines repeated by a run that stopped mid-write).
   */
  load(rows: Pick<VisitBatch, 'diaObjects' | 'diaSources' | 'forcedSources'>): void {
    for (const o of rows.diaObjects) this.putObject(o);
    for (const s of rows.diaSources)
      if (this.firstSeen(`s${s.diaSourceId}`)) push(this.sources, s.diaObjectId, s);
    for (const f of rows.forcedSources)
      if (this.firstSeen(`f${f.diaForcedSourceId}`)) push(this.forced, f.diaObjectId, f);
  }

  private firstSeen(key: string): boolean {
    if (this.rowIds.has(key)) return false;
    this.rowIds.add(key);
    return true;
  }

  get objectCount(): number {
    return this.objects.size;
  }

  async getDiaObjectsInRegion(cone: SkyCone): Promise<DiaObject[]> {
    const order = Math.min(coverOrder(cone.radiusDeg), INDEX_ORDER);
    const perPixel = 4 ** (INDEX_ORDER - order);
    const out: DiaObject[] = [];
    const visitCell = (cell: number): void => {
      for (const id of this.cells.get(cell) ?? []) {
        const o = this.objects.get(id) as DiaObject;
        if (separationDeg(cone.ra, cone.dec, o.ra, o.dec) <= cone.radiusDeg) out.push(o);
      }
    };
    const pixels = conePixels(cone.ra, cone.dec, cone.radiusDeg, order);
    if (pixels.length * perPixel > this.cells.size) {
      const wanted = new Set(pixels);
      for (const cell of this.cells.keys())
        if (wanted.has(Math.floor(cell / perPixel))) visitCell(cell);
    } else {
      for (const p of pixels) for (let c = p * perPixel; c < (p + 1) * perPixel; c++) visitCell(c);
    }
    return out;
  }

  async getDiaSourcesForObjects(ids: readonly number[], sinceMjd: number): Promise<DiaSource[]> {
    return ids.flatMap((id) =>
      (this.sources.get(id) ?? []).filter((s) => s.midpointMjdTai >= sinceMjd),
    );
  }

  async getForcedSourcesForObjects(
    ids: readonly number[],
    sinceMjd: number,
  ): Promise<DiaForcedSource[]> {
    return ids.flatMap((id) =>
      (this.forced.get(id) ?? []).filter((s) => s.midpointMjdTai >= sinceMjd),
    );
  }

  async hasVisit(visit: number, detector: number): Promise<boolean> {
    return this.visits.has(visitKey(visit, detector));
  }

  async visitDigest(visit: number, detector: number): Promise<string | null | undefined> {
    return this.visits.get(visitKey(visit, detector));
  }

  async storeVisit(batch: VisitBatch): Promise<boolean> {
    const key = visitKey(batch.visit, batch.detector);
    if (this.visits.has(key)) return false;
    if (this.dir) {
      const jsonl = (rows: readonly object[]): string =>
        rows.map((r) => `${JSON.stringify(r)}\n`).join('');
      await appendFile(join(this.dir, FILES.sources), jsonl(batch.diaSources));
      await appendFile(join(this.dir, FILES.forced), jsonl(batch.forcedSources));
      await appendFile(join(this.dir, FILES.objects), jsonl(batch.diaObjects));
      await appendFile(
        join(this.dir, FILES.visits),
        jsonl([
          { visit: batch.visit, detector: batch.detector, imageDigest: batch.imageDigest ?? null },
        ]),
      );
    }
    this.load(batch);
    this.visits.set(key, batch.imageDigest ?? null);
    return true;
  }

  async close(): Promise<void> {}

  private putObject(o: DiaObject): void {
    const oldCell = this.cellOf.get(o.diaObjectId);
    if (oldCell !== undefined) this.cells.get(oldCell)?.delete(o.diaObjectId);
    const cell = healpixNest(o.ra, o.dec, INDEX_ORDER);
    this.objects.set(o.diaObjectId, o);
    this.cellOf.set(o.diaObjectId, cell);
    let set = this.cells.get(cell);
    if (!set) this.cells.set(cell, (set = new Set()));
    set.add(o.diaObjectId);
  }
}

function visitKey(visit: number, detector: number): string {
  return `${visit}/${detector}`;
}

function push<T>(map: Map<number, T[]>, key: number | null, value: T): void {
  if (key === null) return;
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
