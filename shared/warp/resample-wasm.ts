/**
 * The resampler's pixel loop in WebAssembly SIMD (shared/wasm/resample.as): the same arithmetic in
 * the same order as resample-js.ts, so the same bits, about twice as fast. The template's planes
 * live in SharedArrayBuffers a WebAssembly instance cannot address, so each piece of output rows is
 * cut into tiles, and the template rows and columns a tile's kernels reach are copied into the
 * instance's memory (image and variance interleaved, and the mask), the tile's outputs copied back.
 * One instance per thread, on a memory sized for the widest rows it has seen (~23 MB at 4096 wide)
 * and never grown (shared/wasm/load.ts: with a grown memory the later stages ran slower).
 */
import { MaskPlane } from '../image/mask.js';
import {
  instantiate,
  perThread,
  WASM_PAGE_BYTES,
  type WasmCompiled,
  type WasmMemory,
} from '../wasm/load.js';
import { LanczosTable, type KernelName } from './lanczos.js';
import { CELL_SIZE, PHASE_BINS } from './noise-correlation.js';
import { interpolateRow, type BandStats, type ResampleJob } from './resample-job.js';

/** The exports of shared/wasm/resample.as (pointers are byte offsets into `memory`). */
interface ResampleExports {
  bounds(
    rows: number,
    cols: number,
    stride: number,
    posX: number,
    posY: number,
    width: number,
    height: number,
    out: number,
  ): number;
  setTemplate(
    width: number,
    height: number,
    table: number,
    taps: number,
    phases: number,
    phaseBins: number,
    noDataBit: number,
    edgeBit: number,
    noData: number,
    weights: number,
    lerpTable: number,
  ): void;
  lerpRows(table: number, phases: number, out: number): void;
  setRegion(src: number, mask: number, rx0: number, ry0: number, rw: number): void;
  resampleTile(
    rows: number,
    cols: number,
    stride: number,
    posX: number,
    posY: number,
    scales: number,
    outImage: number,
    outVariance: number,
    outMask: number,
    squares: number,
    y0: number,
    c0: number,
    cellSize: number,
    cellRow0: number,
    cellsX: number,
    histX: number,
    histY: number,
  ): number;
  sumSquares(n: number, outMask: number, squares: number, sum: number): number;
  interleave(n: number, a: number, b: number, out: number): void;
}

/** Output rows resampled per piece: the positions and outputs of a piece sit in linear memory at once. */
const PIECE_ROWS = 32;
/**
 * A tile is halved (along its longer side) while its template region exceeds this many pixels per
 * output pixel plus REGION_SLACK: little rotation keeps a whole piece one tile (~1.3 template pixels
 * copied per output pixel), a large one cuts it into squares whose regions stay small.
 */
const REGION_PER_PIXEL = 4;
const REGION_SLACK = 1 << 16;
/** Bytes a template region pixel takes in linear memory: the interleaved f64 pair, then image, variance and mask. */
const REGION_PIXEL_BYTES = 16 + 4 + 4 + 4;

/** Byte offsets of a piece's arrays in linear memory (the kernel's table first, the template region last). */
interface Layout {
  width: number;
  weights: number;
  lerpTable: number;
  bounds: number;
  posX: number;
  posY: number;
  scales: number;
  outImage: number;
  outVariance: number;
  outMask: number;
  squares: number;
  histX: number;
  histY: number;
  histLength: number;
  region: number;
}

export class WasmResampler {
  private x!: ResampleExports;
  private memory!: WasmMemory;
  private kernel: KernelName | null = null;
  private layout: Layout | null = null;

  constructor(private readonly module: WasmCompiled) {
    this.bind(WASM_PAGE_BYTES);
  }

  /** A new instance on a new memory of at least `bytes` (nothing of the old one is kept). */
  private bind(bytes: number): void {
    ({ exports: this.x, memory: this.memory } = instantiate<ResampleExports>(this.module, bytes));
  }

