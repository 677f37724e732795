/**
 * RealFft2's passes in WebAssembly SIMD (shared/wasm/fft.as): fft.js's radix-4 transform and
 * fft-real.ts's row packing, column pass and scaled row output, the same operations in the same
 * order, so the same bits (test/util/fft-wasm.test.ts compares them). A pass copies its input into
 * the instance's memory once, runs every line there, and copies its output back. One instance per
 * thread, its memory sized for the largest size it has seen and never grown (shared/wasm/load.ts);
 * the passes are not reentrant (a filter given to filterColumns must not run another pass).
 */
import FFT from 'fft.js';
import {
  instantiate,
  instantiateOn,
  perThread,
  type WasmCompiled,
  type WasmMemory,
} from '../wasm/load.js';

/** A filter of filterColumns: changes spectral column kx (n complex values, ky = 0 .. n-1) in place. */
export type ColumnFilter = (kx: number, column: Float64Array) => void;

/** The exports of shared/wasm/fft.as (pointers are byte offsets into `memory`). */
interface FftExports {
  setSize(n: number, width: number, table: number, twiddles: number, bitrev: number): void;
  transform(out: number, data: number, inv: number): void;
  inverseTransform(out: number, data: number): void;
  transformLines(out: number, data: number, count: number, stride: number): void;
  conjugate(to: number, from: number): void;
  inverseColumns(out: number, spectrum: number, count: number, stride: number, line: number): void;
  forwardRows(
    input: number,
    y0: number,
    y1: number,
    work: number,
    line: number,
    lineOut: number,
  ): void;
  inverseRows(
    columns: number,
    out: number,
    y0: number,
    y1: number,
    scale: number,
    line: number,
    lineOut: number,
  ): void;
}

/** fft.js's tables, fields its type declarations leave out. */
interface FftTables {
  table: number[];
  _width: number;
  _bitrev: number[];
}

/** Byte offsets of size n's arrays: tables, two lines of 2n, two areas of a half spectrum (`a`, `b`). */
interface Layout {
  n: number;
  twiddles: number;
  bitrev: number;
  line: number;
  lineOut: number;
  a: number;
  b: number;
  /** Values in a half spectrum, and in a spectral column. */
  spectrum: number;
  column: number;
}

/** Size n's tables into the instance's memory: fft.js's own table through lineOut (2n values) into the expanded twiddles. */
function loadTables(x: FftExports, memory: WasmMemory, layout: Layout): void {
  const { n } = layout;
  const tables = new FFT(n) as unknown as FftTables;
  new Float64Array(memory.buffer, layout.lineOut, 2 * n).set(tables.table);
  new Int32Array(memory.buffer, layout.bitrev, tables._bitrev.length).set(tables._bitrev);
  x.setSize(n, tables._width, layout.lineOut, layout.twiddles, layout.bitrev);
}

/** Size n's layout from byte `at` (16-byte aligned), with `areas` half spectra (b is a when 1). */
function layoutOf(n: number, at = 0, areas = 2): Layout & { bytes: number } {
  const column = 2 * n;
  const spectrum = column * (n / 2 + 1);
  let offset = at;
  const take = (bytes: number) => {
    const start = offset;
    offset += Math.ceil(bytes / 16) * 16;
    return start;
  };
  const twiddles = take(64 * n),
    bitrev = take(4 * n),
    line = take(8 * column),
    lineOut = take(8 * column),
    a = take(8 * spectrum),
    b = areas === 2 ? take(8 * spectrum) : a;
  return { n, twiddles, bitrev, line, lineOut, a, b, spectrum, column, bytes: offset - at };
}

/**
 * RealFft2.filterColumns' passes on `memory`: the image's rows [y0, y1) at `input` forward into the
 * half spectrum at `work`, each column transformed, filtered (a view of `line`), conjugated and
 * transformed back, then rows [r0, r1) of the filtered image into the n x n image at `out`.
 */
function filterPasses(
  x: FftExports,
  memory: WasmMemory,
  L: Layout,
  [input, y0, y1]: [number, number, number],
  work: number,
  filter: ColumnFilter,
  [out, r0, r1]: [number, number, number],
): void {
  const { n, line, lineOut, column } = L;
  x.forwardRows(input, y0, y1, work, line, lineOut);
  const view = new Float64Array(memory.buffer, line, column);
  for (let k = 0; k <= n / 2; k++) {
    const c = work + 8 * k * column;
    x.transform(line, c, 0);
    filter(k, view);
    x.conjugate(line, line);
    x.transform(c, line, 0);
  }
  x.inverseRows(work, out, r0, r1, 1 / (n * n), line, lineOut);
}

