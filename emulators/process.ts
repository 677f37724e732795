/**
 * `npm run emulators` as a process of its own (for kills and restarts in tests and benches): starts
 * it with the given flags, waits for its `export` lines and returns them; SIGKILLs it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

export interface EmulatorProcess {
  child: ChildProcess;
  /** The printed variables: PUBSUB_EMULATOR_HOST, STORAGE_EMULATOR_HOST, FIRESTORE_EMULATOR_HOST, GOOGLE_CLOUD_PROJECT. */
  env: Record<string, string>;
}

export async function startEmulatorProcess(flags: string[]): Promise<EmulatorProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...flags], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let text = '';
  await new Promise<void>((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`emulators exited with ${code}`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('GOOGLE_CLOUD_PROJECT')) resolve();
    });
  });
  const env = Object.fromEntries(
    [...text.matchAll(/^export (\w+)=(\S+)$/gm)].map((m) => [m[1], m[2]]),
  );
  return { child, env };
}

/** SIGKILL, resolved once the process is gone. */
export async function sigkill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}
