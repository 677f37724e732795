/**
 * Which arithmetic runs the kernel's hot loops, the fit's stamp preparation (kernel-fit.ts) and the
 * kernel field's convolution (convolve-field.ts): WebAssembly SIMD where this engine has it
 * (stamps-wasm.ts, field-wasm.ts), else the JavaScript (kernel-fit.ts, field-js.ts); the same bits.
 */
import { engineChoice, type Engine } from '../wasm/engine.js';
import { jsFieldArithmetic, type FieldArithmetic } from './field-js.js';
import { wasmFieldArithmetic, wasmFieldUnavailableReason } from './field-wasm.js';
import {
  wasmStampPreparer,
  wasmStampsUnavailableReason,
  type WasmStampPreparer,
} from './stamps-wasm.js';

export type KernelEngine = Engine;

/** Why the WebAssembly engine cannot run here ('' when it can). */
function unavailable(): string {
  return wasmFieldArithmetic() && wasmStampPreparer()
    ? ''
    : wasmFieldUnavailableReason() || wasmStampsUnavailableReason();
}

const choice = engineChoice('AP_KERNEL_ARITHMETIC', 'kernel arithmetic', 'JavaScript', unavailable);

/** The engine that runs here: `prefer`, else AP_KERNEL_ARITHMETIC, else wasm when available. */
export const kernelEngine = choice.engine;

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
 * `warpResampler`).
 */
export const kernelArithmeticDescription = choice.describe;
