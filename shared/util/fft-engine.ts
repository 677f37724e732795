/**
 * Which engine runs the FFTs of RealFft2 (fft-real.ts): WebAssembly SIMD (fft-wasm.ts) where this
 * engine has it, else fft.js; the same bits either way. `AP_FFT=js|wasm` forces one.
 */
import { engineChoice, type Engine } from '../wasm/engine.js';
import { wasmFft, wasmFftUnavailableReason } from './fft-wasm.js';

export type FftEngine = Engine;

const choice = engineChoice('AP_FFT', 'FFT', 'fft.js', () =>
  wasmFft() ? '' : wasmFftUnavailableReason(),
);

/** The engine that runs here: `prefer`, else AP_FFT, else wasm when available. */
export const fftEngine = choice.engine;

/**
 * What runs the FFTs in this process, as the logs record it (`fftEngine` in `ap diff`'s and `ap
 * process`'s summaries, processImage's `detector processed`).
 */
export const fftDescription = choice.describe;
