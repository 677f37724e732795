/**
 * Image subtraction benchmark: a simulated 4096 x 4096 pair (AP_BENCH_DIFFIM_SIZE to change),
 * the whole `ap diff` task per method (characterize, warp, subtract) with the wall time, the CPU
 * time (all threads) and the resident memory at the end of each stage, and the TF.js backend.
 * On a shared machine the CPU time is the steadier figure. First the real command, `ap diff` per method
 * on a pair written by `ap simulate` (process start to file written, as a user runs it), with its
 * peak resident memory: the in-process runs share a heap with the simulation, whose collection slows them.
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

export async function run(): Promise<void> {
  await initTf(undefined, () => {});
  const size = Number(process.env.AP_BENCH_DIFFIM_SIZE ?? 4096);
  console.log(
    `diffim: ${size}x${size} pair, TF.js backend ${tfBackendName()} (subtraction itself runs on fft.js tiles and typed arrays)`,
  );
  // First, while this process is small: beside the simulation's 5 GB heap the command runs ~25 % slower.
  await runCommand(size);
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

/** Runs `ap <args>`; resolves with its wall time and its stderr's last JSON line. */
function ap(args: string[]): Promise<{ wallS: number; log: Record<string, unknown> }> {
  const bin = new URL('../bin/ap.js', import.meta.url).pathname;
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0)
        return reject(new Error(`ap ${args[0]} exited with ${code}: ${stderr.slice(-500)}`));
      const line = stderr
        .trim()
        .split('\n')
        .reverse()
        .find((l) => l.startsWith('{'));
      resolve({
        wallS: (performance.now() - start) / 1000,
        log: line ? (JSON.parse(line) as Record<string, unknown>) : {},
      });
    });
  });
}

/** `ap diff` per method, as a user runs it, on an `ap simulate` pair of `size` pixels. */
async function runCommand(size: number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'ap-bench-diffim-'));
  try {
    await ap(['simulate', '--out', dir, '--size', String(size), '--seed', '21', '--visits', '1']);
    for (const method of ['auto', 'zogy']) {
      const { wallS, log } = await ap([
        'diff',
        '--science',
        join(dir, 'science-1.fits'),
        '--template',
        join(dir, 'template.fits'),
        '--out',
        join(dir, 'diff.fits'),
        '--method',
        method,
      ]);
      console.log(
        `  ap diff --method ${method} -> ${String(log.method)}: ${wallS.toFixed(2)} s wall from process start to file written (load average ${loadavg()[0].toFixed(2)}), peak rss ${String(log.peakRssMb)} MB`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
