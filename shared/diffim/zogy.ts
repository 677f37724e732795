/**
 * ZOGY image subtraction (Zackay, Ofek & Gal-Yam 2016, ApJ 830, 27), in blended FFT tiles
 * so that spatially varying PSFs are followed. With N the science ("new") and R the
 * template ("reference"), both background-subtracted, flux scales F_n = 1 and
 * F_r = 1 / kappa (kappa: science flux per template flux) and noise of per-pixel variance planes
 * sigma_n^2, sigma_r^2 and spectral shapes N_n(k), N_r(k) (the paper's white noise has N = 1; a warped
 * template has the resampling's, see noise.ts), sigma^2 -> sigma^2 N(k) throughout:
 *   D = (F_r P_r N - F_n P_n R) / sqrt(sigma_n^2 N_n F_r^2 |P_r|^2 + sigma_r^2 N_r F_n^2 |P_n|^2)   (eq. 13)
 *   F_D = F_r F_n / sqrt(sigma_n^2 N_n(0) F_r^2 + sigma_r^2 N_r(0) F_n^2),  P_D = F_r F_n P_r P_n / (F_D den)  (14, 15)
 *   S = F_D D (x) P_D-bar = S_N - S_R;  S_corr = S / sqrt(V(S_N) + V(S_R) + V_ast)            (17, 25-33)
 * D has unit white noise, so the image written, D / F_D in science flux units, has white noise of
 * variance sigma_n^2 N_n(0) + kappa^2 sigma_r^2 N_r(0); V(S_N) = sigma_n^2 sum_k |K_n|^2 N_n / n^2. V_ast (eq. 30-31) adds sigma_x^2 (dS/dx)^2 + sigma_y^2 (dS/dy)^2
 * for both parts; in the same spirit a fractional PSF / flux-scale error eps adds
 * eps^2 (S_N^2 + S_R^2) / 2, so that a few-percent PSF mismatch on a bright star does not
 * make a significant S_corr.
 */
import { Plane, type ImageF } from '../image/plane.js';
import type { NoiseLags } from '../image/exposure.js';
import type { PsfStamp } from '../psf/types.js';
import { cropCentred, Fft2, kernelSpectrum, nextPow2 } from '../util/fft.js';
import { runTileShares } from '../util/parallel-tiles.js';
import { asShared, fromShared, toShared, type SharedPlane } from '../util/shared-plane.js';
import { accumulate, planTiles, tileShares, type TilePlan } from '../util/tiles.js';
import { RealFft2, realKernelSpectrum } from '../util/fft-real.js';
import { loadTile, outputRows } from '../util/real-tiles.js';
import type { WorkerPool } from '../util/worker-pool.js';
import { GridPsf } from './psf-grid.js';
import type { NoiseAt, NoiseModels } from './decorrelate.js';
import { noiseLagsIn, NoiseShape } from './noise.js';
import { smoothPsfStamp, type MoffatPrior, type SmoothedPsf } from './smooth-psf-spectrum.js';
import { poolTask } from '../util/pool-task.js';

export interface ZogyOptions {
  fftSize: number;
  /** Blend half-width between tiles, pixels. */
  blend: number;
  /** Astrometric registration noise per axis, pixels (ZOGY's sigma_x, sigma_y). */
  astrometricSigmaPx: number;
  /** Fractional PSF / flux-scale error eps allowed for in S_corr. */
  psfErrorFraction: number;
  /**
   * Floor on eq. 13's denominator^2, relative to its value at k = 0: where both PSFs have
   * almost no power, model errors would otherwise be amplified without bound.
   */
  regularization: number;
}

export interface ZogyTerms {
  /** P_n and P_r spectra, n*n complex. */
  pn: Float64Array;
  pr: Float64Array;
  fr: number;
  fd: number;
  varN: number;
  varR: number;
  /** Noise spectra shapes N_n, N_r at the FFT's frequencies. */
  shapeN: NoiseShape;
  shapeR: NoiseShape;
  /** Added to den^2: `regularization` times den^2 at k = 0. */
  floor: number;
}

