/**
 * Focal-plane geometry, enough to predict where each detector of a visit lands on the sky
 * before the exposure (for preloading templates and APDB rows).
 */
import type { NextVisit } from './next-visit.js';
import { ARCSEC_PER_DEG, RAD_PER_DEG } from '../util/numeric.js';

export interface CameraGeometry {
  instrument: string;
  /** Nominal pixel scale, arcsec per pixel. */
  pixelScaleArcsec: number;
  /** Detector size, pixels. */
  detectorWidth: number;
  detectorHeight: number;
  /** Detector centre offsets from the boresight in the focal plane (x east, y north at cameraAngle 0), arcsec. */
  offsetsArcsec: ReadonlyMap<number, readonly [number, number]>;
}

/** The simulated camera of `ap simulate` and `npm start`: a square grid of detectors with 5% gaps. */
export function gridCamera(
  instrument: string,
  detectorSize: number,
  perSide: number,
  pixelScaleArcsec = 0.2,
): CameraGeometry {
  const pitch = detectorSize * pixelScaleArcsec * 1.05;
  const offsets = new Map<number, readonly [number, number]>();
  for (let j = 0; j < perSide; j++) {
    for (let i = 0; i < perSide; i++) {
      offsets.set(j * perSide + i, [
        (i - (perSide - 1) / 2) * pitch,
        (j - (perSide - 1) / 2) * pitch,
      ]);
    }
  }
  return {
    instrument,
    pixelScaleArcsec,
    detectorWidth: detectorSize,
    detectorHeight: detectorSize,
    offsetsArcsec: offsets,
  };
}

export interface SkyCircle {
  /** Centre [ra, dec], degrees. */
  center: [number, number];
  radiusDeg: number;
}

/**
 * A circle on the sky that contains the detector, padded by `padArcsec` (DMTN-260 pads 30").
 * Offsets are applied on the tangent plane at the boresight, rotated by the camera angle.
 */
export function predictDetectorFootprint(
  visit: NextVisit,
  camera: CameraGeometry,
  detector: number,
  padArcsec = 30,
): SkyCircle {
  const offset = camera.offsetsArcsec.get(detector);
  if (!offset) throw new Error(`detector ${detector} is not part of ${camera.instrument}`);
  const angle = (visit.cameraAngle * Math.PI) / 180;
  const xi =
    ((offset[0] * Math.cos(angle) - offset[1] * Math.sin(angle)) / ARCSEC_PER_DEG) * RAD_PER_DEG;
  const eta =
    ((offset[0] * Math.sin(angle) + offset[1] * Math.cos(angle)) / ARCSEC_PER_DEG) * RAD_PER_DEG;
  const center = tangentToSky(visit.position[0], visit.position[1], xi, eta);
  const halfDiagonalArcsec =
    (Math.hypot(camera.detectorWidth, camera.detectorHeight) / 2) * camera.pixelScaleArcsec;
  return { center, radiusDeg: (halfDiagonalArcsec + padArcsec) / ARCSEC_PER_DEG };
}

/** Inverse gnomonic projection of standard coordinates (xi east, eta north; radians) about (ra0, dec0) in degrees. */
export function tangentToSky(
  ra0Deg: number,
  dec0Deg: number,
  xi: number,
  eta: number,
): [number, number] {
  const ra0 = (ra0Deg * Math.PI) / 180;
  const dec0 = (dec0Deg * Math.PI) / 180;
  const denom = Math.cos(dec0) - eta * Math.sin(dec0);
  const ra = ra0 + Math.atan2(xi, denom);
  const dec = Math.atan2(Math.sin(dec0) + eta * Math.cos(dec0), Math.hypot(xi, denom));
  return [((((ra * 180) / Math.PI) % 360) + 360) % 360, (dec * 180) / Math.PI];
}

/** Great-circle separation, degrees. */
export function angularSeparationDeg(ra1: number, dec1: number, ra2: number, dec2: number): number {
  const d = RAD_PER_DEG;
  const s =
    Math.sin(((dec2 - dec1) * d) / 2) ** 2 +
    Math.cos(dec1 * d) * Math.cos(dec2 * d) * Math.sin(((ra2 - ra1) * d) / 2) ** 2;
  return (2 * Math.asin(Math.min(1, Math.sqrt(s)))) / d;
}
