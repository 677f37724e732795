/**
 * Which arithmetic runs the kernel's hot loops, the fit's stamp preparation (kernel-fit.ts) and the
 * kernel field's convolution (convolve-field.ts): WebAssembly SIMD where this engine has it
 * (stamps-wasm.ts, field-wasm.ts), else the JavaScript (kernel-fit.ts, field-js.ts); the same bits.
 */
import { jsFieldArithmetic, type FieldArithmetic } from './field-js.js';
import { wasmFieldArithmetic, wasmFieldUnavailableReason } from './field-wasm.js';
import {
  wasmStampPreparer,
  wasmStampsUnavailableReason,
  type WasmStampPreparer,
} from './stamps-wasm.js';

export type KernelEngine = 'wasm' | 'js';

/** Environment variable forcing the engine for a whole process (A/B measurements, tests). */
const ENGINE_ENV = 'AP_KERNEL_ARITHMETIC';

/** Why the WebAssembly engine cannot run here ('' when it can). */
function unavailable(): string {
  return wasmFieldArithmetic() && wasmStampPreparer()
    ? ''
    : wasmFieldUnavailableReason() || wasmStampsUnavailableReason();
}

/** The engine that runs here: `prefer`, else AP_KERNEL_ARITHMETIC, else wasm when available. */
export function kernelEngine(prefer?: KernelEngine): KernelEngine {
  const forced = prefer ?? (process.env[ENGINE_ENV] as KernelEngine | undefined);
  if (forced !== undefined && forced !== 'wasm' && forced !== 'js')
    throw new Error(`${ENGINE_ENV}=${String(forced)}: expected wasm or js`);
  const reason = unavailable();
  if (forced === 'wasm' && reason)
    throw new Error(`WebAssembly kernel arithmetic unavailable: ${reason}`);
  return forced ?? (reason ? 'js' : 'wasm');
}

/** The kernel field's arithmetic of `engine` (default: kernelEngine()) on this thread. */
export function fieldArithmetic(engine: KernelEngine = kernelEngine()): FieldArithmetic {
  return (engine === 'wasm' && wasmFieldArithmetic()) || jsFieldArithmetic;
}

/** This thread's WebAssembly stamp preparer when `engine` (default: kernelEngine()) is wasm, else null (the JavaScript). */
export function stampPreparer(engine: KernelEngine = kernelEngine()): WasmStampPreparer | null {
  return engine === 'wasm' ? wasmStampPreparer() : null;
}

/**
 * What runs the kernel's arithmetic in this process, as the logs record it (`kernelArithmetic` beside
 * `warpResampler`): 'WebAssembly SIMD', or 'JavaScript' with why.
 */
export function kernelArithmeticDescription(): string {
  const forced = process.env[ENGINE_ENV] !== undefined;
  if (kernelEngine() === 'wasm') return `WebAssembly SIMD${forced ? ' (forced)' : ''}`;
  return `JavaScript (${forced ? 'forced' : `WebAssembly SIMD unavailable: ${unavailable()}`})`;
}
