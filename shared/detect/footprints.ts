/**
 * Footprints and peaks on a significance image, as Rubin's SourceDetectionTask makes them
 * (Bosch et al. 2018, PASJ 70, S5, sec. 4.7): connected pixels above threshold, grown
 * isotropically by a PSF-scaled radius, merged where the grown regions touch; peaks are
 * local maxima above threshold.
 */

export interface Peak {
  /** Pixel of the maximum, 0-based. */
  x: number;
  y: number;
  /** Signed significance at the peak, sigma. */
  significance: number;
}

export interface Footprint {
  /** +1 for a positive detection, -1 for a negative one. */
  sign: 1 | -1;
  /** Flat pixel indices (y * width + x), ascending. */
  pixels: Int32Array;
  /** Bounding box, inclusive pixel limits. */
  xMin: number;
  xMax: number;
  yMin: number;
  yMax: number;
  /** Peaks, brightest |significance| first. */
  peaks: Peak[];
}

/**
 * Footprints of pixels with sign * significance >= threshold, each grown by `growRadius`
 * px (a disc); peaks closer than `minPeakSeparation` px to a brighter one are dropped.
 * `labels` (length width*height) receives 1-based footprint numbers (offset by `labelBase`).
 */
export function findFootprints(
  significance: Float32Array,
  width: number,
  height: number,
  threshold: number,
  sign: 1 | -1,
  growRadius: number,
  minPeakSeparation: number,
  labels: Int32Array,
  labelBase = 0,
): Footprint[] {
  const grown = new Uint8Array(width * height);
  const g = Math.max(0, Math.round(growRadius));
  const spans: number[] = [];
  for (let dy = -g; dy <= g; dy++)
    spans.push(Math.floor(Math.sqrt(growRadius * growRadius - dy * dy + 1e-9)));
  // Each run of pixels at the threshold along a row grows as one: the union of its pixels' discs.
  for (let y = 0; y < height; y++) {
    const base = y * width;
    for (let x = 0; x < width; x++) {
      if (sign * significance[base + x] < threshold) continue;
      const first = x;
      while (x + 1 < width && !(sign * significance[base + x + 1] < threshold)) x++;
      for (let dy = -g; dy <= g; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= height) continue;
        const half = spans[dy + g];
        grown.fill(
          1,
          yy * width + Math.max(0, first - half),
          yy * width + Math.min(width - 1, x + half) + 1,
        );
      }
    }
  }
  const footprints: Footprint[] = [];
  const stack: number[] = [];
  const last = grown.length - width;
  for (let start = grown.indexOf(1); start >= 0; start = grown.indexOf(1, start + 1)) {
    const label = labelBase + footprints.length + 1;
    const pixels: number[] = [];
    grown[start] = 2;
    stack.push(start);
    while (stack.length > 0) {
      const p = stack.pop() as number;
      pixels.push(p);
      labels[p] = label;
      const x = p % width;
      // The 4-connected neighbours not yet taken: 1 marks a grown pixel, 2 one already taken.
      if (x > 0 && grown[p - 1] === 1) {
        grown[p - 1] = 2;
        stack.push(p - 1);
      }
      if (x < width - 1 && grown[p + 1] === 1) {
        grown[p + 1] = 2;
        stack.push(p + 1);
      }
      if (p >= width && grown[p - width] === 1) {
        grown[p - width] = 2;
        stack.push(p - width);
      }
      if (p < last && grown[p + width] === 1) {
        grown[p + width] = 2;
        stack.push(p + width);
      }
    }
    const sorted = Int32Array.from(pixels).sort();
    footprints.push(
      describe(sorted, significance, width, height, threshold, sign, minPeakSeparation),
    );
  }
  return footprints;
}

function describe(
  pixels: Int32Array,
  significance: Float32Array,
  width: number,
  height: number,
  threshold: number,
  sign: 1 | -1,
  minPeakSeparation: number,
): Footprint {
  let xMin = width;
  let xMax = -1;
  const candidates: Peak[] = [];
  for (const p of pixels) {
    const x = p % width;
    const y = (p - x) / width;
    if (x < xMin) xMin = x;
    if (x > xMax) xMax = x;
    const s = sign * significance[p];
    if (s < threshold || !isLocalMax(significance, width, height, x, y, sign, s)) continue;
    candidates.push({ x, y, significance: significance[p] });
  }
  candidates.sort((a, b) => Math.abs(b.significance) - Math.abs(a.significance));
  const peaks: Peak[] = [];
  const minSep2 = minPeakSeparation * minPeakSeparation;
  for (const c of candidates) {
    if (peaks.every((p) => (p.x - c.x) ** 2 + (p.y - c.y) ** 2 >= minSep2)) peaks.push(c);
  }
  const yMin = Math.floor(pixels[0] / width);
  const yMax = Math.floor(pixels[pixels.length - 1] / width);
  return { sign, pixels, xMin, xMax, yMin, yMax, peaks };
}

/** A maximum of sign*significance over its 8 neighbours (ties broken towards the lower index). */
function isLocalMax(
  significance: Float32Array,
  width: number,
  height: number,
  x: number,
  y: number,
  sign: number,
  s: number,
): boolean {
  for (let dy = -1; dy <= 1; dy++) {
    const yy = y + dy;
    if (yy < 0 || yy >= height) continue;
    for (let dx = -1; dx <= 1; dx++) {
      const xx = x + dx;
      if ((dx === 0 && dy === 0) || xx < 0 || xx >= width) continue;
      const n = sign * significance[yy * width + xx];
      if (n > s || (n === s && (dy < 0 || (dy === 0 && dx < 0)))) return false;
    }
  }
  return true;
}
