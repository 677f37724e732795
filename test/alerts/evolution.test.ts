import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseAlertSchema, loadAlertSchema, type AlertSchema } from '../../shared/alerts/schema.js';
import { encodeAlert, decodeAlert } from '../../shared/alerts/wire.js';
import { runScene } from './scene.js';

const RECORDS = ['diaSource', 'diaForcedSource', 'diaObject', 'ssSource', 'mpc_orbits', 'alert'];

/** Schema 1.1: schema 1.0 in namespace lsst.v1_1 with a nullable field added to diaSource. */
function schema11(): AlertSchema {
  const records: Record<string, string> = {};
  for (const name of RECORDS) {
    const text = readFileSync(
      new URL(`../../schema/1/0/lsst.v1_0.${name}.avsc`, import.meta.url),
      'utf8',
    ).replaceAll('lsst.v1_0', 'lsst.v1_1');
    const json = JSON.parse(text) as { fields: unknown[] };
    if (name === 'diaSource')
      json.fields.push({
        name: 'glintProbability',
        type: ['null', 'float'],
        default: null,
        doc: 'added in 1.1',
      });
    records[name] = JSON.stringify(json);
  }
  return parseAlertSchema(1, 1, records);
}

test('a reader holding 1.0 reads a 1.1 alert, and a 1.1 reader reads a 1.0 alert', async () => {
  const { visits } = await runScene(2, undefined, false);
  const alert = visits[1].alerts[0];
  const v10 = loadAlertSchema();
  const v11 = schema11();
  assert.equal(v11.id, 101);
  const byId = (id: number): AlertSchema | null => (id === 100 ? v10 : id === 101 ? v11 : null);

  const newer = { ...alert, diaSource: { ...alert.diaSource, glintProbability: 0.25 } };
  const frame11 = encodeAlert(newer, v11);
  const read10 = decodeAlert(frame11, v10.type, byId);
  assert.equal(read10.diaSourceId, alert.diaSourceId);
  assert.equal(read10.diaSource.psfFlux, Math.fround(alert.diaSource.psfFlux as number));
  assert.equal(
    'glintProbability' in read10.diaSource,
    false,
    'the 1.0 reader drops the added field',
  );

  const frame10 = encodeAlert(alert, v10);
  const read11 = decodeAlert(frame10, v11.type, byId) as unknown as {
    diaSource: { glintProbability: number | null; diaSourceId: number };
  };
  assert.equal(read11.diaSource.glintProbability, null, 'the 1.1 reader takes the default');
  assert.equal(read11.diaSource.diaSourceId, alert.diaSourceId);

  assert.equal(
    (decodeAlert(frame11, v11.type, byId).diaSource as unknown as { glintProbability: number })
      .glintProbability,
    0.25,
  );
});
