import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadAlertSchema, alertSchemaById, type AlertSchema } from '../../shared/alerts/schema.js';
import { encodeAlert, decodeAlert } from '../../shared/alerts/wire.js';
import { runScene } from './scene.js';

/** The fields schema 1.1 added to diaSource (all nullable, default null). */
const ADDED_IN_1_1 = ['templateVersion', 'configHash', 'codeVersion'] as const;

test('schema 1.1 is 1.0 plus nullable diaSource fields: a 1.0 reader reads a 1.1 alert, and a 1.1 reader a 1.0 alert', async () => {
  const { visits } = await runScene(2, undefined, false);
  const alert = visits[1].alerts[0];
  const v10 = loadAlertSchema(1, 0);
  const v11 = loadAlertSchema(1, 1);
  assert.equal(v10.id, 100);
  assert.equal(v11.id, 101);
  assert.equal(loadAlertSchema().id, 101, 'the code writes 1.1');
  const byId = (id: number): AlertSchema | null => alertSchemaById(id);

  const newer = {
    ...alert,
    diaSource: {
      ...alert.diaSource,
      templateVersion: 'g-hpx8-1234-v1',
      configHash: 'abc123',
      codeVersion: '0.1.0',
    },
  };
  const frame11 = encodeAlert(newer, v11);
  const read10 = decodeAlert(frame11, v10.type, byId);
  assert.equal(read10.diaSourceId, alert.diaSourceId);
  assert.equal(read10.diaSource.psfFlux, Math.fround(alert.diaSource.psfFlux as number));
  for (const field of ADDED_IN_1_1)
    assert.equal(field in read10.diaSource, false, `the 1.0 reader drops ${field}`);

  const frame10 = encodeAlert(alert, v10);
  const read11 = decodeAlert(frame10, v11.type, byId) as unknown as {
    diaSource: Record<string, unknown> & { diaSourceId: number };
  };
  for (const field of ADDED_IN_1_1)
    assert.equal(read11.diaSource[field], null, `the 1.1 reader takes ${field}'s default`);
  assert.equal(read11.diaSource.diaSourceId, alert.diaSourceId);

  const own = decodeAlert(frame11, v11.type, byId) as unknown as {
    diaSource: Record<string, unknown>;
  };
  assert.equal(own.diaSource.templateVersion, 'g-hpx8-1234-v1');
  assert.equal(own.diaSource.configHash, 'abc123');
});
