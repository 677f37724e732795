/**
 * A point-spread function model, evaluable anywhere on its image.
 */
export interface PsfStamp {
  /** Odd side length in pixels. */
  size: number;
  /** size*size pixels, row-major, summing to 1. */
  data: Float32Array;
}

export interface Psf {
  /**
   * The PSF at image position (x, y) (0-based), drawn on a stamp whose centre pixel
   * is (round(x), round(y)), i.e. the sub-pixel phase (x - round(x), y - round(y)) is kept.
   * Pass `centered = true` for the PSF centred exactly on the stamp's central pixel.
   */
  stampAt(x: number, y: number, centered?: boolean): PsfStamp;
  /** Full width at half maximum at (x, y), pixels. */
  fwhmAt(x: number, y: number): number;
  /** Gaussian-equivalent sigma at (x, y), pixels (sqrt of the mean of the second moments). */
  sigmaAt(x: number, y: number): number;
  /** Nominal stamp size (odd), pixels. */
  readonly stampSize: number;
}
