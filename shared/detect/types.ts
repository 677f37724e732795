/**
 * A DIASource: one detection on a difference image, with its measurements.
 * Field names follow Rubin's DiaSource table (lsst.v11_0 alert schema); fluxes here are in the
 * science image's ADU (calibration to nJy happens when alerts are built), positions 0-based pixels.
 */
export interface DiaSourceFlags {
  /** Footprint touches the EDGE or NO_DATA planes. */
  edge: boolean;
  /** A saturated pixel in the footprint (science or template). */
  saturated: boolean;
  /** A saturated pixel within 1 px of the centroid. */
  saturatedCenter: boolean;
  /** An interpolated pixel in the footprint. */
  interpolated: boolean;
  interpolatedCenter: boolean;
  /** A cosmic-ray pixel in the footprint. */
  cr: boolean;
  crCenter: boolean;
  /** A BAD pixel in the footprint. */
  bad: boolean;
  /** A SUSPECT pixel within 1 px of the centroid. */
  suspectCenter: boolean;
  /** The PSF fit or centroid failed; values are NaN. */
  measurementFailed: boolean;
}

export interface DiaSourceRecord {
  /** Index of the source within its (visit, detector), 0-based; ids are derived from it. */
  index: number;
  /** Centroid, 0-based science-image pixels. */
  x: number;
  y: number;
  xErr: number;
  yErr: number;
  /** Sky position through the science WCS, degrees (NaN without a WCS). */
  ra: number;
  dec: number;
  raErr: number;
  decErr: number;
  /** PSF flux on the difference image, ADU; error 1 sigma. */
  psfFlux: number;
  psfFluxErr: number;
  /** Signed signal-to-noise, psfFlux / psfFluxErr. */
  snr: number;
  /** Aperture flux (radius in config), ADU. */
  apFlux: number;
  apFluxErr: number;
  /** Forced PSF flux on the science image and on the (warped, matched) template, ADU. */
  scienceFlux: number;
  scienceFluxErr: number;
  templateFlux: number;
  templateFluxErr: number;
  /** Second moments of the footprint, pixels^2. */
  ixx: number;
  iyy: number;
  ixy: number;
  /** Detection footprint: pixel count and bounding-box side, pixels. */
  footprintArea: number;
  bboxSize: number;
  isNegative: boolean;
  isDipole: boolean;
  /** Dipole fit (NaN unless isDipole): mean of |lobe fluxes|, their difference, separation (px), angle (deg). */
  dipoleMeanFlux: number;
  dipoleFluxDiff: number;
  dipoleSep: number;
  dipoleAngle: number;
  /** Pixels used by the PSF fit. */
  psfNdata: number;
  /** Real/bogus score in [0, 1]; NaN until scored. */
  reliability: number;
  flags: DiaSourceFlags;
}
