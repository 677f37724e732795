/** The Pub/Sub filter grammar, case by case, including what must be rejected. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FilterSyntaxError, parseFilter } from '../../emulators/pubsub/filter.js';

const message = { band: 'r', snrBin: '10', 'dia-id': '42', empty: '' };

describe('Pub/Sub attribute filters', () => {
  const cases: Array<[string, boolean]> = [
    ['', true],
    ['attributes:band', true],
    ['attributes:missing', false],
    ['NOT attributes:missing', true],
    ['-attributes:band', false],
    ['attributes.band = "r"', true],
    ['attributes.band = "g"', false],
    ['attributes.band != "g"', true],
    ['attributes.missing != "g"', false],
    ['NOT attributes.missing = "g"', true],
    ['hasPrefix(attributes.snrBin, "1")', true],
    ['hasPrefix(attributes.snrBin, "2")', false],
    ['NOT hasPrefix(attributes.missing, "1")', true],
    ['attributes:empty AND attributes.empty = ""', true],
    ['attributes."dia-id" = "42"', true],
    ['attributes.band = "g" OR attributes.band = "r"', true],
    ['attributes.band = "r" AND attributes.snrBin = "5"', false],
    ['(attributes.band = "g" OR attributes.band = "r") AND NOT (attributes.snrBin = "5")', true],
    ['NOT (attributes.band = "r" AND attributes:snrBin)', false],
  ];
  for (const [filter, expected] of cases) {
    it(`${filter || '(empty)'} -> ${expected}`, () =>
      assert.equal(parseFilter(filter)(message), expected));
  }

  for (const bad of [
    'attributes.band = ',
    'attributes.band == "r"',
    'attributes.band = "r" AND attributes.x = "1" OR attributes:y',
    'band = "r"',
    'attributes.band = "r',
    '(attributes:band',
    'hasPrefix(attributes.band)',
    `attributes:${'k'.repeat(300)}`,
  ]) {
    it(`rejects ${bad.slice(0, 60)}`, () =>
      assert.throws(() => parseFilter(bad), FilterSyntaxError));
  }
});
