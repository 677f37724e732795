/**
 * Measurement of detected footprints on a difference image (detect.ts): PSF fits at the peaks,
 * deblended children, dipole fits, aperture fluxes, moments and flags. A pure function of the
 * exposure's planes, its PSF and the significance image, so any thread measures a footprint alike.
 */
import type { Exposure } from '../image/exposure.js';
import type { Psf } from '../psf/types.js';
import { findBlends } from './deblend.js';
import type { DetectConfig } from './config.js';
import { fitDipole, type DipoleFit } from './dipole.js';
import type { Footprint, Peak } from './footprints.js';
import { fitPsf, forcedPsfFlux, type PsfFit } from './psf-fit.js';
import { apertureFlux, maskFlags, secondMoments } from './shape.js';
import type { DiaSourceRecord } from './types.js';

/** Measures single sources and dipoles on one difference image. */
export class SourceMeasurer {
  constructor(
    private readonly exposure: Exposure,
    private readonly psf: Psf,
    private readonly config: DetectConfig,
    private readonly significance: Float32Array,
  ) {}

  /** A single (positive or negative) source at a footprint peak. */
  single(fp: Footprint, peak: Peak): DiaSourceRecord {
    const start = this.refinePeak(peak);
    const fit = fitPsf(this.exposure, this.psf, start.x, start.y, this.config.excludeBits);
    return this.pointSource(fp, fit);
  }

  /**
   * Children of the footprint's measured `own` sources (findBlends); each split parent is
   * re-measured in place at its jointly fitted position and flux.
   */
  deblend(fp: Footprint, own: DiaSourceRecord[], threshold: number): DiaSourceRecord[] {
    const splits = findBlends(
      this.exposure,
      this.psf,
      this.significance,
      fp,
      own.map((s) => ({ x: s.x, y: s.y, flux: s.psfFlux })),
      {
        threshold,
        minDeltaChi2: this.config.deblendMinDeltaChi2,
        minSeparationFwhm: this.config.deblendMinSeparationFwhm,
        minContrast: this.config.deblendMinContrast,
        maxElongation: this.config.deblendMaxElongation,
        excludeBits: this.config.excludeBits,
      },
    );
    return splits.map((split) => {
      const [parent, child] = [0, 1].map((l) =>
        this.pointSource(fp, {
          ...split.positions[l],
          xErr: split.positionErrs[l],
          yErr: split.positionErrs[l],
          flux: split.fluxes[l],
          fluxErr: split.fluxErrs[l],
          ndata: split.ndata,
        }),
      );
      Object.assign(own[split.parent], { ...parent, index: own[split.parent].index });
      return child;
    });
  }

  /** A single source of the footprint's sign at a measured position and PSF flux. */
  private pointSource(
    fp: Footprint,
    fit: Pick<PsfFit, 'x' | 'y' | 'xErr' | 'yErr' | 'flux' | 'fluxErr' | 'ndata'>,
  ): DiaSourceRecord {
    const record = this.base(fp.pixels, fit.x, fit.y, fp.sign, footprintBox(fp));
    record.xErr = fit.xErr;
    record.yErr = fit.yErr;
    record.psfFlux = fit.flux;
    record.psfFluxErr = fit.fluxErr;
    record.snr = fit.flux / fit.fluxErr;
    record.psfNdata = fit.ndata;
    record.isNegative = fp.sign < 0;
    record.flags.measurementFailed = !Number.isFinite(fit.flux);
    return record;
  }

