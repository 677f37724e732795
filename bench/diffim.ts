/**
 * Image subtraction benchmark on simulated 4096 x 4096 pairs (AP_BENCH_DIFFIM_SIZE to change): the
 * real command, `ap diff` on the default pair (AL/auto and ZOGY) and on the crowded one (`ap
 * simulate --crowded`), as a user runs it: wall time, CPU time of all threads and utilisation, peak
 * memory and the time of each stage from ap diff's log. The figures are appended with the commit
 * to bench/records/diffim.jsonl (diffim-SIZE.jsonl at other sizes); `npm run bench -- diffim
 * compare` also prints their change against the last recorded run. With AP_BENCH_DIFFIM_INPROCESS=1,
 * then the whole `ap diff` task in this process per method with CPU time and resident memory at the
 * end of each stage, and the TF.js-against-fft.js convolution measurement.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { initTf, tf, tfBackendName } from '../shared/tf/backend.js';
import { simulateNight } from '../shared/sim/night.js';
import { Exposure } from '../shared/image/exposure.js';
import { runDiff, type DiffStage } from '../shared/diffim/pipeline.js';
import type { SubtractMethodChoice } from '../shared/diffim/config.js';
import { alardLuptonBasis } from '../shared/diffim/basis.js';
import { convolveKernelField } from '../shared/diffim/convolve-field.js';
import { KernelSolution } from '../shared/diffim/kernel-solution.js';
import { loadNow, recordRun, type Figures } from './records.js';

/** The measurement behind the design choice: one 33-tap separable pass on TF.js vs a whole dense 33x33 kernel by FFT tiles. */
async function compareConvolutions(image: Exposure): Promise<void> {
  const { width, height } = image;
  const taps = tf.tensor4d(
    Array.from({ length: 33 }, (_v, i) => Math.exp(-((i - 16) ** 2) / 50)),
    [1, 33, 1, 1],
  );
  const input = tf.tensor4d(image.image.clone().data, [1, height, width, 1]);
  tf.tidy(() => tf.conv2d(tf.zeros([1, 64, 64, 1]) as tf.Tensor4D, taps, 1, 'same').dataSync()); // backend warm-up
  let t = performance.now();
  const pass = tf.conv2d(input, taps, 1, 'same');
  await pass.data();
  const tfMs = performance.now() - t;
  tf.dispose([taps, input, pass]);
  const basis = alardLuptonBasis({ size: 33, sigmas: [1, 2, 4], degrees: [0, 0, 0] });
  const solution = new KernelSolution(
    basis,
    0,
    0,
    1,
    [Float64Array.of(0.3), Float64Array.of(0.1)],
    Float64Array.of(0),
    width,
    height,
  );
  t = performance.now();
  await convolveKernelField(image.image, solution, 512);
  console.log(
    `  one 33-tap 1-D pass, TF.js ${tfBackendName()} conv2d: ${(tfMs / 1000).toFixed(2)} s; a dense 33x33 kernel by fft.js tiles (this thread): ${((performance.now() - t) / 1000).toFixed(2)} s`,
  );
}

function copy(e: Exposure): Exposure {
  return new Exposure(e.image.clone(), e.mask.clone(), e.variance.clone(), e.wcs, null, {
    ...e.info,
  });
}

