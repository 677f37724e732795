/**
 * The night report's user-filter section (functions/night/page.ts): one row per example filter
 * with its expression (escaped: filters hold '<'), what it matched, what its stream received,
 * what was dead-lettered instead and what is missing, whether that was exactly its matches; the
 * dead letters' reasons and why the night stopped waiting; nothing when the night ran no filters.
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
        deadLettered: 0,
        missing: 0,
        extra: 0,
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
        deadLettered: 0,
        missing: 1,
        extra: 0,
        altered: 1,
        exact: false,
        examples: ['7'],
      },
    ],
    filtering: {
      alerts: 41,
      handled: 40,
      deadLetters: [1, 2].map((k) => ({
        diaSourceId: String(k),
        reason: 'gave up after 5 deliveries: Error: 10 ABORTED <x>',
        stage: 'quota',
      })),
      stopped:
        'the streams delivered nothing for 30 s with 1 match(es) neither received nor dead-lettered',
    },
  });
  const rows = html.match(/<tr><td>.*?<\/tr>/g) ?? [];
  assert.equal(rows.length, 2);
  assert.equal(
    rows[0],
    '<tr><td>negative</td><td><code>diaSource.snr &#60; -8 OR diaSource.isNegative</code></td><td>12</td><td>12</td><td>1</td><td>0</td><td>0</td><td>0</td><td>yes</td><td>101 102</td></tr>',
  );
  assert.match(
    rows[1],
    /<td>3<\/td><td>2<\/td><td>0<\/td><td>1<\/td><td>0<\/td><td><b>1<\/b><\/td><td><b>NO<\/b><\/td>/,
  );
  assert.match(
    html,
    /filterAlerts finished 40 of 41 alerts; 2 dead letter\(s\):<\/p><ul><li>2 x gave up after 5 deliveries: Error: 10 ABORTED &#60;x&#62;<\/li><\/ul>/,
  );
  assert.match(html, /stopped waiting for the filters: the streams delivered nothing for 30 s/);
  assert.equal(filterSection({}), '');
});
