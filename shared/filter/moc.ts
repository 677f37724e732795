/**
 * Watchmaps: sky regions as HEALPix MOCs (IVOA MOC 2.0, Fernique et al. 2022), cells of mixed
 * orders in the NESTED scheme. Text form: the MOC 2.0 ASCII serialization of a space MOC,
 *     3/3 10 4/16-18 22 5/19-20 17/222 24/
 * (`order/` then cell indices or `lo-hi` ranges, separated by spaces; commas, as MOC 1.1 wrote
 * them, are accepted too; a trailing `order/` with no cells states the MOC's depth), or the IVOA
 * JSON form {"3": [3, 10], "4": [16, 17, 18, 22]}. Cells are turned into merged index ranges at
 * the deepest order present, and a position is matched by a binary search of its pixel there.
 */
import { healpixNest, mergeRanges, type PixelRange } from '../healpix/index.js';
import type { SkyRegion } from './compile.js';

/** Deepest order whose nested indices are exact in a double (pixels ~0.013 arcsec). */
export const MAX_MOC_ORDER = 24;
/** The most cell tokens (single cells or ranges) a watchmap may hold. */
export const MAX_MOC_CELLS = 1_000_000;
const MOC_SYNTAX_MAX_ORDER = 29;

export class Moc implements SkyRegion {
  private readonly lo: Float64Array;
  private readonly hi: Float64Array;

  constructor(
    /** The order of the ranges. */
    readonly depth: number,
    ranges: PixelRange[],
  ) {
    const merged = mergeRanges(ranges);
    this.lo = Float64Array.from(merged, (r) => r[0]);
    this.hi = Float64Array.from(merged, (r) => r[1]);
  }

  /** Number of merged index ranges. */
  get rangeCount(): number {
    return this.lo.length;
  }

  /** Fraction of the sky covered. */
  get skyFraction(): number {
    let n = 0;
    for (let i = 0; i < this.lo.length; i++) n += this.hi[i] - this.lo[i];
    return n / (12 * 4 ** this.depth);
  }

  contains(raDeg: number, decDeg: number): boolean {
    const p = healpixNest(raDeg, decDeg, this.depth);
    let a = 0;
    let b = this.lo.length;
    while (a < b) {
      const m = (a + b) >>> 1;
      if (this.lo[m] <= p) a = m + 1;
      else b = m;
    }
    return a > 0 && p < this.hi[a - 1];
  }
}

type Cells = Array<{ order: number; lo: number; hi: number }>;

function checkOrder(order: number, where: string): void {
  if (!Number.isInteger(order) || order < 0 || order > MOC_SYNTAX_MAX_ORDER)
    throw new Error(`${where}: order '${order}' is not an integer in [0, ${MOC_SYNTAX_MAX_ORDER}]`);
}

function checkCell(order: number, cell: number, where: string): void {
  if (order > MAX_MOC_ORDER)
    throw new Error(
      `${where}: cells of order ${order} are finer than the supported ${MAX_MOC_ORDER}`,
    );
  if (!Number.isInteger(cell) || cell < 0 || cell >= 12 * 4 ** order)
    throw new Error(`${where}: cell '${cell}' is not a pixel of order ${order}`);
}

function toMoc(cells: Cells, statedDepth: number): Moc {
  const depth = Math.min(MAX_MOC_ORDER, Math.max(statedDepth, ...cells.map((c) => c.order)));
  return new Moc(
    depth,
    cells.map((c) => [c.lo * 4 ** (depth - c.order), (c.hi + 1) * 4 ** (depth - c.order)]),
  );
}

function parseAscii(text: string): Moc {
  const cells: Cells = [];
  let order = -1;
  let depth = 0;
  const tokens = text.split(/[\s,]+/).filter((t) => t !== '');
  if (tokens.length > MAX_MOC_CELLS) throw new Error(`more than ${MAX_MOC_CELLS} cells`);
  for (const [i, token] of tokens.entries()) {
    const where = `token ${i + 1} '${token.slice(0, 30)}'`;
    const slash = token.indexOf('/');
    let rest = token;
    if (slash >= 0) {
      order = Number(token.slice(0, slash));
      checkOrder(order, where);
      depth = Math.max(depth, order);
      rest = token.slice(slash + 1);
      if (rest === '') continue;
    }
    if (order < 0) throw new Error(`${where}: a cell before any 'order/'`);
    const dash = rest.indexOf('-');
    const lo = Number(dash >= 0 ? rest.slice(0, dash) : rest);
    const hi = dash >= 0 ? Number(rest.slice(dash + 1)) : lo;
    checkCell(order, lo, where);
    checkCell(order, hi, where);
    if (hi < lo) throw new Error(`${where}: range runs backwards`);
    cells.push({ order, lo, hi });
  }
  if (cells.length === 0) throw new Error('the MOC has no cells');
  return toMoc(cells, Math.min(depth, MAX_MOC_ORDER));
}

function parseJson(text: string): Moc {
  const parsed = JSON.parse(text) as unknown;
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new Error('a JSON MOC is an object {"order": [cells]}');
  const cells: Cells = [];
  let depth = 0;
  for (const [key, list] of Object.entries(parsed)) {
    const order = Number(key);
    checkOrder(order, `order "${key.slice(0, 30)}"`);
    depth = Math.max(depth, order);
    if (!Array.isArray(list)) throw new Error(`order ${order}: cells must be an array`);
    if (cells.length + list.length > MAX_MOC_CELLS)
      throw new Error(`more than ${MAX_MOC_CELLS} cells`);
    for (const cell of list as unknown[]) {
      checkCell(order, Number(cell), `order ${order}`);
      cells.push({ order, lo: Number(cell), hi: Number(cell) });
    }
  }
  if (cells.length === 0) throw new Error('the MOC has no cells');
  return toMoc(cells, Math.min(depth, MAX_MOC_ORDER));
}

/** Parses a MOC in the MOC 2.0 ASCII form or the IVOA JSON form; throws an Error naming the cause. */
export function parseMoc(text: string): Moc {
  return text.trimStart().startsWith('{') ? parseJson(text) : parseAscii(text);
}
