/**
 * Two-dimensional complex FFTs over fft.js (radix-4, power-of-two sizes).
 *
 * Data are interleaved complex Float64Arrays of n*n values, row-major:
 * element (x, y) has real part `data[2 * (y * n + x)]` and imaginary part at `+ 1`.
 * `inverse` is normalised (inverse(forward(a)) === a), as fft.js is.
 * @example
 *   const fft = new Fft2(64);
 *   const a = new Float64Array(2 * 64 * 64); a[0] = 1;
 *   fft.forward(a); // a delta has a flat spectrum: every real part is 1
 */
import FFT from 'fft.js';

export class Fft2 {
  private readonly fft: FFT;
  private readonly lines: Float64Array[];
  private readonly out: Float64Array;

  constructor(readonly n: number) {
    if (n < 2 || (n & (n - 1)) !== 0)
      throw new RangeError(`FFT size ${n} is not a power of two >= 2`);
    this.fft = new FFT(n);
    this.lines = Array.from({ length: Math.min(n, 8) }, () => new Float64Array(2 * n));
    this.out = new Float64Array(2 * n);
  }

  /** A zeroed n*n complex array. */
  alloc(): Float64Array {
    return new Float64Array(2 * this.n * this.n);
  }

  forward(data: Float64Array): void {
    this.run(data, false);
  }

  inverse(data: Float64Array): void {
    this.run(data, true);
  }

  private run(data: Float64Array, inverse: boolean): void {
    const { n, fft, out } = this;
    const row = 2 * n;
    if (data.length !== row * n)
      throw new RangeError(`expected ${row * n} values, got ${data.length}`);
    for (let y = 0; y < n; y++) {
      const r = data.subarray(y * row, (y + 1) * row);
      if (inverse) fft.inverseTransform(out, r);
      else fft.transform(out, r);
      r.set(out);
    }
    // Columns in blocks: one sweep down the rows gathers (and scatters) BLOCK columns, so each
    // row's cache line is used for all of them instead of one.
    const lines = this.lines;
    const block = lines.length;
    for (let x0 = 0; x0 < n; x0 += block) {
      const b = Math.min(block, n - x0);
      for (let y = 0; y < n; y++) {
        const base = y * row + 2 * x0;
        for (let j = 0; j < b; j++) {
          lines[j][2 * y] = data[base + 2 * j];
          lines[j][2 * y + 1] = data[base + 2 * j + 1];
        }
      }
      for (let j = 0; j < b; j++) {
        if (inverse) fft.inverseTransform(out, lines[j]);
        else fft.transform(out, lines[j]);
        lines[j].set(out);
      }
      for (let y = 0; y < n; y++) {
        const base = y * row + 2 * x0;
        for (let j = 0; j < b; j++) {
          data[base + 2 * j] = lines[j][2 * y];
          data[base + 2 * j + 1] = lines[j][2 * y + 1];
        }
      }
    }
  }
}

/** Smallest power of two >= m. */
export function nextPow2(m: number): number {
  let n = 2;
  while (n < m) n *= 2;
  return n;
}

/**
 * Spectrum (n*n complex) of a small odd-sized real kernel, placed so that its centre
 * pixel sits at the origin (wrap-around): multiplying an image spectrum by it convolves
 * with the kernel without shifting, out(x) = sum_u k(u) in(x - u).
 */
export function kernelSpectrum(fft: Fft2, kernel: ArrayLike<number>, size: number): Float64Array {
  const n = fft.n;
  if (size % 2 !== 1 || size > n)
    throw new RangeError(`kernel size ${size} must be odd and <= ${n}`);
  const half = (size - 1) / 2;
  const out = fft.alloc();
  for (let v = -half; v <= half; v++) {
    const y = (v + n) % n;
    for (let u = -half; u <= half; u++) {
      out[2 * (y * n + ((u + n) % n))] = kernel[(v + half) * size + u + half];
    }
  }
  fft.forward(out);
  return out;
}

/** The central size*size of a wrap-around n*n complex array's real part (kernelSpectrum's layout, transformed back), normalised to unit sum. */
export function cropCentred(wrapped: Float64Array, n: number, size: number): Float32Array {
  const half = (size - 1) / 2;
  const out = new Float32Array(size * size);
  let total = 0;
  for (let v = -half; v <= half; v++) {
    for (let u = -half; u <= half; u++) {
      const val = wrapped[2 * (((v + n) % n) * n + ((u + n) % n))];
      out[(v + half) * size + u + half] = val;
      total += val;
    }
  }
  if (total !== 0) for (let i = 0; i < out.length; i++) out[i] /= total;
  return out;
}
