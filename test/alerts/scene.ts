/**
 * A small scene for alert tests: science, template and difference Exposures with a TAN-SIP WCS
 * and a Gaussian PSF, and a few visits of DiaSourceRecords positioned through that WCS.
 */
import { Exposure } from '../../shared/image/exposure.js';
import { MaskPlane } from '../../shared/image/mask.js';
import { makeSipWcs, makeTanWcs, cdMatrix } from '../../shared/wcs/index.js';
import { GaussianPsf } from '../../shared/psf/gaussian-psf.js';
import type { Wcs } from '../../shared/wcs/types.js';
import { EmbeddedApdb } from '../../shared/apdb/embedded.js';
import {
  associateVisit,
  detectorFootprint,
  type AssociationResult,
} from '../../shared/association/associate.js';
import { buildAlerts, type CutoutSources } from '../../shared/alerts/build.js';
import type { Alert } from '../../shared/alerts/types.js';
import { makeSky, observe } from '../association/sky.js';

export const SIZE = 400;

export function sceneWcs(): Wcs {
  const tan = makeTanWcs({ crpix: [199.5, 199.5], crval: [150.1, 2.2], cd: cdMatrix(0.6, 12) });
  return makeSipWcs({ ...tan.tanParams, a: { '2_0': 2e-6, '0_2': -1e-6 }, b: { '1_1': 1.5e-6 } });
}

function exposure(wcs: Wcs, seed: number, zeroPoint: number): Exposure {
  const exp = Exposure.blank(SIZE, SIZE);
  for (let k = 0; k < SIZE * SIZE; k++) {
    exp.image.data[k] = Math.sin(k * 0.37 + seed) * 50 + (k % SIZE);
    exp.variance.data[k] = 100 + (k % 7);
  }
  exp.mask.set(10, 10, MaskPlane.SAT | MaskPlane.DETECTED);
  exp.wcs = wcs;
  exp.psf = GaussianPsf.fromFwhm(3 + seed * 0.1);
  exp.info = { ...exp.info, zeroPoint };
  return exp;
}

export function cutoutSources(zeroPoint: number): CutoutSources {
  const wcs = sceneWcs();
  const difference = exposure(wcs, 3, zeroPoint);
  return {
    science: exposure(wcs, 1, zeroPoint),
    template: exposure(wcs, 2, zeroPoint),
    difference,
    differencePsf: GaussianPsf.fromFwhm(4.2),
  };
}

/** Runs `nVisits` visits of a simulated sky on the scene's detector; returns every visit's alerts. */
export async function runScene(
  nVisits: number,
  apdb = new EmbeddedApdb(),
  withCutouts = true,
): Promise<{
  apdb: EmbeddedApdb;
  visits: Array<{ result: AssociationResult; alerts: Alert[]; cutouts: CutoutSources }>;
}> {
  const wcs = sceneWcs();
  const footprint = detectorFootprint(wcs, SIZE, SIZE);
  const sky = makeSky(5, 15, 6, 3).filter((s) => footprint.contains(s.ra, s.dec));
  const out = [];
  for (const v of observe(
    sky.map((s, k) => ({ ...s, truthId: k })),
    nVisits,
    6,
  )) {
    for (const r of v.records) {
      const p = wcs.skyToPixel({ ra: Float64Array.of(r.ra), dec: Float64Array.of(r.dec) });
      r.x = p.x[0];
      r.y = p.y[0];
    }
    const result = await associateVisit(apdb, {
      visit: v.info,
      records: v.records,
      footprint,
      timeProcessedMjdTai: v.info.mjd + 0.001,
      reliabilityModel: 'rb-test 0.1',
      pixelScaleArcsec: 0.6,
      forcedPhotometry: (positions) =>
        positions.map((_, k) => ({
          psfFlux: 10 + k,
          psfFluxErr: 20,
          scienceFlux: 500,
          scienceFluxErr: 25,
        })),
    });
    const cutouts = cutoutSources(v.info.zeroPoint);
    const alerts = buildAlerts({
      association: result,
      cutouts: withCutouts ? cutouts : null,
      observationReason: 'test',
    });
    await apdb.storeVisit(result.batch);
    out.push({ result, alerts, cutouts });
  }
  return { apdb, visits: out };
}
