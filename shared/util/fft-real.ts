/**
 * Two-dimensional FFTs of real n*n images over fft.js, keeping only the half spectrum
 * kx = 0 .. n/2 (the rest follows by Hermitian symmetry), as FFTW's r2c / c2r do.
 *
 * The spectrum is stored by columns: column kx is n contiguous complex values (ky = 0 .. n-1),
 * element (kx, ky) at `2 * (kx * n + ky)` (real) and `+ 1` (imaginary); `spectrumLength(n)`
 * values in all. Rows go through fft.js two at a time (one complex FFT of a + i b), and
 * the column pass runs on contiguous memory. `inverse` is normalised (inverse(forward(a)) = a)
 * and may produce only a band of rows; `inverseColumns` / `inverseRows` expose its two
 * passes, so outputs that are sums of per-row-weighted spectra share the row pass.
 * Inverse transforms are forward ones of the conjugate, conj(FFT(conj z)) = n IFFT(z), and the
 * 1 / n^2 is applied once, as the rows are written: fft.js's inverse divides each of its outputs by
 * n, a tenth of a transform's time. Both are exact (a conjugate flips signs; n is a power of two),
 * so the outputs are bit for bit those of fft.js's inverse. The column pass's output, the form
 * `inverseRows` takes, is therefore conj(n IFFT(column)).
 * The passes run in WebAssembly SIMD (fft-wasm.ts, the same bits) unless fftEngine() says fft.js
 * (AP_FFT=js); a band of output rows outside [0, n) always runs here.
 * @example
 *   const fft = new RealFft2(64);
 *   const a = new Float64Array(64 * 64); a[0] = 1;
 *   const s = fft.allocSpectrum(); fft.forward(a, s); // a delta: every real part is 1
 *   fft.inverse(s, a); // back to the delta
 */
import FFT from 'fft.js';
import { fftEngine, type FftEngine } from './fft-engine.js';
import { wasmFft, type ColumnFilter, type WasmFft } from './fft-wasm.js';

/** Length of a half spectrum of an n*n real image (Float64 values). */
export function spectrumLength(n: number): number {
  return 2 * n * (n / 2 + 1);
}

export class RealFft2 {
  /** Spectral columns kept: n/2 + 1. */
  readonly columns: number;
  private readonly fft: FFT;
  private readonly line: Float64Array;
  private readonly lineOut: Float64Array;
  private readonly work: Float64Array;
  private readonly columnBuf: Float64Array;
  private readonly wasm: WasmFft | null;

  constructor(
    readonly n: number,
    engine: FftEngine = fftEngine(),
  ) {
    if (n < 4 || (n & (n - 1)) !== 0)
      throw new RangeError(`FFT size ${n} is not a power of two >= 4`);
    this.columns = n / 2 + 1;
    this.fft = new FFT(n);
    this.line = new Float64Array(2 * n);
    this.lineOut = new Float64Array(2 * n);
    this.work = new Float64Array(spectrumLength(n));
    this.columnBuf = new Float64Array(2 * n);
    this.wasm = engine === 'wasm' ? wasmFft() : null;
  }

  /** The WebAssembly engine when it runs output rows [y0, y1), else null. */
  private wasmFor(y0: number, y1: number): WasmFft | null {
    return y0 >= 0 && y1 <= this.n ? this.wasm : null;
  }

  /** A zeroed half spectrum. */
  allocSpectrum(): Float64Array {
    return new Float64Array(spectrumLength(this.n));
  }

  /**
   * Half spectrum of the real n*n image `input` (row-major) into `out`. Rows outside
   * [y0, y1) are taken as zero without being read; y0 > y1 means the wrapped band
   * [y0, n) and [0, y1).
   */
  forward(input: Float64Array, out: Float64Array, y0 = 0, y1 = this.n): void {
    if (this.wasm) return this.wasm.forward(this.n, input, out, y0, y1);
    const col = 2 * this.n;
    this.forwardRows(input, y0, y1);
    for (let k = 0; k < this.columns; k++)
      this.fft.transform(
        out.subarray(k * col, (k + 1) * col),
        this.work.subarray(k * col, (k + 1) * col),
      );
  }

