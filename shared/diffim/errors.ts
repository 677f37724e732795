/** No star in the overlap of the two images can serve as a kernel candidate: PSF matching is impossible. */
export class NoKernelCandidatesError extends Error {
  constructor() {
    super('no kernel candidates: cannot PSF-match');
    this.name = 'NoKernelCandidatesError';
  }
}

/** Every kernel fit, down to the simplest, was degenerate: the image cannot be PSF-matched. */
export class KernelFitError extends Error {
  constructor(readonly causes: string) {
    super(`PSF-matching kernel fit failed (${causes})`);
    this.name = 'KernelFitError';
  }
}

/** The difference came out unusable (no usable pixel, a non-finite PSF or noise figure): never written. */
export class DifferenceFailedError extends Error {
  constructor(readonly causes: string) {
    super(`difference unusable (${causes})`);
    this.name = 'DifferenceFailedError';
  }
}
