/**
 * Which engine runs the FFTs of RealFft2 (fft-real.ts): WebAssembly SIMD (fft-wasm.ts) where this
 * engine has it, else fft.js; the same bits either way.
 */
import { wasmFft, wasmFftUnavailableReason } from './fft-wasm.js';

export type FftEngine = 'wasm' | 'js';

/** Environment variable forcing the engine for a whole process (A/B measurements, tests). */
const ENGINE_ENV = 'AP_FFT';

/** The engine that runs here: `prefer`, else AP_FFT, else wasm when available. */
export function fftEngine(prefer?: FftEngine): FftEngine {
  const forced = prefer ?? (process.env[ENGINE_ENV] as FftEngine | undefined);
  if (forced !== undefined && forced !== 'wasm' && forced !== 'js')
    throw new Error(`${ENGINE_ENV}=${String(forced)}: expected wasm or js`);
  if (forced === 'wasm' && !wasmFft())
    throw new Error(`WebAssembly FFT unavailable: ${wasmFftUnavailableReason()}`);
  return forced ?? (wasmFft() ? 'wasm' : 'js');
}

/**
 * What runs the FFTs in this process, as the logs record it (`fftEngine` in `ap diff`'s and `ap
 * process`'s summaries, processImage's `detector processed`): 'WebAssembly SIMD', or 'fft.js' with
 * why (forced, or the reason WebAssembly SIMD is unavailable).
 */
export function fftDescription(): string {
  const forced = process.env[ENGINE_ENV] !== undefined;
  if (fftEngine() === 'wasm') return `WebAssembly SIMD${forced ? ' (forced)' : ''}`;
  return `fft.js (${forced ? 'forced' : `WebAssembly SIMD unavailable: ${wasmFftUnavailableReason()}`})`;
}