  /**
   * Forward transform, `filter` on each spectral column as it is made, inverse: rows [r0, r1) of
   * the filtered image into `out` (n*n, row-major). Each column is filtered and transformed back
   * while in cache; the same arithmetic as forward, a filter over the spectrum, then inverse.
   * `filter(kx, column)` changes column kx (n complex values, ky = 0 .. n-1) in place.
   */
  filterColumns(
    input: Float64Array,
    y0: number,
    y1: number,
    filter: ColumnFilter,
    out: Float64Array,
    r0 = 0,
    r1 = this.n,
  ): void {
    const wasm = this.wasmFor(r0, r1);
    if (wasm) return wasm.filterColumns(this.n, input, y0, y1, filter, out, r0, r1);
    const { fft, work, columnBuf } = this;
    const col = 2 * this.n;
    this.forwardRows(input, y0, y1);
    for (let k = 0; k < this.columns; k++) {
      const c = work.subarray(k * col, (k + 1) * col);
      fft.transform(columnBuf, c);
      filter(k, columnBuf);
      for (let i = 1; i < col; i += 2) columnBuf[i] = -columnBuf[i];
      fft.transform(c, columnBuf);
    }
    this.inverseRows(work, out, r0, r1);
  }

  /** The column pass of the inverse on one spectral column (2n values, as in a half spectrum) into `out` (2n): conj(n IFFT). */
  inverseColumn(column: Float64Array, out: Float64Array): void {
    if (this.wasm) return this.wasm.inverseColumn(this.n, column, out);
    const buf = this.columnBuf;
    for (let i = 0; i < buf.length; i += 2) {
      buf[i] = column[i];
      buf[i + 1] = -column[i + 1];
    }
    this.fft.transform(out, buf);
  }

  /** inverseColumn of the column whose conjugate is given (a caller that can write it conjugated saves the copy). */
  inverseConjugateColumn(conjugate: Float64Array, out: Float64Array): void {
    if (this.wasm) return this.wasm.inverseConjugateColumn(this.n, conjugate, out);
    this.fft.transform(out, conjugate);
  }

  /** The row pass of forward, into this.work. */
  private forwardRows(input: Float64Array, y0: number, y1: number): void {
    const { n, fft, line, lineOut, work, columns } = this;
    const col = 2 * n;
    const used = (y: number): boolean => (y0 <= y1 ? y >= y0 && y < y1 : y >= y0 || y < y1);
    for (let y = 0; y < n; y += 2) {
      const ua = used(y),
        ub = used(y + 1);
      if (!ua && !ub) {
        for (let k = 0; k < columns; k++) {
          const o = k * col + 2 * y;
          work[o] = work[o + 1] = work[o + 2] = work[o + 3] = 0;
        }
        continue;
      }
      // Rows y and y + 1 as one complex row a + i b.
      const a = y * n,
        b = a + n;
      if (ua && ub)
        for (let x = 0; x < n; x++) {
          line[2 * x] = input[a + x];
          line[2 * x + 1] = input[b + x];
        }
      else
        for (let x = 0; x < n; x++) {
          line[2 * x] = ua ? input[a + x] : 0;
          line[2 * x + 1] = ub ? input[b + x] : 0;
        }
      fft.transform(lineOut, line);
      // A(k) = (Z(k) + conj Z(n-k)) / 2, B(k) = (Z(k) - conj Z(n-k)) / 2i.
      for (let k = 0; k < columns; k++) {
        const m = 2 * ((n - k) & (n - 1));
        const zr = lineOut[2 * k],
          zi = lineOut[2 * k + 1],
          wr = lineOut[m],
          wi = lineOut[m + 1];
        const o = k * col + 2 * y;
        work[o] = 0.5 * (zr + wr);
        work[o + 1] = 0.5 * (zi - wi);
        work[o + 2] = 0.5 * (zi + wi);
        work[o + 3] = 0.5 * (wr - zr);
      }
    }
  }

