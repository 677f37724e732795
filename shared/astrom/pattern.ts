/**
 * Star-pattern matching of two point lists by triangle invariants, as astroalign does (Beroiz,
 * Cabral & Sanchez 2020, Astron. Comput. 32, 100384): triangles of each star and its nearest
 * neighbours, described by the ratios of their sorted sides (invariant under translation,
 * rotation and scale), matched in that space; each match proposes a similarity transform, and
 * the one most stars agree with wins (RANSAC), refined by least squares on its inliers.
 */

export interface Point {
  x: number;
  y: number;
}

/** X = a x - b y + tx, Y = b x + a y + ty: rotation by atan2(b, a), scale hypot(a, b). */
export interface Similarity {
  a: number;
  b: number;
  tx: number;
  ty: number;
}

export const IDENTITY: Similarity = { a: 1, b: 0, tx: 0, ty: 0 };

export function applySimilarity(s: Similarity, p: Point): Point {
  return { x: s.a * p.x - s.b * p.y + s.tx, y: s.b * p.x + s.a * p.y + s.ty };
}

export interface PatternConfig {
  /** Neighbours per star that form its triangles (astroalign: 4, i.e. 10 triangles of 5 stars). */
  neighbours: number;
  /** Largest distance of two triangles' invariants to be a candidate match. */
  invariantTolerance: number;
  /** A transformed star within this many pixels of a target star agrees with the transform. */
  inlierRadiusPx: number;
  /** Scale range a proposed transform must lie in. */
  scaleRange: [number, number];
  /** Fewest agreeing stars for a match. */
  minInliers: number;
}

export const DEFAULT_PATTERN_CONFIG: PatternConfig = {
  neighbours: 4,
  invariantTolerance: 0.02,
  inlierRadiusPx: 2,
  scaleRange: [0.5, 2],
  minInliers: 6,
};

interface Triangle {
  /** Vertices ordered by the side opposite them, shortest side first. */
  v: [number, number, number];
  /** Sorted sides' ratios L2/L1 and L1/L0. */
  inv: [number, number];
}

function triangles(points: readonly Point[], k: number): Triangle[] {
  const seen = new Set<string>();
  const out: Triangle[] = [];
  for (let i = 0; i < points.length; i++) {
    const near = points
      .map((p, j) => ({ j, d: (p.x - points[i].x) ** 2 + (p.y - points[i].y) ** 2 }))
      .filter((n) => n.j !== i)
      .sort((a, b) => a.d - b.d)
      .slice(0, k)
      .map((n) => n.j);
    const group = [i, ...near];
    for (let a = 0; a < group.length; a++)
      for (let b = a + 1; b < group.length; b++)
        for (let c = b + 1; c < group.length; c++) {
          const ids = [group[a], group[b], group[c]].sort((m, n) => m - n);
          const key = ids.join(',');
          if (seen.has(key)) continue;
          seen.add(key);
          const t = describe(points, ids as [number, number, number]);
          if (t) out.push(t);
        }
  }
  return out;
}

function describe(points: readonly Point[], ids: [number, number, number]): Triangle | null {
  const d = (m: number, n: number): number =>
    Math.hypot(points[m].x - points[n].x, points[m].y - points[n].y);
  // Side opposite vertex k.
  const sides = [
    { s: d(ids[1], ids[2]), v: ids[0] },
    { s: d(ids[0], ids[2]), v: ids[1] },
    { s: d(ids[0], ids[1]), v: ids[2] },
  ].sort((p, q) => p.s - q.s);
  if (!(sides[0].s > 1)) return null;
  return {
    v: [sides[0].v, sides[1].v, sides[2].v],
    inv: [sides[2].s / sides[1].s, sides[1].s / sides[0].s],
  };
}

/** Least-squares similarity taking `from[i]` to `to[i]`. */
export function fitSimilarity(from: readonly Point[], to: readonly Point[]): Similarity {
  const n = from.length;
  let fx = 0;
  let fy = 0;
  let tx = 0;
  let ty = 0;
  for (let i = 0; i < n; i++) {
    fx += from[i].x / n;
    fy += from[i].y / n;
    tx += to[i].x / n;
    ty += to[i].y / n;
  }
  let sxx = 0;
  let sab = 0;
  let sba = 0;
  for (let i = 0; i < n; i++) {
    const px = from[i].x - fx;
    const py = from[i].y - fy;
    const qx = to[i].x - tx;
    const qy = to[i].y - ty;
    sxx += px * px + py * py;
    sab += px * qx + py * qy;
    sba += px * qy - py * qx;
  }
  const a = sab / sxx;
  const b = sba / sxx;
  return { a, b, tx: tx - (a * fx - b * fy), ty: ty - (b * fx + a * fy) };
}

