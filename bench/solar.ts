// Known-object preload: 100,000 main-belt orbits, parsed and prepared once per instance, then
// predicted for one visit's field (Rubin's 1.75 deg radius focal plane) with light time and parallax.
// Target (issue 22): preload of 100,000 orbits for a visit <= 2 s. Then the trailed-PSF fit of one
// matched DIASource (simulator-drawn trails, Moffat PSF), per trail length.
import { OrbitCatalog } from '../shared/solar/catalog.js';
import { formatOrbitsCsv, parseOrbitsCsv, type MpcOrbit } from '../shared/solar/orbit.js';
import { RUBIN_SITE } from '../shared/solar/site.js';
import { fitTrail } from '../shared/solar/trail.js';
import { Plane } from '../shared/image/plane.js';
import { MoffatPsf } from '../shared/sim/moffat.js';
import { addTrail } from '../shared/sim/render.js';

const N = 100_000;
const MJD_TAI = 61000.2;
/** Field radius of Rubin's focal plane, degrees. */
const FIELD_RADIUS_DEG = 1.75;

function mainBelt(n: number): MpcOrbit[] {
  let seed = 2026;
  const u = (): number => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed / 4294967296;
  };
  return Array.from({ length: n }, (_, k) => {
    const a = 2.1 + 1.2 * u();
    const e = 0.25 * u();
    return {
      designation: `B${k}`,
      epoch_mjd: MJD_TAI - 100 + 200 * u(),
      a,
      q: a * (1 - e),
      e,
      i: 20 * u(),
      node: 360 * u(),
      argperi: 360 * u(),
      mean_anomaly: 360 * u(),
      peri_time: Number.NaN,
      h: 14 + 8 * u(),
      g: 0.15,
      // MPCORB's U of numbered and multi-opposition main-belt orbits: mostly 0-2, a tail to 6.
      u_param: Math.min(6, Math.floor(-2 * Math.log(1 - u()))),
    };
  });
}

function time<T>(label: string, run: () => T): T {
  const t0 = performance.now();
  const out = run();
  console.log(`${label.padEnd(52)} ${((performance.now() - t0) / 1000).toFixed(3).padStart(7)} s`);
  return out;
}

export async function run(): Promise<void> {
  const csv = formatOrbitsCsv(mainBelt(N));
  console.log(
    `${N} main-belt orbits (${(csv.length / 2 ** 20).toFixed(1)} MiB of CSV); timings measured on a shared machine`,
  );
  const catalog = time(
    'parse + prepare (once per instance)',
    () => new OrbitCatalog(parseOrbitsCsv(csv, 'bench.csv')),
  );
  // A field on the ecliptic at opposition-like longitudes holds many; the figure is per visit.
  for (const [ra, dec] of [
    [150, 12],
    [20, 8],
  ]) {
    const found = time(`predict a visit at (${ra}, ${dec}), r ${FIELD_RADIUS_DEG} deg`, () =>
      catalog.predictInCone({ ra, dec, radiusDeg: FIELD_RADIUS_DEG }, MJD_TAI, RUBIN_SITE),
    );
    const sigmas = found.map((p) => p.sigmaArcsec).sort((x, y) => x - y);
    const median = sigmas.length > 0 ? sigmas[sigmas.length >> 1].toFixed(2) : '-';
    console.log(`  objects in the field: ${found.length}; median sigma ${median} arcsec`);
  }
  trailFits();
}

function trailFits(): void {
  const size = 161;
  const sky = 400;
  const psf = new MoffatPsf({
    ...{ size, fwhm: 4, beta: 3.5, gradU: 0, gradV: 0, curvature: 0 },
    ...{ e1c: 0, e2c: 0, astig: 0 },
  });
  const variance = new Plane(new Float32Array(size * size).fill(sky), size, size);
  const mask = Plane.zeros(Int32Array, size, size);
  for (const length of [2, 10, 40]) {
    const light = new Float32Array(size * size);
    const [c, h] = [80.3, length / 2 / Math.SQRT2];
    addTrail(light, size, { psf, skyAdu: sky }, [c - h, c - h], [c + h, c + h], 1e4, 40);
    const image = new Plane(light, size, size);
    const start = { x: c + 0.3, y: c, dx: 2.2 * h, dy: 1.8 * h };
    const reps = 5;
    const fit = time(`trail fit, length ${length} px (x${reps})`, () => {
      let last = null;
      for (let k = 0; k < reps; k++) last = fitTrail(image, variance, mask, psf, start);
      return last;
    });
    console.log(
      `  fitted length ${fit?.lengthPx.toFixed(2)} px, flux ${fit?.flux.toFixed(0)} of 10000`,
    );
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
