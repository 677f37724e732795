/**
 * Fake-source injection and scoring, after Rubin's source_injection package and the AP
 * completeness studies (e.g. Sánchez et al. 2022, MNRAS 515, 4730 for the DESC DC2 pipeline):
 * PSF-model point sources of known flux are added to the science image, on host galaxies and
 * in empty sky, the pair is differenced and detected again, and the detections are matched back
 * to give completeness against SNR, flux bias and purity.
 */
import { Exposure } from '../image/exposure.js';
import { MaskPlane, UNUSABLE } from '../image/mask.js';
import type { Psf } from '../psf/types.js';
import { completenessBins, fitCompleteness, type CompletenessBin } from './completeness.js';
import { detectDiaSources, detectDiaSourcesParallel, DEFAULT_DETECT_CONFIG } from './detect.js';
import { forcedPsfFlux } from './psf-fit.js';
import { quantile } from './sky-sources.js';
import { mulberry32 } from '../util/random.js';
import type { DiaSourceRecord } from './types.js';

export interface FakesConfig {
  /** Fakes to inject. Default 500. */
  count: number;
  /** Difference-image SNR range, drawn log-uniformly. Default [3, 50]. */
  snrRange: [number, number];
  /** Share of fakes placed on host galaxies. Default 0.5. */
  hostFraction: number;
  /** Largest offset of a hosted fake from its host's centre, PSF FWHM. Default 1. */
  hostOffsetFwhm: number;
  /** Fakes are kept at least this far apart and from the edges, PSF FWHM. Default 6. */
  minSeparationFwhm: number;
  /** A detection within this radius matches a fake (or a known real source), PSF FWHM. Default 1. */
  matchRadiusFwhm: number;
  /** Purity and the headline completeness count sources with |SNR| at or above this. Default 6. */
  snrCut: number;
  /** Real/bogus cut: sources with reliability >= this are kept. Default 0.5. */
  reliabilityCut: number;
  seed: number;
}

export const DEFAULT_FAKES_CONFIG: FakesConfig = {
  count: 500,
  snrRange: [3, 50],
  hostFraction: 0.5,
  hostOffsetFwhm: 1,
  minSeparationFwhm: 6,
  matchRadiusFwhm: 1,
  snrCut: 6,
  reliabilityCut: 0.5,
  seed: 1,
};

export interface FakeSource {
  x: number;
  y: number;
  /** Injected flux, science ADU. */
  flux: number;
  /** Planned SNR on the difference: flux over the difference's PSF-flux error at (x, y). */
  snr: number;
  onHost: boolean;
  /** Forced PSF flux at (x, y) on the difference before injection (host residuals etc.), ADU. */
  baselineFlux: number;
}

/** A copy of an exposure with its own pixel planes (WCS, PSF and visit info shared). */
export function copyExposure(exposure: Exposure): Exposure {
  return new Exposure(
    exposure.image.clone(),
    exposure.mask.clone(),
    exposure.variance.clone(),
    exposure.wcs,
    exposure.psf,
    exposure.info,
  );
}

/**
 * Host galaxies on a background-subtracted science exposure: sources above 10 sigma whose
 * second moments are at least 1.5x the PSF's (resolved), unsaturated.
 */
export function findHosts(science: Exposure, psf: Psf): Array<{ x: number; y: number }> {
  const work = copyExposure(science);
  const { sources } = detectDiaSources(work, psf, {
    ...DEFAULT_DETECT_CONFIG,
    threshold: 10,
    detectNegative: false,
    fitDipoles: false,
    skySources: 0,
  });
  const s2 = psf.sigmaAt((science.width - 1) / 2, (science.height - 1) / 2) ** 2;
  return sources
    .filter((s) => s.ixx + s.iyy > 3 * s2 && !s.flags.saturated && !s.flags.edge)
    .map(({ x, y }) => ({ x, y }));
}

/**
 * Positions and fluxes of fakes: `hostFraction` of them near `hosts`, the rest in empty sky
 * (no DETECTED / DETECTED_NEGATIVE or unusable pixel within 2 FWHM on `difference`, which
 * should be a difference already run through detection); fluxes give log-uniform SNR from the
 * difference's own PSF-flux error.
 */
