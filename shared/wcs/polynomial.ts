/**
 * A 2-D polynomial sum_c c * u^p * v^q, stored as its non-zero terms, evaluated with its gradient.
 */
export interface PolyTerm {
  p: number;
  q: number;
  c: number;
}

/**
 * Coefficients of a SIP polynomial, either as a matrix m[p][q] (astropy's `sip.a` layout) or as
 * a record keyed 'p_q' as in the header cards A_p_q.
 * @example { '2_0': 1.2e-7, '1_1': -3e-8 } // A_2_0 and A_1_1
 */
export type SipPolynomial = ReadonlyArray<ReadonlyArray<number>> | Readonly<Record<string, number>>;

export function polyTerms(poly: SipPolynomial): PolyTerm[] {
  const terms: PolyTerm[] = [];
  if (Array.isArray(poly)) {
    (poly as ReadonlyArray<ReadonlyArray<number>>).forEach((row, p) =>
      row.forEach((c, q) => {
        if (c !== 0) terms.push({ p, q, c });
      }),
    );
    return terms;
  }
  for (const [key, c] of Object.entries(poly as Readonly<Record<string, number>>)) {
    const m = /^(\d+)_(\d+)$/.exec(key);
    if (!m) throw new Error(`SIP coefficient key '${key}' is not 'p_q'`);
    if (!Number.isFinite(c)) throw new Error(`SIP coefficient ${key} is not finite`);
    if (c !== 0) terms.push({ p: Number(m[1]), q: Number(m[2]), c });
  }
  return terms;
}

export function polyOrder(terms: readonly PolyTerm[]): number {
  return terms.reduce((o, t) => Math.max(o, t.p + t.q), 0);
}

/** Powers 0..n of a value into `out`. */
function powers(x: number, n: number, out: Float64Array): void {
  out[0] = 1;
  for (let k = 1; k <= n; k++) out[k] = out[k - 1] * x;
}

/** Evaluates a polynomial and its partial derivatives at (u, v), reusing scratch arrays. */
export class Polynomial2 {
  readonly order: number;
  private readonly pu: Float64Array;
  private readonly pv: Float64Array;

  constructor(readonly terms: readonly PolyTerm[]) {
    this.order = polyOrder(terms);
    this.pu = new Float64Array(this.order + 1);
    this.pv = new Float64Array(this.order + 1);
  }

  /** out = [f, df/du, df/dv]. */
  evaluate(u: number, v: number, out: Float64Array): void {
    const { pu, pv, order } = this;
    powers(u, order, pu);
    powers(v, order, pv);
    let f = 0;
    let fu = 0;
    let fv = 0;
    for (const { p, q, c } of this.terms) {
      f += c * pu[p] * pv[q];
      if (p > 0) fu += c * p * pu[p - 1] * pv[q];
      if (q > 0) fv += c * q * pu[p] * pv[q - 1];
    }
    out[0] = f;
    out[1] = fu;
    out[2] = fv;
  }

  value(u: number, v: number): number {
    const { pu, pv, order } = this;
    powers(u, order, pu);
    powers(v, order, pv);
    let f = 0;
    for (const { p, q, c } of this.terms) f += c * pu[p] * pv[q];
    return f;
  }
}
