/**
 * Independent cross-checks through Debian's python3 with astropy / avro.
 * Tests call `pythonWith('astropy')` and skip, with the printed reason, when it is absent; where
 * the oracles are required (AP_REQUIRE_ORACLES=1, as .ci/run sets) they run and fail instead.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Debian's interpreter carries python3-astropy and python3-avro; pyenv shims do not. */
const CANDIDATES = ['/usr/bin/python3', 'python3'];

const cache = new Map<string, string | null>();

/** Path of a python3 that can import `module`, or null. */
export function pythonWith(module: string): string | null {
  if (!cache.has(module)) {
    const found = CANDIDATES.find((py) => {
      if (py.startsWith('/') && !existsSync(py)) return false;
      return spawnSync(py, ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0;
    });
    cache.set(module, found ?? null);
  }
  return cache.get(module) ?? null;
}

/** Reason string for `test(..., { skip })` when the module is missing, else false. */
export function skipWithout(module: string): string | false {
  if (pythonWith(module) || process.env.AP_REQUIRE_ORACLES === '1') return false;
  const reason = `python3 with '${module}' not found (apt-get install python3-${module}); independent cross-check skipped`;
  process.stdout.write(`# SKIP ${reason}\n`);
  return reason;
}

/** Runs a python script with the interpreter that has `module`; returns stdout, throws on failure. */
export function runPython(
  module: string,
  script: string,
  args: string[] = [],
  input?: Buffer,
): string {
  const py = pythonWith(module);
  if (!py) throw new Error(`no python3 with ${module}`);
  const result = spawnSync(py, ['-c', script, ...args], { input, maxBuffer: 1 << 28 });
  if (result.status !== 0) throw new Error(`python failed: ${result.stderr.toString()}`);
  return result.stdout.toString();
}