/** The scalars of eq. 13-15 for one position: F_r, F_D, the noise levels and the denominator floor. */
function scalars(
  kappa: number,
  varN: number,
  varR: number,
  shapeN: NoiseShape,
  shapeR: NoiseShape,
  regularization: number,
): Omit<ZogyTerms, 'pn' | 'pr'> {
  const fr = 1 / kappa;
  const den0 = varN * shapeN.atZero * fr * fr + varR * shapeR.atZero;
  return { fr, fd: fr / Math.sqrt(den0), varN, varR, shapeN, shapeR, floor: regularization * den0 };
}

function terms(
  fft: Fft2,
  pn: PsfStamp,
  pr: PsfStamp,
  kappa: number,
  varN: number,
  varR: number,
  lags: [NoiseLags | null, NoiseLags | null],
  regularization: number,
): ZogyTerms {
  const [shapeN, shapeR] = lags.map((l) => new NoiseShape(l, fft.n));
  return {
    pn: kernelSpectrum(fft, pn.data, pn.size),
    pr: kernelSpectrum(fft, pr.data, pr.size),
    ...scalars(kappa, varN, varR, shapeN, shapeR, regularization),
  };
}

/** Denominator^2 of eq. 13 at frequency index i of an n*n row-major spectrum. */
function den2(t: ZogyTerms, i: number): number {
  const n = t.shapeN.x.length,
    u = i % n,
    v = (i - u) / n;
  const pr2 = t.pr[2 * i] ** 2 + t.pr[2 * i + 1] ** 2;
  const pn2 = t.pn[2 * i] ** 2 + t.pn[2 * i + 1] ** 2;
  return (
    t.varN * t.shapeN.x[u] * t.shapeN.y[v] * t.fr * t.fr * pr2 +
    t.varR * t.shapeR.x[u] * t.shapeR.y[v] * pn2 +
    t.floor
  );
}

/** P_D spectrum (eq. 15). */
export function zogyPsfSpectrum(t: ZogyTerms): Float64Array {
  const out = new Float64Array(t.pn.length);
  for (let i = 0; i < out.length / 2; i++) {
    const d = Math.sqrt(den2(t, i));
    if (!(d > 1e-300)) continue;
    const k = t.fr / (t.fd * d);
    const re = t.pr[2 * i] * t.pn[2 * i] - t.pr[2 * i + 1] * t.pn[2 * i + 1];
    const im = t.pr[2 * i] * t.pn[2 * i + 1] + t.pr[2 * i + 1] * t.pn[2 * i];
    out[2 * i] = k * re;
    out[2 * i + 1] = k * im;
  }
  return out;
}

export interface ZogyResult {
  /** D / F_D, science flux units. */
  difference: ImageF;
  /** S_corr, in units of its own noise (a detection significance). */
  score: ImageF;
}

/** What each tile needs, computed where the PSF models live (the main thread). */
export interface ZogyTileInputs {
  /** Centred PSF model stamps at each tile's centre, smoothed by the thread that filters the tile. */
  science: PsfStamp[];
  template: PsfStamp[];
  /** The Moffat priors of that smoothing (smooth-psf-spectrum.ts) per tile, [science, template]. */
  priors: Array<[MoffatPrior | null, MoffatPrior | null]>;
  /** [science, template] variance-plane level per tile, flattened. */
  noise: Float64Array;
  /** Noise correlation of [science, template], in the images' pixel frame. */
  models: NoiseModels;
}

export interface ZogyPlanes {
  science: ImageF;
  template: ImageF;
  varScience: ImageF;
  varTemplate: ImageF;
  /** Outputs, added into (blend-weighted). */
  difference: ImageF;
  score: ImageF;
}

/**
 * Tiles with a halo of one PSF stamp side (twice the filters' half-width): on a 2048^2 simulated pair
 * D differs from a four-times halo by 0.02-0.03 sigma rms (max 1.1 sigma) and S_corr by < 0.002.
 */
