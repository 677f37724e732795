/**
 * A TAN-SIP WCS fitted to stars' pixel and sky positions (weighted least squares, as astrometry.net's
 * and Rubin's FitSipDistortionTask do): the sky is projected on the tangent plane at the reference
 * pixel's position, each plane coordinate is a polynomial of the pixel offset from CRPIX up to the
 * order, the linear part is the CD matrix and the rest, brought back to pixels through CD^-1, the
 * SIP A/B terms (Shupe et al. 2005). The tangent point is moved to the fit's constant term and the
 * fit repeated, so the final constant is zero.
 */
import { makeSipWcs, makeTanWcs, type Wcs } from '../wcs/index.js';
import { invert2, type Matrix2 } from '../wcs/matrix.js';
import { TangentPlane } from '../wcs/sphere.js';
import { solveSymmetric } from '../util/linalg.js';

export interface StarPair {
  /** Science pixel, 0-based. */
  x: number;
  y: number;
  /** Sky, degrees. */
  ra: number;
  dec: number;
  /** Least-squares weight, 1 / (position error in pixels)^2. */
  weight: number;
}

export interface WcsFit {
  wcs: Wcs;
  order: number;
  /** Weighted rms of the residuals, pixels. */
  rmsPx: number;
  /** Residual of each pair, pixels (plane residual over the pixel scale). */
  residualsPx: Float64Array;
  /** Weighted sum of squared residuals, pixels^2 x weight. */
  chi2: number;
  /** Free parameters (both axes). */
  parameters: number;
}

export function exponents(order: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let n = 0; n <= order; n++) for (let q = 0; q <= n; q++) out.push([n - q, q]);
  return out;
}

/** Weighted least squares of xi and eta on the monomials of (u, v) / scale. */
export function solvePlane(
  u: Float64Array,
  v: Float64Array,
  xi: Float64Array,
  eta: Float64Array,
  w: Float64Array,
  terms: Array<[number, number]>,
  scale: number,
) {
  const k = terms.length;
  const ata = new Float64Array(k * k);
  const bx = new Float64Array(k);
  const by = new Float64Array(k);
  const row = new Float64Array(k);
  for (let i = 0; i < u.length; i++) {
    const un = u[i] / scale;
    const vn = v[i] / scale;
    for (let t = 0; t < k; t++) row[t] = un ** terms[t][0] * vn ** terms[t][1];
    for (let a = 0; a < k; a++) {
      bx[a] += w[i] * row[a] * xi[i];
      by[a] += w[i] * row[a] * eta[i];
      for (let b = 0; b < k; b++) ata[a * k + b] += w[i] * row[a] * row[b];
    }
  }
  return { cx: solveSymmetric(ata, bx), cy: solveSymmetric(ata.slice(), by) };
}

export function evaluate(
  c: Float64Array,
  terms: Array<[number, number]>,
  un: number,
  vn: number,
): number {
  let s = 0;
  for (let t = 0; t < terms.length; t++) s += c[t] * un ** terms[t][0] * vn ** terms[t][1];
  return s;
}

/**
 * Fits a TAN (order 1) or TAN-SIP (order 2-3) WCS to `pairs` with CRPIX `crpix`, starting the
 * tangent point at `crval0` (e.g. the header's sky position of CRPIX). `scale` normalises pixel
 * offsets for conditioning (e.g. half the image size).
 */
export function fitTanSip(
  pairs: readonly StarPair[],
  crpix: [number, number],
  crval0: [number, number],
  order: number,
  scale: number,
): WcsFit {
  const n = pairs.length;
  const terms = exponents(order);
  const u = Float64Array.from(pairs, (p) => p.x - crpix[0]);
  const v = Float64Array.from(pairs, (p) => p.y - crpix[1]);
  const w = Float64Array.from(pairs, (p) => p.weight);
  const xi = new Float64Array(n);
  const eta = new Float64Array(n);
  const out = new Float64Array(2);
  let crval: [number, number] = crval0;
  let sol: { cx: Float64Array; cy: Float64Array } = {
    cx: new Float64Array(terms.length),
    cy: new Float64Array(terms.length),
  };
  for (let it = 0; it < 3; it++) {
    const plane = new TangentPlane(crval[0], crval[1]);
    for (let i = 0; i < n; i++) {
      plane.toPlane(pairs[i].ra, pairs[i].dec, out);
      xi[i] = out[0];
      eta[i] = out[1];
    }
    sol = solvePlane(u, v, xi, eta, w, terms, scale);
    if (it < 2) {
      plane.toSky(sol.cx[0], sol.cy[0], out);
      crval = [out[0], out[1]];
    }
  }
  const { cx, cy } = sol;
  const at = (p: number, q: number): number => terms.findIndex(([a, b]) => a === p && b === q);
  const cd: Matrix2 = [
    [cx[at(1, 0)] / scale, cx[at(0, 1)] / scale],
    [cy[at(1, 0)] / scale, cy[at(0, 1)] / scale],
  ];
  const inv = invert2(cd, 'fitted CD matrix');
  const pixelScale = Math.sqrt(Math.abs(cd[0][0] * cd[1][1] - cd[0][1] * cd[1][0]));
  // Residuals (plane degrees -> pixels) of the final fit.
  const residualsPx = new Float64Array(n);
  let chi2 = 0;
  let wsum = 0;
  for (let i = 0; i < n; i++) {
    const un = u[i] / scale;
    const vn = v[i] / scale;
    const r =
      Math.hypot(xi[i] - evaluate(cx, terms, un, vn), eta[i] - evaluate(cy, terms, un, vn)) /
      pixelScale;
    residualsPx[i] = r;
    chi2 += w[i] * r * r;
    wsum += w[i];
  }
  const base = { crpix, crval, cd };
  let wcs: Wcs;
  if (order <= 1) wcs = makeTanWcs(base);
  else {
    const a: Record<string, number> = {};
    const b: Record<string, number> = {};
    terms.forEach(([p, q], t) => {
      if (p + q < 2) return;
      const norm = scale ** (p + q);
      a[`${p}_${q}`] = (inv[0][0] * cx[t] + inv[0][1] * cy[t]) / norm;
      b[`${p}_${q}`] = (inv[1][0] * cx[t] + inv[1][1] * cy[t]) / norm;
    });
    wcs = makeSipWcs({ ...base, a, b, order });
  }
  return {
    wcs,
    order,
    rmsPx: Math.sqrt(chi2 / Math.max(wsum, 1e-300)),
    residualsPx,
    chi2,
    parameters: 2 * terms.length,
  };
}