export function planFakes(
  difference: Exposure,
  differencePsf: Psf,
  hosts: ReadonlyArray<{ x: number; y: number }>,
  config: FakesConfig = DEFAULT_FAKES_CONFIG,
): FakeSource[] {
  const random = mulberry32(config.seed);
  const { width, height } = difference;
  const fwhm = differencePsf.fwhmAt((width - 1) / 2, (height - 1) / 2);
  const margin = Math.max(config.minSeparationFwhm * fwhm, (differencePsf.stampSize - 1) / 2 + 2);
  const minSep2 = (config.minSeparationFwhm * fwhm) ** 2;
  const avoid = UNUSABLE | MaskPlane.DETECTED | MaskPlane.DETECTED_NEGATIVE;
  const clearRadius = Math.ceil(2 * fwhm);
  const fakes: FakeSource[] = [];
  const [lo, hi] = config.snrRange;
  const tryPlace = (onHost: boolean): boolean => {
    let x: number;
    let y: number;
    if (onHost) {
      const host = hosts[Math.floor(random() * hosts.length)];
      const r = config.hostOffsetFwhm * fwhm * Math.sqrt(random());
      const a = 2 * Math.PI * random();
      [x, y] = [host.x + r * Math.cos(a), host.y + r * Math.sin(a)];
    } else {
      [x, y] = [
        margin + random() * (width - 2 * margin),
        margin + random() * (height - 2 * margin),
      ];
    }
    if (x < margin || y < margin || x > width - 1 - margin || y > height - 1 - margin) return false;
    if (fakes.some((f) => (f.x - x) ** 2 + (f.y - y) ** 2 < minSep2)) return false;
    if (touches(difference, x, y, onHost ? 1 : clearRadius, onHost ? UNUSABLE : avoid))
      return false;
    const { flux: baselineFlux, fluxErr } = forcedPsfFlux(
      difference,
      differencePsf,
      x,
      y,
      UNUSABLE,
    );
    if (!(fluxErr > 0)) return false;
    const snr = lo * (hi / lo) ** random();
    fakes.push({ x, y, flux: snr * fluxErr, snr, onHost, baselineFlux });
    return true;
  };
  // Hosts first (they are scarcer); whatever they cannot take goes to empty sky.
  const wantHosts = hosts.length > 0 ? Math.round(config.count * config.hostFraction) : 0;
  for (let attempt = 0; attempt < wantHosts * 50 && fakes.length < wantHosts; attempt++)
    tryPlace(true);
  for (let attempt = 0; attempt < config.count * 200 && fakes.length < config.count; attempt++)
    tryPlace(false);
  return fakes;
}

function touches(exposure: Exposure, x: number, y: number, radius: number, bits: number): boolean {
  const cx = Math.round(x);
  const cy = Math.round(y);
  for (let py = Math.max(0, cy - radius); py <= Math.min(exposure.height - 1, cy + radius); py++) {
    for (let px = Math.max(0, cx - radius); px <= Math.min(exposure.width - 1, cx + radius); px++)
      if (exposure.mask.get(px, py) & bits) return true;
  }
  return false;
}

/** Adds each fake as flux * PSF (noiseless, as Rubin's injection does by default) to the exposure's image, in place. */
export function injectFakes(exposure: Exposure, psf: Psf, fakes: readonly FakeSource[]): void {
  for (const f of fakes) {
    const stamp = psf.stampAt(f.x, f.y);
    const r = (stamp.size - 1) / 2;
    for (let j = 0; j < stamp.size; j++) {
      const py = Math.round(f.y) + j - r;
      if (py < 0 || py >= exposure.height) continue;
      const row = exposure.image.row(py);
      for (let i = 0; i < stamp.size; i++) {
        const px = Math.round(f.x) + i - r;
        if (px >= 0 && px < exposure.width) row[px] += f.flux * stamp.data[j * stamp.size + i];
      }
    }
  }
}

export interface PurityFigures {
  /** Detections with |SNR| >= snrCut. */
  detections: number;
  /** Those matching a fake or a known real source. */
  real: number;
  /** real / detections (NaN with no detection). */
  purity: number;
}

