/**
 * 2-D polynomials over an image, in coordinates scaled to [-1, 1] across it, for
 * spatially varying kernel coefficients and the differential background.
 * Terms by total degree: 1, xi, eta, xi^2, xi*eta, eta^2, ...
 */

export function polyCount(order: number): number {
  return ((order + 1) * (order + 2)) / 2;
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
  terms(order: number, x: number, y: number, out: Float64Array = new Float64Array(polyCount(order))): Float64Array {
    const xi = this.xi(x), eta = this.eta(y);
    let k = 0;
    for (let d = 0; d <= order; d++) {
      for (let b = 0; b <= d; b++) out[k++] = xi ** (d - b) * eta ** b;
    }
    return out;
  }
}
