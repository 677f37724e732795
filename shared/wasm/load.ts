/**
 * The committed WebAssembly modules of this folder (README.md), read and compiled once per thread,
 * synchronously, from beside this module: shared/wasm/ under tsx, dist/shared/wasm/ in the build
 * (scripts/build.js copies them there).
 */
import { readFileSync } from 'node:fs';

/** A module's linear memory. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
}

/** A compiled module (opaque). */
export interface WasmCompiled {
  readonly compiled: unique symbol;
}

/**
 * The part of the WebAssembly JavaScript API used here: the libraries the project compiles with
 * (ES2023, Node's types) do not declare it.
 */
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => WasmCompiled;
  Instance: new (module: WasmCompiled, imports: object) => { exports: unknown };
  Memory: new (descriptor: { initial: number }) => WasmMemory;
}

const api = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

/** A compiled module, or why there is none (the file is missing, or this engine lacks a feature it uses). */
export type WasmModule = { module: WasmCompiled; reason: null } | { module: null; reason: string };

const MODULES = new Map<string, WasmModule>();

/** The module `name`.wasm of this folder, compiled once per thread. */
export function wasmModule(name: string): WasmModule {
  let compiled = MODULES.get(name);
  if (!compiled) {
    try {
      const bytes = readFileSync(new URL(`./${name}.wasm`, import.meta.url));
      compiled = { module: new api.Module(bytes), reason: null };
    } catch (error) {
      compiled = { module: null, reason: String(error) };
    }
    MODULES.set(name, compiled);
  }
  return compiled;
}

/** Bytes in a WebAssembly memory page. */
export const WASM_PAGE_BYTES = 65536;

/**
 * A new instance of `module` on a new memory of at least `bytes` (its import `env.memory`), its
 * exports typed by the caller. The memory is never grown: a grown memory detaches its old buffer,
 * and after that the subtraction's typed-array code ran slower (shared/warp/README.md).
 */
export function instantiate<T>(
  module: WasmCompiled,
  bytes: number,
): { exports: T; memory: WasmMemory } {
  const memory = new api.Memory({ initial: Math.max(1, Math.ceil(bytes / WASM_PAGE_BYTES)) });
  return { exports: instantiateOn<T>(module, memory), memory };
}

/**
 * The exports of a new instance of `module` on an existing memory (another module's): the two then
 * work on the same buffers without copies. The committed modules have no data segments, so each
 * writes only where its caller points it.
 */
export function instantiateOn<T>(module: WasmCompiled, memory: WasmMemory): T {
  return new api.Instance(module, { env: { memory } }).exports as T;
}

/** A thread's one object over module `name`, made on first use, or null where it cannot be made. */
export interface PerThread<T> {
  /** The object, or null (the module is missing, or making it failed). */
  get(): T | null;
  /** Why get() is null ('' when it is not). */
  reason(): string;
}

/** The PerThread object that `make` builds over module `name` (compiled by wasmModule). */
export function perThread<T>(name: string, make: (module: WasmCompiled) => T): PerThread<T> {
  let value: T | null | undefined;
  let why = '';
  return {
    get() {
      if (value === undefined) {
        const { module, reason } = wasmModule(name);
        try {
          value = module ? make(module) : null;
          why = reason ?? '';
        } catch (error) {
          value = null;
          why = String(error);
        }
      }
      return value;
    },
    reason: () => why,
  };
}
