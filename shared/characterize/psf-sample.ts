/**
 * The PSF star sample: at most `max` of the selected stars, spread evenly over the detector and
 * over the stars' brightness. A crowded or deep image offers thousands of stars; the fit's cost
 * grows with their number while a degree-2 model is settled by a few hundred (Rubin's PSF
 * determiners down-sample to maxCandidates = 300: meas_algorithms BasePsfDeterminerConfig).
 * Deterministic: the detector is cut into SAMPLE_GRID x SAMPLE_GRID cells, each cell's quota is
 * an even share of `max` (cells with fewer stars give their unused share to the others), and a
 * cell keeps the stars at evenly spaced ranks of its significance order, so the sample has the
 * brightness distribution of all stars (faint stars stay in chi2PerDof's SNR < 200 figure).
 * @example const sample = samplePsfStars(selection.stars, 300, width, height);
 */

/** Cells per side of the spatial stratification. */
const SAMPLE_GRID = 8;
/** A stride coprime with the cell count: j -> j * SCATTER mod 64 visits every cell, far apart in turn. */
const SCATTER = 37;

/** At most `max` of `stars` (all of them when there are no more; 0 = no cap), evenly over position and significance. */
export function samplePsfStars<T extends { x: number; y: number; significance: number }>(
  stars: T[],
  max: number,
  width: number,
  height: number,
): T[] {
  if (!(max > 0) || stars.length <= max) return stars;
  const cells: T[][] = Array.from({ length: SAMPLE_GRID * SAMPLE_GRID }, () => []);
  const cellOf = (v: number, extent: number): number =>
    Math.min(SAMPLE_GRID - 1, Math.max(0, Math.floor((v / extent) * SAMPLE_GRID)));
  for (const s of stars) cells[cellOf(s.y, height) * SAMPLE_GRID + cellOf(s.x, width)].push(s);
  // Water-filling: every cell gets the same quota, capped at its stars, until `max` is shared out.
  const quota = new Array<number>(cells.length).fill(0);
  let left = max;
  let open = cells.filter((c) => c.length > 0).length;
  while (left > 0 && open > 0) {
    const share = Math.max(1, Math.floor(left / open));
    open = 0;
    for (let j = 0; j < cells.length && left > 0; j++) {
      // Cells in a scattered order, so that a last round's remainder is spread over the detector.
      const k = (j * SCATTER) % cells.length;
      const take = Math.min(share, cells[k].length - quota[k], left);
      quota[k] += take;
      left -= take;
      if (quota[k] < cells[k].length) open++;
    }
  }
  const out: T[] = [];
  cells.forEach((cell, k) => {
    if (quota[k] === 0) return;
    const ranked = [...cell].sort((a, b) => b.significance - a.significance);
    const step = ranked.length / quota[k];
    for (let i = 0; i < quota[k]; i++) out.push(ranked[Math.floor((i + 0.5) * step)]);
  });
  return out;
}
