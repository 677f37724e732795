/**
 * The background stage's whole-image passes (characterize.ts) in independent bands, shared with a
 * helper thread when one is free (../util/shared-bands.ts): the mesh's cell rows, the detection's
 * smoothed binned rows, and the final map with the residual from it. Each band computes exactly what
 * the one-thread pass computes for its rows, so the results do not depend on who ran which band.
 * Without a helper every band runs on the calling thread.
 * @example
 *   const mesh = measureMeshBands(image, exclude, config, helper); // = measureMesh(image, exclude, config)
 */
import { Plane, type ImageF } from '../image/plane.js';
import { poolTask } from '../util/pool-task.js';
import { runClaimed, shareBands, type BandClaim, type Helper } from '../util/shared-bands.js';
import {
  finishMesh,
  measureCellRows,
  meshCells,
  meshSurface,
  type BackgroundConfig,
  type BackgroundMesh,
  type MeshCells,
} from './background.js';
import {
  DEFAULT_PEAK_CONFIG,
  peaksOfSmoothed,
  smoothingGeometry,
  smoothRows,
  type PeakConfig,
  type PeakResult,
  type SmoothingGeometry,
} from './detect-peaks.js';

/** Binned rows per band of the detection's smoothing (small against a thread's share, large against the kernel's halo). */
const SMOOTH_BAND_ROWS = 128;
/** Image rows per band of the map and residual. */
const MAP_BAND_ROWS = 64;

/** A plane as it crosses to a helper: its pixels (on a SharedArrayBuffer when shared) and layout. */
export interface PlaneLayout {
  data: Float32Array;
  width: number;
  height: number;
  stride: number;
  offset: number;
}

export const layoutOf = (p: ImageF): PlaneLayout => ({
  data: p.data,
  width: p.width,
  height: p.height,
  stride: p.stride,
  offset: p.offset,
});

const planeOf = (p: PlaneLayout): ImageF =>
  new Plane(p.data, p.width, p.height, p.stride, p.offset);

/** Zeros a helper thread can write too. */
export const sharedZeros = <T extends Float32Array | Float64Array | Uint8Array>(
  ctor: { new (buffer: SharedArrayBuffer): T; BYTES_PER_ELEMENT: number },
  length: number,
): T => new ctor(new SharedArrayBuffer(ctor.BYTES_PER_ELEMENT * length));

interface CellRowsJob {
  image: PlaneLayout;
  exclude: Uint8Array | null;
  cells: Pick<MeshCells, 'cfg' | 'nx' | 'ny' | 'sky' | 'sig'>;
}

/** Helper side of measureMeshBands: the claimed cell rows. */
export function cellRowsTask(job: CellRowsJob & { claim: BandClaim }): void {
  const image = planeOf(job.image);
  runClaimed(job.claim, (cy) => measureCellRows(image, job.exclude, job.cells, cy, cy + 1));
}

/** measureMesh(image, exclude, config), its cell rows shared with `helper`. */
export function measureMeshBands(
  image: ImageF,
  exclude: Uint8Array | null,
  config: Partial<BackgroundConfig>,
  helper: Helper | null,
): BackgroundMesh {
  const cells = meshCells(image, config);
  cells.sky = sharedZeros(Float64Array, cells.sky.length).fill(Number.NaN);
  cells.sig = sharedZeros(Float64Array, cells.sig.length).fill(Number.NaN);
  const { cfg, nx, ny, sky, sig } = cells;
  const job: CellRowsJob = { image: layoutOf(image), exclude, cells: { cfg, nx, ny, sky, sig } };
  shareBands(helper, poolTask(import.meta.url, { cellRowsTask }), job, ny, (cy) =>
    measureCellRows(image, exclude, cells, cy, cy + 1),
  );
  return finishMesh(cells);
}

interface SmoothJob {
  image: PlaneLayout;
  /** Non-zero where a pixel is left out of the residual (0 there). */
  exclude: Uint8Array;
  mesh: BackgroundMesh;
  geometry: SmoothingGeometry;
  /** Receives the smoothed binned residual (bw x bh). */
  smooth: Float32Array;
}

