/**
 * PSF matching of warps by their PSF models, for CompareWarp (Rubin's ModelPsfMatchTask, DMTN-080):
 * each input is convolved with the kernel that takes its own PSF model P_i to one target T, so that
 * the inputs' Moffat wings match as well as their cores and only true excesses differ from the median.
 *
 * The target T is the broadest input's PSF model convolved with a small Gaussian G (wider than every
 * input, so no kernel has to sharpen much), and K_i = T conj(P_i) / (|P_i|^2 + eps^2) in Fourier
 * space (Wiener-regularised where P_i has no power); the broadest input's kernel is about G.
 * Everything runs on the rejectBin-binned grid, with binned PSF stamps.
 */
import type { Psf } from '../psf/types.js';
import { nextPow2 } from '../util/fft.js';
import { RealFft2, realKernelSpectrum } from '../util/fft-real.js';
import { multiplySpectra, planTiles } from '../util/tiles.js';

/** An odd size x size image, centred, summing to 1. */
export interface Stamp {
  data: Float64Array;
  size: number;
}

/** Side of the FFT tiles that apply the kernels (a power of two; 4 or more kernel widths keep the halo's cost low). */
const TILE_FFT = 256;
/** Regularisation eps of the division by a transfer function (1 at k = 0): frequencies where P_i is weaker are not restored. */
const WIENER_EPS = 1e-3;

/**
 * The PSF model at (x, y) binned bin x bin, its centre at the centre of the central block (even
 * bins: the PSF drawn half a pixel off a pixel centre), normalised to unit sum.
 */
export function binnedPsfStamp(psf: Psf, x: number, y: number, bin: number): Stamp {
  const cx = Math.round(x);
  const cy = Math.round(y);
  const stamp = bin % 2 ? psf.stampAt(cx, cy, true) : psf.stampAt(cx + 0.5, cy + 0.5);
  const s = stamp.size;
  const h = (s - 1) / 2;
  const start = h - Math.floor(bin / 2);
  const hb = Math.max(
    0,
    Math.min(Math.floor(start / bin), Math.floor((2 * h - start - bin + 1) / bin)),
  );
  const size = 2 * hb + 1;
  const data = new Float64Array(size * size);
  let sum = 0;
  for (let j = 0; j < s; j++) {
    const bj = Math.floor((j - start) / bin) + hb;
    if (bj < 0 || bj >= size) continue;
    for (let i = 0; i < s; i++) {
      const bi = Math.floor((i - start) / bin) + hb;
      if (bi < 0 || bi >= size) continue;
      const v = stamp.data[j * s + i];
      data[bj * size + bi] += v;
      sum += v;
    }
  }
  for (let k = 0; k < data.length; k++) data[k] /= sum;
  return { data, size };
}

/**
 * Kernels K_i with K_i * P_i = T (module comment) for stamps P_i, T the stamp `broadest` convolved
 * with a Gaussian of `sigma` px; each kernel size x size (the widest stamp grown by 3 sigma a side),
 * unit sum.
 */
export function matchingKernels(
  stamps: readonly Stamp[],
  broadest: number,
  sigma: number,
): Stamp[] {
  const widest = Math.max(...stamps.map((s) => s.size));
  const n = Math.max(16, nextPow2(2 * widest + 1));
  const size = Math.min(n - 1, widest + 2 * Math.ceil(3 * sigma));
  const fft = new RealFft2(n);
  const spectra = stamps.map((s) => realKernelSpectrum(fft, s.data, s.size));
  const half = spectra[0].length / 2;
  const target = new Float64Array(2 * half);
  const broad = spectra[broadest];
  for (let q = 0; q < half; q++) {
    const kx = Math.floor(q / n);
    const ky = q % n;
    const fy = ky <= n / 2 ? ky : ky - n;
    const g = Math.exp((-2 * Math.PI * Math.PI * sigma * sigma * (kx * kx + fy * fy)) / (n * n));
    target[2 * q] = g * broad[2 * q];
    target[2 * q + 1] = g * broad[2 * q + 1];
  }
  const image = new Float64Array(n * n);
  return spectra.map((sp) => {
    const k = fft.allocSpectrum();
    for (let q = 0; q < half; q++) {
      const re = sp[2 * q];
      const im = sp[2 * q + 1];
      const power = re * re + im * im + WIENER_EPS * WIENER_EPS;
      const tr = target[2 * q];
      const ti = target[2 * q + 1];
      // T conj(P) / (|P|^2 + eps^2).
      k[2 * q] = (tr * re + ti * im) / power;
      k[2 * q + 1] = (ti * re - tr * im) / power;
    }
    fft.inverse(k, image);
    const r = (size - 1) / 2;
    const data = new Float64Array(size * size);
    let sum = 0;
    for (let v = -r; v <= r; v++)
      for (let u = -r; u <= r; u++)
        sum += data[(v + r) * size + u + r] = image[((v + n) % n) * n + ((u + n) % n)];
    for (let q = 0; q < data.length; q++) data[q] /= sum;
    return { data, size };
  });
}

/**
 * out = (K * (x m)) / (K * m) on a width x height image x whose usable pixels are m = 1 (x is 0
 * where m is 0), NaN where K * m < 0.5: the normalised convolution of blurUsable with a kernel
 * of any shape, by overlap-save FFT tiles.
 */
export function convolveUsable(
  image: Float32Array,
  usable: Float32Array,
  width: number,
  height: number,
  kernel: Stamp,
  out: Float32Array,
): void {
  const halo = (kernel.size - 1) / 2;
  const n = Math.max(TILE_FFT, nextPow2(4 * kernel.size));
  const fft = new RealFft2(n);
  const k = realKernelSpectrum(fft, kernel.data, kernel.size);
  const spectrum = fft.allocSpectrum();
  const window = new Float64Array(n * n);
  const valueOut = new Float64Array(n * n);
  const plan = planTiles(width, height, { fftSize: n, halo, blend: 0 });
  const filter = (plane: Float32Array, t: (typeof plan.tiles)[number], dst: Float64Array) => {
    window.fill(0);
    for (let y = Math.max(0, t.wy); y < Math.min(height, t.wy + n); y++)
      for (let x = Math.max(0, t.wx); x < Math.min(width, t.wx + n); x++)
        window[(y - t.wy) * n + x - t.wx] = plane[y * width + x];
    fft.forward(window, spectrum);
    multiplySpectra(spectrum, k, spectrum);
    fft.inverse(spectrum, dst, t.oy - t.wy, t.oy + t.oh - t.wy);
  };
  const weightOut = new Float64Array(n * n);
  for (const t of plan.tiles) {
    filter(image, t, valueOut);
    let allUsable = true;
    for (let y = Math.max(0, t.wy); y < Math.min(height, t.wy + n) && allUsable; y++)
      for (let x = Math.max(0, t.wx); x < Math.min(width, t.wx + n); x++)
        if (usable[y * width + x] !== 1) {
          allUsable = false;
          break;
        }
    // A window wholly inside the image and usable: K * m is the kernel's sum, 1.
    const unit = allUsable && t.wx >= 0 && t.wy >= 0 && t.wx + n <= width && t.wy + n <= height;
    if (!unit) filter(usable, t, weightOut);
    for (let y = t.oy; y < t.oy + t.oh; y++) {
      for (let x = t.ox; x < t.ox + t.ow; x++) {
        const w = (y - t.wy) * n + (x - t.wx);
        const wt = unit ? 1 : weightOut[w];
        out[y * width + x] = wt >= 0.5 ? valueOut[w] / wt : Number.NaN;
      }
    }
  }
}
