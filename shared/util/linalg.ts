/**
 * Small dense linear algebra for least-squares fits (normal equations).
 */

/**
 * Solves the symmetric positive (semi-)definite system A x = b (A row-major n*n) by
 * Cholesky on the Jacobi-scaled matrix; a tiny ridge (relative 1e-12, growing if needed)
 * keeps degenerate directions at zero instead of failing.
 * @example solveSymmetric(new Float64Array([4, 0, 0, 9]), new Float64Array([8, 9])) // [2, 1]
 */
export function solveSymmetric(a: Float64Array, b: Float64Array): Float64Array {
  const n = b.length;
  if (a.length !== n * n) throw new RangeError(`matrix has ${a.length} entries, expected ${n * n}`);
  const scale = new Float64Array(n);
  for (let i = 0; i < n; i++) scale[i] = a[i * n + i] > 0 ? 1 / Math.sqrt(a[i * n + i]) : 0;
  for (let ridge = 1e-12; ridge < 1; ridge *= 100) {
    const l = new Float64Array(n * n);
    let ok = true;
    for (let i = 0; i < n && ok; i++) {
      for (let j = 0; j <= i; j++) {
        let s =
          a[i * n + j] * scale[i] * scale[j] + (i === j ? ridge + (scale[i] === 0 ? 1 : 0) : 0);
        for (let k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
        if (i === j) {
          if (!(s > 0)) ok = false;
          else l[i * n + i] = Math.sqrt(s);
        } else {
          l[i * n + j] = s / l[j * n + j];
        }
      }
    }
    if (!ok) continue;
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = b[i] * scale[i];
      for (let k = 0; k < i; k++) s -= l[i * n + k] * y[k];
      y[i] = s / l[i * n + i];
    }
    const x = new Float64Array(n);
    for (let i = n - 1; i >= 0; i--) {
      let s = y[i];
      for (let k = i + 1; k < n; k++) s -= l[k * n + i] * x[k];
      x[i] = s / l[i * n + i];
    }
    for (let i = 0; i < n; i++) x[i] *= scale[i];
    return x;
  }
  throw new Error('solveSymmetric: matrix is not positive semi-definite');
}
