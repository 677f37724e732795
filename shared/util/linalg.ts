/**
 * Small dense linear algebra for least-squares fits (normal equations), and one Levenberg-Marquardt
 * loop (Levenberg 1944; Marquardt 1963, J. SIAM 11, 431; Press et al., Numerical Recipes, 15.5):
 * - solveSymmetric: symmetric positive (semi-)definite systems (normal equations), Cholesky with
 *   a ridge that keeps degenerate directions at zero;
 * - solveGeneral: any square system, Gaussian elimination with partial pivoting; a singular
 *   matrix is a SingularMatrixError, never NaN or Infinity;
 * - invert, invertOrNull, matVec: the inverse (a fit's covariance, the inverse of its normal matrix) by
 *   Gauss-Jordan elimination with partial pivoting, and its product with a vector;
 * - levenbergMarquardt: nonlinear least squares with forward-difference derivatives.
 */

/** A linear system with no unique solution (a zero or non-finite pivot). */
export class SingularMatrixError extends Error {
  override name = 'SingularMatrixError';
}

/** Ridges solveSymmetric tries, relative 1e-12 to 1e-2 (rounding makes a semi-definite matrix fail by far less). */
const RIDGE_TRIES = 6;

/**
 * Solves the symmetric positive (semi-)definite system A x = b (A row-major n*n) by
 * Cholesky on the Jacobi-scaled matrix; a tiny ridge (relative 1e-12, growing if needed to 1e-2) keeps degenerate directions at zero instead of failing. A matrix that needs more is
 * indefinite (not normal equations): an Error, not an answer to another system.
 * @example solveSymmetric(new Float64Array([4, 0, 0, 9]), new Float64Array([8, 9])) // [2, 1]
 */
export function solveSymmetric(a: Float64Array, b: Float64Array): Float64Array {
  const n = b.length;
  if (a.length !== n * n) throw new RangeError(`matrix has ${a.length} entries, expected ${n * n}`);
  const scale = new Float64Array(n);
  for (let i = 0; i < n; i++) scale[i] = a[i * n + i] > 0 ? 1 / Math.sqrt(a[i * n + i]) : 0;
  for (let k = 0, ridge = 1e-12; k < RIDGE_TRIES; k++, ridge *= 100) {
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

/**
 * Solves the square system A x = b (A row-major n*n) by Gaussian elimination with partial
 * pivoting. Throws SingularMatrixError when a pivot is zero or the solution is not finite.
 * @example solveGeneral(new Float64Array([0, 1, 2, 0]), new Float64Array([3, 4])) // [2, 3]
 */
export function solveGeneral(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const n = b.length;
  if (a.length !== n * n) throw new RangeError(`matrix has ${a.length} entries, expected ${n * n}`);
  const m = Float64Array.from(a);
  const x = Float64Array.from(b);
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r * n + c]) > Math.abs(m[piv * n + c])) piv = r;
    if (piv !== c) {
      for (let k = 0; k < n; k++) [m[c * n + k], m[piv * n + k]] = [m[piv * n + k], m[c * n + k]];
      [x[c], x[piv]] = [x[piv], x[c]];
    }
    const d = m[c * n + c];
    if (d === 0 || !Number.isFinite(d))
      throw new SingularMatrixError(`singular ${n} x ${n} system: pivot ${d} in column ${c}`);
    for (let r = c + 1; r < n; r++) {
      const f = m[r * n + c] / d;
      if (f === 0) continue;
      for (let k = c; k < n; k++) m[r * n + k] -= f * m[c * n + k];
      x[r] -= f * x[c];
    }
  }
  for (let r = n - 1; r >= 0; r--) {
    let s = x[r];
    for (let k = r + 1; k < n; k++) s -= m[r * n + k] * x[k];
    x[r] = s / m[r * n + r];
  }
  if (!x.every(Number.isFinite))
    throw new SingularMatrixError(`ill-conditioned ${n} x ${n} system: the solution is not finite`);
  return x;
}

/**
 * The inverse of the square matrix A (row-major n*n) by Gauss-Jordan elimination with partial
 * pivoting. Throws SingularMatrixError when a pivot is zero or the inverse is not finite.
 * @example invert([4, 7, 2, 6]) // [0.6, -0.7, -0.2, 0.4]
 */
