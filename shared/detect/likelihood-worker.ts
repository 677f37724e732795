// Pool-task side of likelihoodImageParallel (likelihood.ts): correlation bands into shared planes.
import { correlateSeparableRows, type SeparableTerm } from './separable.js';

/** One separable correlation of `input` into `output` (both shared planes), output rows [y0, y1). */
export interface CorrelationJob {
  input: SharedArrayBuffer;
  output: SharedArrayBuffer;
  width: number;
  height: number;
  terms: SeparableTerm[];
  y0: number;
  y1: number;
}

export function correlateBands(jobs: CorrelationJob[]): void {
  for (const j of jobs)
    correlateSeparableRows(
      new Float32Array(j.input),
      j.width,
      j.height,
      j.terms,
      new Float32Array(j.output),
      j.y0,
      j.y1,
    );
}
