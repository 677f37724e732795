/** No star in the overlap of the two images can serve as a kernel candidate: PSF matching is impossible. */
export class NoKernelCandidatesError extends Error {
  constructor() {
    super('no kernel candidates: cannot PSF-match');
    this.name = 'NoKernelCandidatesError';
  }
}
