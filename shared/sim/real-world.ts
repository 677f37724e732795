/**
 * Real-world effects of `ap simulate` (issue 15, item 8), each off by default so that the default
 * images stay bit for bit what they were: an optical response that is not flat (a circular field
 * of view whose edge falls softly to a low floor, as an unflattened small-telescope frame shows),
 * diffuse light on the sky (nebulae: static, smooth, seen by every image), science headers whose
 * WCS is off by a given offset, rotation and scale (the true WCS is kept for the truth), files
 * without any WCS, without SATURATE or GAIN, and pixels in a unit other than ADU.
 */
import { makeSipWcs, SipWcs, type Wcs } from '../wcs/index.js';
import { TangentPlane } from '../wcs/sphere.js';
import type { SimConfig } from './config.js';
import type { ImageSpec } from './plan.js';
import { rngStream } from './random.js';
import { ARCSEC_PER_DEG } from '../util/numeric.js';

/** True when any pixel-level effect (response or diffuse light) is switched on. */
export function hasPixelEffects(config: SimConfig): boolean {
  return config.vignetteRadius > 0 || config.diffuseLightFraction > 0;
}

/**
 * The detector's relative response (1 in the clear field): 1 out to vignetteRadius (a fraction of
 * the half-side, about the detector centre), then a raised-cosine fall over vignetteEdgePx to
 * vignetteFloor beyond. The same for every image (the optics do not move on the detector).
 * Null when vignetting is off.
 */
export function responseMap(config: SimConfig): Float32Array | null {
  if (!(config.vignetteRadius > 0)) return null;
  const size = config.size;
  const half = (size - 1) / 2;
  const r0 = config.vignetteRadius * (size / 2);
  const edge = Math.max(1, config.vignetteEdgePx);
  const floor = config.vignetteFloor;
  const out = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const r = Math.hypot(x - half, y - half);
      const t = Math.min(1, Math.max(0, (r - r0) / edge));
      out[y * size + x] = floor + (1 - floor) * 0.5 * (1 + Math.cos(Math.PI * t));
    }
  }
  return out;
}

/** A diffuse nebula: a round Gaussian of surface brightness on the sky. */
interface DiffuseBlob {
  /** Offset from the field centre on the tangent plane, degrees. */
  xi: number;
  eta: number;
  /** Peak as a fraction of the mean science sky. */
  peak: number;
  /** Gaussian sigma, pixels. */
  sigmaPx: number;
}

function diffuseBlobs(config: SimConfig): DiffuseBlob[] {
  if (!(config.diffuseLightFraction > 0)) return [];
  const rng = rngStream(config.seed, 'diffuse');
  const count = Math.max(
    1,
    Math.round((config.diffuseLightPerMegapixel * config.size * config.size) / 1e6),
  );
  const halfDeg = ((config.size / 2) * config.pixelScaleArcsec) / ARCSEC_PER_DEG;
  return Array.from({ length: count }, () => ({
    xi: rng.between(-0.8, 0.8) * halfDeg,
    eta: rng.between(-0.8, 0.8) * halfDeg,
    peak: config.diffuseLightFraction * rng.between(0.5, 1),
    sigmaPx: config.diffuseLightScalePx * rng.between(0.6, 1.4),
  }));
}

/** Zero point of a science exposure at transparency 1 (the diffuse light's reference scale). */
function referenceZeroPoint(config: SimConfig): number {
  return config.zeroPointElectrons + 2.5 * Math.log10(config.exposureTime / config.gain);
}

/**
 * Adds the diffuse light (ADU) of the field to `light` in one image's pixel grid: each nebula is
 * placed through the image's true WCS, so it sits on the same sky in every image, at the image's
 * own photometric scale.
 */
export function addDiffuseLight(light: Float32Array, config: SimConfig, spec: ImageSpec): void {
  const blobs = diffuseBlobs(config);
  if (blobs.length === 0) return;
  const size = config.size;
  const plane = new TangentPlane(config.ra, config.dec);
  const sky = new Float64Array(2);
  const meanSky = (config.skyAdu[0] + config.skyAdu[1]) / 2;
  const scale = Math.pow(10, 0.4 * (spec.zeroPoint - referenceZeroPoint(config)));
  for (const b of blobs) {
    plane.toSky(b.xi, b.eta, sky);
    const p = spec.wcs.skyToPixel({ ra: Float64Array.of(sky[0]), dec: Float64Array.of(sky[1]) });
    const cx = p.x[0];
    const cy = p.y[0];
    const amp = b.peak * meanSky * scale;
    const reach = 5 * b.sigmaPx;
    const inv = 1 / (2 * b.sigmaPx * b.sigmaPx);
    const x0 = Math.max(0, Math.floor(cx - reach));
    const x1 = Math.min(size - 1, Math.ceil(cx + reach));
    const y0 = Math.max(0, Math.floor(cy - reach));
    const y1 = Math.min(size - 1, Math.ceil(cy + reach));
    for (let y = y0; y <= y1; y++) {
      const dy2 = (y - cy) * (y - cy);
      for (let x = x0; x <= x1; x++)
        light[y * size + x] += amp * Math.exp(-((x - cx) * (x - cx) + dy2) * inv);
    }
  }
}

