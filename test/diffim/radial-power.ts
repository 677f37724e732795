/** Test helper: the power of a forward-transformed n x n image (fft.js packed complex) in radial bins up to Nyquist. */

/** Mean |A(k)|^2 in `bins` equal bins of |k| from 2/n to 0.5 cycles per pixel, low to high (white noise: flat). */
export function radialPowerBins(spectrum: ArrayLike<number>, n: number, bins = 8): number[] {
  const sum = new Float64Array(bins),
    count = new Float64Array(bins);
  for (let v = 0; v < n; v++) {
    for (let u = 0; u < n; u++) {
      const k = Math.hypot(Math.min(u, n - u), Math.min(v, n - v)) / n;
      if (k < 2 / n || k >= 0.5) continue;
      const b = Math.floor((k / 0.5) * bins);
      sum[b] += spectrum[2 * (v * n + u)] ** 2 + spectrum[2 * (v * n + u) + 1] ** 2;
      count[b]++;
    }
  }
  return Array.from(sum, (s, i) => s / count[i]);
}
