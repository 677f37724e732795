/**
 * The choice between a WebAssembly SIMD engine and its JavaScript twin (the same bits), one per
 * kind of hot loop (the warp's resampler, the FFTs, the kernel's arithmetic): WebAssembly where
 * this runtime has it, unless an environment variable forces one for the whole process (A/B
 * measurements, tests). What ran is recorded in the logs by `describe()`.
 */

export type Engine = 'wasm' | 'js';

export interface EngineChoice {
  /** The engine that runs here: `prefer`, else the environment variable, else wasm when available. */
  engine(prefer?: Engine): Engine;
  /** 'WebAssembly SIMD' (forced or not), or the JavaScript's name with why (forced, or why WebAssembly cannot run). */
  describe(): string;
}

/**
 * The choice forced by the environment variable `env`; `unavailable()` says why the WebAssembly
 * engine cannot run here ('' when it can), `what` names it in errors, `jsName` names the fallback.
 */
export function engineChoice(
  env: string,
  what: string,
  jsName: string,
  unavailable: () => string,
): EngineChoice {
  const engine = (prefer?: Engine): Engine => {
    const forced = prefer ?? (process.env[env] as Engine | undefined);
    if (forced !== undefined && forced !== 'wasm' && forced !== 'js')
      throw new Error(`${env}=${String(forced)}: expected wasm or js`);
    const reason = unavailable();
    if (forced === 'wasm' && reason) throw new Error(`WebAssembly ${what} unavailable: ${reason}`);
    return forced ?? (reason ? 'js' : 'wasm');
  };
  return {
    engine,
    describe() {
      const forced = process.env[env] !== undefined;
      if (engine() === 'wasm') return `WebAssembly SIMD${forced ? ' (forced)' : ''}`;
      return `${jsName} (${forced ? 'forced' : `WebAssembly SIMD unavailable: ${unavailable()}`})`;
    },
  };
}