const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MB`;

export async function run(options: { compare?: boolean } = {}): Promise<void> {
  await initTf(undefined, () => {});
  const size = Number(process.env.AP_BENCH_DIFFIM_SIZE ?? 4096);
  console.log(
    `diffim: ${size}x${size} pairs, TF.js backend ${tfBackendName()} (subtraction itself runs on fft.js tiles and typed arrays)`,
  );
  // First, while this process is small: beside the simulation's 5 GB heap the command runs ~25 % slower.
  const load = loadNow();
  const figures = await runCommand(size);
  recordRun(
    size === 4096 ? 'diffim' : `diffim-${size}`,
    figures,
    Math.max(load, loadNow()),
    options.compare ?? false,
  );
  if (process.env.AP_BENCH_DIFFIM_INPROCESS !== '1') return;
  const t0 = performance.now();
  const night = simulateNight({ size, seed: 11, visits: 1 });
  console.log(
    `  simulate: ${((performance.now() - t0) / 1000).toFixed(1)} s (not part of ap diff)`,
  );
  await compareConvolutions(night.template.exposure);
  for (const method of ['auto', 'zogy'] as SubtractMethodChoice[]) {
    const rows: Array<[DiffStage, number, number]> = [];
    const start = performance.now();
    let cpu = process.cpuUsage();
    const r = await runDiff(
      copy(night.visits[0].exposure),
      copy(night.template.exposure),
      { subtract: { method } },
      (stage) => {
        const used = process.cpuUsage(cpu);
        cpu = process.cpuUsage();
        rows.push([stage, process.memoryUsage().rss, (used.user + used.system) / 1e6]);
      },
    );
    const wall = performance.now() - start;
    console.log(
      `  method ${method} -> ${r.method}: ${(wall / 1000).toFixed(2)} s (load average ${loadavg()[0].toFixed(2)}), kernel sum ${r.kernelSum.toFixed(4)}, PSF FWHM ${r.psfFwhmPx.toFixed(2)} px, noise ratio ${r.stats.noiseRatio.toFixed(3)}, candidates ${r.stats.candidatesUsed}/${r.stats.candidates.length}`,
    );
    // CPU seconds of this process: the main thread's and the worker threads' (the science is characterized on a pool
    // worker while the template is characterized and warped here, so the first three stages overlap; each one's wall is
    // the time from the previous stage's end to its own).
    for (const [stage, rss, cpuS] of rows)
      console.log(
        `    ${stage.padEnd(22)} wall ${(r.timingsMs[stage] / 1000).toFixed(2).padStart(6)} s   cpu ${cpuS.toFixed(2).padStart(6)} s   rss ${mb(rss)}`,
      );
    console.log(`    peak rss so far ${mb(process.resourceUsage().maxRSS * 1024)}`);
  }
}

interface CommandRun {
  wallS: number;
  /** The last JSON log line of the command (ap diff's 'ap diff done' with timingsMs, peakRssMb). */
  log: Record<string, unknown>;
  /** CPU seconds of the process, all threads (bench/rusage-on-exit.mjs). */
  cpuS: number;
  maxRssMb: number;
}

/** Runs `ap <args>`; resolves with its wall time, CPU time, peak memory and its last JSON log line. */
function ap(args: string[]): Promise<CommandRun> {
  const bin = new URL('../bin/ap.js', import.meta.url).pathname;
  const rusage = new URL('./rusage-on-exit.mjs', import.meta.url).pathname;
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', rusage, bin, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0)
        return reject(new Error(`ap ${args[0]} exited with ${code}: ${stderr.slice(-500)}`));
      const lines = stderr
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const usage = (lines.find((l) => l.rusage)?.rusage ?? {}) as Record<string, number>;
      resolve({
        wallS: (performance.now() - start) / 1000,
        log: lines.filter((l) => !l.rusage).pop() ?? {},
        cpuS: (usage.userS ?? NaN) + (usage.systemS ?? NaN),
        maxRssMb: usage.maxRssMb ?? NaN,
      });
    });
  });
}

const round = (v: number, digits = 2): number => Number(v.toFixed(digits));

/**
 * `ap diff` as a user runs it on the default and the crowded (`ap simulate --crowded`) pair of
 * `size` pixels, `--method auto` on both and ZOGY on the default, and on the crowded pair again
 * against its template prepared by `--prepared-template-out` ('prepared'): wall time from process start to
 * file written, CPU time of all threads and its ratio to the wall (utilisation, 2.0 = both cores of
 * this machine), peak resident memory and each stage's wall time from ap diff's own log.
 */
async function runCommand(size: number): Promise<Figures> {
  const dir = await mkdtemp(join(tmpdir(), 'ap-bench-diffim-'));
  const figures: Figures = {};
  try {
    // 'prepared': auto against the template prepared by a first run (--prepared-template-out), as a
    // repeated diff of the field takes it (the template's characterization skipped).
    const pairs: Array<[string, string[], string[]]> = [
      ['default', [], ['auto', 'zogy']],
      ['crowded', ['--crowded'], ['auto', 'prepared']],
    ];
    for (const [pair, flags, methods] of pairs) {
      const out = join(dir, pair);
      const sim = await ap([
        'simulate',
        '--out',
        out,
        '--size',
        String(size),
        '--seed',
        '21',
        '--visits',
        '1',
        ...flags,
      ]);
      console.log(
        `  ap simulate ${flags.join(' ')}: ${sim.wallS.toFixed(1)} s (not part of ap diff)`,
      );
      const diff = (template: string, method: string, extra: string[] = []) =>
        ap([
          'diff',
          '--science',
          join(out, 'science-1.fits'),
          '--template',
          join(out, template),
          '--out',
          join(out, 'diff.fits'),
          '--method',
          method,
          ...extra,
        ]);
      for (const method of methods) {
        if (method === 'prepared')
          await diff('template.fits', 'auto', [
            '--prepared-template-out',
            join(out, 'prepared.fits'),
          ]);
        const r =
          method === 'prepared'
            ? await diff('prepared.fits', 'auto')
            : await diff('template.fits', method);
        const key = `${pair}.${method}`;
        figures[`${key}.wallS`] = round(r.wallS);
        figures[`${key}.cpuS`] = round(r.cpuS);
        figures[`${key}.cpuUtil`] = round(r.cpuS / r.wallS);
        figures[`${key}.peakRssMb`] = r.maxRssMb;
        const stages = (r.log.timingsMs ?? {}) as Record<string, number>;
        for (const [stage, ms] of Object.entries(stages))
          figures[`${key}.stage.${stage}S`] = round(ms / 1000);
        console.log(
          `  ${pair} pair, ap diff --method ${method === 'prepared' ? 'auto (prepared template)' : method} -> ${String(r.log.method)}: ${r.wallS.toFixed(2)} s wall from process start to file written, cpu ${r.cpuS.toFixed(2)} s (${Math.round((100 * r.cpuS) / r.wallS)} %), peak rss ${r.maxRssMb} MB (load average ${loadavg()[0].toFixed(2)})`,
        );
        for (const [stage, ms] of Object.entries(stages))
          console.log(`    ${stage.padEnd(24)} ${(ms / 1000).toFixed(2).padStart(6)} s`);
      }
    }
    return figures;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
