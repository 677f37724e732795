/** The night report's figures: percentiles, alert-to-truth matching, completeness and purity. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReceivedAlert } from '../../functions/night/broker.js';
import {
  imageStages,
  matchAlert,
  percentiles,
  scienceFigures,
  type TruthWithDetector,
} from '../../functions/night/metrics.js';

const truthRow = (
  kind: TruthWithDetector['kind'],
  id: number,
  x: number,
  y: number,
  expectedSnr: number,
  visit = 1,
  detector = 7,
): TruthWithDetector => ({
  visit,
  detector,
  kind,
  id,
  x,
  y,
  ra: 0,
  dec: 0,
  fluxScienceAdu: 1,
  fluxTemplateAdu: 0,
  deltaFluxAdu: 1,
  expectedSnr,
  host: 0,
  mjd: 61000,
});

const alertAt = (
  id: number,
  x: number,
  y: number,
  snr: number,
  visit = 1,
  detector = 7,
): ReceivedAlert => ({
  diaSourceId: String(id),
  diaObjectId: String(id),
  ssObjectId: 'null',
  ephOffset: null,
  visit,
  detector,
  x,
  y,
  ra: 0,
  dec: 0,
  snr,
  psfFlux: 1,
  reliability: null,
  band: 'r',
  mjd: 61000 + visit / 1000,
  psfFluxErr: 0.1,
  isDipole: false,
  flags: [],
  history: 0,
  receivedAt: 0,
  bytes: 80_000,
  publishedAt: 0,
});

describe('night metrics', () => {
  it('takes nearest-rank percentiles and ignores non-finite values', () => {
    const p = percentiles([5, 1, 4, 2, 3, Number.NaN, 10, 9, 8, 7, 6]);
    assert.deepEqual(p, { n: 10, p50: 5, p90: 9, p99: 10, max: 10 });
    assert.deepEqual(percentiles([]), { n: 0, p50: null, p90: null, p99: null, max: null });
  });

  it('matches an alert to the nearest real change of its own image within 1.5 px', () => {
    const truth = [
      truthRow('transient', 1, 100, 100, 20),
      truthRow('variable', 2, 101, 100, 8),
      truthRow('cosmic_ray', 3, 100.2, 100, Number.NaN),
      truthRow('transient', 4, 300, 300, 9, 2),
    ];
    assert.equal(matchAlert(alertAt(1, 100.9, 100, 20), truth)?.id, 2);
    assert.equal(matchAlert(alertAt(1, 100.1, 100, 20), truth)?.id, 1);
    assert.equal(matchAlert(alertAt(1, 100, 101.6, 20), truth), null);
    // A cosmic ray is no real change; another visit's row does not count.
    assert.equal(matchAlert(alertAt(1, 300, 300, 9), truth), null);
    assert.equal(matchAlert(alertAt(1, 300, 300, 9, 2), truth)?.id, 4);
  });

  it('counts completeness above the SNR cut and purity of confident alerts', () => {
    const truth = [
      truthRow('transient', 1, 10, 10, 30),
      truthRow('transient', 2, 50, 50, 7),
      truthRow('variable', 3, 90, 90, -12),
      truthRow('moving', 4, 130, 130, 4),
      truthRow('cosmic_ray', 5, 170, 170, Number.NaN),
    ];
    const alerts = [
      alertAt(1, 10.5, 10, 31),
      alertAt(2, 90, 91, -11),
      alertAt(3, 170, 170, 40),
      alertAt(4, 130, 130, 4.5),
      alertAt(5, 400, 400, 5),
    ];
    const f = scienceFigures(alerts, truth);
    assert.deepEqual(f.completeness.expected, 3);
    assert.deepEqual(f.completeness.found, 2);
    assert.deepEqual(f.completeness.byKind, {
      transient: { expected: 2, found: 1 },
      variable: { expected: 1, found: 1 },
    });
    assert.deepEqual(f.purity, { alerts: 3, real: 2, value: 2 / 3 });
    const bin = (lo: number) => f.bySnr.find((b) => b.lo === lo);
    assert.deepEqual([bin(4)?.expected, bin(4)?.found], [1, 1]);
    assert.deepEqual([bin(6)?.expected, bin(6)?.found], [1, 0]);
    assert.deepEqual([bin(30)?.expected, bin(30)?.found], [1, 1]);
    assert.equal(f.afterRealBogus, null);
    // The real/bogus cut drops the cosmic ray (bogus) and, wrongly, the variable (missed).
    const reliability = [0.99, 0.3, 0.1, 0.95, 0.9];
    const scored = alerts.map((a, i) => ({ ...a, reliability: reliability[i] }));
    assert.deepEqual(scienceFigures(scored, truth, 0.8).afterRealBogus, {
      cut: 0.8,
      completeness: 1 / 3,
      purity: 1,
    });
  });

  it('splits the time of an image from readout to the broker into stages that add up', () => {
    const image = {
      key: 'K',
      groupId: 'g',
      visit: 1,
      detector: 7,
      objectName: 'APSIM/g/0/7.fits',
      finalizedAt: 1_000_000,
    };
    const logs = [
      {
        severity: 'INFO',
        message: 'detector processed',
        key: 'K',
        alerts: 2,
        stagesMs: { characterizeScience: 3000, subtract: 4000, total: 7000 },
        downloadToHandOffSeconds: 10,
        readoutToHandOffSeconds: 12,
      },
    ];
    const calls = {
      download: 500,
      preloadRead: 700,
      store: 350,
      apdbWrite: 400,
      handOff: 450,
      'record.markStored': 50,
    };
    const received = [alertAt(1, 0, 0, 10), alertAt(2, 0, 0, 10)].map((a, i) => ({
      ...a,
      receivedAt: 1_000_000 + 15_000 + 1000 * i,
    }));
    const s = imageStages(image, logs, [{ fn: 'processImage', ms: 10_000, calls }], received)!;
    assert.equal(s.stages.wait, 2);
    assert.equal(
      s.stages.read,
      1.5,
      'the preload is read alongside the download: 0.2 s of it counts',
    );
    assert.equal(s.stages.preloadRead, 0.2);
    assert.equal(s.stages.subtract, 4);
    assert.equal(s.stages.fanOut, 4);
    assert.equal(s.stages.total, 16);
    const parts = [
      'wait',
      'download',
      'preloadRead',
      'read',
      'characterizeScience',
      'subtract',
      'store',
      'handOff',
      'fanOut',
    ];
    // The APDB write runs alongside the hand-off and fan-out: shown, not added.
    assert.equal(s.stages.apdbWrite, 0.4);
    assert.ok(Math.abs(parts.reduce((sum, k) => sum + s.stages[k], 0) - s.stages.total) < 1e-9);
  });
});
