/**
 * The committed WebAssembly modules of this folder (README.md), read and compiled once per thread,
 * synchronously, from beside this module: shared/wasm/ under tsx, dist/shared/wasm/ in the build
 * (scripts/build.js copies them there).
 */
import { readFileSync } from 'node:fs';

/** A compiled module, or why there is none (the file is missing, or this engine lacks a feature it uses). */
export type WasmModule =
  { module: WebAssembly.Module; reason: null } | { module: null; reason: string };

const MODULES = new Map<string, WasmModule>();

/** The module `name`.wasm of this folder, compiled once per thread. */
export function wasmModule(name: string): WasmModule {
  let compiled = MODULES.get(name);
  if (!compiled) {
    try {
      const bytes = readFileSync(new URL(`./${name}.wasm`, import.meta.url));
      compiled = { module: new WebAssembly.Module(bytes), reason: null };
    } catch (error) {
      compiled = { module: null, reason: String(error) };
    }
    MODULES.set(name, compiled);
  }
  return compiled;
}