export class WasmFft {
  private x!: FftExports;
  private memory!: WasmMemory;
  private layout: Layout | null = null;

  constructor(private readonly module: WasmCompiled) {
    this.bind(0);
  }

  private bind(bytes: number): void {
    ({ exports: this.x, memory: this.memory } = instantiate<FftExports>(this.module, bytes));
  }

  /** Size n's layout, its tables loaded (a new instance on a new memory when n needs more than this one holds). */
  private use(n: number): Layout {
    if (this.layout?.n === n) return this.layout;
    const layout = layoutOf(n);
    if (layout.bytes > this.memory.buffer.byteLength) this.bind(layout.bytes);
    loadTables(this.x, this.memory, layout);
    this.layout = layout;
    return layout;
  }

  private f64(offset: number, length: number): Float64Array {
    return new Float64Array(this.memory.buffer, offset, length);
  }

  /** Copies rows [y0, y1) of an n x n image at `offset` into `out`. */
  private rowsOut(offset: number, n: number, out: Float64Array, y0: number, y1: number): void {
    if (y1 > y0) out.set(this.f64(offset + 8 * y0 * n, (y1 - y0) * n), y0 * n);
  }

  /** Copies the rows of `input` the forward pass reads ([y0, y1), wrapped when y0 > y1) into area a. */
  private rowsIn(L: Layout, input: Float64Array, y0: number, y1: number): void {
    const { n } = L;
    const copy = (from: number, to: number) => {
      if (to > from)
        this.f64(L.a + 8 * from * n, (to - from) * n).set(input.subarray(from * n, to * n));
    };
    if (y0 <= y1) copy(y0, y1);
    else {
      copy(y0, n);
      copy(0, y1);
    }
  }

  /** RealFft2.forward. */
  forward(n: number, input: Float64Array, out: Float64Array, y0: number, y1: number): void {
    const L = this.use(n);
    this.rowsIn(L, input, y0, y1);
    this.x.forwardRows(L.a, y0, y1, L.b, L.line, L.lineOut);
    this.x.transformLines(L.a, L.b, n / 2 + 1, 8 * L.column);
    out.set(this.f64(L.a, L.spectrum));
  }

  /** RealFft2.filterColumns (0 <= r0, r1 <= n). */
  filterColumns(
    n: number,
    input: Float64Array,
    y0: number,
    y1: number,
    filter: ColumnFilter,
    out: Float64Array,
    r0: number,
    r1: number,
  ): void {
    const L = this.use(n);
    this.rowsIn(L, input, y0, y1);
    filterPasses(this.x, this.memory, L, [L.a, y0, y1], L.b, filter, [L.a, r0, r1]);
    this.rowsOut(L.a, n, out, r0, r1);
  }

  /** RealFft2.inverseColumn. */
  inverseColumn(n: number, column: Float64Array, out: Float64Array): void {
    const L = this.use(n);
    this.f64(L.lineOut, L.column).set(column);
    this.x.conjugate(L.line, L.lineOut);
    this.x.transform(L.lineOut, L.line, 0);
    out.set(this.f64(L.lineOut, L.column));
  }

  /** RealFft2.inverseConjugateColumn. */
  inverseConjugateColumn(n: number, conjugate: Float64Array, out: Float64Array): void {
    const L = this.use(n);
    this.f64(L.line, L.column).set(conjugate);
    this.x.transform(L.lineOut, L.line, 0);
    out.set(this.f64(L.lineOut, L.column));
  }

  /** RealFft2.inverseColumns. */
  inverseColumns(n: number, spectrum: Float64Array, out: Float64Array): void {
    const L = this.use(n);
    this.f64(L.a, L.spectrum).set(spectrum.subarray(0, L.spectrum));
    this.x.inverseColumns(L.b, L.a, n / 2 + 1, 8 * L.column, L.line);
    out.set(this.f64(L.b, L.spectrum));
  }

  /** RealFft2.inverseRows (0 <= y0, y1 <= n). */
  inverseRows(n: number, columns: Float64Array, out: Float64Array, y0: number, y1: number): void {
    const L = this.use(n);
    this.f64(L.b, L.spectrum).set(columns.subarray(0, L.spectrum));
    this.x.inverseRows(L.b, L.a, y0, y1, 1 / (n * n), L.line, L.lineOut);
    this.rowsOut(L.a, n, out, y0, y1);
  }

