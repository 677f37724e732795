// `ap simulate --size 4096` (a template and 2 visits): wall time, CPU time and peak memory of the
// command, polled from /proc/<pid>/stat and /proc/<pid>/status (VmHWM, the kernel's high-water
// mark of resident memory).
// Target: seconds per 4096 x 4096 visit, not minutes.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SIZE = 4096;
const VISITS = 2;

/** User + system CPU seconds of a live process (fields 14 and 15 of /proc/<pid>/stat, in clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

function peakRssMb(pid: number): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

export async function run(): Promise<void> {
  const out = mkdtempSync(join(tmpdir(), 'bench-simulate-'));
  const ap = join(import.meta.dirname, '../bin/ap.js');
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [ap, 'simulate', '--out', out, '--size', String(SIZE), '--visits', String(VISITS)],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let peak = 0;
  let cpu = 0;
  const poll = setInterval(() => {
    const rss = peakRssMb(child.pid ?? -1);
    if (Number.isFinite(rss)) peak = Math.max(peak, rss);
    const used = cpuSeconds(child.pid ?? -1);
    if (Number.isFinite(used)) cpu = Math.max(cpu, used);
  }, 50);
  const status = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearInterval(poll);
  const seconds = (performance.now() - started) / 1000;
  if (status !== 0) throw new Error(`ap simulate failed (${status}): ${stderr}`);
  const bytes = readdirSync(out).reduce((sum, f) => sum + statSync(join(out, f)).size, 0);
  rmSync(out, { recursive: true, force: true });
  const images = VISITS + 1;
  console.log(`ap simulate --size ${SIZE} --visits ${VISITS} (${images} images)`);
  console.log(
    `  wall time        ${seconds.toFixed(1)} s  (${(seconds / images).toFixed(1)} s per image)`,
  );
  console.log(
    `  CPU time         ${cpu.toFixed(1)} s  (to the last 50 ms poll; wall exceeds it when the machine is shared)`,
  );
  console.log(
    `  peak memory      ${Number.isFinite(peak) && peak > 0 ? `${peak.toFixed(0)} MB (VmHWM)` : 'n/a (no /proc)'}`,
  );
  console.log(`  output           ${(bytes / 1e6).toFixed(0)} MB`);
  console.log(`  log              ${stderr.trim().split('\n').pop() ?? ''}`);
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
