// Faint transients beside a training night's defects (faint-transients.ts): as many as the unmasked
// defects, clear of the real changes and artifacts, of the flux their S/N asks, and absent from every
// night that does not ask for them (their cache keys unchanged).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Exposure } from '../../shared/image/exposure.js';
import { GaussianPsf } from '../../shared/psf/gaussian-psf.js';
import { Rng } from '../../shared/sim/random.js';
import { expectedSnr, type SnrContext } from '../../shared/sim/truth.js';
import { cdMatrix } from '../../shared/wcs/matrix.js';
import { makeTanWcs } from '../../shared/wcs/index.js';
import type { InjectedArtifact } from '../../shared/rb/artifacts.js';
import {
  DEFAULT_FAINT_TRANSIENT_CONFIG,
  injectFaintTransients,
} from '../../shared/rb/faint-transients.js';
import { FAINT_FINE_TUNE_NIGHTS, FINE_TUNE_NIGHTS } from '../../shared/rb/release.js';
import {
  DEFECT_TRAINING_NIGHT,
  EVALUATION_NIGHT,
  TRAINING_NIGHT,
  VALIDATION_NIGHT,
} from '../../shared/rb/dataset.js';

const SIZE = 400;
const SKY_VARIANCE = 100;

function flatExposure(): Exposure {
  const e = Exposure.blank(SIZE, SIZE);
  e.variance.data.fill(SKY_VARIANCE);
  e.info = { ...e.info, gain: 2 };
  return e;
}

function context(science: Exposure): SnrContext {
  const wcs = makeTanWcs({ crpix: [SIZE / 2, SIZE / 2], crval: [150, 2], cd: cdMatrix(0.2, 0) });
  return {
    sciencePsf: GaussianPsf.fromFwhm(3),
    scienceVariance: science.variance.clone(),
    scienceWcs: wcs,
    templateVariance: science.variance.clone(),
    templateWcs: wcs,
    templateScale: 1,
  };
}

const defects: InjectedArtifact[] = Array.from({ length: 30 }, (_, i) => ({
  kind: i % 3 === 0 ? 'unmasked_hot' : 'unmasked_cr',
  x: 20 + ((i * 89) % 360),
  y: 20 + ((i * 53) % 360),
  radius: 4,
}));
const others: InjectedArtifact[] = [{ kind: 'dipole', x: 200, y: 200, radius: 6 }];
const real = [
  { x: 100, y: 300 },
  { x: 300, y: 100 },
];

test('as many faint transients as unmasked defects, clear of them and of the real changes', () => {
  const science = flatExposure();
  const out = injectFaintTransients(
    science,
    context(science),
    real,
    [...defects, ...others],
    new Rng(3, 'faint-test'),
  );
  assert.equal(out.length, defects.length);
  const c = DEFAULT_FAINT_TRANSIENT_CONFIG;
  for (const t of out) {
    assert.ok(t.expectedSnr >= c.snr[0] && t.expectedSnr <= c.snr[1], `S/N ${t.expectedSnr}`);
    for (const a of [...defects, ...others])
      assert.ok(Math.hypot(a.x - t.x, a.y - t.y) > a.radius + c.clearOfArtifactPx);
    for (const r of [...real, ...out.filter((o) => o !== t)])
      assert.ok(Math.hypot(r.x - t.x, r.y - t.y) > c.clearOfRealPx);
  }
});

test('each carries the flux its S/N asks and its photon variance', () => {
  const science = flatExposure();
  const ctx = context(science);
  const out = injectFaintTransients(science, ctx, [], defects, new Rng(4, 'faint-test'));
  const added = science.variance.data.reduce((s, v) => s + v - SKY_VARIANCE, 0);
  const flux = out.reduce((s, t) => s + t.expectedSnr / expectedSnr(ctx, t.x, t.y, 1), 0);
  const total = science.image.data.reduce((s, v) => s + v, 0);
  // The photon noise of the total (variance flux / gain) is ~0.6 % of it: 3 % is five sigma.
  assert.ok(Math.abs(total - flux) < 0.03 * flux, `image ${total} vs flux ${flux}`);
  assert.ok(Math.abs(added - flux / 2) < 1e-3 * flux, `variance ${added} vs ${flux / 2}`);
});

test('no night but the faint fine-tuning nights carries them', () => {
  for (const config of [TRAINING_NIGHT, DEFECT_TRAINING_NIGHT, EVALUATION_NIGHT, VALIDATION_NIGHT])
    assert.equal(config.faintTransients, undefined);
  assert.ok(FINE_TUNE_NIGHTS.every((n) => n.config.faintTransients === undefined));
  assert.deepEqual(
    FAINT_FINE_TUNE_NIGHTS.map((n) => n.seed),
    FINE_TUNE_NIGHTS.map((n) => n.seed),
  );
  assert.ok(FAINT_FINE_TUNE_NIGHTS.every((n) => n.config.faintTransients !== undefined));
});
