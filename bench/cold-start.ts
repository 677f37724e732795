/**
 * Cold start of a function instance: process start to the first event handled, with the TF.js
 * backend initialised and the real/bogus model loaded, for the compiled build (dist/, what the
 * cloud runs) and for the TypeScript sources under tsx (what production ran before the build).
 * Each run is a fresh `node` process (bench/cold-start-probe.mjs); prints the median of RUNS.
 * Needs `npm run build` first for the compiled figures.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const RUNS = 5;
const PROBE = fileURLToPath(new URL('./cold-start-probe.mjs', import.meta.url));
const ROOT = fileURLToPath(new URL('../', import.meta.url));

interface Milestones {
  entryPointsLoaded: number;
  modelLoaded: number;
  firstEventHandled: number;
  status: number;
  backend: string;
}

function once(args: string[]): Milestones {
  const run = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  if (run.status !== 0) throw new Error(`cold start probe failed: ${run.stderr.slice(-500)}`);
  return JSON.parse(run.stdout.trim().split('\n').pop()!) as Milestones;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function run(): Promise<void> {
  const modes: Array<[string, string[]]> = [
    ['compiled (node, dist/)', [PROBE, '../dist', 'js']],
    ['sources (node --import tsx)', ['--import', 'tsx', PROBE, '..', 'ts']],
  ];
  if (!existsSync(new URL('../dist/functions/index.js', import.meta.url))) {
    process.stdout.write('dist/ is missing: run npm run build first\n');
    return;
  }
  for (const [label, args] of modes) {
    const runs = Array.from({ length: RUNS }, () => once(args));
    const m = (k: 'entryPointsLoaded' | 'modelLoaded' | 'firstEventHandled') =>
      `${median(runs.map((r) => r[k])).toFixed(0)} ms`;
    process.stdout.write(
      `${label.padEnd(30)} entry points ${m('entryPointsLoaded')}, TF.js (${runs[0].backend}) and model ${m('modelLoaded')}, first event answered (${runs[0].status}) ${m('firstEventHandled')}  (median of ${RUNS})\n`,
    );
  }
}
