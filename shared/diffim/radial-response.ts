/**
 * A vignetted field of view as a radial response (illumination.ts): optics dim a frame by a
 * function of the distance from the optical axis, so its sky is R(r) P(x, y), P the clear-field
 * sky plane. Fitted on the whole frame, R(r) is read from thousands of pixels per 1 px ring (a
 * median good to ~0.1 % of the sky, unmoved by stars), where a sky mesh of 16 px cells follows a
 * fall-off edge only to a few per cent and is pulled up by the wings of bright stars (which left
 * ~100 false detections per 1024^2 pair). The axis is searched near the frame centre; the model is
 * kept only when it fits the fine sky to radialTolerance and the frame is dimmed below lowResponse
 * somewhere, else the caller falls back to the mesh.
 */
import type { ImageF, MaskI } from '../image/plane.js';
import { Plane } from '../image/plane.js';
import { UNUSABLE } from '../image/mask.js';
import { median } from '../util/stats.js';

export interface RadialSky {
  /** Optical axis, px. */
  cx: number;
  cy: number;
  /** The sky over the plane at 1 px rings from the axis (the response times the clear level). */
  profile: Float32Array;
  /** The profile's clear level (median over its rings above 1 - (1 - lowResponse) / 4 of the plane): the response is profile / level, capped at 1. */
  level: number;
  /** rms of fine sky / model - 1 over the dimmed samples. */
  rms: number;
}

/** Sky samples every SAMPLE px for the axis search and the check. */
const SAMPLE = 8;
/** Search of the axis: within this fraction of the frame's size of its centre, first every COARSE px, then every px around the best. */
const AXIS_REACH = 0.1;
const COARSE = 4;

/** Ring index of (x, y) about (cx, cy), clamped to the profile. */
function ring(x: number, y: number, cx: number, cy: number, n: number): number {
  return Math.min(n - 1, Math.round(Math.hypot(x - cx, y - cy)));
}

/** Scatter of the samples about their ring means (rings of SAMPLE px), for the axis search. */
function ringScatter(
  q: Float64Array,
  xs: Float64Array,
  ys: Float64Array,
  cx: number,
  cy: number,
  rings: number,
): number {
  const sum = new Float64Array(rings);
  const sum2 = new Float64Array(rings);
  const n = new Float64Array(rings);
  for (let k = 0; k < q.length; k++) {
    const r = Math.min(rings - 1, Math.floor(Math.hypot(xs[k] - cx, ys[k] - cy) / SAMPLE));
    sum[r] += q[k];
    sum2[r] += q[k] * q[k];
    n[r]++;
  }
  let s = 0;
  for (let r = 0; r < rings; r++) if (n[r] > 0) s += sum2[r] - (sum[r] * sum[r]) / n[r];
  return s;
}

/**
 * Fits R(r) (see the module comment) to `sky` (the raw sky: image plus its subtracted background)
 * over `plane` (the clear-field sky plane a + b x + c y), with `fine` (a fine-mesh sky map) for the
 * axis search and the check; null when it does not hold.
 */
