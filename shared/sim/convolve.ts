/**
 * Small 2-D convolutions through the FFT (fft.js, radix-4 Cooley-Tukey), for rendering galaxies
 * through their local PSF.
 */
import FFT from 'fft.js';

const plans = new Map<number, FFT>();

function plan(n: number): FFT {
  let fft = plans.get(n);
  if (!fft) {
    fft = new FFT(n);
    plans.set(n, fft);
  }
  return fft;
}

const buffers = new Map<number, [Float64Array, Float64Array]>();

/** Two reusable n x n complex work arrays (every call overwrites them entirely). */
function scratch(n: number): [Float64Array, Float64Array] {
  let pair = buffers.get(n);
  if (!pair) {
    pair = [new Float64Array(2 * n * n), new Float64Array(2 * n * n)];
    buffers.set(n, pair);
  }
  return pair;
}

/** Smallest power of two >= n (and >= 4, fft.js's smallest size). */
export function nextPow2(n: number): number {
  let p = 4;
  while (p < n) p *= 2;
  return p;
}

/** 1-D transforms of every row of `from` (n rows of n interleaved complex values) into `to`. */
function rows(fft: FFT, from: Float64Array, to: Float64Array, n: number, inverse: boolean): void {
  for (let y = 0; y < n; y++) {
    const a = from.subarray(2 * y * n, 2 * (y + 1) * n);
    const b = to.subarray(2 * y * n, 2 * (y + 1) * n);
    if (inverse) fft.inverseTransform(b, a);
    else fft.transform(b, a);
  }
}

/** Transposes an n x n interleaved complex array from `from` into `to`. */
function transpose(from: Float64Array, to: Float64Array, n: number): void {
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const i = 2 * (y * n + x);
      const j = 2 * (x * n + y);
      to[j] = from[i];
      to[j + 1] = from[i + 1];
    }
  }
}

/**
 * 2-D FFT of `data` by rows, transpose, rows; the result (in `scratch`) is transposed, which a
 * point-wise product does not mind, and the inverse undoes it. `data` is overwritten.
 */
function fft2d(data: Float64Array, scratch: Float64Array, n: number, inverse: boolean): void {
  const fft = plan(n);
  rows(fft, data, scratch, n, inverse);
  transpose(scratch, data, n);
  rows(fft, data, scratch, n, inverse);
}

/**
 * Circular convolution of an n x n real image with a real kernel whose centre sits at index
 * (0, 0) (negative offsets wrapped to n - k). Pad the image so that nothing wraps.
 * Both inputs are packed into one complex transform (image real, kernel imaginary) and
 * separated by Hermitian symmetry.
 */
export function convolveCircular(
  image: Float64Array,
  kernel: Float64Array,
  n: number,
): Float64Array {
  const [z, w] = scratch(n);
  for (let i = 0; i < n * n; i++) {
    z[2 * i] = image[i];
    z[2 * i + 1] = kernel[i];
  }
  fft2d(z, w, n, false);
  // Spectra of the two inputs: A = (Z(k) + conj Z(-k)) / 2, B = (Z(k) - conj Z(-k)) / (2i);
  // A(k) B(k) overwrites the spectrum, so each k is handled together with its mirror -k.
  for (let ky = 0; ky < n; ky++) {
    const my = (n - ky) % n;
    for (let kx = 0; kx < n; kx++) {
      const mx = (n - kx) % n;
      const i = 2 * (ky * n + kx);
      const j = 2 * (my * n + mx);
      if (j < i) continue;
      const zr = w[i];
      const zi = w[i + 1];
      const wr = w[j];
      const wi = w[j + 1];
      const ar = (zr + wr) / 2;
      const ai = (zi - wi) / 2;
      const br = (zi + wi) / 2;
      const bi = (wr - zr) / 2;
      w[i] = ar * br - ai * bi;
      w[i + 1] = ar * bi + ai * br;
      // At -k: A(-k) = conj A(k), B(-k) = conj B(k).
      w[j] = ar * br - ai * bi;
      w[j + 1] = -(ar * bi + ai * br);
    }
  }
  fft2d(w, z, n, true);
  const result = new Float64Array(n * n);
  for (let i = 0; i < n * n; i++) result[i] = z[2 * i];
  return result;
}
