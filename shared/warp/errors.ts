/** The template covers too little of the science image to be worth differencing. */
export class InsufficientCoverageError extends Error {
  constructor(
    /** Fraction of science pixels the warped template covers, 0..1. */
    readonly coverageFraction: number,
    /** The configured minimum. */
    readonly minCoverageFraction: number,
  ) {
    super(
      `template covers ${(100 * coverageFraction).toFixed(2)}% of the science image, below the minimum ${(100 * minCoverageFraction).toFixed(2)}%`,
    );
    this.name = 'InsufficientCoverageError';
  }
}

/** The science/template pixel map is degenerate (zero, non-finite or absurd scale): input no retry can fix. */
export class WarpGeometryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WarpGeometryError';
  }
}
