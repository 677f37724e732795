/**
 * Templates by sky tile and band (docs/contracts.md): a template covering HEALPix (nested) tile N of
 * order TILE_ORDER lives in the templates bucket at `{band}/hpx{order}-{N}.fits`; the reference
 * stars of that tile, in the refcats bucket at `hpx{order}-{N}.fits`.
 */
import { conePixels, healpixNest } from '../healpix/index.js';
import type { SkyCircle } from './camera.js';

/** Order 8 tiles are ~0.23 deg across, about one 4k detector at 0.2"/px. */
export const TILE_ORDER = 8;

export function tileOf(raDeg: number, decDeg: number): number {
  return healpixNest(raDeg, decDeg, TILE_ORDER);
}

export function templateKey(band: string, tile: number): string {
  return `${band}/hpx${TILE_ORDER}-${tile}.fits`;
}

/** Reference stars of tile N (all bands) in the refcats bucket: `hpx{order}-{N}.fits` (refcat.ts). */
export function refcatKey(tile: number): string {
  return `hpx${TILE_ORDER}-${tile}.fits`;
}

/** Tiles that may overlap a circle on the sky. */
export function tilesInCircle(circle: SkyCircle): number[] {
  return conePixels(circle.center[0], circle.center[1], circle.radiusDeg, TILE_ORDER);
}
