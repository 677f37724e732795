/**
 * Cutout triplets of the night report (page.ts): science, template and difference side by side,
 * each with shared/diffim's zscale + asinh preview stretch.
 */
import { readFits } from '../../shared/fits/index.js';
import { Plane, type ImageF } from '../../shared/image/plane.js';
import { previewPng } from '../../shared/diffim/preview.js';
import type { Alert } from '../../shared/alerts/types.js';

const png = (bytes: Buffer) => `data:image/png;base64,${bytes.toString('base64')}`;

/** Gap between the panels of a triplet, PNG pixels. */
export const TRIPLET_GAP_PX = 6;

/** The primary image of a cutout FITS file as a float plane. */
function cutoutPlane(fits: Buffer | null): ImageF | null {
  if (!fits) return null;
  const [primary] = readFits(fits);
  if (!primary?.data || primary.width === 0) return null;
  return new Plane(
    Float32Array.from(primary.data as ArrayLike<number>),
    primary.width,
    primary.height,
  );
}

/** Science, template and difference cutouts side by side, as a PNG data URL (null without cutouts). */
export function triplet(alert: Alert): string | null {
  const panels = [alert.cutoutScience, alert.cutoutTemplate, alert.cutoutDifference].map(
    cutoutPlane,
  );
  if (panels.some((p) => p === null)) return null;
  return png(previewPng(panels as ImageF[], TRIPLET_GAP_PX));
}
