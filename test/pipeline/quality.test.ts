/**
 * The quality gate (shared/pipeline/quality.ts): the flood (50 science pixels at -1e6 ADU)
 * is far beyond the normal density and is flagged; the clean image of the same field is not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EmbeddedApdb } from '../../shared/apdb/embedded.js';
import { processDetector, qualityProblem } from '../../shared/pipeline/index.js';
import { nightFiles } from './night.js';

const field = nightFiles({ size: 512, seed: 5, visits: 1 });

test(
  '50 pixels at -1e6 ADU flood the difference with DIASources: flagged for quarantine',
  { timeout: 120_000 },
  async () => {
    const science = field.visit(0).exposure;
    let x = 12345;
    for (let k = 0; k < 50; k++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      science.image.data[x % science.image.data.length] = -1e6;
    }
    const r = await processDetector({
      science,
      template: field.template().exposure,
      apdb: new EmbeddedApdb(),
    });
    assert.match(
      qualityProblem(r.stats) ?? '',
      /DIASources on 0\.26 Mpix .* above the normal maximum 500\/Mpix/,
      `${r.stats.diaSources} DIASources`,
    );
  },
);

test('normal densities pass; a mostly negative image is flagged', () => {
  const clean = { diaSources: 13, negative: 2, width: 512, height: 512 }; // the clean image of this field
  assert.equal(qualityProblem(clean), null);
  assert.equal(
    qualityProblem({ diaSources: 8000, negative: 3000, width: 4096, height: 4096 }),
    null,
    '477/Mpix on a 4k detector',
  );
  assert.match(
    qualityProblem({ diaSources: 100, negative: 90, width: 4096, height: 4096 }) ?? '',
    /90 of 100 DIASources are negative/,
  );
  assert.equal(
    qualityProblem({ diaSources: 20, negative: 20, width: 4096, height: 4096 }),
    null,
    'too few to judge a fraction',
  );
});
