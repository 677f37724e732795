/**
 * Alard & Lupton (1998, ApJ 503, 325) kernel basis: Gaussians times polynomials,
 * u^a v^b exp(-(u^2 + v^2) / 2 sigma^2) for a + b <= degree, each one separable.
 *
 * As in Rubin's ip_diffim, basis 0 is the first Gaussian normalised to unit sum and every
 * other function has the matching multiple of basis 0 subtracted so it sums to zero: the
 * coefficient of basis 0 is then the kernel sum (the photometric scale) on its own.
 * Basis j (j >= 1) = fx_j(u) fy_j(v) - subtract_j * basis 0.
 */

export interface SeparableTerm {
  /** Horizontal factor, length size (index u + half). */
  fx: Float64Array;
  /** Vertical factor, length size. */
  fy: Float64Array;
}

export interface KernelBasis {
  /** Odd kernel side, pixels. */
  size: number;
  /** Gaussian sigmas, pixels, and polynomial degrees, as used. */
  sigmas: number[];
  degrees: number[];
  /** terms[j] is the separable part of basis j (terms[0] is basis 0 itself, unit sum). */
  terms: SeparableTerm[];
  /** Multiple of basis 0 subtracted from terms[j] (0 for j = 0). */
  subtract: Float64Array;
}

export interface BasisOptions {
  size: number;
  sigmas: number[];
  degrees: number[];
}

export function alardLuptonBasis({ size, sigmas, degrees }: BasisOptions): KernelBasis {
  if (size % 2 !== 1) throw new RangeError(`kernel size ${size} must be odd`);
  if (sigmas.length !== degrees.length) throw new RangeError('one degree per Gaussian is needed');
  const half = (size - 1) / 2;
  const terms: SeparableTerm[] = [];
  const sums: number[] = [];
  sigmas.forEach((sigma, g) => {
    const powers: Float64Array[] = [];
    for (let a = 0; a <= degrees[g]; a++) {
      const f = new Float64Array(size);
      // Scaling u by sigma keeps all polynomial orders of comparable amplitude.
      for (let u = -half; u <= half; u++)
        f[u + half] = (u / sigma) ** a * Math.exp((-u * u) / (2 * sigma * sigma));
      powers.push(f);
    }
    for (let a = 0; a <= degrees[g]; a++) {
      for (let b = 0; a + b <= degrees[g]; b++) {
        const fx = Float64Array.from(powers[a]);
        const fy = Float64Array.from(powers[b]);
        let sx = 0,
          sy = 0;
        for (let i = 0; i < size; i++) {
          sx += fx[i];
          sy += fy[i];
        }
        if (terms.length === 0) {
          // Basis 0: unit sum, split evenly between the two factors.
          const k = 1 / Math.sqrt(sx * sy);
          fx.forEach((v, i) => (fx[i] = v * k));
          fy.forEach((v, i) => (fy[i] = v * k));
          sx *= k;
          sy *= k;
        }
        terms.push({ fx, fy });
        sums.push(sx * sy);
      }
    }
  });
  const subtract = new Float64Array(terms.length);
  for (let j = 1; j < terms.length; j++)
    subtract[j] = Math.abs(sums[j]) > 1e-12 * size ? sums[j] : 0;
  return { size, sigmas: [...sigmas], degrees: [...degrees], terms, subtract };
}

/** For each term, the first term with the same horizontal factor (whose horizontal pass it can share). */
export function horizontalOwners(basis: KernelBasis): number[] {
  return basis.terms.map((t, j) =>
    basis.terms.findIndex((u, k) => k <= j && u.fx.every((v, i) => v === t.fx[i])),
  );
}

/** Basis j as a dense size*size image (row-major, index (v+half)*size + u+half). */
export function basisImage(basis: KernelBasis, j: number): Float64Array {
  const { size, terms, subtract } = basis;
  const out = new Float64Array(size * size);
  const t = terms[j];
  const t0 = terms[0];
  for (let v = 0; v < size; v++) {
    for (let u = 0; u < size; u++)
      out[v * size + u] = t.fy[v] * t.fx[u] - subtract[j] * t0.fy[v] * t0.fx[u];
  }
  return out;
}

/**
 * Basis sigmas from the seeing difference, after ip_diffim's heuristics: the matching
 * Gaussian has sigma_match = sqrt(sigma_wide^2 - sigma_narrow^2); the three Gaussians are
 * sigma_match / beta, sigma_match and sigma_match * beta, the middle one at least minSigma * beta.
 */
export function basisSigmas(
  sigmaNarrow: number,
  sigmaWide: number,
  beta: number,
  minSigma: number,
): number[] {
  const match = Math.sqrt(Math.max(0, sigmaWide ** 2 - sigmaNarrow ** 2));
  const mid = Math.max(match, minSigma * beta);
  return [mid / beta, mid, mid * beta];
}