function zogyPlan(width: number, height: number, reach: number, opt: ZogyOptions): TilePlan {
  const halo = reach;
  const n = Math.max(opt.fftSize, nextPow2(4 * (halo + opt.blend)));
  return planTiles(width, height, { fftSize: n, halo, blend: opt.blend });
}

/** ZOGY on tiles `indices`; reach is the larger PSF stamp side. */
export function zogyShare(
  p: ZogyPlanes,
  tiles: ZogyTileInputs,
  kappa: number,
  reach: number,
  opt: ZogyOptions,
  indices: number[],
): void {
  const plan = zogyPlan(p.science.width, p.science.height, reach, opt);
  const n = plan.fftSize;
  const fft = new RealFft2(n);
  const window = new Float64Array(n * n);
  const [sn, sr, pn, pr, d, kn, kr] = Array.from({ length: 7 }, () => fft.allocSpectrum());
  const [outD, sN, sR] = Array.from({ length: 3 }, () => new Float64Array(n * n));
  const ax2 = opt.astrometricSigmaPx ** 2,
    e2 = opt.psfErrorFraction ** 2;
  const col = 2 * n,
    last = 2 * n * (n / 2);
  for (const k of indices) {
    const tile = plan.tiles[k];
    // The inputs' noise over the pixels this tile writes.
    const [shapeN, shapeR] = tiles.models.map(
      (m) =>
        new NoiseShape(noiseLagsIn(m, tile.ox, tile.oy, tile.ox + tile.ow, tile.oy + tile.oh), n),
    );
    fft.forward(window, sn, ...loadTile(p.science, tile, n, window));
    fft.forward(window, sr, ...loadTile(p.template, tile, n, window));
    const t = scalars(
      kappa,
      tiles.noise[2 * k],
      tiles.noise[2 * k + 1],
      shapeN,
      shapeR,
      opt.regularization,
    );
    const [priorN, priorR] = tiles.priors[k];
    const stampN = smoothPsfStamp(tiles.science[k], priorN),
      stampR = smoothPsfStamp(tiles.template[k], priorR);
    realKernelSpectrum(fft, stampN.data, stampN.size, pn);
    realKernelSpectrum(fft, stampR.data, stampR.size, pr);
    let sumKn2 = 0,
      sumKr2 = 0;
    // Half spectrum by columns: element (kx, ky) at 2 (kx n + ky).
    const sx = shapeN.x,
      sy = shapeN.y,
      rx = shapeR.x,
      ry = shapeR.y;
    const a0 = t.fr / t.fd,
      b0 = 1 / t.fd,
      fr2 = t.fr * t.fr;
    for (
      let i = 0, kx = 0, ky = 0;
      i < sn.length;
      i += 2, ky = ky + 1 === n ? 0 : ky + 1, kx = ky === 0 ? kx + 1 : kx
    ) {
      const nN = sx[kx] * sy[ky],
        nR = rx[kx] * ry[ky];
      const pnr = pn[i],
        pni = pn[i + 1],
        prr = pr[i],
        pri = pr[i + 1];
      const pr2 = prr * prr + pri * pri,
        pn2 = pnr * pnr + pni * pni;
      const q = t.varN * nN * fr2 * pr2 + t.varR * nR * pn2 + t.floor;
      if (!(q > 1e-300)) {
        d[i] = d[i + 1] = kn[i] = kn[i + 1] = kr[i] = kr[i + 1] = 0;
        continue;
      }
      const inv = 1 / Math.sqrt(q);
      const nr = sn[i],
        ni = sn[i + 1],
        rr = sr[i],
        ri = sr[i + 1];
      // D / F_D = (F_r P_r N - P_n R) / (den F_D)
      const a = a0 * inv,
        b = b0 * inv;
      d[i] = a * (prr * nr - pri * ni) - b * (pnr * rr - pni * ri);
      d[i + 1] = a * (prr * ni + pri * nr) - b * (pnr * ri + pni * rr);
      // K_n = F_r^2 conj(P_n) |P_r|^2 / den^2, K_r = F_r conj(P_r) |P_n|^2 / den^2
      const cn = (fr2 * pr2) / q,
        cr = (t.fr * pn2) / q;
      const knr = cn * pnr,
        kni = -cn * pni,
        krr = cr * prr,
        kri = -cr * pri;
      // Sums over the whole spectrum: columns 1 .. n/2 - 1 stand for their mirror images too.
      const w = i < col || i >= last ? 1 : 2;
      sumKn2 += w * (knr * knr + kni * kni) * nN;
      sumKr2 += w * (krr * krr + kri * kri) * nR;
      kn[i] = knr * nr - kni * ni;
      kn[i + 1] = knr * ni + kni * nr;
      kr[i] = krr * rr - kri * ri;
      kr[i + 1] = krr * ri + kri * rr;
    }
    const kn2 = sumKn2 / (n * n),
      kr2 = sumKr2 / (n * n);
    const [r0, r1] = outputRows(tile);
    fft.inverse(d, outD, r0, r1);
    // S_corr needs the rows either side of the output for its derivatives.
    fft.inverse(kn, sN, r0 - 1, r1 + 1);
    fft.inverse(kr, sR, r0 - 1, r1 + 1);
    accumulate(tile, n, outD, p.difference);
    // S_corr, added into the output with the tile's blend weights (as accumulate does).
    for (let j = 0; j < tile.oh; j++) {
      const y = tile.oy + j;
      const vn = p.varScience.row(y),
        vr = p.varTemplate.row(y),
        out = p.score.row(y);
      const wy = tile.weightY[j];
      const base = (y - tile.wy) * n - tile.wx;
      for (let i = 0; i < tile.ow; i++) {
        const x = tile.ox + i;
        const o = base + x;
        const dxn = 0.5 * (sN[o + 1] - sN[o - 1]),
          dyn = 0.5 * (sN[o + n] - sN[o - n]);
        const dxr = 0.5 * (sR[o + 1] - sR[o - 1]),
          dyr = 0.5 * (sR[o + n] - sR[o - n]);
        const v =
          vn[x] * kn2 +
          vr[x] * kr2 +
          ax2 * (dxn * dxn + dyn * dyn + dxr * dxr + dyr * dyr) +
          (e2 * (sN[o] * sN[o] + sR[o] * sR[o])) / 2;
        if (v > 0) out[x] += (wy * tile.weightX[i] * (sN[o] - sR[o])) / Math.sqrt(v);
      }
    }
  }
}

