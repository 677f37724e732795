/** Small dense linear algebra for the fits (row-major n x n). */

/** Solves A z = b by Gauss-Jordan with partial pivoting; returns z and inv(A), or null when singular. */
export function solveWithInverse(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  n: number,
): { z: Float64Array; inv: Float64Array } | null {
  const m = Float64Array.from(a);
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++)
      if (Math.abs(m[r * n + col]) > Math.abs(m[pivot * n + col])) pivot = r;
    const p = m[pivot * n + col];
    if (!(Math.abs(p) > 1e-300) || !Number.isFinite(p)) return null;
    if (pivot !== col) {
      for (let c = 0; c < n; c++) {
        [m[col * n + c], m[pivot * n + c]] = [m[pivot * n + c], m[col * n + c]];
        [inv[col * n + c], inv[pivot * n + c]] = [inv[pivot * n + c], inv[col * n + c]];
      }
    }
    for (let c = 0; c < n; c++) {
      m[col * n + c] /= p;
      inv[col * n + c] /= p;
    }
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = m[r * n + col];
      if (f === 0) continue;
      for (let c = 0; c < n; c++) {
        m[r * n + c] -= f * m[col * n + c];
        inv[r * n + c] -= f * inv[col * n + c];
      }
    }
  }
  const z = new Float64Array(n);
  for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) z[r] += inv[r * n + c] * b[c];
  return { z, inv };
}

/** Fourth-order central difference f'(0) from samples at -2, -1, +1, +2 (unit spacing). */
export function derivative(m2: number, m1: number, p1: number, p2: number): number {
  return (m2 - 8 * m1 + 8 * p1 - p2) / 12;
}