export interface FakesReport {
  injected: number;
  onHost: number;
  /** Detected share of fakes with SNR >= snrCut: all, on hosts, in empty sky. */
  completenessAboveCut: number;
  completenessAboveCutHost: number;
  completenessAboveCutEmpty: number;
  /** Maximum-likelihood 50% point and width of C(SNR) = Phi((SNR - snr50) / width): all fakes, empty sky, hosts. */
  snr50: number;
  width: number;
  snr50Empty: number;
  snr50Host: number;
  bins: CompletenessBin[];
  /** Median of psfFlux / injected flux - 1 over detected fakes with SNR >= snrCut: all, empty sky only. */
  fluxBias: number;
  fluxBiasEmpty: number;
  /** The same with the pre-injection difference's forced flux at each position subtracted (removes host-subtraction residuals). */
  fluxBiasCorrected: number;
  /** Purity of |SNR| >= snrCut detections before and after the real/bogus cut (null without scores). */
  purityRaw: PurityFigures;
  purityAfterRb: PurityFigures | null;
  /** Whether known real sources (truth) were given; without them purity is a lower bound. */
  truthUsed: boolean;
  snrCut: number;
  /** Per fake, in the order given: whether it was detected and its measured PSF flux (NaN if missed). */
  outcomes: Array<{ detected: boolean; psfFlux: number }>;
}

/** The default SNR bin edges of the completeness table (log-spaced over 3-50, finer near 5). */
export const COMPLETENESS_EDGES = [3, 3.5, 4, 4.5, 5, 5.5, 6, 7, 8, 10, 13, 17, 25, 35, 50.001];

/**
 * Matches detections on the difference with fakes back to the fakes and known real sources
 * (`real`: positions of genuine changes, e.g. a simulation's truth; may be empty).
 */
export function scoreFakes(
  fakes: readonly FakeSource[],
  sources: readonly DiaSourceRecord[],
  matchRadius: number,
  real: ReadonlyArray<{ x: number; y: number }>,
  config: FakesConfig = DEFAULT_FAKES_CONFIG,
  truthUsed = real.length > 0,
): FakesReport {
  const positives = sources
    .map((s, i) => ({ s, i }))
    .filter(({ s }) => s.psfFlux > 0 || s.isDipole);
  const matchOf = fakes.map((f) =>
    nearest(
      positives.map(({ s }) => s),
      f,
      matchRadius,
    ),
  );
  const detected = matchOf.map((m) => m >= 0);
  const claimed = new Set(matchOf.filter((m) => m >= 0).map((m) => positives[m].i));
  const cut = config.snrCut;
  const share = (pick: (f: FakeSource) => boolean): number => {
    const idx = fakes.map((f, i) => ({ f, i })).filter(({ f }) => f.snr >= cut && pick(f));
    return idx.length ? idx.filter(({ i }) => detected[i]).length / idx.length : Number.NaN;
  };
  const bias = (pick: (f: FakeSource) => boolean, corrected = false): number => {
    const ratios = fakes.flatMap((f, i) => {
      if (f.snr < cut || !detected[i] || !pick(f)) return [];
      const offset = corrected && Number.isFinite(f.baselineFlux) ? f.baselineFlux : 0;
      return [(positives[matchOf[i]].s.psfFlux - offset) / f.flux];
    });
    return quantile(ratios, 0.5) - 1;
  };
  const fitOf = (pick: (f: FakeSource) => boolean) => {
    const idx = fakes.map((_, i) => i).filter((i) => pick(fakes[i]));
    if (idx.length === 0) return { snr50: Number.NaN, width: Number.NaN };
    return fitCompleteness(
      idx.map((i) => fakes[i].snr),
      idx.map((i) => detected[i]),
    );
  };
  const fit = fitOf(() => true);
  const isReal = (s: DiaSourceRecord, i: number): boolean =>
    claimed.has(i) || nearest(real, s, matchRadius) >= 0;
  const purity = (keep: (s: DiaSourceRecord) => boolean): PurityFigures => {
    const chosen = sources
      .map((s, i) => ({ s, i }))
      .filter(({ s }) => Math.abs(s.snr) >= cut && keep(s));
    const realCount = chosen.filter(({ s, i }) => isReal(s, i)).length;
    return {
      detections: chosen.length,
      real: realCount,
      purity: chosen.length ? realCount / chosen.length : Number.NaN,
    };
  };
  const scored = sources.some((s) => Number.isFinite(s.reliability));
  return {
    injected: fakes.length,
    onHost: fakes.filter((f) => f.onHost).length,
    completenessAboveCut: share(() => true),
    completenessAboveCutHost: share((f) => f.onHost),
    completenessAboveCutEmpty: share((f) => !f.onHost),
    snr50: fit.snr50,
    width: fit.width,
    snr50Empty: fitOf((f) => !f.onHost).snr50,
    snr50Host: fitOf((f) => f.onHost).snr50,
    bins: completenessBins(
      fakes.map((f) => f.snr),
      detected,
      COMPLETENESS_EDGES,
    ),
    fluxBias: bias(() => true),
    fluxBiasEmpty: bias((f) => !f.onHost),
    fluxBiasCorrected: bias(() => true, true),
    purityRaw: purity(() => true),
    purityAfterRb: scored ? purity((s) => s.reliability >= config.reliabilityCut) : null,
    truthUsed,
    snrCut: cut,
    outcomes: matchOf.map((m) => ({
      detected: m >= 0,
      psfFlux: m >= 0 ? positives[m].s.psfFlux : Number.NaN,
    })),
  };
}

