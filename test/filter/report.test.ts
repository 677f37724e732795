/**
 * The night report's user-filter section (functions/night/page.ts): one row per example filter
 * with its expression (escaped: filters hold '<'), what it matched, what its stream received and
 * whether that was exactly its matches; nothing when the night ran no filters.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filterSection } from '../../functions/night/page.js';

test('the report shows what each example filter matched and what its stream received', () => {
  const html = filterSection({
    filters: [
      {
        name: 'negative',
        where: 'diaSource.snr < -8 OR diaSource.isNegative',
        matched: 12,
        received: 12,
        duplicates: 1,
        altered: 0,
        exact: true,
        examples: ['101', '102'],
      },
      {
        name: 'cone',
        where: 'cone(150, 2, 120)',
        matched: 3,
        received: 2,
        duplicates: 0,
        altered: 1,
        exact: false,
        examples: ['7'],
      },
    ],
  });
  const rows = html.match(/<tr><td>.*?<\/tr>/g) ?? [];
  assert.equal(rows.length, 2);
  assert.equal(
    rows[0],
    '<tr><td>negative</td><td><code>diaSource.snr &#60; -8 OR diaSource.isNegative</code></td><td>12</td><td>12</td><td>1</td><td>0</td><td>yes</td><td>101 102</td></tr>',
  );
  assert.match(rows[1], /<td>3<\/td><td>2<\/td><td>0<\/td><td>1<\/td><td><b>NO<\/b><\/td>/);
  assert.equal(filterSection({}), '');
});
