/**
 * The likelihood image's separable correlation by a mirror-symmetric term (separable.ts) in
 * WebAssembly SIMD (shared/wasm/separable.as), the same bits as the JavaScript: input rows are
 * copied into the instance's memory one at a time and row-filtered into a ring of 2r + 1 rows, and
 * each output row, once the rows r below it are in, is copied in, gets its column taps and is
 * copied out. One instance per thread, on a memory sized for the largest row and kernel so far,
 * replaced (never grown) when a larger one comes (shared/wasm/load.ts).
 */
import { engineChoice, type Engine } from '../wasm/engine.js';
import { instantiate, perThread, type WasmCompiled, type WasmMemory } from '../wasm/load.js';

/** The exports of shared/wasm/separable.as (pointers are byte offsets into the memory). */
interface SeparableExports {
  rowSymmetric(input: number, out: number, width: number, h: number, r: number): void;
  columnSymmetric(out: number, rows: number, width: number, h: number, r: number): void;
}

/** Bytes of the memory's layout for rows of `width` and radius `r`: h twice, row pointers, input, output, the ring. */
function layoutBytes(width: number, r: number): number {
  return 2 * 8 * (r + 1) + 4 * (2 * r + 1) + 4 * width * (2 * r + 3);
}

export class WasmSeparable {
  private x!: SeparableExports;
  private memory!: WasmMemory;
  private capacity = 0;

  constructor(private readonly module: WasmCompiled) {}

  /**
   * out rows [y0, y1) += the correlation of `input` (width x height, rows beyond count as 0) by the
   * term with symmetric factors `kx` (rows) and `ky` (columns), both of 2r + 1 float32 taps, as
   * rowPassSymmetric then columnPassAddSymmetric do.
   */
  correlateTerm(
    input: Float32Array,
    width: number,
    height: number,
    kx: Float32Array,
    ky: Float32Array,
    out: Float32Array,
    y0: number,
    y1: number,
  ): void {
    const r = (kx.length - 1) >> 1;
    const bytes = layoutBytes(width, r);
    if (bytes > this.capacity) {
      ({ exports: this.x, memory: this.memory } = instantiate<SeparableExports>(
        this.module,
        bytes,
      ));
      this.capacity = bytes;
    }
    const span = 2 * r + 1;
    const hx = 0;
    const hy = hx + 8 * (r + 1);
    const rows = hy + 8 * (r + 1);
    const inRow = rows + 4 * span;
    const outRow = inRow + 4 * width;
    const ring = outRow + 4 * width;
    const f64 = new Float64Array(this.memory.buffer);
    f64.set(kx.subarray(r), hx / 8);
    f64.set(ky.subarray(r), hy / 8);
    const f32 = new Float32Array(this.memory.buffer);
    const pointers = new Int32Array(this.memory.buffer, rows, span);
    const slot = (y: number) => ring + 4 * width * (y % span);
    let next = Math.max(0, y0 - r);
    for (let y = y0; y < y1; y++) {
      for (const last = Math.min(height - 1, y + r); next <= last; next++) {
        f32.set(input.subarray(next * width, (next + 1) * width), inRow / 4);
        this.x.rowSymmetric(inRow, slot(next), width, hx, r);
      }
      for (let d = -r; d <= r; d++)
        pointers[d + r] = y + d >= 0 && y + d < height ? slot(y + d) : 0;
      const target = out.subarray(y * width, (y + 1) * width);
      f32.set(target, outRow / 4);
      this.x.columnSymmetric(outRow, rows, width, hy, r);
      target.set(f32.subarray(outRow / 4, outRow / 4 + width));
    }
  }
}

const instance = perThread('separable', (module) => new WasmSeparable(module));

/** This thread's engine, or null where WebAssembly SIMD cannot run it. */
export function wasmSeparable(): WasmSeparable | null {
  return instance.get();
}

const choice = engineChoice('AP_DETECT_CORRELATION', 'separable correlation', 'JavaScript', () =>
  instance.get() ? '' : instance.reason(),
);

/** The engine of the likelihood's correlation here: `prefer`, else AP_DETECT_CORRELATION, else wasm when available. */
export function separableEngine(prefer?: Engine): Engine {
  return choice.engine(prefer);
}

/** What runs the likelihood's correlation in this process. */
export const separableDescription = choice.describe;
