/**
 * Detection + measurement of a 4096 x 4096 difference image with 1,000 sources (white noise,
 * a difference-style GridPsf of Moffat stamps whose FWHM varies 3.6-4.4 px over the image,
 * |SNR| 5-100, a quarter negative): wall and CPU time, one and two threads, and memory.
 */
import { MoffatPsf } from '../shared/detect/analytic-psf.js';
import { GridPsf } from '../shared/diffim/psf-grid.js';
import {
  detectDiaSources,
  detectDiaSourcesParallel,
  DEFAULT_DETECT_CONFIG,
} from '../shared/detect/detect.js';
import { mulberry32 } from '../shared/util/random.js';
import {
  addPointSource,
  gridPositions,
  noiseExposure,
  predictedFluxErr,
} from '../test/detect/synthetic.js';

const SIZE = 4096;
const SOURCES = 1000;

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}

/** CPU time (user + system) since `since`, ms. */
function cpuMs(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
}

export async function run(): Promise<void> {
  const nodes = [0, 1024, 2048, 3072, 4095];
  const stamps = nodes.flatMap((y) =>
    nodes.map((x) => new MoffatPsf(3.6 + (0.8 * (x + y)) / 8190, 3.5, 25).stampAt(0, 0, true).data),
  );
  const psf = new GridPsf(nodes, nodes, stamps, 25);
  const exposure = noiseExposure(SIZE, SIZE, () => 100, 1, psf);
  const err = predictedFluxErr(psf, 0, 0, 100);
  const random = mulberry32(2);
  for (const p of gridPositions(SIZE, SIZE, SOURCES, 30, 3)) {
    const snr = 5 * 20 ** random() * (random() < 0.25 ? -1 : 1);
    addPointSource(exposure, psf, p.x, p.y, snr * err);
  }
  const before = process.memoryUsage();
  let peakRss = 0;
  const timer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
  for (const [name, detect] of [
    ['one thread', async () => detectDiaSources(exposure, psf, DEFAULT_DETECT_CONFIG)],
    ['two threads', () => detectDiaSourcesParallel(exposure, psf, DEFAULT_DETECT_CONFIG)],
  ] as const) {
    exposure.mask.fill(0);
    const start = performance.now();
    const cpu = process.cpuUsage();
    const { sources, skySources } = await detect();
    const wallMs = performance.now() - start;
    const cpuUsed = cpuMs(cpu);
    console.log(
      `detect (${name}): ${SIZE}x${SIZE}, ${SOURCES} injected -> ${sources.length} DIASources (${sources.filter((s) => s.isDipole).length} dipoles), ` +
        `detection + measurement + ${skySources.count} sky sources ${wallMs.toFixed(0)} ms wall, ${cpuUsed.toFixed(0)} ms CPU (process, all threads), sky-source noise ratio ${skySources.noiseRatio.toFixed(3)}`,
    );
  }
  clearInterval(timer);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  console.log(
    `detect: memory rss ${mib(before.rss)} with the image in memory, peak sampled ${mib(peakRss)}`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