  /** resampleRowsJs's contract: rows [yStart, yEnd) of the job's outputs, their stats, phases counted into `histograms`. */
  resampleRows(
    job: ResampleJob,
    yStart: number,
    yEnd: number,
    histograms: Pick<BandStats, 'phasesX' | 'phasesY'>,
  ): BandStats {
    const lanczos = LanczosTable.of(job.kernel);
    const w = job.outWidth;
    const layout = this.prepare(lanczos, w);
    this.x.setTemplate(
      job.srcWidth,
      job.srcHeight,
      0,
      lanczos.taps,
      lanczos.phases,
      PHASE_BINS,
      MaskPlane.NO_DATA,
      MaskPlane.EDGE,
      job.noDataValue,
      layout.weights,
      layout.lerpTable,
    );
    let covered = 0;
    let sumSquaredWeights = 0;
    const cellsX = Math.ceil(w / CELL_SIZE);
    for (let y = yStart; y < yEnd; y += PIECE_ROWS) {
      const rows = Math.min(PIECE_ROWS, yEnd - y);
      const n = rows * w;
      const f64 = (offset: number) => new Float64Array(this.memory.buffer, offset, n);
      const [posX, posY, scales] = [f64(layout.posX), f64(layout.posY), f64(layout.scales)];
      for (let r = 0; r < rows; r++) {
        const row = (a: Float64Array) => a.subarray(r * w, (r + 1) * w);
        interpolateRow(job.mapping, y + r, row(posX), row(posY), row(scales));
      }
      const cellRow0 = Math.floor(y / CELL_SIZE);
      const counts = (offset: number) =>
        new Int32Array(this.memory.buffer, offset, layout.histLength);
      counts(layout.histX).fill(0);
      counts(layout.histY).fill(0);
      covered += this.tile(job, layout, y, cellRow0, cellsX, 0, rows, 0, w);
      const buffer = this.memory.buffer;
      const [histX, histY] = [counts(layout.histX), counts(layout.histY)];
      job.outImage.set(new Float32Array(buffer, layout.outImage, n), y * w);
      job.outVariance.set(new Float32Array(buffer, layout.outVariance, n), y * w);
      job.outMask.set(new Int32Array(buffer, layout.outMask, n), y * w);
      sumSquaredWeights = this.x.sumSquares(n, layout.outMask, layout.squares, sumSquaredWeights);
      // The piece's cell rows, counted from cellRow0, into the band's histograms.
      const base = cellRow0 * cellsX * PHASE_BINS;
      const end = Math.min(layout.histLength, histograms.phasesX.length - base);
      for (let i = 0; i < end; i++) {
        histograms.phasesX[base + i] += histX[i];
        histograms.phasesY[base + i] += histY[i];
      }
    }
    return { covered, sumSquaredWeights, ...histograms };
  }

  /** Resamples the tile rows [r0, r1) x columns [c0, c1) of the piece starting at output row y; returns its covered pixels. */
  private tile(
    job: ResampleJob,
    layout: Layout,
    y: number,
    cellRow0: number,
    cellsX: number,
    r0: number,
    r1: number,
    c0: number,
    c1: number,
  ): number {
    const { srcWidth: W, srcHeight: H } = job;
    const w = layout.width;
    const rows = r1 - r0;
    const cols = c1 - c0;
    const first = r0 * w + c0;
    const at8 = (offset: number) => offset + 8 * first;
    const at4 = (offset: number) => offset + 4 * first;
    const inside = this.x.bounds(
      rows,
      cols,
      w,
      at8(layout.posX),
      at8(layout.posY),
      W,
      H,
      layout.bounds,
    );
    let region = { rx0: 0, ry0: 0, rw: 0, rh: 0 };
    if (inside > 0) {
      const [minX, maxX, minY, maxY] = new Int32Array(this.memory.buffer, layout.bounds, 4);
      const a = LanczosTable.of(job.kernel).a;
      const rx0 = Math.max(0, minX - (a - 1));
      const ry0 = Math.max(0, minY - (a - 1));
      region = {
        rx0,
        ry0,
        rw: Math.min(W - 1, maxX + a) - rx0 + 1,
        rh: Math.min(H - 1, maxY + a) - ry0 + 1,
      };
      if (
        region.rw * region.rh > REGION_PER_PIXEL * rows * cols + REGION_SLACK &&
        rows * cols > 1
      ) {
        const args = [job, layout, y, cellRow0, cellsX] as const;
        if (cols >= rows) {
          const mid = c0 + (cols >> 1);
          return this.tile(...args, r0, r1, c0, mid) + this.tile(...args, r0, r1, mid, c1);
        }
        const mid = r0 + (rows >> 1);
        return this.tile(...args, r0, mid, c0, c1) + this.tile(...args, mid, r1, c0, c1);
      }
    }
    const mask = this.copyRegion(job, layout, region);
    this.x.setRegion(layout.region, mask, region.rx0, region.ry0, region.rw);
    return this.x.resampleTile(
      rows,
      cols,
      w,
      at8(layout.posX),
      at8(layout.posY),
      at8(layout.scales),
      at4(layout.outImage),
      at4(layout.outVariance),
      at4(layout.outMask),
      at8(layout.squares),
      y + r0,
      c0,
      CELL_SIZE,
      cellRow0,
      cellsX,
      layout.histX,
      layout.histY,
    );
  }

