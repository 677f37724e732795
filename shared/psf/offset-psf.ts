import type { Psf, PsfStamp } from './types.js';

/**
 * A PSF fitted in a sub-image's own pixels, seen in its parent's frame: an Exposure view keeps
 * its WCS and PSF in the parent's pixel grid (image.x0, image.y0 give the view's origin there),
 * so a template cut out of a larger tile is warped with its PSF evaluated where its WCS points.
 */
export class OffsetPsf implements Psf {
  constructor(
    readonly local: Psf,
    readonly x0: number,
    readonly y0: number,
  ) {}

  get stampSize(): number {
    return this.local.stampSize;
  }

  stampAt(x: number, y: number, centered?: boolean): PsfStamp {
    return this.local.stampAt(x - this.x0, y - this.y0, centered);
  }

  fwhmAt(x: number, y: number): number {
    return this.local.fwhmAt(x - this.x0, y - this.y0);
  }

  sigmaAt(x: number, y: number): number {
    return this.local.sigmaAt(x - this.x0, y - this.y0);
  }
}