/** Pairs (i into `from`, j into `to`) of the nearest target within `radius` of each transformed point, each target used once. */
export function matchPoints(
  from: readonly Point[],
  to: readonly Point[],
  s: Similarity,
  radius: number,
): Array<[number, number]> {
  const cell = Math.max(radius, 1);
  const grid = new Map<string, number[]>();
  to.forEach((p, j) => {
    const key = `${Math.floor(p.x / cell)},${Math.floor(p.y / cell)}`;
    const list = grid.get(key);
    if (list) list.push(j);
    else grid.set(key, [j]);
  });
  const candidates: Array<{ i: number; j: number; d: number }> = [];
  from.forEach((p, i) => {
    const q = applySimilarity(s, p);
    const cx = Math.floor(q.x / cell);
    const cy = Math.floor(q.y / cell);
    let best = -1;
    let bestD = radius * radius;
    for (let gy = cy - 1; gy <= cy + 1; gy++)
      for (let gx = cx - 1; gx <= cx + 1; gx++)
        for (const j of grid.get(`${gx},${gy}`) ?? []) {
          const d = (to[j].x - q.x) ** 2 + (to[j].y - q.y) ** 2;
          if (d <= bestD) {
            bestD = d;
            best = j;
          }
        }
    if (best >= 0) candidates.push({ i, j: best, d: bestD });
  });
  // Closest pairs first; a target claimed twice keeps its closest.
  candidates.sort((p, q) => p.d - q.d);
  const used = new Set<number>();
  const pairs: Array<[number, number]> = [];
  for (const c of candidates) {
    if (used.has(c.j)) continue;
    used.add(c.j);
    pairs.push([c.i, c.j]);
  }
  return pairs;
}

/**
 * The similarity taking the `from` pattern onto the `to` pattern (both lists brightest first,
 * a few dozen each), with the number of stars that agree; null when no triangle match gathers
 * config.minInliers agreeing stars.
 */
export function matchPatterns(
  from: readonly Point[],
  to: readonly Point[],
  config: Partial<PatternConfig> = {},
): { transform: Similarity; inliers: number } | null {
  const cfg = { ...DEFAULT_PATTERN_CONFIG, ...config };
  if (from.length < 3 || to.length < 3) return null;
  const tf = triangles(from, cfg.neighbours);
  const tt = triangles(to, cfg.neighbours);
  const proposals: Array<{ f: Triangle; t: Triangle; d: number }> = [];
  for (const f of tf) {
    let best: Triangle | null = null;
    let bestD = cfg.invariantTolerance;
    for (const t of tt) {
      const d = Math.hypot(f.inv[0] - t.inv[0], f.inv[1] - t.inv[1]);
      if (d < bestD) {
        bestD = d;
        best = t;
      }
    }
    if (best) proposals.push({ f, t: best, d: bestD });
  }
  proposals.sort((p, q) => p.d - q.d);
  let winner: { transform: Similarity; inliers: number } | null = null;
  for (const p of proposals) {
    const s = fitSimilarity(
      p.f.v.map((k) => from[k]),
      p.t.v.map((k) => to[k]),
    );
    const scale = Math.hypot(s.a, s.b);
    if (!(scale >= cfg.scaleRange[0] && scale <= cfg.scaleRange[1])) continue;
    const inliers = matchPoints(from, to, s, cfg.inlierRadiusPx).length;
    if (!winner || inliers > winner.inliers) winner = { transform: s, inliers };
  }
  if (!winner || winner.inliers < cfg.minInliers) return null;
  // Refined on every agreeing star, twice (the refined transform may gather a few more).
  let transform = winner.transform;
  let inliers = winner.inliers;
  for (let it = 0; it < 2; it++) {
    const pairs = matchPoints(from, to, transform, cfg.inlierRadiusPx);
    if (pairs.length < 3) break;
    transform = fitSimilarity(
      pairs.map(([i]) => from[i]),
      pairs.map(([, j]) => to[j]),
    );
    inliers = pairs.length;
  }
  return { transform, inliers };
}
