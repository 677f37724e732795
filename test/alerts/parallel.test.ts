/** buildAlertsParallel: the same alerts, byte for byte, as buildAlerts, with the cutouts encoded on worker threads. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildAlerts, buildAlertsParallel, startCutouts } from '../../shared/alerts/build.js';
import { encodeAlert } from '../../shared/alerts/wire.js';
import { WorkerPool } from '../../shared/util/worker-pool.js';
import { runScene } from './scene.js';

test('alerts built on worker threads equal those built on one thread', async () => {
  const { visits } = await runScene(2);
  const { result, cutouts } = visits[1];
  const input = { association: result, cutouts, observationReason: 'test' };
  const pool = new WorkerPool(2);
  try {
    const parallel = await buildAlertsParallel(input, pool, 4);
    const serial = buildAlerts(input);
    assert.ok(
      serial.length > 8,
      `${serial.length} alerts: too few to use more than two worker tasks`,
    );
    assert.ok(serial.every((a) => a.cutoutScience && a.cutoutTemplate && a.cutoutDifference));
    assert.deepEqual(
      parallel.map((a) => encodeAlert(a)),
      serial.map((a) => encodeAlert(a)),
    );
  } finally {
    await pool.close();
  }
});

test('without workers or cutouts it builds on this thread', async () => {
  const { visits } = await runScene(1);
  const input = { association: visits[0].result, cutouts: visits[0].cutouts };
  const none = new WorkerPool(0);
  assert.deepEqual(
    (await buildAlertsParallel(input, none)).map((a) => encodeAlert(a)),
    buildAlerts(input).map((a) => encodeAlert(a)),
  );
  assert.deepEqual(
    await buildAlertsParallel({ association: visits[0].result, cutouts: null }, null),
    buildAlerts({ association: visits[0].result, cutouts: null }),
  );
});

test('cutouts started before association serve the alerts; a row moved since, or missing, is cut again', async () => {
  const { visits } = await runScene(2);
  const { result, cutouts } = visits[1];
  const input = { association: result, cutouts };
  const rows = [...result.batch.diaSources].sort((a, b) => a.diaSourceId - b.diaSourceId);
  const pool = new WorkerPool(1);
  try {
    const early = rows.slice(1).map((r, i) => (i === 0 ? { ...r, x: r.x + 3 } : r));
    const ahead = startCutouts(early, cutouts, pool, undefined, 2);
    assert.deepEqual(
      (await buildAlertsParallel(input, pool, 2, ahead)).map((a) => encodeAlert(a)),
      buildAlerts(input).map((a) => encodeAlert(a)),
    );
  } finally {
    await pool.close();
  }
});
