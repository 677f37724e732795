/**
 * Which arithmetic convolves by the kernel field (convolve-field.ts): WebAssembly SIMD where this engine
 * has it (field-wasm.ts), else the JavaScript (field-js.ts); the same bits.
 */
import { jsFieldArithmetic, type FieldArithmetic } from './field-js.js';
import { wasmFieldArithmetic, wasmFieldUnavailableReason } from './field-wasm.js';

export type FieldEngine = 'wasm' | 'js';

/** Environment variable forcing the engine for a whole process (A/B measurements, tests). */
const ENGINE_ENV = 'AP_KERNEL_FIELD';

/** The engine that runs here: `prefer`, else AP_KERNEL_FIELD, else wasm when available. */
export function fieldEngine(prefer?: FieldEngine): FieldEngine {
  const forced = prefer ?? (process.env[ENGINE_ENV] as FieldEngine | undefined);
  if (forced !== undefined && forced !== 'wasm' && forced !== 'js')
    throw new Error(`${ENGINE_ENV}=${String(forced)}: expected wasm or js`);
  if (forced === 'wasm' && !wasmFieldArithmetic())
    throw new Error(`WebAssembly kernel field unavailable: ${wasmFieldUnavailableReason()}`);
  return forced ?? (wasmFieldArithmetic() ? 'wasm' : 'js');
}

/** The arithmetic of `engine` (default: fieldEngine()) on this thread. */
export function fieldArithmetic(engine: FieldEngine = fieldEngine()): FieldArithmetic {
  return (engine === 'wasm' && wasmFieldArithmetic()) || jsFieldArithmetic;
}

/**
 * What convolves by the kernel field in this process, as the logs record it (`kernelField` beside
 * `warpResampler`): 'WebAssembly SIMD', or 'JavaScript' with why.
 */
export function fieldDescription(): string {
  const forced = process.env[ENGINE_ENV] !== undefined;
  if (fieldEngine() === 'wasm') return `WebAssembly SIMD${forced ? ' (forced)' : ''}`;
  return `JavaScript (${forced ? 'forced' : `WebAssembly SIMD unavailable: ${wasmFieldUnavailableReason()}`})`;
}
