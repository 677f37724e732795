/**
 * Bounds on every size an image's header implies, checked before anything is allocated or
 * requested: a degenerate or absurd WCS (CD1_1 = CD2_2 = 0, a CD scaled by 1e-9, 200"/px) is
 * input no retry can fix, reported with its reason instead of a hang, a RangeError or thousands
 * of storage requests.
 */
import { separationDeg } from '../healpix/index.js';
import type { Exposure } from '../image/exposure.js';
import type { Wcs } from '../wcs/types.js';
import { PipelineInputError, type InputRole } from './errors.js';
import { ARCSEC_PER_DEG } from '../util/numeric.js';

export interface LimitsConfig {
  /** Smallest and largest pixel scale accepted along either axis, arcsec/px (HST ~0.04, Rubin 0.2, ATLAS 1.86). Default 0.005 and 30. */
  minPixelScaleArcsec: number;
  maxPixelScaleArcsec: number;
  /** Largest ratio of the two axes' scales (a sheared or nearly singular CD matrix). Default 10. */
  maxAxisRatio: number;
  /** Largest radius of an image's footprint on the sky, degrees (a 4k x 4k detector at 1.86"/px: 1.5). Default 3. */
  maxFootprintRadiusDeg: number;
  /** Largest image accepted, pixels (4k x 4k is 16.8 M). Default 2^27 (134 M, 512 MB of float32). */
  maxPixels: number;
}

export const DEFAULT_LIMITS_CONFIG: LimitsConfig = {
  minPixelScaleArcsec: 0.005,
  maxPixelScaleArcsec: 30,
  maxAxisRatio: 10,
  maxFootprintRadiusDeg: 3,
  maxPixels: 2 ** 27,
};

/** Singular values of a 2x2 matrix, arcsec/px from deg/px. */
function axisScalesArcsec([[a, b], [c, d]]: [[number, number], [number, number]]): [
  number,
  number,
] {
  const s1 = a * a + b * b + c * c + d * d;
  const det = a * d - b * c;
  const root = Math.sqrt(Math.max(s1 * s1 - 4 * det * det, 0));
  return [
    Math.sqrt(Math.max((s1 - root) / 2, 0)) * ARCSEC_PER_DEG,
    Math.sqrt((s1 + root) / 2) * ARCSEC_PER_DEG,
  ];
}

/** Why the WCS over a width x height grid is unusable, or null when it is within the limits. */
export function wcsProblem(
  wcs: Wcs,
  width: number,
  height: number,
  limits: LimitsConfig,
): string | null {
  const points: Array<[number, number]> = [
    [(width - 1) / 2, (height - 1) / 2],
    [0, 0],
    [width - 1, 0],
    [0, height - 1],
    [width - 1, height - 1],
  ];
  for (const [x, y] of points) {
    let scales: [number, number];
    try {
      scales = axisScalesArcsec(wcs.jacobian(x, y).matrix);
    } catch (err) {
      return `WCS cannot be evaluated at pixel (${x}, ${y}): ${(err as Error).message}`;
    }
    const [small, large] = scales;
    const where = `at pixel (${x}, ${y})`;
    if (!Number.isFinite(small) || !Number.isFinite(large))
      return `WCS has a non-finite pixel scale ${where}`;
    if (small < limits.minPixelScaleArcsec)
      return `WCS pixel scale ${small.toPrecision(3)}"/px ${where} is below ${limits.minPixelScaleArcsec}"/px (degenerate CD matrix?)`;
    if (large > limits.maxPixelScaleArcsec)
      return `WCS pixel scale ${large.toPrecision(3)}"/px ${where} is above ${limits.maxPixelScaleArcsec}"/px`;
    if (large > limits.maxAxisRatio * small)
      return `WCS axes differ in scale by ${(large / small).toPrecision(3)}x ${where}, above ${limits.maxAxisRatio}x (sheared or nearly singular CD matrix)`;
  }
  const corners = wcs.pixelToSky({
    x: Float64Array.of(0, width - 1, 0, width - 1),
    y: Float64Array.of(0, 0, height - 1, height - 1),
  });
  const centre = wcs.pixelToSky({
    x: Float64Array.of((width - 1) / 2),
    y: Float64Array.of((height - 1) / 2),
  });
  for (let i = 0; i < 4; i++) {
    const radius = separationDeg(centre.ra[0], centre.dec[0], corners.ra[i], corners.dec[i]);
    if (!Number.isFinite(radius)) return 'WCS maps an image corner to no sky position';
    if (radius > limits.maxFootprintRadiusDeg)
      return `footprint radius ${radius.toFixed(2)} deg is above ${limits.maxFootprintRadiusDeg} deg`;
  }
  return null;
}

/** Throws PipelineInputError(role) when the image's size or WCS is beyond the limits. */
export function checkLimits(
  exposure: Exposure,
  role: InputRole,
  limits: LimitsConfig = DEFAULT_LIMITS_CONFIG,
): void {
  const pixels = exposure.width * exposure.height;
  if (pixels > limits.maxPixels)
    throw new PipelineInputError(
      role,
      `${exposure.width}x${exposure.height} pixels is above the limit of ${limits.maxPixels}`,
    );
  const problem = exposure.wcs
    ? wcsProblem(exposure.wcs, exposure.width, exposure.height, limits)
    : null;
  if (problem) throw new PipelineInputError(role, problem);
}
