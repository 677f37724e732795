/**
 * Input the pipeline cannot process, as opposed to a failure of the pipeline itself: a caller
 * (`ap process`, the Cloud Function) reports it in one line and dead-letters the image.
 * The warp's InsufficientCoverageError (template and science hardly overlap) is the same kind.
 */
export type InputRole = 'science' | 'template' | 'pair';

export class PipelineInputError extends Error {
  constructor(
    /** Which input is at fault: one image, or the two together (shapes, overlap). */
    readonly role: InputRole,
    message: string,
  ) {
    super(message);
    this.name = 'PipelineInputError';
  }
}
