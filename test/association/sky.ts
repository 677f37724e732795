/**
 * A simulated DiaSource stream for association and alert tests: variables, transients and
 * close pairs with astrometric noise, as DiaSourceRecords (ADU) per visit. No image simulation.
 */
import type { DiaSourceRecord } from '../../shared/detect/types.js';
import type { VisitInfo } from '../../shared/image/visit-info.js';

export { mulberry32 as rng } from '../../shared/util/random.js';
import { mulberry32 as rng } from '../../shared/util/random.js';

export function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

export interface TrueSource {
  truthId: number;
  ra: number;
  dec: number;
  kind: 'variable' | 'transient';
  /** Flux in ADU at a visit's time (NaN when not visible). */
  fluxAt(mjd: number): number;
}

export interface SimVisit {
  info: VisitInfo;
  records: DiaSourceRecord[];
  /** truthId of each record, by record index. */
  truth: number[];
}

export const RA0 = 150.1;
export const DEC0 = 2.2;

/** Variables and transients in a ~4 arcmin field, with pairs exactly 2 arcsec apart. */
export function makeSky(
  seed: number,
  nVariables = 40,
  nTransients = 20,
  nPairs = 10,
): TrueSource[] {
  const random = rng(seed);
  const out: TrueSource[] = [];
  const cosDec = Math.cos((DEC0 * Math.PI) / 180);
  const place = (): [number, number] => [
    RA0 + ((random() - 0.5) * 4) / 60 / cosDec,
    DEC0 + ((random() - 0.5) * 4) / 60,
  ];
  const variable = (ra: number, dec: number): TrueSource => {
    const amp = 200 + 800 * random();
    const period = 2 + 10 * random();
    const phase = 2 * Math.PI * random();
    return {
      truthId: out.length,
      ra,
      dec,
      kind: 'variable',
      fluxAt: (t) => amp * Math.sin((2 * Math.PI * t) / period + phase) + 0.2 * amp,
    };
  };
  for (let k = 0; k < nVariables; k++) out.push(variable(...place()));
  for (let k = 0; k < nPairs; k++) {
    const [ra, dec] = place();
    out.push(variable(ra, dec));
    const angle = 2 * Math.PI * random();
    out.push(
      variable(ra + ((2 / 3600) * Math.cos(angle)) / cosDec, dec + (2 / 3600) * Math.sin(angle)),
    );
  }
  for (let k = 0; k < nTransients; k++) {
    const [ra, dec] = place();
    const t0 = 60000 + 25 * random();
    const peak = 1000 + 3000 * random();
    out.push({
      truthId: out.length,
      ra,
      dec,
      kind: 'transient',
      fluxAt: (t) => (t < t0 ? Number.NaN : peak * Math.exp(-(t - t0) / 8)),
    });
  }
  return out;
}

const BANDS = ['g', 'r', 'i'];

/** Detections of the sky on `nVisits` nightly visits; astrometric noise sigma in arcsec. */
export function observe(
  sky: readonly TrueSource[],
  nVisits: number,
  seed: number,
  noiseArcsec = 0.1,
  zeroPoint = 28,
): SimVisit[] {
  const random = rng(seed);
  const cosDec = Math.cos((DEC0 * Math.PI) / 180);
  const visits: SimVisit[] = [];
  for (let v = 0; v < nVisits; v++) {
    const mjd = 60000 + v + 0.1 * random();
    const info: VisitInfo = {
      visit: 1000 + v,
      detector: 7,
      band: BANDS[v % BANDS.length],
      mjd,
      exposureTime: 30,
      gain: 1,
      readNoise: 5,
      saturation: 60000,
      zeroPoint: zeroPoint + 0.1 * random(),
      instrument: 'SIM',
    };
    const records: DiaSourceRecord[] = [];
    const truth: number[] = [];
    // Shuffled order: association must not depend on input order.
    const order = sky.map((s) => s.truthId).sort(() => random() - 0.5);
    for (const id of order) {
      const s = sky[id];
      const flux = s.fluxAt(mjd);
      const err = 20 + 10 * random();
      if (!Number.isFinite(flux) || Math.abs(flux) < 5 * err) continue;
      const measured = flux + err * gaussian(random);
      const ra = s.ra + ((noiseArcsec / 3600) * gaussian(random)) / cosDec;
      const dec = s.dec + (noiseArcsec / 3600) * gaussian(random);
      truth.push(id);
      records.push(syntheticDiaSource(records.length, ra, dec, measured, err, random));
    }
    visits.push({ info, records, truth });
  }
  return visits;
}

/** A plausible measured DIASource at (ra, dec) with the given PSF flux and error (associations, APDB and alert benches). */
export function syntheticDiaSource(
  index: number,
  ra: number,
  dec: number,
  flux: number,
  err: number,
  random: () => number,
): DiaSourceRecord {
  const sci = 5000 + 1000 * random();
  return {
    index,
    x: 100 + 1800 * random(),
    y: 100 + 1800 * random(),
    xErr: 0.05,
    yErr: 0.05,
    ra,
    dec,
    raErr: 1e-5,
    decErr: 1e-5,
    psfFlux: flux,
    psfFluxErr: err,
    snr: flux / err,
    apFlux: flux * 1.02,
    apFluxErr: err * 1.1,
    scienceFlux: sci + flux,
    scienceFluxErr: Math.sqrt(sci) + err,
    templateFlux: sci,
    templateFluxErr: Math.sqrt(sci),
    ixx: 2.1,
    iyy: 2.3,
    ixy: 0.1,
    footprintArea: 40,
    bboxSize: 9 + Math.floor(40 * random()),
    isNegative: flux < 0,
    isDipole: false,
    dipoleMeanFlux: Number.NaN,
    dipoleFluxDiff: Number.NaN,
    dipoleSep: Number.NaN,
    dipoleAngle: Number.NaN,
    psfNdata: 121,
    reliability: 0.5 + 0.5 * random(),
    flags: {
      edge: false,
      saturated: false,
      saturatedCenter: false,
      interpolated: false,
      interpolatedCenter: false,
      cr: false,
      crCenter: false,
      bad: false,
      suspectCenter: false,
      measurementFailed: false,
    },
  };
}