  /** First inverse pass: every spectral column back to rows y, into `out` (same layout, inverseColumn's form); `spectrum` is kept. */
  inverseColumns(spectrum: Float64Array, out: Float64Array): void {
    if (this.wasm) return this.wasm.inverseColumns(this.n, spectrum, out);
    const col = 2 * this.n;
    for (let k = 0; k < this.columns; k++)
      this.inverseColumn(
        spectrum.subarray(k * col, (k + 1) * col),
        out.subarray(k * col, (k + 1) * col),
      );
  }

  /** Second inverse pass: rows [y0, y1) of the real image from `columns` (inverseColumns' output) into `out` (n*n, row-major). */
  inverseRows(columns: Float64Array, out: Float64Array, y0 = 0, y1 = this.n): void {
    const wasm = this.wasmFor(y0, y1);
    if (wasm) return wasm.inverseRows(this.n, columns, out, y0, y1);
    const { n, fft, line, lineOut } = this;
    const col = 2 * n,
      h = n / 2,
      scale = 1 / (n * n);
    for (let y = y0; y < y1; y += 2) {
      const pair = y + 1 < y1;
      // Z(k) = X(k) + i Y(k) over the whole row, X and Y Hermitian: the inverse is x + i y. The
      // columns hold conj X and conj Y (times n); the line is conj Z, for the forward transform.
      for (let k = 0; k <= h; k++) {
        const o = k * col + 2 * y,
          m = 2 * ((n - k) & (n - 1));
        const xr = columns[o],
          xi = -columns[o + 1];
        const yr = pair ? columns[o + 2] : 0,
          yi = pair ? -columns[o + 3] : 0;
        // Z(n-k) = conj X(k) + i conj Y(k), written first: at k = 0 and n/2 it is Z(k)'s own place.
        line[m] = xr + yi;
        line[m + 1] = -(yr - xi);
        line[2 * k] = xr - yi;
        line[2 * k + 1] = -(xi + yr);
      }
      fft.transform(lineOut, line);
      const a = y * n;
      for (let x = 0; x < n; x++) out[a + x] = lineOut[2 * x] * scale;
      if (pair) {
        const b = a + n;
        for (let x = 0; x < n; x++) out[b + x] = -lineOut[2 * x + 1] * scale;
      }
    }
  }

  /** The real image's rows [y0, y1) from its half spectrum (kept). */
  inverse(spectrum: Float64Array, out: Float64Array, y0 = 0, y1 = this.n): void {
    const wasm = this.wasmFor(y0, y1);
    if (wasm) return wasm.inverse(this.n, spectrum, out, y0, y1);
    this.inverseColumns(spectrum, this.work);
    this.inverseRows(this.work, out, y0, y1);
  }
}

/**
 * Half spectrum of a small odd-sized real kernel centred on the origin (wrap-around), so that
 * multiplying by it convolves without shifting: out(x) = sum_u k(u) in(x - u).
 */
export function realKernelSpectrum(
  fft: RealFft2,
  kernel: ArrayLike<number>,
  size: number,
  out: Float64Array = fft.allocSpectrum(),
): Float64Array {
  const n = fft.n;
  if (size % 2 !== 1 || size > n)
    throw new RangeError(`kernel size ${size} must be odd and <= ${n}`);
  const half = (size - 1) / 2;
  const image = new Float64Array(n * n);
  for (let v = -half; v <= half; v++) {
    const y = (v + n) % n;
    for (let u = -half; u <= half; u++)
      image[y * n + ((u + n) % n)] = kernel[(v + half) * size + u + half];
  }
  // Only rows -half .. half (wrapped) are non-zero: the forward pass skips the rest.
  fft.forward(image, out, size < n ? n - half : 0, size < n ? half + 1 : n);
  return out;
}
