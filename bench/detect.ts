/**
 * Detection + measurement of a 4096 x 4096 difference image with 1,000 sources (white noise,
 * Moffat PSF, |SNR| 5-100, a quarter negative): wall time per stage and memory.
 */
import { MoffatPsf } from '../shared/detect/analytic-psf.js';
import { detectDiaSources, DEFAULT_DETECT_CONFIG } from '../shared/detect/detect.js';
import { likelihoodImage } from '../shared/detect/likelihood.js';
import { mulberry32 } from '../shared/detect/sky-sources.js';
import { addPointSource, gridPositions, noiseExposure, predictedFluxErr } from '../test/detect/synthetic.js';

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
  const psf = new MoffatPsf(4, 3.5);
  const exposure = noiseExposure(SIZE, SIZE, () => 100, 1, psf);
  const err = predictedFluxErr(psf, 0, 0, 100);
  const random = mulberry32(2);
  for (const p of gridPositions(SIZE, SIZE, SOURCES, 30, 3)) {
    const snr = 5 * 20 ** random() * (random() < 0.25 ? -1 : 1);
    addPointSource(exposure, psf, p.x, p.y, snr * err);
  }
  const before = process.memoryUsage();
  let start = performance.now();
  let cpu = process.cpuUsage();
  likelihoodImage(exposure, psf, DEFAULT_DETECT_CONFIG.excludeBits, DEFAULT_DETECT_CONFIG.maskGrowBits, DEFAULT_DETECT_CONFIG.maskGrowRadius);
  const likelihoodMs = performance.now() - start;
  const likelihoodCpuMs = cpuMs(cpu);
  exposure.mask.fill(0);
  let peakRss = 0;
  const timer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
  start = performance.now();
  cpu = process.cpuUsage();
  const { sources, skySources } = detectDiaSources(exposure, psf, DEFAULT_DETECT_CONFIG);
  const totalMs = performance.now() - start;
  const totalCpuMs = cpuMs(cpu);
  clearInterval(timer);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  const after = process.memoryUsage();
  console.log(`detect: ${SIZE}x${SIZE} difference, ${SOURCES} injected sources -> ${sources.length} DIASources`);
  console.log(`detect: likelihood image ${likelihoodMs.toFixed(0)} ms wall (${likelihoodCpuMs.toFixed(0)} ms CPU)`);
  console.log(`detect: detection + measurement + ${skySources.count} sky sources ${totalMs.toFixed(0)} ms wall (${totalCpuMs.toFixed(0)} ms CPU)`);
  console.log(`detect: sky-source noise ratio ${skySources.noiseRatio.toFixed(3)}`);
  console.log(`detect: memory rss ${mib(before.rss)} before, peak sampled ${mib(peakRss)}, heap+buffers after ${mib(after.heapUsed + after.arrayBuffers)}`);
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
