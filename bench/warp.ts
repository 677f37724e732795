// Warp benchmark: a 4096 x 4096 float32 template onto a dithered, rotated, distorted science grid.
import { Exposure } from '../shared/image/exposure.js';
import { cdMatrix, makeSipWcs, makeTanWcs } from '../shared/wcs/index.js';
import { warpExposure } from '../shared/warp/index.js';

const SIZE = 4096;

function template(): Exposure {
  const exp = Exposure.blank(SIZE, SIZE);
  let seed = 12345;
  const uniform = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  for (let i = 0; i < exp.image.data.length; i++)
    exp.image.data[i] = 1000 + 30 * (uniform() + uniform() + uniform() - 1.5);
  exp.variance.fill(900);
  for (let k = 0; k < 2000; k++) exp.mask.data[Math.floor(uniform() * SIZE * SIZE)] = 1;
  exp.wcs = makeSipWcs({
    crpix: [SIZE / 2, SIZE / 2],
    crval: [150, 2],
    cd: cdMatrix(0.2, 0),
    a: { '2_0': 2e-7, '0_2': -1e-7, '1_1': 1e-7 },
    b: { '2_0': -1e-7, '1_1': 2e-7 },
  });
  return exp;
}

export async function run(): Promise<void> {
  const tpl = template();
  const science = {
    width: SIZE,
    height: SIZE,
    wcs: makeTanWcs({
      crpix: [SIZE / 2 + 13.3, SIZE / 2 - 7.6],
      crval: [150, 2],
      cd: cdMatrix(0.2, 0.05),
    }),
  };
  for (const threads of [1, 0]) {
    const before = process.memoryUsage().rss;
    const cpuBefore = process.cpuUsage();
    const result = await warpExposure(tpl, science, { threads });
    const cpu = process.cpuUsage(cpuBefore);
    const { mappingMs, resampleMs, totalMs } = result.timings;
    const peakMiB = process.resourceUsage().maxRSS / 1024;
    console.log(
      `warp ${SIZE}x${SIZE} float32, ${result.threads} thread(s): total ${(totalMs / 1000).toFixed(2)} s ` +
        `(cpu ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s over all threads) ` +
        `(mapping ${mappingMs.toFixed(0)} ms, interpLength ${result.interpLength}, error ${result.maxMappingErrorPx.toExponential(1)} px; ` +
        `resample ${(resampleMs / 1000).toFixed(2)} s), coverage ${result.coverageFraction.toFixed(3)}, ` +
        `covarianceFactor ${result.covarianceFactor.toFixed(3)}, rss +${((process.memoryUsage().rss - before) / 2 ** 20).toFixed(0)} MiB, peak rss ${peakMiB.toFixed(0)} MiB`,
    );
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