  /** A dipole from a touching positive and negative footprint, or null when the fit does not support two lobes. */
  dipole(pos: Footprint, neg: Footprint): DiaSourceRecord | null {
    const pp = this.refinePeak(pos.peaks[0]);
    const np = this.refinePeak(neg.peaks[0]);
    const fit: DipoleFit = fitDipole(this.exposure, this.psf, pp, np, this.config.excludeBits);
    const minSnr = this.config.dipoleLobeMinSnr;
    if (
      !fit.converged ||
      fit.posFlux / fit.posFluxErr < minSnr ||
      -fit.negFlux / fit.negFluxErr < minSnr
    )
      return null;
    const x = (fit.xPos + fit.xNeg) / 2;
    const y = (fit.yPos + fit.yNeg) / 2;
    const separation = Math.hypot(fit.xPos - fit.xNeg, fit.yPos - fit.yNeg);
    if (separation > this.config.dipoleMaxSeparationFwhm * this.psf.fwhmAt(x, y)) return null;
    const pixels = Int32Array.from(new Set([...pos.pixels, ...neg.pixels])).sort();
    const box = [
      Math.min(pos.xMin, neg.xMin),
      Math.max(pos.xMax, neg.xMax),
      Math.min(pos.yMin, neg.yMin),
      Math.max(pos.yMax, neg.yMax),
    ];
    const forced = forcedPsfFlux(this.exposure, this.psf, x, y, this.config.excludeBits);
    const record = this.base(pixels, x, y, forced.flux >= 0 ? 1 : -1, box);
    record.xErr = Math.hypot(fit.posPositionErr, fit.negPositionErr) / 2;
    record.yErr = record.xErr;
    record.psfFlux = forced.flux;
    record.psfFluxErr = forced.fluxErr;
    record.snr = forced.flux / forced.fluxErr;
    record.psfNdata = forced.ndata;
    record.isNegative = forced.flux < 0;
    record.isDipole = true;
    record.dipoleMeanFlux = (fit.posFlux - fit.negFlux) / 2;
    record.dipoleFluxDiff = fit.posFlux + fit.negFlux;
    record.dipoleSep = separation;
    record.dipoleAngle = (Math.atan2(fit.yPos - fit.yNeg, fit.xPos - fit.xNeg) * 180) / Math.PI;
    return record;
  }

  /** Sub-pixel peak from a parabola through the 3x3 significance values (parent-frame coordinates). */
  private refinePeak(peak: Peak): { x: number; y: number } {
    const { width, height } = this.exposure;
    const s = (x: number, y: number): number =>
      this.significance[
        Math.min(height - 1, Math.max(0, y)) * width + Math.min(width - 1, Math.max(0, x))
      ];
    const vertex = (m: number, c: number, p: number): number => {
      const curvature = m - 2 * c + p;
      return curvature === 0 ? 0 : Math.max(-0.5, Math.min(0.5, (m - p) / (2 * curvature)));
    };
    const c = s(peak.x, peak.y);
    return {
      x: this.exposure.image.x0 + peak.x + vertex(s(peak.x - 1, peak.y), c, s(peak.x + 1, peak.y)),
      y: this.exposure.image.y0 + peak.y + vertex(s(peak.x, peak.y - 1), c, s(peak.x, peak.y + 1)),
    };
  }

  /** The fields every source shares: aperture flux, moments, footprint, flags. */
  private base(
    pixels: Int32Array,
    x: number,
    y: number,
    sign: number,
    box: number[],
  ): DiaSourceRecord {
    const ap = apertureFlux(this.exposure, x, y, this.config.apertureRadius);
    const moments = secondMoments(this.exposure, x, y, 1.5 * this.psf.sigmaAt(x, y), sign);
    return {
      index: 0,
      x,
      y,
      xErr: Number.NaN,
      yErr: Number.NaN,
      ra: Number.NaN,
      dec: Number.NaN,
      raErr: Number.NaN,
      decErr: Number.NaN,
      psfFlux: Number.NaN,
      psfFluxErr: Number.NaN,
      snr: Number.NaN,
      apFlux: ap.flux,
      apFluxErr: ap.fluxErr,
      scienceFlux: Number.NaN,
      scienceFluxErr: Number.NaN,
      templateFlux: Number.NaN,
      templateFluxErr: Number.NaN,
      ...moments,
      footprintArea: pixels.length,
      bboxSize: Math.max(box[1] - box[0], box[3] - box[2]) + 1,
      isNegative: false,
      isDipole: false,
      dipoleMeanFlux: Number.NaN,
      dipoleFluxDiff: Number.NaN,
      dipoleSep: Number.NaN,
      dipoleAngle: Number.NaN,
      psfNdata: 0,
      reliability: Number.NaN,
      flags: maskFlags(this.exposure, pixels, x, y),
    };
  }
}

function footprintBox(fp: Footprint): number[] {
  return [fp.xMin, fp.xMax, fp.yMin, fp.yMax];
}