/** The residual rows of the job's image minus its mesh's surface, 0 where excluded (one row buffer, valid until the next call). */
function residualRows(job: SmoothJob): (y: number) => Float32Array {
  const { data, width: w, height: h } = job.image;
  const image = planeOf(job.image);
  const surface = meshSurface(job.mesh, w, h);
  const row = new Float32Array(w);
  return (y) => {
    surface(y, row, 0);
    const r = image.index(0, y);
    const u = y * w;
    for (let x = 0; x < w; x++) row[x] = job.exclude[u + x] ? 0 : data[r + x] - row[x];
    return row;
  };
}

const smoothBand = (job: SmoothJob, rowOf: (y: number) => Float32Array, band: number): void => {
  const { width: w, height: h } = job.image;
  const g = job.geometry;
  const by0 = band * SMOOTH_BAND_ROWS;
  smoothRows(rowOf, w, h, g, job.smooth, by0, Math.min(g.bh, by0 + SMOOTH_BAND_ROWS));
};

/** Helper side of detectPeaksBands: the claimed bands of smoothed rows. */
export function smoothTask(job: SmoothJob & { claim: BandClaim }): void {
  const rowOf = residualRows(job);
  runClaimed(job.claim, (b) => smoothBand(job, rowOf, b));
}

/**
 * detectPeaksInRows of the rows image - surface(mesh), 0 where `exclude` is set, for a pixel
 * noise `sigma`: the binning and smoothing shared with `helper`.
 */
export function detectPeaksBands(
  image: ImageF,
  exclude: Uint8Array,
  mesh: BackgroundMesh,
  sigma: number,
  config: Partial<PeakConfig>,
  helper: Helper | null,
): PeakResult {
  const cfg = { ...DEFAULT_PEAK_CONFIG, ...config };
  const geometry = smoothingGeometry(image.width, image.height, sigma, cfg);
  const job: SmoothJob = {
    image: layoutOf(image),
    exclude,
    mesh,
    geometry,
    smooth: sharedZeros(Float32Array, geometry.bw * geometry.bh),
  };
  const rowOf = residualRows(job);
  const count = Math.ceil(geometry.bh / SMOOTH_BAND_ROWS);
  shareBands(helper, poolTask(import.meta.url, { smoothTask }), job, count, (b) =>
    smoothBand(job, rowOf, b),
  );
  return peaksOfSmoothed(job.smooth, geometry, image.width, image.height, cfg);
}

interface MapJob {
  image: PlaneLayout;
  /** Non-zero where the residual is 0. */
  unusable: Uint8Array;
  mesh: BackgroundMesh;
  /** Receive the surface and image - surface (contiguous width x height). */
  map: Float32Array;
  residual: Float32Array;
}

/** The map's and residual's rows of one band. */
function mapRows(job: MapJob, draw: ReturnType<typeof meshSurface>, band: number): void {
  const { data, width: w, height: h } = job.image;
  const image = planeOf(job.image);
  const { map, residual, unusable } = job;
  for (let y = band * MAP_BAND_ROWS, end = Math.min(h, y + MAP_BAND_ROWS); y < end; y++) {
    draw(y, map, y * w);
    const r = image.index(0, y);
    for (let x = 0, i = y * w; x < w; x++, i++)
      residual[i] = unusable[i] ? 0 : data[r + x] - map[i];
  }
}

/** Helper side of drawMapBands: the claimed bands of rows. */
export function mapTask(job: MapJob & { claim: BandClaim }): void {
  const { width: w, height: h } = job.image;
  const draw = meshSurface(job.mesh, w, h);
  runClaimed(job.claim, (b) => mapRows(job, draw, b));
}

/** The mesh's surface into `map` and image - surface (0 where unusable) into `residual`, rows shared with `helper`. */
export function drawMapBands(
  image: ImageF,
  unusable: Uint8Array,
  mesh: BackgroundMesh,
  map: Float32Array,
  residual: Float32Array,
  helper: Helper | null,
): void {
  const job: MapJob = { image: layoutOf(image), unusable, mesh, map, residual };
  const draw = meshSurface(mesh, image.width, image.height);
  const count = Math.ceil(image.height / MAP_BAND_ROWS);
  shareBands(helper, poolTask(import.meta.url, { mapTask }), job, count, (b) =>
    mapRows(job, draw, b),
  );
}
