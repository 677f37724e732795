// Rebuilds the committed WebAssembly modules of this folder from their AssemblyScript sources:
// `node shared/wasm/build.js` (README.md). Nothing runs it at install or build time: the .wasm files
// are committed, and test/wasm/build.test.ts checks that they are what their sources compile to.
import { readFileSync, writeFileSync } from 'node:fs';
import { URL, fileURLToPath } from 'node:url';

/** The compiler version the committed modules were built with (other versions emit other bytes). */
export const ASC_VERSION = '0.28.20';
/**
 * asc's flags: optimised for speed, no runtime checks, no garbage collector, SIMD, and memory
 * imported (`env.memory`): the caller sizes it once, as it needs, and never grows it (with a grown
 * memory, whose old buffer is detached, the subtraction's FFTs ran ~40 % slower after the warp;
 * shared/warp/README.md).
 */
export const ASC_FLAGS = [
  '-O3',
  '--noAssert',
  '--runtime',
  'stub',
  '--enable',
  'simd',
  '--importMemory',
];
/** The modules: an AssemblyScript source NAME.as beside this file builds NAME.wasm. */
export const WASM_MODULES = ['resample', 'fft', 'field', 'stamps', 'separable'];

/** asc's API: the package `assemblyscript` (devDependencies), or the file env AP_ASC names. */
export async function loadAsc() {
  const spec = process.env.AP_ASC
    ? new URL(process.env.AP_ASC, `file://${process.cwd()}/`).href
    : 'assemblyscript/asc';
  const asc = await import(spec);
  return asc.default ?? asc;
}

/**
 * Compiles module `name` with asc's API: the source is handed over as NAME.ts (asc reads .ts;
 * the .as extension keeps it out of the project's TypeScript, ESLint and Prettier).
 */
export async function compile(asc, name) {
  const source = readFileSync(new URL(`./${name}.as`, import.meta.url), 'utf8');
  let binary = null;
  const errors = [];
  const result = await asc.main([`${name}.ts`, ...ASC_FLAGS, '-o', `${name}.wasm`], {
    readFile: (file) => (file === `${name}.ts` ? source : null),
    writeFile: (file, contents) => {
      if (file === `${name}.wasm`) binary = contents;
    },
    listFiles: () => [],
    stdout: { write: () => true },
    stderr: { write: (text) => errors.push(String(text)) },
  });
  if (result.error || !binary) throw new Error(`asc ${name}: ${result.error ?? errors.join('')}`);
  return binary;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const asc = await loadAsc();
  if (asc.version !== ASC_VERSION)
    throw new Error(`asc ${asc.version} found, the modules are built with ${ASC_VERSION}`);
  for (const name of WASM_MODULES) {
    const binary = await compile(asc, name);
    writeFileSync(new URL(`./${name}.wasm`, import.meta.url), binary);
    process.stderr.write(`shared/wasm/${name}.wasm: ${binary.length} bytes\n`);
  }
}
