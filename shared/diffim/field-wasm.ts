/**
 * The kernel field's per-pixel arithmetic (field-js.ts) in WebAssembly SIMD (shared/wasm/field.as): the
 * same operations in the same order, so the same bits. Its buffers are views of the instance's memory,
 * on which an instance of the FFT module (fft-wasm.ts MemoryFft) runs the tiles' transforms in place, so
 * neither copies them; an output row's target and mask (on shared memory, which an instance cannot
 * address) are copied in and the row copied out. One
 * instance per thread, on a memory sized for the largest call so far and never grown (shared/wasm/load.ts).
 */
import {
  instantiate,
  perThread,
  WASM_PAGE_BYTES,
  wasmModule,
  type WasmCompiled,
  type WasmMemory,
} from '../wasm/load.js';
import { fftEngine } from '../util/fft-engine.js';
import { RealFft2 } from '../util/fft-real.js';
import { MemoryFft, memoryFftBytes } from '../util/fft-wasm.js';
import type {
  DecorrelationColumn,
  FieldArithmetic,
  OutputRow,
  RowDifference,
  TileTransforms,
} from './field-js.js';

/** The exports of shared/wasm/field.as (pointers are byte offsets into the memory). */
interface FieldExports {
  multiplyConjugate(a: number, b: number, out: number, count: number): void;
  decorrelateColumn(
    column: number,
    count: number,
    spectra: number,
    terms: number,
    weights: number,
    top: number,
    u: number,
    c: number,
    uy: number,
    cy: number,
  ): void;
  weightRows(column: number, weight: number, g: number, r0: number, r1: number, set: boolean): void;
  combineRow(
    out: number,
    count: number,
    rows: number,
    planeBytes: number,
    orders: number,
    xi: number,
    bg: number,
    bgLength: number,
    target: number,
    mode: number,
    divisor: number,
    mask: number,
    bits: number,
  ): void;
}

/** Bytes behind the buffers for an output row's pixels, target and mask (4 bytes each a pixel). */
const ROW_SCRATCH_PIXELS = 3;

export class WasmFieldArithmetic implements FieldArithmetic {
  private x!: FieldExports;
  private memory!: WasmMemory;
  /** The output row's scratch (f32), its target (f32) and mask (i32), each `scratchPixels` long; or a column. */
  private scratch = 0;
  private scratchPixels = 0;
  /** Where `buffers` left room for an n-point MemoryFft (null: the FFTs are not WebAssembly's). */
  private fftRoom: { module: WasmCompiled; at: number; n: number } | null = null;

  constructor(private readonly module: WasmCompiled) {
    this.bind(WASM_PAGE_BYTES);
  }

  private bind(bytes: number): void {
    ({ exports: this.x, memory: this.memory } = instantiate<FieldExports>(this.module, bytes));
  }

  buffers(lengths: number[], n: number): Float64Array[] {
    const total = lengths.reduce((s, l) => s + l, 0);
    const pixels = n + (n % 2);
    const fftModule = fftEngine() === 'wasm' ? wasmModule('fft').module : null;
    // The scratch holds an output row's planes, or a column from outside this memory (decorrelateColumn).
    const scratchBytes = Math.max(ROW_SCRATCH_PIXELS * 4 * pixels, 16 * n);
    const fftAt = 16 * Math.ceil((8 * total + scratchBytes) / 16);
    const bytes = fftAt + (fftModule ? memoryFftBytes(n) : 0);
    if (bytes > this.memory.buffer.byteLength) this.bind(bytes);
    const buffer = this.memory.buffer;
    new Uint8Array(buffer, 0, bytes).fill(0);
    let offset = 0;
    const views = lengths.map((length) => {
      const view = new Float64Array(buffer, offset, length);
      offset += 8 * length;
      return view;
    });
    this.scratch = offset;
    this.scratchPixels = pixels;
    this.fftRoom = fftModule && { module: fftModule, at: fftAt, n };
    return views;
  }

  transforms(n: number): TileTransforms {
    const room = this.fftRoom;
    return room?.n === n ? new MemoryFft(room.module, this.memory, room.at, n) : new RealFft2(n);
  }

  // Complex value ky of term m of column kx at (kx n + ky) terms + m: a frequency's terms back to back.
  interleaveTerms(spectra: Float64Array[], out: Float64Array): void {
    const terms = spectra.length;
    spectra.forEach((s, m) => {
      for (let f = 0, o = 2 * m; f < s.length; f += 2, o += 2 * terms) {
        out[o] = s[f];
        out[o + 1] = s[f + 1];
      }
    });
  }

  decorrelateColumn(column: Float64Array, terms: Float64Array, f: DecorrelationColumn): void {
    const count = column.length / 2;
    // A column outside this memory (RealFft2's own, when the FFTs are not WebAssembly's) goes through the scratch.
    const inside = column.buffer === this.memory.buffer;
    const at = inside ? column.byteOffset : this.scratch;
    if (!inside) new Float64Array(this.memory.buffer, at, column.length).set(column);
    this.x.decorrelateColumn(
      at,
      count,
      terms.byteOffset + 16 * f.kx * count * f.weights.length,
      f.weights.length,
      f.weights.byteOffset,
      f.top,
      f.u,
      f.c,
      f.uy.byteOffset,
      f.cy.byteOffset,
    );
    if (!inside) column.set(new Float64Array(this.memory.buffer, at, column.length));
  }

  multiplyColumn(a: Float64Array, b: Float64Array, from: number, out: Float64Array): void {
    this.x.multiplyConjugate(
      a.byteOffset + 8 * from,
      b.byteOffset + 8 * from,
      out.byteOffset,
      out.length / 2,
    );
  }

  weightRows(
    column: Float64Array,
    weight: Float64Array,
    g: Float64Array,
    from: number,
    r0: number,
    r1: number,
    set: boolean,
  ): void {
    this.x.weightRows(column.byteOffset, weight.byteOffset, g.byteOffset + 8 * from, r0, r1, set);
  }

  combineRow(
    { row, y, x0, x1, base }: OutputRow,
    rows: Float64Array[],
    xi: Float64Array,
    bgXi: Float64Array,
    difference?: RowDifference,
  ): void {
    const count = x1 - x0;
    const buffer = this.memory.buffer;
    const out = this.scratch,
      target = out + 4 * this.scratchPixels,
      mask = target + 4 * this.scratchPixels;
    if (difference) new Float32Array(buffer, target, count).set(difference.target.subarray(x0, x1));
    const garbage = difference?.garbage;
    if (garbage) new Int32Array(buffer, mask, count).set(garbage.mask.row(y).subarray(x0, x1));
    const planeBytes = rows.length > 1 ? rows[1].byteOffset - rows[0].byteOffset : 0;
    this.x.combineRow(
      out,
      count,
      rows[0].byteOffset + 8 * (base + x0),
      planeBytes,
      rows.length,
      xi.byteOffset + 8 * x0,
      bgXi.byteOffset,
      bgXi.length,
      target,
      !difference ? 0 : difference.divisor === null ? 1 : 2,
      difference?.divisor ?? 1,
      garbage ? mask : 0,
      garbage?.bits ?? 0,
    );
    row.set(new Float32Array(buffer, out, count), x0);
  }
}

const instance = perThread('field', (module) => new WasmFieldArithmetic(module));

/** This thread's instance, or null (and wasmFieldUnavailableReason()) where it cannot run. */
export const wasmFieldArithmetic = instance.get;

/** Why wasmFieldArithmetic() is null ('' when it is not). */
export const wasmFieldUnavailableReason = instance.reason;
