/**
 * `ap simulate --template-inputs N`: writes a template-input set (shared/sim/template-inputs.ts)
 * instead of a night: input-1.fits ... input-N.fits (VISIT 1..N), science-(N+1).fits ... (VISIT N+k)
 * for the --visits later visits, truth.csv for the later visits (expected_snr with a noiseless
 * template: the coadd's noise is not known yet) and inputs-truth.csv: what the inputs hold that a
 * template must reject (the one-visit transient, satellite streaks).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { progress } from '../command.js';
import { Plane } from '../../shared/image/plane.js';
import type { SimConfig } from '../../shared/sim/config.js';
import { renderImageAsync, truthForVisit } from '../../shared/sim/night.js';
import { SkyWorker } from '../../shared/sim/parallel.js';
import type { ImageSpec } from '../../shared/sim/plan.js';
import { planTemplateInputs } from '../../shared/sim/template-inputs.js';
import { truthToCsv, type TruthRow } from '../../shared/sim/truth.js';
import { simulatedImageFits } from '../../shared/sim/write.js';

/** Writes the set into `out`; returns the files written. */
export async function writeTemplateInputSet(
  out: string,
  config: Partial<SimConfig>,
  inputs: number,
  later: number,
): Promise<string[]> {
  const set = planTemplateInputs(config, { inputs, later });
  const { plan } = set;
  const size = plan.config.size;
  const cards = (spec: ImageSpec) => ({
    seed: plan.config.seed,
    fwhmPx: spec.psf.fwhmAt((size - 1) / 2, (size - 1) / 2),
    skyAdu: spec.skyAdu,
  });
  const worker = new SkyWorker(plan.config);
  const files: string[] = [];
  const inputTruth: TruthRow[] = [];
  const truth: TruthRow[] = [];
  try {
    for (const [k, spec] of set.inputs.entries()) {
      progress(`ap simulate: template input ${k + 1}/${set.inputs.length}`);
      const rendered = await renderImageAsync(set.inputPlan(k), spec, worker);
      const file = join(out, `input-${spec.visit}.fits`);
      await writeFile(file, simulatedImageFits(rendered.image, cards(spec)));
      files.push(file);
      const { variance, wcs, info } = rendered.image.exposure;
      const rows = truthForVisit(set.inputPlan(k), spec, rendered, { variance, wcs, info });
      inputTruth.push(
        ...rows
          .filter((r) => r.kind === 'transient' || r.kind === 'streak')
          .map((r) => ({ ...r, expectedSnr: Number.NaN })),
      );
    }
    const noiseless = {
      variance: Plane.zeros(Float32Array, size, size),
      wcs: null,
      info: {
        visit: 0,
        detector: plan.config.detector,
        band: plan.config.band,
        mjd: set.inputs[0].mjd,
        exposureTime: Number.NaN,
        gain: Number.NaN,
        readNoise: Number.NaN,
        saturation: Number.NaN,
        zeroPoint: set.inputs[0].zeroPoint,
        instrument: '',
      },
    };
    for (const spec of set.later) {
      progress(`ap simulate: later visit ${spec.visit}`);
      const rendered = await renderImageAsync(set.laterPlan, spec, worker);
      const file = join(out, `${spec.name}.fits`);
      await writeFile(file, simulatedImageFits(rendered.image, cards(spec)));
      files.push(file);
      truth.push(...truthForVisit(set.laterPlan, spec, rendered, noiseless));
    }
  } finally {
    await worker.close();
  }
  for (const [name, rows] of [
    ['truth.csv', truth],
    ['inputs-truth.csv', inputTruth],
  ] as const) {
    const file = join(out, name);
    await writeFile(file, truthToCsv(rows));
    files.push(file);
  }
  return files;
}
