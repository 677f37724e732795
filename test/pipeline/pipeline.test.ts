/**
 * processDetector on a simulated night (1024 px, two visits, the template prepared once as the
 * preload does): alerts for the injected transients, DIAObjects with history over the visits,
 * forced photometry, calibration, and replays that change nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedApdb } from '../../shared/apdb/embedded.js';
import { nanojanskyPerAdu } from '../../shared/association/calibration.js';
import { decodeAlert, encodeAlert } from '../../shared/alerts/wire.js';
import {
  PIPELINE_STAGES,
  pipelineConfig,
  prepareTemplate,
  processDetector,
  resolveZeroPoint,
  type DetectorResult,
  type LogEntry,
} from '../../shared/pipeline/index.js';
import type { DiaSource } from '../../shared/apdb/types.js';
import type { TruthRow } from '../../shared/sim/truth.js';
import { loadRealBogus } from '../../shared/pipeline/load-realbogus.js';
import { nightFiles } from './night.js';

const files = nightFiles({ size: 1024, seed: 3, visits: 2 });
const { night } = files;
const template = prepareTemplate(files.template().exposure);
/** The shipped real/bogus model when there is one (scoring is skipped, and logged, without). */
const realBogus = await loadRealBogus(() => {});
const root = mkdtempSync(join(tmpdir(), 'pipeline-'));
const apdbDir = join(root, 'apdb');
const config = pipelineConfig();
const MATCH_PX = 1.5;
const CLOCK = Date.UTC(2026, 10, 25, 12);

async function run(
  k: number,
  logs: LogEntry[] = [],
): Promise<{ result: DetectorResult; stored: boolean }> {
  const apdb = await EmbeddedApdb.open(apdbDir);
  const { exposure, header } = files.visit(k);
  const result = await processDetector(
    { science: exposure, scienceHeader: header, template, apdb, realBogus },
    config,
    { log: (e) => logs.push(e), now: () => CLOCK + k * 3.6e6 },
  );
  const stored = await apdb.storeVisit(result.association.batch);
  return { result, stored };
}

function nearest(rows: readonly DiaSource[], t: TruthRow): DiaSource | undefined {
  let best: DiaSource | undefined;
  let bestD = MATCH_PX;
  for (const s of rows) {
    const d = Math.hypot(s.x - t.x, s.y - t.y);
    if (d <= bestD) [best, bestD] = [s, d];
  }
  return best;
}

const CENTER_FLAGS = [
  'pixelFlags_edge',
  'pixelFlags_crCenter',
  'pixelFlags_saturatedCenter',
  'pixelFlags_suspectCenter',
  'pixelFlags_interpolatedCenter',
  'pixelFlags_nodataCenter',
] as const;

const visits: DetectorResult[] = [];

test.after(() => rmSync(root, { recursive: true, force: true }));

test('visit 1: an alert for each injected transient of expected SNR >= 8, few false ones, fluxes in nJy', async (t) => {
  const logs: LogEntry[] = [];
  const { result, stored } = await run(0, logs);
  visits.push(result);
  assert.equal(stored, true);
  const visit = night.visits[0].exposure.info.visit;
  assert.equal(result.stats.visit, visit);
  assert.equal(result.alerts.length, result.diaSources.length);
  assert.equal(result.frames.length, result.alerts.length);
  const decoded = decodeAlert(result.frames[0]);
  assert.equal(decoded.diaSourceId, result.alerts[0].diaSourceId);
  assert.ok(
    encodeAlert(decoded).equals(result.frames[0]),
    'frames are Confluent-framed Avro of the alerts',
  );

  const sources = result.alerts.map((a) => a.diaSource);
  const truth = night.truth.filter((t) => t.visit === visit);
  const bright = truth.filter((t) => t.kind === 'transient' && t.expectedSnr >= 8);
  const found = bright
    .map((t) => [t, nearest(sources, t)] as const)
    .filter(([, s]) => s !== undefined) as Array<readonly [TruthRow, DiaSource]>;
  assert.ok(bright.length >= 15, `${bright.length} bright transients in the field`);
  assert.ok(
    found.length >= 0.9 * bright.length,
    `completeness ${found.length}/${bright.length} at expected SNR >= 8`,
  );

  // Fluxes: calibrated with the header zero point, they agree with the injected change.
  const perAdu = nanojanskyPerAdu(result.stats.zeroPoint);
  const ratios = found
    .map(([t, s]) => (s.psfFlux as number) / (t.deltaFluxAdu * perAdu))
    .sort((a, b) => a - b);
  const median = ratios[Math.floor(ratios.length / 2)];
  assert.ok(Math.abs(median - 1) < 0.1, `median measured/injected flux ${median}`);

  // False alerts: clean, significant detections far from every injected change and artifact.
  const clean = sources.filter(
    (s) => Math.abs(s.snr ?? 0) >= 6 && CENTER_FLAGS.every((f) => !s[f]),
  );
  const unexplained = clean.filter(
    (s) => !truth.some((t) => Math.hypot(s.x - t.x, s.y - t.y) <= 5),
  );
  assert.ok(
    unexplained.length <= Math.max(3, 0.1 * clean.length),
    `${unexplained.length} unexplained of ${clean.length} clean |SNR| >= 6 alerts`,
  );

  t.diagnostic(
    `completeness ${found.length}/${bright.length}, median flux ratio ${median.toFixed(3)}, unexplained ${unexplained.length}/${clean.length} clean alerts, ${sources.length} alerts`,
  );
  // Each stage timed and logged once.
  for (const stage of PIPELINE_STAGES) {
    assert.ok(result.timingsMs[stage] >= 0, stage);
    assert.equal(logs.filter((e) => e.stage === stage).length, 1, `one log line for ${stage}`);
  }
  assert.equal(result.timingsMs.characterizeTemplate, 0, 'the template came prepared');
  if (realBogus) {
    assert.equal(result.stats.reliabilityModel, realBogus.version);
    for (const s of sources) {
      assert.ok(
        (s.reliability as number) >= 0 && (s.reliability as number) <= 1,
        `reliability ${s.reliability}`,
      );
      assert.equal(s.reliabilityModel, realBogus.version);
    }
    const scores = found.map(([, s]) => s.reliability as number).sort((a, b) => a - b);
    t.diagnostic(
      `median reliability of the found transients ${scores[Math.floor(scores.length / 2)].toFixed(3)} (${realBogus.version})`,
    );
    assert.ok(scores[Math.floor(scores.length / 2)] > 0.5, 'real transients score as real');
  } else {
    assert.ok(
      logs.some((e) => e.stage === 'score' && typeof e.skipped === 'string'),
      'skipped scoring is logged',
    );
    assert.ok(sources.every((s) => s.reliability === null));
  }
  assert.ok(['tensorflow', 'wasm', 'cpu'].includes(result.tfBackend));
});