export function invert(a: ArrayLike<number>): Float64Array {
  const n = Math.round(Math.sqrt(a.length));
  if (a.length !== n * n) throw new RangeError(`matrix has ${a.length} entries, not a square`);
  const m = Float64Array.from(a);
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r * n + c]) > Math.abs(m[piv * n + c])) piv = r;
    const d = m[piv * n + c];
    if (d === 0 || !Number.isFinite(d))
      throw new SingularMatrixError(`singular ${n} x ${n} matrix: pivot ${d} in column ${c}`);
    if (piv !== c) {
      for (let k = 0; k < n; k++) {
        [m[c * n + k], m[piv * n + k]] = [m[piv * n + k], m[c * n + k]];
        [inv[c * n + k], inv[piv * n + k]] = [inv[piv * n + k], inv[c * n + k]];
      }
    }
    for (let k = 0; k < n; k++) {
      m[c * n + k] /= d;
      inv[c * n + k] /= d;
    }
    for (let r = 0; r < n; r++) {
      const f = m[r * n + c];
      if (r === c || f === 0) continue;
      for (let k = 0; k < n; k++) {
        m[r * n + k] -= f * m[c * n + k];
        inv[r * n + k] -= f * inv[c * n + k];
      }
    }
  }
  if (!inv.every(Number.isFinite))
    throw new SingularMatrixError(`ill-conditioned ${n} x ${n} matrix: the inverse is not finite`);
  return inv;
}

/** invert(a), or null when A is singular (a fit whose parameters are not all constrained). */
export function invertOrNull(a: ArrayLike<number>): Float64Array | null {
  try {
    return invert(a);
  } catch (err) {
    if (err instanceof SingularMatrixError) return null;
    throw err;
  }
}

/** The product A x of the row-major n*n matrix A and the vector x (n = x.length). */
export function matVec(a: ArrayLike<number>, x: ArrayLike<number>): Float64Array {
  const n = x.length;
  if (a.length !== n * n) throw new RangeError(`matrix has ${a.length} entries, expected ${n * n}`);
  const y = new Float64Array(n);
  for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) y[r] += a[r * n + c] * x[c];
  return y;
}

export interface LevenbergMarquardtOptions {
  /** Indices of the parameters fitted (the others stay as given). Default: all. */
  free?: readonly number[];
  /** Outer iterations (one Jacobian each). Default 40. */
  maxIterations?: number;
  /** Damping increases tried per iteration before giving up. Default 8. */
  maxTries?: number;
  /** Starting damping. Default 1e-3. */
  lambda?: number;
  /** Forward-difference step of the derivatives, in parameter units. Default 1e-4. */
  step?: number;
  /** Stop after an accepted step from `from` to `to` that lowered chi^2 by the fraction `gain`. */
  converged?: (from: readonly number[], to: readonly number[], gain: number) => boolean;
}

/**
 * Minimizes chi^2 = sum r_k^2 over the parameters, where `residuals(p, out)` writes the n
 * residuals into `out` and returns chi^2. Each iteration solves (J^T J)(1 + lambda on the diagonal)
 * delta = J^T r; an accepted step divides lambda by 5 (not below 1e-7), a rejected one multiplies it
 * by 10. Ends after maxIterations, when a step is accepted and `converged` says so, or when no
 * damping lowers chi^2. A singular step is a rejected one.
 */
export function levenbergMarquardt(
  start: readonly number[],
  n: number,
  residuals: (p: readonly number[], out: Float64Array) => number,
  options: LevenbergMarquardtOptions = {},
): { p: number[]; chi2: number; iterations: number } {
  const free = options.free ?? start.map((_, i) => i);
  const { maxIterations = 40, maxTries = 8, step = 1e-4, converged } = options;
  let lambda = options.lambda ?? 1e-3;
  const np = free.length;
  let p = start.slice();
  const r = new Float64Array(n);
  const rt = new Float64Array(n);
  const jac = Array.from({ length: np }, () => new Float64Array(n));
  let chi = residuals(p, r);
  let it = 0;
  while (it < maxIterations) {
    it++;
    for (let t = 0; t < np; t++) {
      const q = p.slice();
      q[free[t]] += step;
      residuals(q, rt);
      for (let k = 0; k < n; k++) jac[t][k] = (r[k] - rt[k]) / step;
    }
    const jtj = new Float64Array(np * np);
    const jtr = new Float64Array(np);
    for (let a = 0; a < np; a++) {
      for (let k = 0; k < n; k++) jtr[a] += jac[a][k] * r[k];
      for (let b = a; b < np; b++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += jac[a][k] * jac[b][k];
        jtj[a * np + b] = jtj[b * np + a] = s;
      }
    }
    let accepted = false;
    let done = false;
    for (let tries = 0; tries < maxTries && !accepted; tries++) {
      const m = jtj.slice();
      for (let a = 0; a < np; a++) m[a * np + a] *= 1 + lambda;
      let delta: Float64Array;
      try {
        delta = solveGeneral(m, jtr);
      } catch (err) {
        if (!(err instanceof SingularMatrixError)) throw err;
        lambda *= 10;
        continue;
      }
      const q = p.slice();
      for (let t = 0; t < np; t++) q[free[t]] += delta[t];
      const trial = residuals(q, rt);
      if (trial < chi) {
        done = converged?.(p, q, (chi - trial) / chi) ?? false;
        p = q;
        chi = trial;
        r.set(rt);
        lambda = Math.max(1e-7, lambda / 5);
        accepted = true;
      } else lambda *= 10;
    }
    if (!accepted || done) break;
  }
  return { p, chi2: chi, iterations: it };
}
