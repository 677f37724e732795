/**
 * Templates benchmark (issue 16 acceptance): (1) quality of a later visit differenced against a
 * coadd of a simulated 12-visit stack, for each rejection method; (2) wall time and peak memory of
 * `ap template` on 12 inputs of 4096 x 4096 (a child process, so its peak RSS is its own).
 * AP_BENCH_TEMPLATE_SIZE (default 2048) and AP_BENCH_TEMPLATE_BIG (default 4096, 0 skips) set the sizes;
 * AP_BENCH_TEMPLATE_SEED (default 3) the stack; AP_BENCH_TEMPLATE_REJECTION (comma separated, default
 * all three) the rejection methods.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { bars, describe, describeBars, evaluateTemplates } from './template-eval.js';

const SIZE = Number(process.env.AP_BENCH_TEMPLATE_SIZE ?? 2048);
const BIG = Number(process.env.AP_BENCH_TEMPLATE_BIG ?? 4096);
const SEED = Number(process.env.AP_BENCH_TEMPLATE_SEED ?? 3);
const REJECTIONS = ['compareWarp', 'clip', 'none'] as const;
type Rejection = (typeof REJECTIONS)[number];
const CHOSEN = (process.env.AP_BENCH_TEMPLATE_REJECTION ?? REJECTIONS.join(','))
  .split(',')
  .map((r) => r.trim());
const AP = join(import.meta.dirname, '../bin/ap.js');

export async function run(): Promise<void> {
  const unknown = CHOSEN.filter((r) => !(REJECTIONS as readonly string[]).includes(r));
  if (unknown.length)
    throw new Error(
      `AP_BENCH_TEMPLATE_REJECTION: ${unknown.join(', ')} not one of ${REJECTIONS.join(', ')}`,
    );
  for (const rejection of REJECTIONS.filter((r: Rejection) => CHOSEN.includes(r))) {
    const f = await evaluateTemplates({
      size: SIZE,
      seed: SEED,
      inputs: 12,
      config: { rejection },
    });
    console.log(`${SIZE}^2, 12 inputs, seed ${SEED}, rejection ${rejection}: ${describe(f)}`);
    console.log(describeBars(bars(f)));
    const where = f.falsePositiveSources.map(
      (s) => `(${s.x.toFixed(0)}, ${s.y.toFixed(0)}) SNR ${s.snr.toFixed(1)}, ${s.inputs} inputs`,
    );
    if (where.length) console.log(`  false positives: ${where.join('; ')}`);
  }
  if (BIG <= 0) return;
  const dir = mkdtempSync(join(tmpdir(), 'bench-templates-'));
  try {
    const sim = spawnSync(
      process.execPath,
      [
        AP,
        'simulate',
        '--out',
        dir,
        '--size',
        String(BIG),
        '--seed',
        String(SEED),
        '--visits',
        '1',
        '--template-inputs',
        '12',
      ],
      { encoding: 'utf8' },
    );
    if (sim.status !== 0) throw new Error(sim.stderr);
    const inputs = readdirSync(dir)
      .filter((f) => f.startsWith('input-'))
      .map((f) => join(dir, f));
    const started = Date.now();
    const run = spawnSync(
      process.execPath,
      [AP, 'template', '--out', join(dir, 'T.fits'), ...inputs],
      { encoding: 'utf8', maxBuffer: 1 << 26 },
    );
    if (run.status !== 0) throw new Error(run.stderr);
    const log = JSON.parse(run.stderr.trim().split('\n').pop() ?? '{}') as {
      peakRssMb: number;
      cpuSeconds: number;
      timingsMs: Record<string, number>;
    };
    const wallS = (Date.now() - started) / 1000;
    const load = loadavg()[0];
    console.log(
      `ap template, 12 inputs of ${BIG}^2: wall ${wallS.toFixed(1)} s (CPU ${log.cpuSeconds.toFixed(1)} s), peak RSS ${(log.peakRssMb / 1024).toFixed(2)} GB, stages ${JSON.stringify(log.timingsMs)} (load average ${load.toFixed(1)})`,
    );
    console.log(
      describeBars([
        {
          name: `wall time (load average ${load.toFixed(1)} on ${availableParallelism()} cores${load > availableParallelism() ? ': inflated, see CPU / cores' : ''})`,
          value: `${wallS.toFixed(1)} s (CPU / cores ${(log.cpuSeconds / availableParallelism()).toFixed(1)} s)`,
          bar: '<= 60 s',
          met: wallS <= 60,
        },
        {
          name: 'peak RSS',
          value: `${(log.peakRssMb / 1024).toFixed(2)} GB`,
          bar: '<= 6 GB',
          met: log.peakRssMb <= 6 * 1024,
        },
      ]),
    );
    console.log(run.stdout.trim());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
