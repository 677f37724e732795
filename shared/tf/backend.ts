/**
 * TensorFlow.js with the fastest backend this machine has: tfjs-node (native
 * libtensorflow, as on Google Cloud) when it loads, else WASM (SIMD), else CPU.
 * The chosen backend is logged once and reported by `tfBackendName()`.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';

export type TfBackend = 'tensorflow' | 'wasm' | 'cpu';
export { tf };

const require = createRequire(import.meta.url);
let ready: Promise<TfBackend> | null = null;

async function tryNode(): Promise<boolean> {
  try {
    // Registers the 'tensorflow' backend as a side effect; absent or broken installs throw.
    await import('@tensorflow/tfjs-node' as string);
    return await tf.setBackend('tensorflow');
  } catch {
    return false;
  }
}

async function tryWasm(): Promise<boolean> {
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const dist = dirname(
      require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'),
    );
    wasm.setWasmPaths(`${join(dist, '/')}`);
    return await tf.setBackend('wasm');
  } catch {
    return false;
  }
}

/**
 * Chooses and initialises the backend once. `prefer` forces one (tests compare
 * backends); env AP_TF_BACKEND does the same for a whole process.
 */
export async function initTf(
  prefer?: TfBackend,
  log: (line: string) => void = defaultLog,
): Promise<TfBackend> {
  const forced = prefer ?? (process.env.AP_TF_BACKEND as TfBackend | undefined);
  if (forced) {
    const ok =
      forced === 'tensorflow'
        ? await tryNode()
        : forced === 'wasm'
          ? await tryWasm()
          : await tf.setBackend('cpu');
    if (!ok) throw new Error(`TensorFlow.js backend '${forced}' is not available here`);
    await tf.ready();
    log(`tfjs backend: ${forced} (forced)`);
    return forced;
  }
  ready ??= (async () => {
    const name: TfBackend = (await tryNode()) ? 'tensorflow' : (await tryWasm()) ? 'wasm' : 'cpu';
    if (name === 'cpu') await tf.setBackend('cpu');
    await tf.ready();
    log(`tfjs backend: ${name}`);
    return name;
  })();
  return ready;
}

/** The active backend's name ('tensorflow', 'wasm' or 'cpu'). */
export function tfBackendName(): string {
  return tf.getBackend();
}

function defaultLog(line: string): void {
  process.stderr.write(`${JSON.stringify({ severity: 'INFO', message: line })}\n`);
}
