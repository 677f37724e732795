import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GaussianPsf } from '../../shared/detect/analytic-psf.js';
import { CachedPsf } from '../../shared/detect/cached-psf.js';
import { measureScienceTemplateFluxes } from '../../shared/detect/forced.js';
import type { DiaSourceRecord } from '../../shared/detect/types.js';
import type { Psf, PsfStamp } from '../../shared/psf/types.js';
import { addPointSource, noiseExposure } from './synthetic.js';

/** A Gaussian PSF widening with x that counts the width evaluations asked of it (costly on pixel models). */
class CountingPsf implements Psf {
  readonly stampSize = 25;
  widthCalls = 0;
  private at(x: number): GaussianPsf {
    return new GaussianPsf(1.6 + x / 1000, this.stampSize);
  }
  stampAt(x: number, y: number, centered?: boolean): PsfStamp {
    return this.at(x).stampAt(x, y, centered);
  }
  sigmaAt(x: number): number {
    this.widthCalls++;
    return this.at(x).sigmaAt();
  }
  fwhmAt(x: number): number {
    this.widthCalls++;
    return this.at(x).fwhmAt();
  }
}

test('CachedPsf: forced fluxes ask the model for stamps only; widths, when asked, are the model at the cell centre', () => {
  const model = new CountingPsf();
  const exposure = noiseExposure(256, 256, () => 100, 4, model);
  addPointSource(exposure, model, 100.3, 60.7, 5000);
  const cached = new CachedPsf(model, 64);
  const sources = [
    { x: 100.3, y: 60.7 },
    { x: 200, y: 200 },
  ] as DiaSourceRecord[];
  measureScienceTemplateFluxes(sources, { science: exposure, sciencePsf: cached });
  assert.equal(model.widthCalls, 0);
  assert.ok(Math.abs(sources[0].scienceFlux / 5000 - 1) < 0.05, `flux ${sources[0].scienceFlux}`);
  assert.equal(cached.sigmaAt(100, 60), model.sigmaAt(96));
  assert.equal(cached.fwhmAt(101, 61), model.fwhmAt(96));
  assert.notEqual(cached.sigmaAt(200, 60), model.sigmaAt(96));
});
