/**
 * One-to-one positional matching of DiaSources to DiaObjects: global nearest-pair greedy.
 *
 * All (source, object) pairs closer than the radius are sorted by separation, then source id,
 * then object id, and accepted in that order when neither side is taken yet: the closest pairs
 * win, each object gets at most one source per visit, and the result does not depend on input
 * order (deterministic in crowded fields). The greedy solution of the assignment problem, as
 * in Rubin's ap_association nearest-neighbour step; candidate pairs come from a HEALPix grid.
 */
import { conePixels, coverOrder, healpixNest, separationDeg } from '../healpix/index.js';
import { ARCSEC_PER_DEG } from '../util/numeric.js';

export interface Positioned {
  id: number;
  ra: number;
  dec: number;
}

export interface MatchResult {
  /** For each source, the index of its object in `objects`, or -1. */
  objectIndex: Int32Array;
  /** For each source, the separation to its object in arcsec (NaN when unmatched). */
  separationArcsec: Float64Array;
}

/** Matches each source to at most one object within radiusArcsec, and each object to at most one source. */
export function matchNearest(
  sources: readonly Positioned[],
  objects: readonly Positioned[],
  radiusArcsec: number,
): MatchResult {
  const radiusDeg = radiusArcsec / ARCSEC_PER_DEG;
  const order = coverOrder(radiusDeg);
  const grid = new Map<number, number[]>();
  objects.forEach((o, j) => {
    const cell = healpixNest(o.ra, o.dec, order);
    const list = grid.get(cell);
    if (list) list.push(j);
    else grid.set(cell, [j]);
  });

  const pairs: Array<{ sep: number; i: number; j: number }> = [];
  sources.forEach((s, i) => {
    if (!Number.isFinite(s.ra) || !Number.isFinite(s.dec)) return;
    for (const cell of conePixels(s.ra, s.dec, radiusDeg, order)) {
      for (const j of grid.get(cell) ?? []) {
        const sep = separationDeg(s.ra, s.dec, objects[j].ra, objects[j].dec);
        if (sep <= radiusDeg) pairs.push({ sep, i, j });
      }
    }
  });
  pairs.sort(
    (a, b) =>
      a.sep - b.sep || sources[a.i].id - sources[b.i].id || objects[a.j].id - objects[b.j].id,
  );

  const objectIndex = new Int32Array(sources.length).fill(-1);
  const separationArcsec = new Float64Array(sources.length).fill(Number.NaN);
  const objectTaken = new Uint8Array(objects.length);
  for (const { sep, i, j } of pairs) {
    if (objectIndex[i] >= 0 || objectTaken[j]) continue;
    objectIndex[i] = j;
    objectTaken[j] = 1;
    separationArcsec[i] = sep * ARCSEC_PER_DEG;
  }
  return { objectIndex, separationArcsec };
}
