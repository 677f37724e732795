import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ReceivedAlert } from '../../functions/night/broker.js';
import { knownObjectFigures } from '../../functions/night/known-objects.js';
import type { TruthWithDetector } from '../../functions/night/metrics.js';
import { ssObjectIdOf, type MpcOrbit } from '../../shared/solar/orbit.js';

const orbit = (designation: string): MpcOrbit => ({
  designation,
  epoch_mjd: 0,
  a: 2.5,
  q: 2,
  e: 0.2,
  i: 1,
  node: 2,
  argperi: 3,
  mean_anomaly: 4,
  peri_time: 5,
  h: 15,
  g: 0.15,
});
const row = (
  id: number,
  x: number,
  snr: number,
  kind: TruthWithDetector['kind'] = 'moving',
): TruthWithDetector =>
  ({
    visit: 1,
    detector: 3,
    kind,
    id,
    x,
    y: 50,
    ra: 0,
    dec: 0,
    fluxScienceAdu: 1,
    fluxTemplateAdu: 0,
    deltaFluxAdu: 1,
    expectedSnr: snr,
    host: 0,
    mjd: 0,
  }) as TruthWithDetector;
const alert = (
  x: number,
  ssObjectId: string,
  diaObjectId: string,
  ephOffset: number | null,
): ReceivedAlert =>
  ({
    diaSourceId: String(x),
    diaObjectId,
    ssObjectId,
    ephOffset,
    visit: 1,
    detector: 3,
    x,
    y: 50,
    ra: 0,
    dec: 0,
    snr: 10,
    psfFlux: 1,
    reliability: null,
    history: 0,
    receivedAt: 0,
    bytes: 0,
    publishedAt: 0,
  }) as ReceivedAlert;

test('night known-object figures: own ssObjectId, wrong object, asteroid in a DIAObject, residuals', () => {
  const orbits = new Map([[3, [orbit('A0'), orbit('A1'), orbit('A2')]]]);
  const id = (k: number): string => String(ssObjectIdOf(`A${k}`));
  const truth = [row(0, 10, 20), row(1, 100, 8), row(2, 200, 7), row(0, 300, 9, 'transient')];
  const alerts = [
    alert(10.2, id(0), 'null', 0.05), // right object
    alert(100.1, id(2), 'null', 0.4), // the wrong object
    alert(200, 'null', '77', null), // an asteroid that became a DIAObject
    alert(300, id(1), 'null', 0.9), // a transient given an object
  ];
  const f = knownObjectFigures(alerts, truth, orbits);
  assert.equal(f.detected, 3);
  assert.equal(f.associated, 1);
  assert.equal(f.withSsObject, 3);
  assert.equal(f.wrongObject, 2);
  assert.equal(f.wrongFraction, 0.5);
  assert.equal(f.inDiaObjects, 1);
  assert.equal(f.residualArcsec.n, 3);
  assert.equal(f.residualArcsec.max, 0.9);
});
