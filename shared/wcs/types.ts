/**
 * A celestial world coordinate system: pixel <-> sky.
 *
 * Pixel coordinates are 0-based (FITS pixel 1,1 is 0,0), sky in degrees (ICRS).
 * Array forms are vectorised over Float64Arrays of equal length.
 */
export interface SkyCoords {
  /** Right ascension, degrees in [0, 360). */
  ra: Float64Array;
  /** Declination, degrees. */
  dec: Float64Array;
}

export interface PixelCoords {
  x: Float64Array;
  y: Float64Array;
}

/** Local linear map d(ra cos dec, dec)/d(x, y) at a pixel, in degrees per pixel. */
export interface LocalJacobian {
  /** [[dXi/dx, dXi/dy], [dEta/dx, dEta/dy]] with xi = ra*cos(dec) eastward, deg/px. */
  matrix: [[number, number], [number, number]];
  /** sqrt(|det|) in arcsec per pixel. */
  pixelScaleArcsec: number;
  /** Position angle of the +y axis east of north, degrees. */
  rotationDeg: number;
}

export interface Wcs {
  /** Projection kind, for logs and headers: 'TAN', 'TAN-SIP' or 'TPV'. */
  readonly kind: 'TAN' | 'TAN-SIP' | 'TPV';
  pixelToSky(pixels: PixelCoords): SkyCoords;
  skyToPixel(sky: SkyCoords): PixelCoords;
  /** Local Jacobian at a 0-based pixel position. */
  jacobian(x: number, y: number): LocalJacobian;
  /** FITS header cards that describe this WCS (CTYPE, CRPIX, CRVAL, CD, SIP/PV terms). */
  toHeaderCards(): Array<[keyword: string, value: string | number]>;
}
