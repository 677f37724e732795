/**
 * The orbit catalogue of known solar-system objects, read from the `<prefix>-orbits` bucket (every
 * `*.csv` in it, shared/solar's mpc_orbits columns) and kept per instance: it is parsed again only
 * when the bucket's listing (names and generations) changes.
 */
import { OrbitCatalog } from '../shared/solar/catalog.js';
import { parseOrbitsCsv, type MpcOrbit } from '../shared/solar/orbit.js';
import { TRANSFER_VALIDATION } from '../shared/adapters/storage.js';
import type { Services } from './context.js';
import { log } from './log.js';

let cached: { key: string; catalog: OrbitCatalog | null } | null = null;

/** The catalogue of the orbits bucket, or null when it holds no orbit file. Bad files throw, naming the object. */
export async function orbitCatalog(s: Services): Promise<OrbitCatalog | null> {
  const [files] = await s.buckets.orbits.getFiles();
  const csv = files
    .filter((f) => f.name.endsWith('.csv'))
    .sort((a, b) => a.name.localeCompare(b.name));
  const key = csv.map((f) => `${f.name}#${String(f.metadata.generation)}`).join(',');
  if (cached?.key === key) return cached.catalog;
  const orbits: MpcOrbit[] = [];
  for (const f of csv) {
    const [bytes] = await f.download({ validation: TRANSFER_VALIDATION });
    orbits.push(
      ...parseOrbitsCsv(bytes.toString('utf8'), `gs://${s.buckets.orbits.name}/${f.name}`),
    );
  }
  const catalog = orbits.length > 0 ? new OrbitCatalog(orbits) : null;
  log('INFO', 'orbit catalogue loaded', {
    bucket: s.buckets.orbits.name,
    files: csv.length,
    orbits: orbits.length,
  });
  cached = { key, catalog };
  return catalog;
}