export function fitRadialSky(
  sky: ImageF,
  mask: MaskI,
  fine: ImageF,
  plane: readonly [number, number, number],
  lowResponse: number,
  tolerance: number,
): RadialSky | null {
  const { width: w, height: h } = sky;
  const [a, b, c] = plane;
  const at = (x: number, y: number): number => a + b * x + c * y;
  const xs: number[] = [];
  const ys: number[] = [];
  const qs: number[] = [];
  for (let y = SAMPLE / 2; y < h; y += SAMPLE)
    for (let x = SAMPLE / 2; x < w; x += SAMPLE) {
      const q = fine.get(x, y) / at(x, y);
      if (Number.isFinite(q)) {
        xs.push(x);
        ys.push(y);
        qs.push(q);
      }
    }
  if (qs.length < 100 || !qs.some((q) => q < lowResponse)) return null;
  const X = Float64Array.from(xs);
  const Y = Float64Array.from(ys);
  const Q = Float64Array.from(qs);
  const rings = Math.ceil(Math.hypot(w, h) / SAMPLE) + 1;
  let best = { cx: (w - 1) / 2, cy: (h - 1) / 2, s: Infinity };
  const search = (x0: number, y0: number, reach: number, step: number): void => {
    for (let dy = -reach; dy <= reach; dy += step)
      for (let dx = -reach; dx <= reach; dx += step) {
        const s = ringScatter(Q, X, Y, x0 + dx, y0 + dy, rings);
        if (s < best.s) best = { cx: x0 + dx, cy: y0 + dy, s };
      }
  };
  const reach = Math.round(AXIS_REACH * Math.max(w, h));
  search((w - 1) / 2, (h - 1) / 2, reach - (reach % COARSE), COARSE);
  search(best.cx, best.cy, COARSE, 1);
  const { cx, cy } = best;
  // The profile: a median of sky / plane over every usable pixel of each 1 px ring.
  const n = Math.ceil(Math.hypot(Math.max(cx, w - cx), Math.max(cy, h - cy))) + 2;
  const counts = new Int32Array(n);
  const stride = Math.max(1, Math.floor(Math.sqrt((w * h) / 4e6)));
  for (let y = 0; y < h; y += stride) {
    const m = mask.row(y);
    for (let x = 0; x < w; x += stride) if (!(m[x] & UNUSABLE)) counts[ring(x, y, cx, cy, n)]++;
  }
  const start = new Int32Array(n + 1);
  for (let r = 0; r < n; r++) start[r + 1] = start[r] + counts[r];
  const values = new Float32Array(start[n]);
  const fill = start.slice(0, n);
  for (let y = 0; y < h; y += stride) {
    const s = sky.row(y);
    const m = mask.row(y);
    for (let x = 0; x < w; x += stride)
      if (!(m[x] & UNUSABLE)) values[fill[ring(x, y, cx, cy, n)]++] = s[x] / at(x, y);
  }
  const profile = new Float32Array(n).fill(Number.NaN);
  for (let r = 0; r < n; r++)
    if (counts[r] >= 8) profile[r] = median(Array.from(values.subarray(start[r], start[r + 1])));
  // Rings without pixels take the nearest ring's value.
  for (let r = 1; r < n; r++) if (Number.isNaN(profile[r])) profile[r] = profile[r - 1];
  for (let r = n - 2; r >= 0; r--) if (Number.isNaN(profile[r])) profile[r] = profile[r + 1];
  if (!profile.every(Number.isFinite)) return null;
  // The plane (fitted to clipped cell medians) is not quite the ring medians' level: the clear rings set it.
  const clear = 1 - (1 - lowResponse) / 4;
  const level = median(Array.from(profile).filter((v) => v >= clear));
  if (!(level > 0)) return null;
  // The check: the fine sky over the model, where the model is dimmed.
  let s2 = 0;
  let k2 = 0;
  for (let k = 0; k < Q.length; k++) {
    const model = profile[ring(X[k], Y[k], cx, cy, n)];
    if (model >= clear * level) continue;
    s2 += (Q[k] / model - 1) ** 2;
    k2++;
  }
  const rms = k2 > 0 ? Math.sqrt(s2 / k2) : 0;
  return rms <= tolerance ? { cx, cy, profile, level, rms } : null;
}

/** The model's response R(r) (capped at 1) and sky (its profile times P(x, y)) on the frame's grid. */
export function radialMaps(
  model: RadialSky,
  width: number,
  height: number,
  plane: readonly [number, number, number],
): { response: ImageF; sky: ImageF } {
  const response = Plane.zeros(Float32Array, width, height);
  const sky = Plane.zeros(Float32Array, width, height);
  const n = model.profile.length;
  for (let y = 0; y < height; y++) {
    const ro = response.row(y);
    const so = sky.row(y);
    for (let x = 0; x < width; x++) {
      // Linear between rings.
      const r = Math.min(n - 1.000001, Math.hypot(x - model.cx, y - model.cy));
      const i = Math.floor(r);
      const f = r - i;
      const v = (1 - f) * model.profile[i] + f * model.profile[Math.min(n - 1, i + 1)];
      ro[x] = Math.min(1, v / model.level);
      so[x] = v * (plane[0] + plane[1] * x + plane[2] * y);
    }
  }
  return { response, sky };
}
