/**
 * Kernel candidates: bright, unsaturated, unmasked stars on a grid of cells, so the
 * kernel fit sees the whole image (as Rubin's ip_diffim selects them per cell).
 */
import type { Exposure } from '../image/exposure.js';
import { MaskPlane, UNUSABLE } from '../image/mask.js';
import { median, madSigma } from '../util/stats.js';

export interface CandidateOptions {
  /** Cells per image side; up to `perCell` candidates are kept in each. */
  grid: number;
  perCell: number;
  /** Minimum signal-to-noise of the star's flux in a box of +-fwhm, in the image to match. */
  minSnr: number;
  /** Half-side of the fitted stamp, pixels. */
  stampHalf: number;
  /**
   * Smallest half-side a star too near the border for `stampHalf` may use, pixels (>= stampHalf: none). Such
   * border stamps are counted apart, up to `perCell` more per cell, so they take no full stamp's place.
   */
  borderStampHalf: number;
  /** Half-side of the kernel, pixels (the convolved image's stamp is larger by this). */
  kernelHalf: number;
  /** Star FWHM (the wider of the two), pixels. */
  fwhm: number;
}

export interface CandidateStamp {
  /** Centre, image pixels. */
  x: number;
  y: number;
  snr: number;
  /** Image to match (the target), (2*stampHalf+1)^2, background not removed. */
  target: Float64Array;
  /** Image to be convolved, (2*(stampHalf+kernelHalf)+1)^2. */
  source: Float64Array;
  /** Inverse variance of target - convolved source, per target pixel. */
  weight: Float64Array;
}

const AVOID = UNUSABLE | MaskPlane.SUSPECT | MaskPlane.INTRP;

function boxClean(e: Exposure, x: number, y: number, half: number): boolean {
  if (x - half < 0 || y - half < 0 || x + half >= e.width || y + half >= e.height) return false;
  for (let v = y - half; v <= y + half; v++) {
    const m = e.mask.row(v);
    const im = e.image.row(v);
    for (let u = x - half; u <= x + half; u++)
      if (m[u] & AVOID || !Number.isFinite(im[u])) return false;
  }
  return true;
}

function stamp(e: Exposure, x: number, y: number, half: number): Float64Array {
  const side = 2 * half + 1;
  const out = new Float64Array(side * side);
  for (let v = 0; v < side; v++) {
    const row = e.image.row(y - half + v);
    for (let u = 0; u < side; u++) out[v * side + u] = row[x - half + u];
  }
  return out;
}

/** A star found in a cell: a local maximum of the target, its flux SNR in a box of +-r. */
interface Peak {
  x: number;
  y: number;
  snr: number;
}

/**
 * Local maxima of the target in the cell [x0, x1) x [y0, y1) (at least `reach` from the image's edges) more than
 * 5 noise above the sky whose flux within +-r reaches `minSnr`, row by row. Its own function, read on the plane's
 * array: the scan of every pixel is the bulk of the selection.
 */
function cellPeaks(
  target: Exposure,
  cell: { x0: number; x1: number; y0: number; y1: number },
  reach: number,
  sky: number,
  noise: number,
  r: number,
  minSnr: number,
): Peak[] {
  const { width, height } = target;
  const { data: image, offset, stride } = target.image;
  const { data: variances, offset: vOffset, stride: vStride } = target.variance;
  const level = 5 * noise;
  const xStart = Math.max(cell.x0, reach);
  const xEnd = Math.min(cell.x1, width - reach);
  const found: Peak[] = [];
  for (let y = Math.max(cell.y0, reach); y < Math.min(cell.y1, height - reach); y++) {
    const row = offset + y * stride;
    for (let x = xStart; x < xEnd; x++) {
      const i = row + x;
      const v = image[i];
      if (!(v - sky > level)) continue;
      if (!(
        v > image[i - 1] &&
        v >= image[i + 1] &&
        v > image[i - stride] &&
        v >= image[i + stride]
      ))
        continue;
      let flux = 0,
        variance = 0;
      for (let dv = -r; dv <= r; dv++) {
        const b = offset + (y + dv) * stride + x;
        const vb = vOffset + (y + dv) * vStride + x;
        for (let du = -r; du <= r; du++) {
          flux += image[b + du] - sky;
          variance += variances[vb + du];
        }
      }
      const snr = flux / Math.sqrt(Math.max(variance, 1e-30));
      if (snr >= minSnr) found.push({ x, y, snr });
    }
  }
  return found;
}

/**
 * Candidates for matching `source` (to be convolved) to `target`. Peaks are found in
 * the target; each must be clean in both images.
 */
export function selectCandidates(
  target: Exposure,
  source: Exposure,
  opt: CandidateOptions,
): CandidateStamp[] {
  const { width, height } = target;
  const bigHalf = opt.stampHalf + opt.kernelHalf;
  const reach = Math.min(opt.stampHalf, opt.borderStampHalf) + opt.kernelHalf;
  const r = Math.max(1, Math.ceil(opt.fwhm));
  const out: CandidateStamp[] = [];
  for (let gy = 0; gy < opt.grid; gy++) {
    for (let gx = 0; gx < opt.grid; gx++) {
      const x0 = Math.floor((gx * width) / opt.grid),
        x1 = Math.floor(((gx + 1) * width) / opt.grid);
      const y0 = Math.floor((gy * height) / opt.grid),
        y1 = Math.floor(((gy + 1) * height) / opt.grid);
      const sample: number[] = [];
      const step = Math.max(1, Math.floor(Math.sqrt(((x1 - x0) * (y1 - y0)) / 4000)));
      for (let y = y0; y < y1; y += step) {
        const row = target.image.row(y);
        for (let x = x0; x < x1; x += step) if (Number.isFinite(row[x])) sample.push(row[x]);
      }
      if (sample.length < 10) continue;
      const sky = median(sample);
      const noise = madSigma(sample, sky);
      const found = cellPeaks(target, { x0, x1, y0, y1 }, reach, sky, noise, r, opt.minSnr);
      found.sort((a, b) => b.snr - a.snr);
      let kept = 0,
        keptBorder = 0;
      for (const c of found) {
        if (kept >= opt.perCell && keptBorder >= opt.perCell) break;
        if (
          out.some(
            (o) => Math.abs(o.x - c.x) <= opt.stampHalf && Math.abs(o.y - c.y) <= opt.stampHalf,
          )
        )
          continue;
        const edge = Math.min(c.x, c.y, width - 1 - c.x, height - 1 - c.y);
        const half = edge >= bigHalf ? opt.stampHalf : edge - opt.kernelHalf;
        if ((half === opt.stampHalf ? kept : keptBorder) >= opt.perCell) continue;
        const bordered = half + opt.kernelHalf;
        if (!boxClean(target, c.x, c.y, half) || !boxClean(source, c.x, c.y, bordered)) continue;
        const side = 2 * half + 1;
        const weight = new Float64Array(side * side);
        for (let v = 0; v < side; v++) {
          for (let u = 0; u < side; u++) {
            const px = c.x - half + u,
              py = c.y - half + v;
            const variance = target.variance.get(px, py) + source.variance.get(px, py);
            weight[v * side + u] = variance > 0 ? 1 / variance : 0;
          }
        }
        out.push({
          ...c,
          target: stamp(target, c.x, c.y, half),
          source: stamp(source, c.x, c.y, bordered),
          weight,
        });
        if (half === opt.stampHalf) kept++;
        else keptBorder++;
      }
    }
  }
  return out;
}
