import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFits } from '../../shared/fits/read.js';
import { readExposure } from '../../shared/fits/exposure.js';
import { simulateNight, simulatedImageFits, type SimConfig } from '../../shared/sim/index.js';
import { wcsErrorFor } from '../../shared/sim/real-world.js';

const BASE: Partial<SimConfig> = { size: 256, seed: 9, visits: 1 };

function header(effects: Partial<SimConfig>, which: 'template' | 'science' = 'science') {
  const night = simulateNight({ ...BASE, ...effects });
  const image = which === 'template' ? night.template : night.visits[0];
  const bytes = simulatedImageFits(image, {
    seed: 9,
    fwhmPx: 3,
    skyAdu: 500,
    unit: night.config.unit,
  });
  return { night, image, bytes, header: readFits(bytes)[0].header };
}

test('every real-world effect is off by default: the default images are unchanged', () => {
  const plain = simulateNight(BASE).visits[0];
  const explicit = simulateNight({
    ...BASE,
    vignetteRadius: 0,
    diffuseLightFraction: 0,
    wcsErrorArcsec: 0,
    writeWcs: true,
    unitScale: 1,
  }).visits[0];
  assert.deepEqual(explicit.exposure.image.data, plain.exposure.image.data);
  assert.equal(plain.response, null);
  assert.equal(plain.exposure.wcs, plain.trueWcs);
});

test('vignetting dims sky and sources alike to the floor beyond the edge; the truth follows the response', () => {
  const { night, image } = header({ vignetteRadius: 0.6, vignetteEdgePx: 20, vignetteFloor: 0.2 });
  assert.ok(image.response);
  assert.equal(image.response.get(128, 128), 1);
  assert.ok(Math.abs(image.response.get(0, 0) - 0.2) < 1e-6);
  const flat = simulateNight(BASE).visits[0];
  const ratio = image.background.get(2, 2) / flat.background.get(2, 2);
  assert.ok(Math.abs(ratio - 0.2) < 1e-5, `corner sky ratio ${ratio}`);
  const plainTruth = simulateNight(BASE).truth;
  for (const row of night.truth.filter((r) => r.kind === 'transient')) {
    const twin = plainTruth.find((r) => r.kind === 'transient' && r.id === row.id);
    assert.ok(twin);
    const r = image.response.get(Math.round(row.x), Math.round(row.y));
    assert.ok(
      Math.abs(row.fluxScienceAdu - r * twin.fluxScienceAdu) <= 1e-3 * twin.fluxScienceAdu + 1e-3,
    );
  }
});

test('diffuse light adds smooth light on the same sky in template and science', () => {
  const lit = simulateNight({ ...BASE, diffuseLightFraction: 0.5 });
  const dark = simulateNight(BASE);
  let most = 0;
  for (let i = 0; i < lit.visits[0].noiseless.data.length; i++)
    most = Math.max(most, lit.visits[0].noiseless.data[i] - dark.visits[0].noiseless.data[i]);
  assert.ok(most > 100, `diffuse light peaks at ${most} ADU`);
  const t = lit.template.noiseless.data;
  const u = dark.template.noiseless.data;
  let templateMost = 0;
  for (let i = 0; i < t.length; i++) templateMost = Math.max(templateMost, t[i] - u[i]);
  assert.ok(templateMost > 100, `diffuse light in the template peaks at ${templateMost} ADU`);
});

test('WCS errors move the science header by exactly the asked offset, rotation and scale, and the truth is written', () => {
  const effects = { wcsErrorArcsec: 5, wcsErrorRotationDeg: 0.1, wcsErrorScale: 0.005 };
  const { image, header: h, bytes } = header(effects);
  const error = wcsErrorFor({ ...simulateNight(BASE).config, ...effects }, 1);
  assert.ok(error);
  assert.ok(Math.abs(Math.hypot(...error.offsetArcsec) - 5) < 1e-9);
  const truth = image.trueWcs.jacobian(128, 128);
  const given = image.exposure.wcs?.jacobian(128, 128);
  assert.ok(given);
  assert.ok(Math.abs(given.pixelScaleArcsec / truth.pixelScaleArcsec - 1 - error.scale) < 1e-6);
  assert.ok(
    Math.abs(Math.abs(given.rotationDeg - truth.rotationDeg) - effects.wcsErrorRotationDeg) < 1e-6,
  );
  assert.equal(h.get('SIMVAL1'), image.trueWcs.toHeaderCards().find(([k]) => k === 'CRVAL1')?.[1]);
  assert.ok(h.get('SIMCD1_1') !== undefined);
  assert.equal(readExposure(bytes, 'science').wcs?.kind, 'TAN-SIP');
  // The template's header stays true.
  const { image: template, header: th } = header(effects, 'template');
  assert.equal(template.exposure.wcs, template.trueWcs);
  assert.equal(th.get('SIMVAL1'), undefined);
});

test('no WCS, no SATURATE, no GAIN: the cards are left out', () => {
  const { header: h } = header({ writeWcs: false, writeSaturate: false, writeGain: false });
  for (const key of ['CTYPE1', 'CRVAL1', 'CD1_1', 'A_ORDER', 'SATURATE', 'GAIN', 'RDNOISE'])
    assert.equal(h.get(key), undefined, key);
  assert.equal(h.get('PHOTZP') !== undefined, true);
  const full = header({}).header;
  for (const key of ['CTYPE1', 'SATURATE', 'GAIN']) assert.notEqual(full.get(key), undefined, key);
});

test('pixels in another unit: image, GAIN, SATURATE and PHOTZP scale together, BUNIT names the unit', () => {
  const scale = 0.01;
  const { image, header: h } = header({ unitScale: scale, unit: 'uJy' });
  const plain = header({}).image;
  assert.equal(h.get('BUNIT'), 'uJy');
  assert.ok(Math.abs(Number(h.get('GAIN')) - Number(header({}).header.get('GAIN')) / scale) < 1e-9);
  assert.ok(
    Math.abs(Number(h.get('PHOTZP')) - (plain.exposure.info.zeroPoint + 2.5 * Math.log10(scale))) <
      1e-9,
  );
  assert.ok(
    Math.abs(image.exposure.image.get(100, 100) - scale * plain.exposure.image.get(100, 100)) <
      1e-3,
  );
});