/** Index of the nearest point to `p` within `radius`, or -1. */
function nearest(
  points: ReadonlyArray<{ x: number; y: number }>,
  p: { x: number; y: number },
  radius: number,
): number {
  let best = -1;
  let bestD = radius * radius;
  points.forEach((q, i) => {
    const d = (q.x - p.x) ** 2 + (q.y - p.y) ** 2;
    if (d <= bestD) [best, bestD] = [i, d];
  });
  return best;
}

/** What a differencing step returns for fake injection: the difference and its PSF. */
export interface DifferenceRun {
  difference: Exposure;
  differencePsf: Psf;
}

export interface FakesRun {
  report: FakesReport;
  fakes: FakeSource[];
  /** Detections on the difference with fakes. */
  sources: DiaSourceRecord[];
  /** Detections on the difference without fakes. */
  baselineSources: DiaSourceRecord[];
}

export interface FakesOptions {
  config?: FakesConfig;
  detectConfig?: typeof DEFAULT_DETECT_CONFIG;
  /** Positions of known real changes (science pixels), e.g. from a simulation's truth. */
  real?: ReadonlyArray<{ x: number; y: number }>;
  /** The difference of the science image as given, when already made (saves one differencing). */
  baseline?: DifferenceRun;
  /** Fills `reliability` of the sources (a real/bogus scorer) from the injected science image and its difference. */
  score?: (sources: DiaSourceRecord[], science: Exposure, difference: Exposure) => Promise<void>;
}

/**
 * The whole fake-injection experiment on one science exposure (background-subtracted, with its
 * PSF): difference it as is, plan fakes on hosts and empty sky, inject them into a copy,
 * difference and detect again, and score.
 * @example
 *   const { report } = await runFakes(calexp, calexp.psf, (s) => subtractImages(s, warpedTemplate));
 */
export async function runFakes(
  science: Exposure,
  sciencePsf: Psf,
  differencer: (science: Exposure) => DifferenceRun | Promise<DifferenceRun>,
  options: FakesOptions = {},
): Promise<FakesRun> {
  const config = options.config ?? DEFAULT_FAKES_CONFIG;
  const detectConfig = options.detectConfig ?? DEFAULT_DETECT_CONFIG;
  const baseline = options.baseline ?? (await differencer(science));
  const baselineSources = (
    await detectDiaSourcesParallel(baseline.difference, baseline.differencePsf, {
      ...detectConfig,
      skySources: 0,
    })
  ).sources;
  const fakes = planFakes(
    baseline.difference,
    baseline.differencePsf,
    findHosts(science, sciencePsf),
    config,
  );
  const injected = copyExposure(science);
  injectFakes(injected, sciencePsf, fakes);
  const run = await differencer(injected);
  const { sources } = await detectDiaSourcesParallel(run.difference, run.differencePsf, {
    ...detectConfig,
    skySources: 0,
  });
  if (options.score) await options.score(sources, injected, run.difference);
  const { width, height } = run.difference;
  const radius =
    config.matchRadiusFwhm * run.differencePsf.fwhmAt((width - 1) / 2, (height - 1) / 2);
  const real = options.real ?? [];
  return {
    report: scoreFakes(fakes, sources, radius, real, config, options.real !== undefined),
    fakes,
    sources,
    baselineSources,
  };
}
