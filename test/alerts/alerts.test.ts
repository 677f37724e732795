import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPython, skipWithout } from '../helpers/python.js';
import { encodeAlert, decodeAlert, frameSchemaId } from '../../shared/alerts/wire.js';
import { loadAlertSchema } from '../../shared/alerts/schema.js';
import { writeAlertContainer, readAlertFile } from '../../shared/alerts/container.js';
import { alertAttributes } from '../../shared/alerts/attributes.js';
import { cutoutSize } from '../../shared/alerts/cutouts.js';
import { nanojanskyPerAdu } from '../../shared/association/calibration.js';
import { decodeSourceId, sourceId } from '../../shared/apdb/ids.js';
import { healpixNest } from '../../shared/healpix/index.js';
import type { Alert } from '../../shared/alerts/types.js';
import { runScene } from './scene.js';

const scene = runScene(4);
const tmp = mkdtempSync(join(tmpdir(), 'alerts-test-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

async function lastAlerts(): Promise<Alert[]> {
  const { visits } = await scene;
  return visits[visits.length - 1].alerts;
}

test("the current schema (1.1, id 101) has the contract's required and nullable fields", () => {
  const schema = loadAlertSchema();
  assert.equal(schema.id, 101);
  const record = JSON.parse(schema.text) as {
    fields: Array<{ name: string; type: unknown; default?: unknown }>;
  };
  const names = record.fields.map((f) => f.name);
  assert.deepEqual(names, [
    'diaSourceId',
    'observation_reason',
    'target_name',
    'diaSource',
    'prvDiaSources',
    'prvDiaForcedSources',
    'diaObject',
    'ssSource',
    'mpc_orbits',
    'cutoutDifference',
    'cutoutScience',
    'cutoutTemplate',
  ]);
  const source = (
    record.fields[3].type as { fields: Array<{ name: string; type: unknown; default?: unknown }> }
  ).fields;
  const required = [
    'diaSourceId',
    'visit',
    'detector',
    'midpointMjdTai',
    'ra',
    'dec',
    'x',
    'y',
    'psfNdata',
    'trailNdata',
    'dipoleNdata',
    'timeProcessedMjdTai',
    'bboxSize',
  ];
  for (const f of source) {
    if (required.includes(f.name)) assert.ok(typeof f.type === 'string', `${f.name} is required`);
    else
      assert.ok(
        Array.isArray(f.type) && f.type[0] === 'null' && f.default === null,
        `${f.name} is nullable with default null`,
      );
  }
  for (const name of [
    'diaObjectId',
    'psfFlux',
    'snr',
    'band',
    'reliability',
    'pixelFlags_saturated',
    'ra_dec_Cov',
  ])
    assert.ok(
      source.some((f) => f.name === name),
      name,
    );
});

test('ids are deterministic, decodable and fit a signed long', () => {
  const id = sourceId(33_554_431, 255, 1_048_575);
  assert.equal(id, 2 ** 53 - 1);
  assert.deepEqual(decodeSourceId(sourceId(123456, 42, 789)), {
    visit: 123456,
    detector: 42,
    index: 789,
  });
  assert.throws(() => sourceId(2 ** 25, 0, 0), RangeError);
});

test('fluxes are calibrated to nJy from the zero point', async () => {
  assert.ok(Math.abs(nanojanskyPerAdu(31.4) - 1) < 1e-15);
  assert.ok(Math.abs(nanojanskyPerAdu(26.4) - 100) < 1e-12);
  const { visits } = await scene;
  const v = visits[0];
  const rec = v.result.batch.diaSources[0];
  assert.ok(rec.psfFlux !== null && Number.isFinite(rec.psfFlux));
});

test('alerts round-trip through the Confluent frame', async () => {
  for (const alert of await lastAlerts()) {
    const frame = encodeAlert(alert);
    assert.equal(frame[0], 0);
    assert.equal(frameSchemaId(frame), 101);
    const back = decodeAlert(frame);
    assert.equal(back.diaSourceId, alert.diaSourceId);
    assert.equal(back.diaSource.ra, alert.diaSource.ra);
    assert.equal(back.diaSource.psfFlux, Math.fround(alert.diaSource.psfFlux as number));
    assert.equal(back.diaObject?.nDiaSources, alert.diaObject?.nDiaSources);
    assert.equal(back.prvDiaSources?.length, alert.prvDiaSources?.length);
    assert.deepEqual(back.cutoutScience, alert.cutoutScience);
    assert.equal(back.diaSource.reliabilityModel, 'rb-test 0.1');
  }
  assert.throws(() => decodeAlert(Buffer.from([1, 0, 0, 0, 100, 0])), /Confluent/);
});

test("history: prvDiaSources are the object's earlier sources, forced sources come from undetected objects", async () => {
  const { visits } = await scene;
  const alerts = visits[3].alerts;
  const withHistory = alerts.filter((a) => (a.prvDiaSources?.length ?? 0) > 0);
  assert.ok(withHistory.length > 0);
  for (const a of withHistory) {
    for (const p of a.prvDiaSources ?? []) {
      assert.equal(p.diaObjectId, a.diaSource.diaObjectId);
      assert.ok(p.midpointMjdTai < a.diaSource.midpointMjdTai);
    }
    assert.equal(a.diaObject?.nDiaSources, (a.prvDiaSources?.length ?? 0) + 1);
  }
  const forced = visits.flatMap((v) => v.result.batch.forcedSources);
  assert.ok(forced.length > 0, 'some objects went undetected and were force-photometered');
  for (const f of forced)
    assert.ok(
      !visits
        .find((v) => v.result.batch.visit === f.visit)
        ?.result.batch.diaSources.some((s) => s.diaObjectId === f.diaObjectId),
    );
});

test('attributes follow the contract', async () => {
  const alert = (await lastAlerts())[0];
  const attrs = alertAttributes(alert);
  assert.deepEqual(
    Object.keys(attrs).sort(),
    [
      'band',
      'dec',
      'diaObjectId',
      'diaSourceId',
      'healpix9',
      'midpointMjdTai',
      'ra',
      'reliability',
      'reliabilityBin',
      'schemaId',
      'snr',
      'snrBin',
    ].sort(),
  );
  for (const v of Object.values(attrs)) assert.equal(typeof v, 'string');
  assert.equal(attrs.schemaId, '101');
  assert.equal(attrs.healpix9, String(healpixNest(alert.diaSource.ra, alert.diaSource.dec, 9)));
  const snr = alert.diaSource.snr as number;
  assert.ok(Number(attrs.snrBin) <= snr);
  assert.equal(
    attrs.reliabilityBin,
    String(Math.floor((alert.diaSource.reliability as number) * 10) / 10),
  );
});

test(
  'container file and Confluent frames are read by python3-avro (an independent implementation)',
  { skip: skipWithout('avro') },
  async () => {
    const alerts = await lastAlerts();
    const file = join(tmp, 'alerts.avro');
    await writeAlertContainer(file, alerts);
    const back: Alert[] = [];
    for await (const a of readAlertFile(file)) back.push(a);
    assert.deepEqual(
      back.map((a) => a.diaSourceId),
      alerts.map((a) => a.diaSourceId),
    );

    const frameFile = join(tmp, 'frame.bin');
    writeFileSync(frameFile, encodeAlert(alerts[0]));
    writeFileSync(join(tmp, 'schema.json'), loadAlertSchema().text);
    const out = runPython(
      'avro',
      `
import json, struct, sys, io
import avro.schema, avro.io
from avro.datafile import DataFileReader
rows = []
with DataFileReader(open(sys.argv[1], 'rb'), avro.io.DatumReader()) as reader:
    for a in reader:
        rows.append([a['diaSourceId'], a['diaSource']['diaObjectId'], len(a['prvDiaSources'] or []), a['diaObject']['nDiaSources'], len(a['cutoutDifference']), a['diaSource']['band']])
frame = open(sys.argv[2], 'rb').read()
magic, sid = struct.unpack('>bI', frame[:5])
schema = avro.schema.parse(open(sys.argv[3]).read())
one = avro.io.DatumReader(schema).read(avro.io.BinaryDecoder(io.BytesIO(frame[5:])))
print(json.dumps({'rows': rows, 'magic': magic, 'schemaId': sid, 'id': one['diaSourceId'], 'ra': one['diaSource']['ra']}))
`,
      [file, frameFile, join(tmp, 'schema.json')],
    );
    const parsed = JSON.parse(out) as {
      rows: Array<[number, number, number, number, number, string]>;
      magic: number;
      schemaId: number;
      id: number;
      ra: number;
    };
    assert.equal(parsed.rows.length, alerts.length);
    parsed.rows.forEach((row, k) => {
      const a = alerts[k];
      assert.deepEqual(row, [
        a.diaSourceId,
        a.diaSource.diaObjectId,
        a.prvDiaSources?.length ?? 0,
        a.diaObject?.nDiaSources,
        a.cutoutDifference?.length,
        a.diaSource.band,
      ]);
    });
    assert.equal(parsed.magic, 0);
    assert.equal(parsed.schemaId, 101);
    assert.equal(parsed.id, alerts[0].diaSourceId);
    assert.equal(parsed.ra, alerts[0].diaSource.ra);
  },
);

test(
  'cutouts open in astropy with image, variance, mask, PSF and a WCS that puts the source at its ra, dec',
  { skip: skipWithout('astropy') },
  async () => {
    const { visits } = await scene;
    const alerts = visits[visits.length - 1].alerts.slice(0, 4);
    const sources = visits[visits.length - 1].cutouts;
    const cases = alerts.map((a, k) => {
      const file = join(tmp, `cut${k}.fits`);
      writeFileSync(file, a.cutoutDifference as Buffer);
      return {
        file,
        x: a.diaSource.x,
        y: a.diaSource.y,
        ra: a.diaSource.ra,
        dec: a.diaSource.dec,
        size: cutoutSize(a.diaSource.bboxSize),
      };
    });
    const out = runPython(
      'astropy',
      `
import json, sys, warnings
import numpy as np
from astropy.io import fits
from astropy.wcs import WCS
warnings.simplefilter('ignore')
res = []
for path, x, y in json.loads(sys.argv[1]):
    with fits.open(path) as h:
        hdr = h[0].header
        w = WCS(hdr)
        cx, cy = x + hdr['LTV1'], y + hdr['LTV2']
        ra, dec = w.pixel_to_world_values(cx, cy)
        names = [hdu.name for hdu in h]
        res.append(dict(ra=float(ra), dec=float(dec), names=names, shape=list(h[0].data.shape), vshape=list(h['VARIANCE'].data.shape),
                        mask=h['MASK'].data.dtype.kind, var=float(h['VARIANCE'].data[5, 7]), psfsum=float(h['PSF'].data.sum()), unit=hdr['BUNIT'], pix=float(h[0].data[5, 7]),
                        ltv=[hdr['LTV1'], hdr['LTV2']], sip=hdr.get('A_ORDER')))
print(json.dumps(res))
`,
      [JSON.stringify(cases.map((c) => [c.file, c.x, c.y]))],
    );
    const res = JSON.parse(out) as Array<{
      ra: number;
      dec: number;
      names: string[];
      shape: number[];
      vshape: number[];
      mask: string;
      var: number;
      psfsum: number;
      unit: string;
      pix: number;
      ltv: number[];
      sip: number;
    }>;
    res.forEach((r, k) => {
      const c = cases[k];
      assert.deepEqual(r.names, ['PRIMARY', 'VARIANCE', 'MASK', 'PSF']);
      assert.deepEqual(r.shape, [c.size, c.size]);
      assert.deepEqual(r.vshape, [c.size, c.size]);
      assert.equal(r.mask, 'i');
      assert.ok(Math.abs(r.psfsum - 1) < 1e-5);
      assert.equal(r.unit, 'nJy');
      assert.equal(r.sip, 2, 'SIP distortion kept');
      const cosDec = Math.cos((c.dec * Math.PI) / 180);
      const offArcsec = Math.hypot((r.ra - c.ra) * cosDec, r.dec - c.dec) * 3600;
      assert.ok(offArcsec < 1e-3, `astropy puts the source ${offArcsec} arcsec from its ra, dec`);
      const [px, py] = [7 - r.ltv[0], 5 - r.ltv[1]];
      const scale = nanojanskyPerAdu(sources.difference.info.zeroPoint);
      const want =
        px >= 0 && py >= 0 && px < 400 && py < 400
          ? sources.difference.image.get(px, py) * scale
          : Number.NaN;
      if (Number.isFinite(want)) {
        assert.ok(
          Math.abs(r.pix - want) <= 1e-5 * Math.abs(want) + 1e-6,
          `pixel ${r.pix} vs ${want}`,
        );
        const wantVar = sources.difference.variance.get(px, py) * scale * scale;
        assert.ok(
          Math.abs(r.var - wantVar) <= 0.01 * wantVar,
          `variance ${r.var} vs ${wantVar} (quantized)`,
        );
      }
    });
  },
);