test('the template calibration gives the header zero point back: ZP_t + 2.5 log10(kernel sum)', (t) => {
  const [result] = visits;
  const derived = resolveZeroPoint(
    { zeroPoint: Number.NaN },
    { zeroPoint: night.template.exposure.info.zeroPoint },
    result.stats.kernelSum,
  );
  assert.equal(derived.source, 'template calibration');
  t.diagnostic(
    `derived ${derived.zeroPoint.toFixed(4)} vs header ${result.stats.zeroPoint.toFixed(4)}`,
  );
  assert.ok(
    Math.abs(derived.zeroPoint - result.stats.zeroPoint) < 0.03,
    `derived ${derived.zeroPoint} vs header ${result.stats.zeroPoint}`,
  );
});

test('visit 2: transients seen again join their DIAObjects, with history; unseen objects get forced photometry', async (t) => {
  const { result, stored } = await run(1);
  visits.push(result);
  assert.equal(stored, true);
  const first = new Map(visits[0].alerts.map((a) => [a.diaSource.diaObjectId, a]));
  const visit = night.visits[1].exposure.info.visit;
  const again = night.truth.filter(
    (t) => t.visit === visit && t.kind === 'transient' && t.expectedSnr >= 8,
  );
  let withHistory = 0;
  let seenBefore = 0;
  for (const t of again) {
    const alert = result.alerts.find(
      (a) => Math.hypot(a.diaSource.x - t.x, a.diaSource.y - t.y) <= MATCH_PX,
    );
    const earlier = visits[0].alerts.find(
      (a) =>
        Math.abs(a.diaSource.ra - t.ra) * 3600 < 0.3 &&
        Math.abs(a.diaSource.dec - t.dec) * 3600 < 0.3,
    );
    if (!alert || !earlier) continue;
    seenBefore++;
    if (
      alert.diaSource.diaObjectId === earlier.diaSource.diaObjectId &&
      alert.diaObject?.nDiaSources === 2 &&
      alert.prvDiaSources?.length === 1
    )
      withHistory++;
  }
  t.diagnostic(
    `${withHistory}/${seenBefore} with history, ${result.association.batch.forcedSources.length} forced sources`,
  );
  assert.ok(seenBefore >= 10, `${seenBefore} transients detected in both visits`);
  assert.ok(
    withHistory >= 0.9 * seenBefore,
    `${withHistory}/${seenBefore} joined their DIAObject with one earlier DIASource`,
  );
  assert.ok(result.stats.associated >= withHistory);

  const forced = result.association.batch.forcedSources;
  assert.ok(forced.length > 0, 'objects of visit 1 not detected again are force-photometered');
  for (const f of forced) {
    assert.ok(first.has(f.diaObjectId), 'forced sources belong to earlier DIAObjects');
    assert.equal(f.visit, visit);
    assert.ok(f.psfFlux === null || Number.isFinite(f.psfFlux));
  }
});

test('replaying the last visit leaves the APDB unchanged and yields identical alerts', async () => {
  const before = readdirSync(apdbDir).map((f) => [f, readFileSync(join(apdbDir, f), 'utf8')]);
  const { result, stored } = await run(1);
  assert.equal(stored, false, 'the APDB refuses a stored (visit, detector)');
  assert.equal(result.stats.alreadyStored, true);
  const after = readdirSync(apdbDir).map((f) => [f, readFileSync(join(apdbDir, f), 'utf8')]);
  assert.deepEqual(after, before);
  assert.deepEqual(result.alerts, visits[1].alerts);
  assert.ok(result.frames.every((f, i) => f.equals(visits[1].frames[i])));
});
