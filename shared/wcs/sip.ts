import {
  Polynomial2,
  polyOrder,
  polyTerms,
  type PolyTerm,
  type SipPolynomial,
} from './polynomial.js';
import { TangentWcs, type TanWcsParams } from './tangent-wcs.js';

/** A TAN-SIP WCS: the TAN parameters plus the SIP polynomials. */
export interface SipWcsParams extends TanWcsParams {
  /** Forward x distortion A: u' = u + sum A_p_q u^p v^q, pixels from CRPIX. */
  a: SipPolynomial;
  /** Forward y distortion B. */
  b: SipPolynomial;
  /** Optional inverse polynomials AP, BP (used as the first guess of the exact inverse). */
  ap?: SipPolynomial;
  bp?: SipPolynomial;
  /** A_ORDER / B_ORDER (default: the highest p + q present, at least 2). */
  order?: number;
}

const MAX_NEWTON_STEPS = 50;
/** Newton stops once a step is below this fraction of the offset from CRPIX (quadratic convergence then leaves ~1e-16). */
const NEWTON_RELATIVE_STEP = 1e-12;

/**
 * TAN with Simple Imaging Polynomial distortion, Shupe et al. 2005 (ASP Conf. Ser. 347, 491).
 * Sky -> pixel solves the forward polynomial by Newton's method (from AP/BP when given, else
 * from the linear solution), so it is the exact inverse of pixel -> sky whether or not the
 * header carries AP/BP.
 */
export class SipWcs extends TangentWcs {
  readonly kind = 'TAN-SIP' as const;
  protected readonly ctypeSuffix = 'TAN-SIP';
  readonly order: number;
  readonly a: readonly PolyTerm[];
  readonly b: readonly PolyTerm[];
  readonly ap: readonly PolyTerm[] | null;
  readonly bp: readonly PolyTerm[] | null;
  private readonly polyA: Polynomial2;
  private readonly polyB: Polynomial2;
  private readonly polyAp: Polynomial2 | null;
  private readonly polyBp: Polynomial2 | null;
  private readonly da = new Float64Array(3);
  private readonly db = new Float64Array(3);

  constructor(params: SipWcsParams) {
    super(params);
    this.a = polyTerms(params.a);
    this.b = polyTerms(params.b);
    this.polyA = new Polynomial2(this.a);
    this.polyB = new Polynomial2(this.b);
    this.order = params.order ?? Math.max(2, this.polyA.order, this.polyB.order);
    if (this.polyA.order > this.order || this.polyB.order > this.order) {
      throw new Error(`SIP terms exceed A_ORDER/B_ORDER ${this.order}`);
    }
    if ((params.ap === undefined) !== (params.bp === undefined))
      throw new Error('SIP needs both AP and BP, or neither');
    this.ap = params.ap ? polyTerms(params.ap) : null;
    this.bp = params.bp ? polyTerms(params.bp) : null;
    this.polyAp = this.ap ? new Polynomial2(this.ap) : null;
    this.polyBp = this.bp ? new Polynomial2(this.bp) : null;
  }

  protected toIntermediate(u: number, v: number, out: Float64Array): void {
    const du = u + this.polyA.value(u, v);
    const dv = v + this.polyB.value(u, v);
    const cd = this.cd;
    out[0] = cd[0][0] * du + cd[0][1] * dv;
    out[1] = cd[1][0] * du + cd[1][1] * dv;
  }

  protected fromIntermediate(x: number, y: number, out: Float64Array): void {
    this.linearInverse(x, y, out);
    const U = out[0];
    const V = out[1];
    if (!Number.isFinite(U) || !Number.isFinite(V)) return;
    let u = U;
    let v = V;
    if (this.polyAp && this.polyBp) {
      u = U + this.polyAp.value(U, V);
      v = V + this.polyBp.value(U, V);
    }
    // Solve u + A(u, v) = U, v + B(u, v) = V.
    const { da, db } = this;
    for (let step = 0; step < MAX_NEWTON_STEPS; step++) {
      this.polyA.evaluate(u, v, da);
      this.polyB.evaluate(u, v, db);
      const ru = u + da[0] - U;
      const rv = v + db[0] - V;
      const j00 = 1 + da[1];
      const j01 = da[2];
      const j10 = db[1];
      const j11 = 1 + db[2];
      const det = j00 * j11 - j01 * j10;
      const su = (j11 * ru - j01 * rv) / det;
      const sv = (j00 * rv - j10 * ru) / det;
      u -= su;
      v -= sv;
      if (!(Math.abs(su) + Math.abs(sv) >= NEWTON_RELATIVE_STEP * (1 + Math.abs(u) + Math.abs(v))))
        break;
    }
    out[0] = u;
    out[1] = v;
  }

  protected distortionCards(): Array<[string, string | number]> {
    const cards: Array<[string, string | number]> = [];
    const block = (name: string, terms: readonly PolyTerm[], order: number) => {
      cards.push([`${name}_ORDER`, order]);
      for (const { p, q, c } of terms) cards.push([`${name}_${p}_${q}`, c]);
    };
    block('A', this.a, this.order);
    block('B', this.b, this.order);
    if (this.ap && this.bp) {
      const inverseOrder = Math.max(polyOrder(this.ap), polyOrder(this.bp), 1);
      block('AP', this.ap, inverseOrder);
      block('BP', this.bp, inverseOrder);
    }
    return cards;
  }
}