  /**
   * Copies the template's region into linear memory: image and variance rows (memcpy), interleaved
   * there into pairs, then the mask; returns the mask's offset, 0 when the template has none.
   */
  private copyRegion(
    job: ResampleJob,
    layout: Layout,
    { rx0, ry0, rw, rh }: { rx0: number; ry0: number; rw: number; rh: number },
  ): number {
    const area = rw * rh;
    const image = layout.region + 16 * area;
    const variance = image + 4 * area;
    const mask = variance + 4 * area;
    this.reserve(mask + 4 * area);
    const buffer = this.memory.buffer;
    const planes: Array<
      [Float32Array | Int32Array | null, number, typeof Float32Array | typeof Int32Array]
    > = [
      [job.srcImage, image, Float32Array],
      [job.srcVariance, variance, Float32Array],
      [job.srcMask, mask, Int32Array],
    ];
    for (const [plane, offset, View] of planes) {
      if (!plane) continue;
      const to = new View(buffer, offset, area);
      for (let r = 0; r < rh; r++) {
        const s = (ry0 + r) * job.srcWidth + rx0;
        to.set(plane.subarray(s, s + rw), r * rw);
      }
    }
    this.x.interleave(area, image, variance, layout.region);
    return job.srcMask ? mask : 0;
  }

  /** The layout for output rows `width` wide, with the kernel's table at offset 0. */
  private prepare(lanczos: LanczosTable, width: number): Layout {
    if (this.layout?.width !== width || this.kernel !== lanczos.name) {
      const n = PIECE_ROWS * width;
      const histLength =
        (Math.ceil(PIECE_ROWS / CELL_SIZE) + 1) * Math.ceil(width / CELL_SIZE) * PHASE_BINS;
      let offset = lanczos.table.byteLength;
      const take = (bytes: number) => {
        const at = offset;
        offset += Math.ceil(bytes / 8) * 8;
        return at;
      };
      const layout: Layout = {
        width,
        weights: take(16 * lanczos.taps),
        lerpTable: take(16 * lanczos.taps * lanczos.phases),
        bounds: take(16),
        posX: take(8 * n),
        posY: take(8 * n),
        scales: take(8 * n),
        outImage: take(4 * n),
        outVariance: take(4 * n),
        outMask: take(4 * n),
        squares: take(8 * n),
        histX: take(4 * histLength),
        histY: take(4 * histLength),
        histLength,
        region: 0,
      };
      layout.region = offset;
      // The largest region a tile keeps (tile() halves larger ones) fits behind the piece's arrays.
      const regionBytes = REGION_PIXEL_BYTES * (REGION_PER_PIXEL * n + REGION_SLACK);
      if (offset + regionBytes > this.memory.buffer.byteLength) this.bind(offset + regionBytes);
      new Float64Array(this.memory.buffer, 0, lanczos.table.length).set(lanczos.table);
      if (lanczos.taps === 6) this.x.lerpRows(0, lanczos.phases, layout.lerpTable);
      this.layout = layout;
      this.kernel = lanczos.name;
    }
    return this.layout;
  }

  /** Checks that `bytes` fit the memory prepare() sized (tile() keeps regions within it). */
  private reserve(bytes: number): void {
    if (bytes > this.memory.buffer.byteLength)
      throw new RangeError(
        `resample-wasm: ${bytes} bytes needed, the memory holds ${this.memory.buffer.byteLength}`,
      );
  }
}

const instance = perThread('resample', (module) => new WasmResampler(module));

/** This thread's WebAssembly resampler, or null (and `wasmUnavailableReason()`) where it cannot run. */
export const wasmResampler = instance.get;

/** Why wasmResampler() is null ('' when it is not). */
export const wasmUnavailableReason = instance.reason;
