/**
 * Output pixel grids of templates: a given image's grid, or the grid of a HEALPix tile of the
 * templates bucket (order TILE_ORDER, nested): a TAN projection at the tile's centre, north up and
 * east left, covering the tile's corners plus a margin. A tile grid cropped to where inputs fall
 * keeps the tile's pixel lattice (CRPIX shifted), so templates of one tile always line up.
 */
import { corners_nest, order2nside, pix2ang_nest, vec2ang } from '@hscmap/healpix';
import { TILE_ORDER, tileOf } from '../prompt/template-tiles.js';
import { cdMatrix, makeTanWcs, TanWcs, type Wcs } from '../wcs/index.js';
import { ARCSEC_PER_DEG } from '../util/numeric.js';

/** A pixel grid with its WCS; `name` identifies it in TMPLID ('hpx8-1234', or a file name). */
export interface OutputGrid {
  name: string;
  width: number;
  height: number;
  wcs: Wcs;
}

/** A box in a grid's pixels, [x0, x1) x [y0, y1). */
export interface PixelBox {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

const DEG = 180 / Math.PI;

/** Centre of HEALPix tile `tile` (order TILE_ORDER), [ra, dec] degrees. */
export function tileCentre(tile: number): [number, number] {
  const { theta, phi } = pix2ang_nest(order2nside(TILE_ORDER), tile);
  return [phi * DEG, 90 - theta * DEG];
}

/** The whole grid of tile `tile` at `scaleArcsec` per pixel with `marginDeg` around its corners. */
export function tileGrid(tile: number, scaleArcsec: number, marginDeg: number): OutputGrid {
  const nside = order2nside(TILE_ORDER);
  if (!Number.isInteger(tile) || tile < 0 || tile >= 12 * nside * nside)
    throw new RangeError(`tile must be an integer in [0, ${12 * nside * nside}), got ${tile}`);
  const centre = tileCentre(tile);
  const probe = makeTanWcs({ crpix: [0, 0], crval: centre, cd: cdMatrix(scaleArcsec, 0) });
  const corners = corners_nest(nside, tile).map((v) => vec2ang(v));
  const { x, y } = probe.skyToPixel({
    ra: Float64Array.from(corners, (c) => c.phi * DEG),
    dec: Float64Array.from(corners, (c) => 90 - c.theta * DEG),
  });
  const margin = (marginDeg * ARCSEC_PER_DEG) / scaleArcsec;
  const half = Math.ceil(Math.max(...Array.from(x, Math.abs), ...Array.from(y, Math.abs)) + margin);
  const size = 2 * half + 1;
  return {
    name: `hpx${TILE_ORDER}-${tile}`,
    width: size,
    height: size,
    wcs: makeTanWcs({ crpix: [half, half], crval: centre, cd: cdMatrix(scaleArcsec, 0) }),
  };
}

/** The tile holding the most of the given sky positions (ties: the lower tile number), so that a stray input far away does not move it. */
export function tileOfCentre(positions: Array<[number, number]>): number {
  const counts = new Map<number, number>();
  for (const [ra, dec] of positions) {
    const tile = tileOf(ra, dec);
    counts.set(tile, (counts.get(tile) ?? 0) + 1);
  }
  const best = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0];
  if (!best) throw new RangeError('tileOfCentre: no positions');
  return best[0];
}

/** The part `box` of `grid` (clipped to it), the same lattice: the WCS's reference pixel shifted. */
export function cropGrid(grid: OutputGrid, box: PixelBox): OutputGrid {
  const x0 = Math.max(0, box.x0);
  const y0 = Math.max(0, box.y0);
  const x1 = Math.min(grid.width, box.x1);
  const y1 = Math.min(grid.height, box.y1);
  if (x1 <= x0 || y1 <= y0)
    throw new RangeError(
      `crop box ${JSON.stringify(box)} misses the ${grid.width}x${grid.height} grid ${grid.name}`,
    );
  if (!(grid.wcs instanceof TanWcs))
    throw new TypeError(`cropGrid: grid ${grid.name} is not a plain TAN grid`);
  const { crpix, crval, cd } = grid.wcs;
  const wcs = makeTanWcs({ crpix: [crpix[0] - x0, crpix[1] - y0], crval, cd });
  return { name: grid.name, width: x1 - x0, height: y1 - y0, wcs };
}

/** Points along the edge of a width x height image, 0-based pixels (corners and `perSide` per side). */
function rim(width: number, height: number, perSide = 8): { x: Float64Array; y: Float64Array } {
  const xs: number[] = [];
  const ys: number[] = [];
  for (let k = 0; k <= perSide; k++) {
    const fx = (k / perSide) * (width - 1);
    const fy = (k / perSide) * (height - 1);
    xs.push(fx, fx, 0, width - 1);
    ys.push(0, height - 1, fy, fy);
  }
  return { x: Float64Array.from(xs), y: Float64Array.from(ys) };
}

/** Bounding box in `grid` pixels of an image's footprint (unclipped; empty when it maps nowhere finite). */
export function footprintBox(wcs: Wcs, width: number, height: number, grid: OutputGrid): PixelBox {
  const sky = wcs.pixelToSky(rim(width, height));
  const { x, y } = grid.wcs.skyToPixel(sky);
  const fx = Array.from(x).filter(Number.isFinite);
  const fy = Array.from(y).filter(Number.isFinite);
  if (fx.length === 0 || fy.length === 0) return { x0: 0, y0: 0, x1: 0, y1: 0 };
  return {
    x0: Math.floor(Math.min(...fx)),
    y0: Math.floor(Math.min(...fy)),
    x1: Math.ceil(Math.max(...fx)) + 1,
    y1: Math.ceil(Math.max(...fy)) + 1,
  };
}

/** Fraction of `grid` inside `box`. */
export function overlapFraction(box: PixelBox, grid: OutputGrid): number {
  const w = Math.max(0, Math.min(grid.width, box.x1) - Math.max(0, box.x0));
  const h = Math.max(0, Math.min(grid.height, box.y1) - Math.max(0, box.y0));
  return (w * h) / (grid.width * grid.height);
}

/** Sky position of an image's centre pixel, [ra, dec] degrees. */
export function centreOf(wcs: Wcs, width: number, height: number): [number, number] {
  const s = wcs.pixelToSky({
    x: Float64Array.of((width - 1) / 2),
    y: Float64Array.of((height - 1) / 2),
  });
  return [s.ra[0], s.dec[0]];
}
