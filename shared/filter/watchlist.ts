/**
 * Watchlists: named lists of sky positions, each with a radius, matched against a DIASource's
 * position through the HEALPix index (shared/healpix). Each entry is filed under the pixels, at
 * the order whose pixels are about as large as its radius, that its circle may touch; a lookup
 * computes the position's pixel at each order in use (a handful) and checks only the entries
 * filed there, by exact angular separation.
 *
 * CSV upload: a header row naming the columns `ra, dec, radius, name` (any order, case-insensitive;
 * ra and dec in degrees, radius in arcsec), one entry a row; `name` may be empty.
 */
import { conePixels, coverOrder, healpixNest, separationDeg } from '../healpix/index.js';
import type { SkyRegion } from './compile.js';
import { csvCells } from './csv.js';
import { ARCSEC_PER_DEG } from '../util/numeric.js';

/** The most entries a watchlist may hold. */
export const MAX_WATCHLIST_ENTRIES = 100_000;
/** The largest radius of an entry, arcsec (1 degree). */
export const MAX_WATCHLIST_RADIUS_ARCSEC = ARCSEC_PER_DEG;
/** Finest order entries are filed at (pixels ~6.4 arcsec): smaller circles share pixels. */
const FINEST_ORDER = 15;

export interface WatchlistEntry {
  ra: number;
  dec: number;
  radiusArcsec: number;
  name: string;
}

export class Watchlist implements SkyRegion {
  /** Entry indices by pixel, one map per order in use. */
  private readonly byOrder = new Map<number, Map<number, number[]>>();

  constructor(readonly entries: readonly WatchlistEntry[]) {
    if (entries.length > MAX_WATCHLIST_ENTRIES)
      throw new RangeError(
        `watchlist has ${entries.length} entries, more than the limit of ${MAX_WATCHLIST_ENTRIES}`,
      );
    for (const [index, e] of entries.entries()) {
      const radiusDeg = e.radiusArcsec / ARCSEC_PER_DEG;
      const order = Math.min(FINEST_ORDER, coverOrder(radiusDeg));
      let pixels = this.byOrder.get(order);
      if (!pixels) this.byOrder.set(order, (pixels = new Map()));
      for (const p of conePixels(e.ra, e.dec, radiusDeg, order)) {
        const list = pixels.get(p);
        if (list) list.push(index);
        else pixels.set(p, [index]);
      }
    }
  }

  /** The entries whose circle holds the position. */
  matchAll(raDeg: number, decDeg: number): WatchlistEntry[] {
    const found: WatchlistEntry[] = [];
    for (const [order, pixels] of this.byOrder) {
      for (const index of pixels.get(healpixNest(raDeg, decDeg, order)) ?? []) {
        const e = this.entries[index];
        if (separationDeg(e.ra, e.dec, raDeg, decDeg) * ARCSEC_PER_DEG <= e.radiusArcsec)
          found.push(e);
      }
    }
    return found;
  }

  contains(raDeg: number, decDeg: number): boolean {
    for (const [order, pixels] of this.byOrder) {
      for (const index of pixels.get(healpixNest(raDeg, decDeg, order)) ?? []) {
        const e = this.entries[index];
        if (separationDeg(e.ra, e.dec, raDeg, decDeg) * ARCSEC_PER_DEG <= e.radiusArcsec)
          return true;
      }
    }
    return false;
  }
}

/** Parses a watchlist CSV; throws an Error naming the line and the cause. */
export function parseWatchlistCsv(text: string): Watchlist {
  const lines = text.split('\n');
  const header = csvCells(lines[0] ?? '').map((h) => h.toLowerCase());
  const column = (name: string, required: boolean): number => {
    const i = header.indexOf(name);
    if (i < 0 && required)
      throw new Error(`line 1: header lacks column '${name}' (needs ra, dec, radius[, name])`);
    return i;
  };
  const [ra, dec, radius, name] = [
    column('ra', true),
    column('dec', true),
    column('radius', true),
    column('name', false),
  ];
  const entries: WatchlistEntry[] = [];
  for (let n = 1; n < lines.length; n++) {
    if (lines[n].trim() === '') continue;
    if (entries.length === MAX_WATCHLIST_ENTRIES)
      throw new Error(`line ${n + 1}: more than ${MAX_WATCHLIST_ENTRIES} entries`);
    const cells = csvCells(lines[n]);
    const number = (i: number, what: string, low: number, high: number): number => {
      const cell = cells[i] ?? '';
      const v = cell === '' ? NaN : Number(cell);
      if (!(v >= low && v <= high))
        throw new Error(
          `line ${n + 1}: ${what} '${cell.slice(0, 40)}' is not a number in [${low}, ${high}]`,
        );
      return v;
    };
    entries.push({
      ra: number(ra, 'ra', 0, 360),
      dec: number(dec, 'dec', -90, 90),
      radiusArcsec: number(radius, 'radius (arcsec)', 0, MAX_WATCHLIST_RADIUS_ARCSEC),
      name: name >= 0 ? (cells[name] ?? '').slice(0, 256) : '',
    });
  }
  return new Watchlist(entries);
}
