/**
 * The kernel fit's preparation of a candidate stamp (kernel-fit.ts prepare: every basis function's
 * convolution of the source stamp, then the normal equations) in WebAssembly SIMD
 * (shared/wasm/stamps.as), the same bits as the JavaScript. The stamp and the basis's factors are
 * copied into the instance's memory, the columns and equations copied out. One instance per thread,
 * on a memory sized for the largest stamp so far and never grown (shared/wasm/load.ts).
 */
import { horizontalOwners, type KernelBasis } from './basis.js';
import {
  instantiate,
  perThread,
  WASM_PAGE_BYTES,
  type WasmCompiled,
  type WasmMemory,
} from '../wasm/load.js';

/** The exports of shared/wasm/stamps.as (pointers are byte offsets into the memory). */
interface StampExports {
  convolveValid(
    input: number,
    taps: number,
    size: number,
    out: number,
    width: number,
    count: number,
    rowStep: number,
    step: number,
  ): void;
  subtractFirst(columns: number, count: number, n: number, subtract: number): void;
  normalEquations(
    columns: number,
    count: number,
    n: number,
    weight: number,
    target: number,
    normal: number,
    rhs: number,
    pairs: number,
  ): void;
}

/** A stamp's basis-convolved columns (then a column of ones) and its normal equations. */
export interface StampEquations {
  columns: Float64Array[];
  normal: Float64Array;
  rhs: Float64Array;
}

export class WasmStampPreparer {
  private x!: StampExports;
  private memory!: WasmMemory;

  constructor(private readonly module: WasmCompiled) {
    this.bind(WASM_PAGE_BYTES);
  }

  private bind(bytes: number): void {
    ({ exports: this.x, memory: this.memory } = instantiate<StampExports>(this.module, bytes));
  }

  /** prepare's columns and equations of the square `source` stamp against `target` and `weight` (n each). */
  prepare(
    source: Float64Array,
    target: Float64Array,
    weight: Float64Array,
    basis: KernelBasis,
  ): StampEquations {
    const side = Math.round(Math.sqrt(source.length));
    const { size, terms } = basis;
    const w = side - size + 1;
    const n = w * w;
    const nc = terms.length + 1;
    const owners = horizontalOwners(basis);
    const passes = owners.filter((o, j) => o === j).length;
    // Byte offsets, in float64s: the stamp, the factors, the horizontal passes, the columns, the equations.
    let at = 0;
    const take = (values: number): number => {
      const offset = at;
      at += 8 * values;
      return offset;
    };
    const [src, tgt, wgt, sub] = [take(side * side), take(n), take(n), take(terms.length)];
    const taps = take(2 * size * terms.length);
    const horizontal = take(passes * w * side);
    const columns = take(nc * n);
    const [normal, rhs, pairs] = [take(nc * nc), take(nc), take(2 * n)];
    if (at > this.memory.buffer.byteLength) this.bind(at);
    const f64 = (offset: number, length: number) =>
      new Float64Array(this.memory.buffer, offset, length);
    f64(src, side * side).set(source);
    f64(tgt, n).set(target);
    f64(wgt, n).set(weight);
    f64(sub, terms.length).set(basis.subtract);
    terms.forEach((t, j) => {
      f64(taps + 16 * size * j, size).set(t.fx);
      f64(taps + 8 * size * (2 * j + 1), size).set(t.fy);
    });
    const passAt = new Map<number, number>();
    for (let j = 0; j < terms.length; j++) {
      if (owners[j] !== j) continue;
      const out = horizontal + 8 * w * side * passAt.size;
      this.x.convolveValid(src, taps + 16 * size * j, size, out, w, side, side, 1);
      passAt.set(j, out);
    }
    for (let j = 0; j < terms.length; j++) {
      const pass = passAt.get(owners[j]) ?? 0;
      this.x.convolveValid(
        pass,
        taps + 8 * size * (2 * j + 1),
        size,
        columns + 8 * n * j,
        w,
        w,
        w,
        w,
      );
    }
    this.x.subtractFirst(columns, terms.length, n, sub);
    f64(columns + 8 * n * terms.length, n).fill(1);
    this.x.normalEquations(columns, nc, n, wgt, tgt, normal, rhs, pairs);
    return {
      columns: Array.from({ length: nc }, (_v, j) => f64(columns + 8 * n * j, n).slice()),
      normal: f64(normal, nc * nc).slice(),
      rhs: f64(rhs, nc).slice(),
    };
  }
}

const instance = perThread('stamps', (module) => new WasmStampPreparer(module));

/** This thread's instance, or null (and wasmStampsUnavailableReason()) where it cannot run. */
export const wasmStampPreparer = instance.get;

/** Why wasmStampPreparer() is null ('' when it is not). */
export const wasmStampsUnavailableReason = instance.reason;
