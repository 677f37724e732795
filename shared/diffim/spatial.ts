/**
 * 2-D polynomials over an image, in coordinates scaled to [-1, 1] across it, for
 * spatially varying kernel coefficients and the differential background.
 * Terms by total degree: 1, xi, eta, xi^2, xi*eta, eta^2, ...
 */

export function polyCount(order: number): number {
  return ((order + 1) * (order + 2)) / 2;
}

/** [power of xi, power of eta] of each term, in term order. */
export function polyPowers(order: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let d = 0; d <= order; d++) for (let b = 0; b <= d; b++) out.push([d - b, b]);
  return out;
}

export class SpatialFrame {
  constructor(
    readonly width: number,
    readonly height: number,
  ) {}

  xi(x: number): number {
    return this.width > 1 ? (2 * x) / (this.width - 1) - 1 : 0;
  }

  eta(y: number): number {
    return this.height > 1 ? (2 * y) / (this.height - 1) - 1 : 0;
  }

  /** The polynomial terms of `order` at image pixel (x, y), into `out`. */
  terms(
    order: number,
    x: number,
    y: number,
    out: Float64Array = new Float64Array(polyCount(order)),
  ): Float64Array {
    const xi = this.xi(x),
      eta = this.eta(y);
    let k = 0;
    for (let d = 0; d <= order; d++) {
      for (let b = 0; b <= d; b++) out[k++] = xi ** (d - b) * eta ** b;
    }
    return out;
  }

  /**
   * Term values along row y for columns x0 .. x0+count-1: rows[t][i] is term t at (x0 + i, y).
   * Cheap per pixel (powers of xi per column, of eta once per row).
   */
  rowTerms(order: number, y: number, x0: number, count: number, rows: Float64Array[]): void {
    const eta = this.eta(y);
    polyPowers(order).forEach(([a, b], t) => {
      const e = eta ** b;
      const row = rows[t];
      for (let i = 0; i < count; i++) {
        const xi = this.width > 1 ? (2 * (x0 + i)) / (this.width - 1) - 1 : 0;
        let p = e;
        for (let k = 0; k < a; k++) p *= xi;
        row[i] = p;
      }
    });
  }
}