/** The SIP parameters of a simulated WCS as a record of 'p_q' keys. */
function sipRecord(terms: SipWcs['a']): Record<string, number> {
  return Object.fromEntries(terms.map((t) => [`${t.p}_${t.q}`, t.c]));
}

/** The error put into one science header: offset (arcsec, east and north), rotation (deg), scale (fraction). */
export interface WcsError {
  offsetArcsec: [number, number];
  rotationDeg: number;
  scale: number;
}

/**
 * The WCS error of science visit `visit`: an offset of exactly wcsErrorArcsec in a random
 * direction, a rotation of +-wcsErrorRotationDeg and a scale error of +-wcsErrorScale (random
 * signs), so that tests meet the stated bounds; null when all three are 0 or for the template.
 */
export function wcsErrorFor(config: SimConfig, visit: number): WcsError | null {
  const { wcsErrorArcsec, wcsErrorRotationDeg, wcsErrorScale } = config;
  if (visit === 0 || (wcsErrorArcsec === 0 && wcsErrorRotationDeg === 0 && wcsErrorScale === 0))
    return null;
  const rng = rngStream(config.seed, `wcs-error-${visit}`);
  const angle = rng.between(0, 2 * Math.PI);
  const sign = (): number => (rng.uniform() < 0.5 ? -1 : 1);
  return {
    offsetArcsec: [wcsErrorArcsec * Math.cos(angle), wcsErrorArcsec * Math.sin(angle)],
    rotationDeg: wcsErrorRotationDeg * sign(),
    scale: wcsErrorScale * sign(),
  };
}

/** The true TAN-SIP WCS with a header error applied: CRVAL moved, CD rotated and scaled (SIP kept). */
export function perturbWcs(truth: SipWcs, error: WcsError): SipWcs {
  const plane = new TangentPlane(truth.crval[0], truth.crval[1]);
  const crval = new Float64Array(2);
  plane.toSky(
    error.offsetArcsec[0] / ARCSEC_PER_DEG,
    error.offsetArcsec[1] / ARCSEC_PER_DEG,
    crval,
  );
  const t = (error.rotationDeg * Math.PI) / 180;
  const c = Math.cos(t) * (1 + error.scale);
  const s = Math.sin(t) * (1 + error.scale);
  const [[a, b], [d, e]] = truth.cd;
  return makeSipWcs({
    crpix: truth.crpix,
    crval: [crval[0], crval[1]],
    cd: [
      [c * a - s * d, c * b - s * e],
      [s * a + c * d, s * b + c * e],
    ],
    a: sipRecord(truth.a),
    b: sipRecord(truth.b),
    order: truth.order,
  });
}

/** The WCS an image's header carries: none (writeWcs false), the truth, or the truth with the visit's error. */
export function headerWcs(config: SimConfig, spec: ImageSpec): Wcs | null {
  if (!config.writeWcs) return null;
  const error = wcsErrorFor(config, spec.visit);
  return error && spec.wcs instanceof SipWcs ? perturbWcs(spec.wcs, error) : spec.wcs;
}

/** One preset per real-world effect at the strength the acceptance figures are stated for (bench and tests). */
export const REAL_WORLD_PRESETS: Record<string, Partial<SimConfig>> = {
  vignetting: { vignetteRadius: 0.8 },
  'diffuse light': { diffuseLightFraction: 0.5 },
  'no SATURATE': { writeSaturate: false },
  'WCS errors': { wcsErrorArcsec: 5, wcsErrorRotationDeg: 0.1, wcsErrorScale: 0.005 },
  'no WCS, dithered': { writeWcs: false },
  'no WCS, aligned': { writeWcs: false, ditherPx: 0, rotationDeg: [0, 0] },
  'non-count units': { unitScale: 0.01, unit: 'uJy' },
  'no GAIN': { writeGain: false },
};