export interface ZogyArgs {
  planes: {
    science: SharedPlane;
    template: SharedPlane;
    varScience: SharedPlane;
    varTemplate: SharedPlane;
    difference: SharedPlane;
    score: SharedPlane;
  };
  tiles: ZogyTileInputs;
  kappa: number;
  reach: number;
  opt: ZogyOptions;
  indices: number[];
}

/** Worker side of zogy. */
export function zogyWorker(a: ZogyArgs): void {
  const q = a.planes;
  const planes: ZogyPlanes = {
    science: fromShared(q.science),
    template: fromShared(q.template),
    varScience: fromShared(q.varScience),
    varTemplate: fromShared(q.varTemplate),
    difference: fromShared(q.difference),
    score: fromShared(q.score),
  };
  zogyShare(planes, a.tiles, a.kappa, a.reach, a.opt, a.indices);
}

/**
 * ZOGY difference and S_corr of background-subtracted, aligned images.
 * noiseAt gives the variance-plane levels [science, template] near a position, models their noise correlation;
 * varScience / varTemplate are the variance planes (for S_corr's per-pixel noise).
 */
export async function zogy(
  science: ImageF,
  template: ImageF,
  varScience: ImageF,
  varTemplate: ImageF,
  sciencePsf: SmoothedPsf,
  templatePsf: SmoothedPsf,
  kappa: number,
  noiseAt: NoiseAt,
  opt: ZogyOptions,
  pool: WorkerPool | null = null,
  models: NoiseModels = [null, null],
): Promise<ZogyResult> {
  const { width, height } = science;
  const reach = Math.max(sciencePsf.stampSize, templatePsf.stampSize);
  const plan = zogyPlan(width, height, reach, opt);
  const tiles: ZogyTileInputs = {
    science: plan.tiles.map((t) => sciencePsf.psf.stampAt(t.cx, t.cy, true)),
    template: plan.tiles.map((t) => templatePsf.psf.stampAt(t.cx, t.cy, true)),
    priors: plan.tiles.map((t) => [sciencePsf.prior(t.cx, t.cy), templatePsf.prior(t.cx, t.cy)]),
    noise: new Float64Array(2 * plan.tiles.length),
    models,
  };
  plan.tiles.forEach((t, i) => tiles.noise.set(noiseAt(t.cx, t.cy), 2 * i));
  const all = plan.tiles.map((_t, i) => i);
  if (!pool || pool.size === 0 || plan.tiles.length < 4) {
    const difference = Plane.zeros(Float32Array, width, height);
    const score = Plane.zeros(Float32Array, width, height);
    zogyShare(
      { science, template, varScience, varTemplate, difference, score },
      tiles,
      kappa,
      reach,
      opt,
      all,
    );
    return { difference, score };
  }
  // Blended tiles overlap: each thread adds into its own output planes, summed at the end.
  const inputs = {
    science: asShared(science),
    template: asShared(template),
    varScience: asShared(varScience),
    varTemplate: asShared(varTemplate),
  };
  const outs = Array.from({ length: 1 + pool.size }, () => ({
    difference: toShared({ width, height }),
    score: toShared({ width, height }),
  }));
  await runTileShares(
    plan,
    pool,
    poolTask(import.meta.url, { zogyWorker }),
    (indices) =>
      zogyShare(
        {
          science,
          template,
          varScience,
          varTemplate,
          difference: fromShared(outs[0].difference),
          score: fromShared(outs[0].score),
        },
        tiles,
        kappa,
        reach,
        opt,
        indices,
      ),
    (thread) => ({ planes: { ...inputs, ...outs[thread] }, tiles, kappa, reach, opt }),
  );
  const difference = fromShared(outs[0].difference),
    score = fromShared(outs[0].score);
  // Each other thread's planes are zero outside the rows its share of tiles wrote.
  tileShares(plan, outs.length).forEach((indices, thread) => {
    if (thread === 0 || indices.length === 0) return;
    const rows = indices.map((k) => plan.tiles[k]);
    const start = width * Math.min(...rows.map((t) => t.oy)),
      end = width * Math.max(...rows.map((t) => t.oy + t.oh));
    const d = new Float32Array(outs[thread].difference.buffer),
      sc = new Float32Array(outs[thread].score.buffer);
    for (let i = start; i < end; i++) {
      difference.data[i] += d[i];
      score.data[i] += sc[i];
    }
  });
  return { difference, score };
}

/** P_D on a grid of positions, each stamp `size` pixels, unit sum. */
export function zogyDifferencePsf(
  sciencePsf: SmoothedPsf,
  templatePsf: SmoothedPsf,
  kappa: number,
  noiseAt: NoiseAt,
  xs: number[],
  ys: number[],
  size: number,
  regularization: number,
  models: NoiseModels = [null, null],
): GridPsf {
  const fft = new Fft2(nextPow2(2 * Math.max(sciencePsf.stampSize, templatePsf.stampSize, size)));
  const stamps: Float32Array[] = [];
  for (const y of ys) {
    for (const x of xs) {
      const [vn, vr] = noiseAt(x, y);
      const lags = models.map((m) => noiseLagsIn(m, x, y, x + 1, y + 1)) as [
        NoiseLags | null,
        NoiseLags | null,
      ];
      const t = terms(
        fft,
        sciencePsf.stampAt(x, y),
        templatePsf.stampAt(x, y),
        kappa,
        vn,
        vr,
        lags,
        regularization,
      );
      const spec = zogyPsfSpectrum(t);
      fft.inverse(spec);
      stamps.push(cropCentred(spec, fft.n, size));
    }
  }
  return new GridPsf(xs, ys, stamps, size);
}
