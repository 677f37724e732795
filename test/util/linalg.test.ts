/**
 * shared/util/linalg.ts against known solutions: Gaussian elimination with pivoting, Gauss-Jordan
 * inversion (a matrix whose inverse is known exactly), Cholesky on
 * normal equations (Hilbert matrices, whose inverses are known in closed form), and the
 * Levenberg-Marquardt loop recovering the parameters of exact data; singular or non-finite input
 * is a clear error (or a rejected step), never NaN.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  invert,
  invertOrNull,
  levenbergMarquardt,
  matVec,
  SingularMatrixError,
  solveGeneral,
  solveSymmetric,
} from '../../shared/util/linalg.js';

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++)
    assert.ok(Math.abs(a[i] - b[i]) <= tol, `[${i}] ${a[i]} vs ${b[i]}`);
};

test('solveGeneral solves systems that need pivoting', () => {
  close(solveGeneral([0, 1, 2, 0], [3, 4]), [2, 3], 0);
  // The textbook example: x = (2, 3, -1).
  const a = [2, 1, -1, -3, -1, 2, -2, 1, 2];
  close(solveGeneral(a, [8, -11, -3]), [2, 3, -1], 1e-12);
  close(solveGeneral([1e-20, 1, 1, 1], [1, 2]), [1, 1], 1e-12);
});

test('solveGeneral: singular and non-finite systems are SingularMatrixError, sizes a RangeError', () => {
  assert.throws(() => solveGeneral([1, 2, 2, 4], [1, 2]), SingularMatrixError);
  assert.throws(
    () => solveGeneral([1, 2, 2, 4], [1, 2]),
    /singular 2 x 2 system: pivot 0 in column 1/,
  );
  assert.throws(() => solveGeneral([Number.NaN, 0, 0, 1], [1, 1]), SingularMatrixError);
  assert.throws(() => solveGeneral([1e-300, 0, 0, 1], [1e300, 1]), /not finite/);
  assert.throws(() => solveGeneral([1, 2, 3], [1, 2]), RangeError);
});

test('invert gives the known inverse of a matrix that needs pivoting, matVec multiplies by it', () => {
  // A zero first pivot; A^-1 = [[-4.5, 7, -1.5], [-2, 4, -1], [1.5, -2, 0.5]] (det A = -2).
  const a = [0, 1, 2, 1, 0, 3, 4, -3, 8];
  const inv = invert(a);
  close(inv, [-4.5, 7, -1.5, -2, 4, -1, 1.5, -2, 0.5], 1e-14);
  close(matVec(inv, [2, 3, 4]), [6, 4, -1], 1e-13);
  close(matVec(a, matVec(inv, [2, 3, 4])), [2, 3, 4], 1e-13);
  close(invert([4, 7, 2, 6]), [0.6, -0.7, -0.2, 0.4], 1e-15);
});

test('invert: a singular or non-finite matrix is SingularMatrixError (null from invertOrNull), a non-square one a RangeError', () => {
  assert.throws(() => invert([1, 2, 2, 4]), /singular 2 x 2 matrix: pivot 0 in column 1/);
  assert.throws(() => invert([Number.NaN, 0, 0, 1]), SingularMatrixError);
  assert.throws(() => invert([1e-310, 0, 0, 1]), /inverse is not finite/);
  assert.equal(invertOrNull([1, 2, 2, 4]), null);
  close(invertOrNull([2, 0, 0, 4])!, [0.5, 0, 0, 0.25], 0);
  assert.throws(() => invert([1, 2, 3]), RangeError);
  assert.throws(() => matVec([1, 2, 3], [1, 2]), RangeError);
});

test('solveSymmetric inverts Hilbert matrices to their known inverses', () => {
  // H_ij = 1 / (i + j + 1); (H^-1)_ij = (-1)^(i+j) (i+j+1) C(n+i, n-j-1) C(n+j, n-i-1) C(i+j, i)^2.
  const binom = (n: number, k: number): number => {
    let r = 1;
    for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
    return r;
  };
  for (const n of [3, 5]) {
    const h = Float64Array.from({ length: n * n }, (_, k) => 1 / (Math.floor(k / n) + (k % n) + 1));
    for (let col = 0; col < n; col++) {
      const e = new Float64Array(n);
      e[col] = 1;
      const expected = Array.from(
        { length: n },
        (_, i) =>
          (-1) ** (i + col) *
          (i + col + 1) *
          binom(n + i, n - col - 1) *
          binom(n + col, n - i - 1) *
          binom(i + col, i) ** 2,
      );
      const x = solveSymmetric(h, e);
      for (let i = 0; i < n; i++)
        assert.ok(
          Math.abs(x[i] - expected[i]) <= 1e-6 * Math.abs(expected[i]),
          `H${n}^-1[${i}][${col}] ${x[i]} vs ${expected[i]}`,
        );
    }
  }
});

test('solveSymmetric keeps a null direction at zero and refuses an indefinite matrix (eigenvalues 3, -1)', () => {
  close(solveSymmetric(new Float64Array([1, 0, 0, 0]), new Float64Array([2, 0])), [2, 0], 1e-9);
  // Before: a ridge as large as the diagonal was accepted, giving (0, 0.5) for (1/3, 1/3).
  for (const off of [2, 3])
    assert.throws(
      () => solveSymmetric(new Float64Array([1, off, off, 1]), new Float64Array([1, 1])),
      /not positive semi-definite/,
    );
});

/** y = A exp(-k t) + c at t = 0..19, exact. */
function decay(p: readonly number[], t: number): number {
  return p[0] * Math.exp(-p[1] * t) + p[2];
}
const truth = [5, 0.3, 1];
const ts = Array.from({ length: 20 }, (_, t) => t);
const residuals = (p: readonly number[], out: Float64Array): number => {
  let chi = 0;
  ts.forEach((t, k) => {
    out[k] = decay(truth, t) - decay(p, t);
    chi += out[k] ** 2;
  });
  return chi;
};

test('levenbergMarquardt recovers the parameters of exact data, and holds fixed ones', () => {
  const fit = levenbergMarquardt([3, 0.1, 0], ts.length, residuals);
  close(fit.p, truth, 1e-6);
  assert.ok(fit.chi2 < 1e-12);
  const held = levenbergMarquardt([3, 0.1, 1], ts.length, residuals, { free: [0, 1] });
  assert.equal(held.p[2], 1);
  close(held.p, truth, 1e-6);
});

test('levenbergMarquardt stops when told it converged, and at maxIterations', () => {
  const once = levenbergMarquardt([3, 0.1, 0], ts.length, residuals, { converged: () => true });
  assert.equal(once.iterations, 1);
  assert.equal(
    levenbergMarquardt([3, 0.1, 0], ts.length, residuals, { maxIterations: 2 }).iterations,
    2,
  );
});

test('levenbergMarquardt: a parameter the data do not fix gives rejected steps, not NaN', () => {
  // p[3] does not enter the model: J^T J is singular whatever the damping.
  const fit = levenbergMarquardt([3, 0.1, 0, 7], ts.length, residuals);
  assert.ok(fit.p.every(Number.isFinite));
  assert.deepEqual(fit.p, [3, 0.1, 0, 7], 'no step taken');
});
