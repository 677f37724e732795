/**
 * Plain-data forms of a characterization's PSF models, so that a result computed in a worker
 * thread (structured clone keeps data, not classes) is rebuilt as the same models here.
 */
import type { Psf } from '../psf/types.js';
import { GaussianPsf } from '../psf/gaussian-psf.js';
import { PixelPsf, type PixelPsfFrame } from '../psf/pixel-psf.js';
import { OffsetPsf } from '../psf/offset-psf.js';

export type PsfTransfer =
  | { kind: 'pixel'; stampSize: number; degree: number; basis: Float64Array; frame: PixelPsfFrame }
  | { kind: 'gaussian'; ixx: number; iyy: number; ixy: number; stampSize: number }
  | { kind: 'offset'; local: PsfTransfer; x0: number; y0: number };

/** The data that rebuilds `psf` (a model characterizeImage fits: pixel, Gaussian, or either seen from a parent frame). */
export function psfToTransfer(psf: Psf): PsfTransfer {
  if (psf instanceof PixelPsf) return { kind: 'pixel', stampSize: psf.stampSize, degree: psf.degree, basis: psf.basis, frame: { width: psf.frame.width, height: psf.frame.height } };
  if (psf instanceof GaussianPsf) return { kind: 'gaussian', ixx: psf.ixx, iyy: psf.iyy, ixy: psf.ixy, stampSize: psf.stampSize };
  if (psf instanceof OffsetPsf) return { kind: 'offset', local: psfToTransfer(psf.local), x0: psf.x0, y0: psf.y0 };
  throw new TypeError(`no transfer form for a ${psf.constructor.name}`);
}

export function psfFromTransfer(t: PsfTransfer): Psf {
  switch (t.kind) {
    case 'pixel':
      return new PixelPsf(t.stampSize, t.degree, t.basis, t.frame);
    case 'gaussian':
      return new GaussianPsf(t.ixx, t.iyy, t.ixy, t.stampSize);
    case 'offset':
      return new OffsetPsf(psfFromTransfer(t.local), t.x0, t.y0);
  }
}
