/**
 * The one error type of the FITS reader and writer: a one-line message naming the problem
 * (truncated file, bad card, unsupported BITPIX, missing END, corrupt compressed tile, ...).
 */
export class FitsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FitsError';
  }
}
