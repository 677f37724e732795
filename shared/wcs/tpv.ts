import { TangentWcs, type TanWcsParams } from './tangent-wcs.js';

/** A TPV WCS: the TAN parameters plus PV1_k and PV2_k, k = 0..39 (missing entries are 0, except PVi_1 = 1). */
export interface TpvWcsParams extends TanWcsParams {
  /** PV1_k by index k (the xi polynomial). */
  pv1: ReadonlyArray<number | undefined>;
  /** PV2_k by index k (the eta polynomial). */
  pv2: ReadonlyArray<number | undefined>;
}

/** Number of TPV terms: total degree up to 7 plus the odd powers of r. */
export const TPV_TERMS = 40;

/**
 * Exponents [of x, of y, of r] of TPV term k, in the IRAF/SCAMP order: by degree d, the terms
 * x^d, x^(d-1) y, ..., y^d, then r^d when d is odd (so 3 = r, 11 = r^3, 23 = r^5, 39 = r^7).
 */
export const TPV_EXPONENTS: ReadonlyArray<readonly [number, number, number]> = (() => {
  const out: Array<[number, number, number]> = [[0, 0, 0]];
  for (let d = 1; d <= 7; d++) {
    for (let i = d; i >= 0; i--) out.push([i, d - i, 0]);
    if (d % 2 === 1) out.push([0, 0, d]);
  }
  return out;
})();

const MAX_NEWTON_STEPS = 50;
const NEWTON_RELATIVE_STEP = 1e-13;

interface Term {
  a: number;
  b: number;
  r: number;
  c: number;
}

/**
 * TAN with the TPV polynomial distortion (the IRAF/SCAMP convention registered with the FITS
 * WCS, https://fits.gsfc.nasa.gov/registry/tpvwcs/tpv.html): with (x, y) = CD (pixel - CRPIX) in
 * degrees, xi = sum_k PV1_k t_k(x, y), eta = sum_k PV2_k t_k(y, x). Sky -> pixel inverts the
 * polynomial by Newton's method.
 */
export class TpvWcs extends TangentWcs {
  readonly kind = 'TPV' as const;
  protected readonly ctypeSuffix = 'TPV';
  readonly pv1: readonly number[];
  readonly pv2: readonly number[];
  private readonly xiTerms: Term[];
  private readonly etaTerms: Term[];
  private readonly xiEval = new Float64Array(3);
  private readonly etaEval = new Float64Array(3);

  constructor(params: TpvWcsParams) {
    super(params);
    this.pv1 = fillPv(params.pv1, 'PV1');
    this.pv2 = fillPv(params.pv2, 'PV2');
    this.xiTerms = termsOf(this.pv1);
    this.etaTerms = termsOf(this.pv2);
  }

  protected toIntermediate(u: number, v: number, out: Float64Array): void {
    const cd = this.cd;
    const x = cd[0][0] * u + cd[0][1] * v;
    const y = cd[1][0] * u + cd[1][1] * v;
    // PV2 uses the same term list with x and y swapped.
    out[0] = evaluateTpv(this.xiTerms, x, y, null);
    out[1] = evaluateTpv(this.etaTerms, y, x, null);
  }

  protected fromIntermediate(xi: number, eta: number, out: Float64Array): void {
    if (!Number.isFinite(xi) || !Number.isFinite(eta)) {
      out[0] = Number.NaN;
      out[1] = Number.NaN;
      return;
    }
    const { xiEval, etaEval } = this;
    let x = xi;
    let y = eta;
    for (let step = 0; step < MAX_NEWTON_STEPS; step++) {
      const f = evaluateTpv(this.xiTerms, x, y, xiEval) - xi;
      const g = evaluateTpv(this.etaTerms, y, x, etaEval) - eta;
      // xiEval holds d/dx, d/dy; etaEval was evaluated with swapped arguments: [d/dy, d/dx].
      const j00 = xiEval[1];
      const j01 = xiEval[2];
      const j10 = etaEval[2];
      const j11 = etaEval[1];
      const det = j00 * j11 - j01 * j10;
      const sx = (j11 * f - j01 * g) / det;
      const sy = (j00 * g - j10 * f) / det;
      x -= sx;
      y -= sy;
      if (
        !(Math.abs(sx) + Math.abs(sy) >= NEWTON_RELATIVE_STEP * (Math.abs(x) + Math.abs(y) + 1e-10))
      )
        break;
    }
    this.linearInverse(x, y, out);
  }

  protected distortionCards(): Array<[string, string | number]> {
    const cards: Array<[string, string | number]> = [];
    for (const [axis, pv] of [
      [1, this.pv1],
      [2, this.pv2],
    ] as const) {
      pv.forEach((c, k) => {
        if (c !== 0 || k === 1) cards.push([`PV${axis}_${k}`, c]);
      });
    }
    return cards;
  }
}

function fillPv(pv: ReadonlyArray<number | undefined>, name: string): number[] {
  if (pv.length > TPV_TERMS)
    throw new Error(`${name} has ${pv.length} terms; TPV defines ${TPV_TERMS}`);
  return Array.from({ length: TPV_TERMS }, (_, k) => {
    const c = pv[k] ?? (k === 1 ? 1 : 0);
    if (!Number.isFinite(c)) throw new Error(`${name}_${k} is not finite`);
    return c;
  });
}

function termsOf(pv: readonly number[]): Term[] {
  return pv.flatMap((c, k) =>
    c === 0 ? [] : [{ a: TPV_EXPONENTS[k][0], b: TPV_EXPONENTS[k][1], r: TPV_EXPONENTS[k][2], c }],
  );
}

/** sum c x^a y^b r^r; with `grad`, also writes [value, d/dx, d/dy] (d r/dx = x / r, 0 at r = 0). */
function evaluateTpv(
  terms: readonly Term[],
  x: number,
  y: number,
  grad: Float64Array | null,
): number {
  const r = Math.sqrt(x * x + y * y);
  let f = 0;
  let fx = 0;
  let fy = 0;
  for (const { a, b, r: k, c } of terms) {
    if (k > 0) {
      const rk = r ** k;
      f += c * rk;
      if (grad && r > 0) {
        const d = c * k * r ** (k - 2);
        fx += d * x;
        fy += d * y;
      }
      continue;
    }
    const xa = x ** a;
    const yb = y ** b;
    f += c * xa * yb;
    if (grad) {
      if (a > 0) fx += c * a * x ** (a - 1) * yb;
      if (b > 0) fy += c * b * xa * y ** (b - 1);
    }
  }
  if (grad) {
    grad[0] = f;
    grad[1] = fx;
    grad[2] = fy;
  }
  return f;
}