  /** RealFft2.inverse (0 <= y0, y1 <= n). */
  inverse(n: number, spectrum: Float64Array, out: Float64Array, y0: number, y1: number): void {
    const L = this.use(n);
    this.f64(L.a, L.spectrum).set(spectrum.subarray(0, L.spectrum));
    this.x.inverseColumns(L.b, L.a, n / 2 + 1, 8 * L.column, L.line);
    this.x.inverseRows(L.b, L.a, y0, y1, 1 / (n * n), L.line, L.lineOut);
    this.rowsOut(L.a, n, out, y0, y1);
  }

  /** fft.js's transform (inverse false) or inverseTransform of one line of n complex values. */
  transform(n: number, out: Float64Array, data: Float64Array, inverse: boolean): void {
    const L = this.use(n);
    this.f64(L.line, L.column).set(data);
    if (inverse) this.x.inverseTransform(L.lineOut, L.line);
    else this.x.transform(L.lineOut, L.line, 0);
    out.set(this.f64(L.lineOut, L.column));
  }
}

/** Bytes of a memory that a MemoryFft of size n takes. */
export function memoryFftBytes(n: number): number {
  return layoutOf(n, 0, 1).bytes;
}

/**
 * RealFft2's passes of the kernel field's and the decorrelation's tiles (forward, inverseConjugateColumn,
 * inverseRows, filterColumns) run in place on the buffers of another module's memory
 * (shared/diffim/field-wasm.ts): the same functions of
 * fft.as on the same values as WasmFft's, so the same bits, without a copy in or out. Its tables and
 * work areas take memoryFftBytes(n) from byte `at`; every buffer given must be a view of `memory`.
 */
export class MemoryFft {
  readonly columns: number;
  private readonly x: FftExports;
  private readonly layout: Layout;

  constructor(
    module: WasmCompiled,
    private readonly memory: WasmMemory,
    at: number,
    readonly n: number,
  ) {
    this.columns = n / 2 + 1;
    this.x = instantiateOn<FftExports>(module, memory);
    this.layout = layoutOf(n, at, 1);
    loadTables(this.x, memory, this.layout);
  }

  /** The byte offset of a view of this memory. */
  private at(view: Float64Array): number {
    if (view.buffer !== this.memory.buffer)
      throw new Error('MemoryFft: a buffer outside its memory');
    return view.byteOffset;
  }

  /** RealFft2.forward: `input`'s rows [y0, y1) (wrapped when y0 > y1), the rest taken as zero. */
  forward(input: Float64Array, out: Float64Array, y0 = 0, y1 = this.n): void {
    const L = this.layout;
    this.x.forwardRows(this.at(input), y0, y1, L.a, L.line, L.lineOut);
    this.x.transformLines(this.at(out), L.a, this.columns, 8 * L.column);
  }

  /** RealFft2.inverseConjugateColumn. */
  inverseConjugateColumn(conjugate: Float64Array, out: Float64Array): void {
    this.x.transform(this.at(out), this.at(conjugate), 0);
  }

  /** RealFft2.filterColumns (0 <= r0, r1 <= n); `filter` gets each column as a view of the memory. */
  filterColumns(
    input: Float64Array,
    y0: number,
    y1: number,
    filter: ColumnFilter,
    out: Float64Array,
    r0 = 0,
    r1 = this.n,
  ): void {
    const L = this.layout;
    const rows: [number, number, number] = [this.at(input), y0, y1];
    filterPasses(this.x, this.memory, L, rows, L.a, filter, [this.at(out), r0, r1]);
  }

  /** RealFft2.inverseRows (0 <= y0, y1 <= n). */
  inverseRows(columns: Float64Array, out: Float64Array, y0 = 0, y1 = this.n): void {
    const { n, line, lineOut } = this.layout;
    this.x.inverseRows(this.at(columns), this.at(out), y0, y1, 1 / (n * n), line, lineOut);
  }
}

const instance = perThread('fft', (module) => new WasmFft(module));

/** This thread's WebAssembly FFT, or null (and `wasmFftUnavailableReason()`) where it cannot run. */
export const wasmFft = instance.get;

/** Why wasmFft() is null ('' when it is not). */
export const wasmFftUnavailableReason = instance.reason;
