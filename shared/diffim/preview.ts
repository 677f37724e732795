/**
 * Side-by-side previews of images as PNG (pngjs): each panel scaled by IRAF's zscale
 * (a line fitted to the sorted pixel sample, contrast 0.25) and then an asinh stretch.
 */
import { PNG } from 'pngjs';
import type { ImageF } from '../image/plane.js';

/** zscale display limits [z1, z2] of a plane (IRAF display task algorithm, simplified). */
export function zscale(plane: ImageF, contrast = 0.25, samples = 20000): [number, number] {
  const step = Math.max(1, Math.floor(Math.sqrt((plane.width * plane.height) / samples)));
  const vals: number[] = [];
  for (let y = 0; y < plane.height; y += step) {
    const row = plane.row(y);
    for (let x = 0; x < plane.width; x += step) if (Number.isFinite(row[x])) vals.push(row[x]);
  }
  const sorted = Float64Array.from(vals).sort();
  const n = sorted.length;
  if (n < 3) return [0, 1];
  const mid = sorted[Math.floor(n / 2)];
  // Fit value = a + b * index with 2.5-sigma rejection.
  let keep = new Uint8Array(n).fill(1);
  let b = 0;
  for (let it = 0; it < 5; it++) {
    let s = 0,
      sx = 0,
      sy = 0,
      sxx = 0,
      sxy = 0;
    for (let i = 0; i < n; i++) {
      if (!keep[i]) continue;
      s++;
      sx += i;
      sy += sorted[i];
      sxx += i * i;
      sxy += i * sorted[i];
    }
    b = (s * sxy - sx * sy) / (s * sxx - sx * sx);
    const a = (sy - b * sx) / s;
    let ss = 0;
    for (let i = 0; i < n; i++) if (keep[i]) ss += (sorted[i] - a - b * i) ** 2;
    const sigma = Math.sqrt(ss / s);
    const next = new Uint8Array(n);
    for (let i = 0; i < n; i++) next[i] = Math.abs(sorted[i] - a - b * i) <= 2.5 * sigma ? 1 : 0;
    keep = next;
  }
  const slope = b / contrast;
  return [
    Math.max(sorted[0], mid - (n / 2) * slope),
    Math.min(sorted[n - 1], mid + (n / 2) * slope),
  ];
}

/** Panels left to right, `gap` pixels apart, as PNG bytes (grey, y up as in FITS). */
export function previewPng(panels: ImageF[], gap = 8, softening = 3): Buffer {
  const height = Math.max(...panels.map((p) => p.height));
  const width = panels.reduce((s, p) => s + p.width, 0) + gap * (panels.length - 1);
  const png = new PNG({ width, height });
  png.data.fill(255);
  let x0 = 0;
  for (const p of panels) {
    const [z1, z2] = zscale(p);
    const norm = Math.asinh(softening);
    for (let y = 0; y < p.height; y++) {
      const row = p.row(y);
      const py = height - 1 - y;
      for (let x = 0; x < p.width; x++) {
        const t = Math.min(1, Math.max(0, (row[x] - z1) / (z2 - z1 || 1)));
        const g = Math.round((255 * Math.asinh(softening * t)) / norm);
        const o = 4 * (py * width + x0 + x);
        png.data[o] = png.data[o + 1] = png.data[o + 2] = Number.isFinite(row[x]) ? g : 0;
        png.data[o + 3] = 255;
      }
    }
    x0 += p.width + gap;
  }
  return PNG.sync.write(png);
}
