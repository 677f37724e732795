/**
 * Watchlists and watchmaps: the HEALPix-indexed watchlist agrees with a brute-force scan of every
 * entry; MOCs parse in their ASCII and JSON forms, at mixed orders, and reject what is not a MOC.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { healpixNest, separationDeg } from '../../shared/healpix/index.js';
import { parseMoc } from '../../shared/filter/moc.js';
import {
  parseWatchlistCsv,
  Watchlist,
  type WatchlistEntry,
} from '../../shared/filter/watchlist.js';
import { seeded } from './fuzz.js';

function randomEntries(n: number, rng: () => number): WatchlistEntry[] {
  return Array.from({ length: n }, (_, k) => {
    const polar = k % 10 === 0;
    return {
      ra: polar ? rng() * 360 : 150 + rng() * 2,
      dec: polar ? 89 + rng() : 1 + rng() * 2,
      radiusArcsec: k % 50 === 0 ? 600 + rng() * 3000 : 0.5 + rng() * 30,
      name: `e${k}`,
    };
  });
}

test('watchlist matches through the HEALPix index equal a brute-force scan', () => {
  const rng = seeded(7);
  const entries = randomEntries(5000, rng);
  const list = new Watchlist(entries);
  let hits = 0;
  for (let i = 0; i < 4000; i++) {
    const polar = i % 10 === 0;
    const ra = polar ? rng() * 360 : 150 + rng() * 2;
    const dec = polar ? 89 + rng() : 1 + rng() * 2;
    const brute = entries
      .filter((e) => separationDeg(e.ra, e.dec, ra, dec) * 3600 <= e.radiusArcsec)
      .map((e) => e.name);
    assert.deepEqual(
      list
        .matchAll(ra, dec)
        .map((e) => e.name)
        .sort(),
      brute.sort(),
      `${ra}, ${dec}`,
    );
    assert.equal(list.contains(ra, dec), brute.length > 0);
    if (brute.length) hits++;
  }
  assert.ok(hits > 400 && hits < 3900, `both outcomes exercised (${hits} of 4000 hit)`);
});

test('watchlist CSV: columns by header, quoted names, one-line errors naming the line', () => {
  const list = parseWatchlistCsv(
    'Name,RA,Dec,Radius\n"SN 2026a, host",150.0,2.0,5\n\nM31,10.6847,41.2690,3600\n',
  );
  assert.deepEqual(
    list.entries.map((e) => e.name),
    ['SN 2026a, host', 'M31'],
  );
  assert.equal(list.contains(150.0, 2.0 + 4 / 3600), true);
  assert.equal(list.contains(150.0, 2.0 + 6 / 3600), false);
  assert.throws(
    () => parseWatchlistCsv('ra,dec,name\n1,2,x\n'),
    /line 1: header lacks column 'radius'/,
  );
  assert.throws(
    () => parseWatchlistCsv('ra,dec,radius\n1,2,x\n'),
    /line 2: radius \(arcsec\) 'x' is not a number/,
  );
  assert.throws(() => parseWatchlistCsv('ra,dec,radius\n1,95,1\n'), /line 2: dec '95'/);
  assert.throws(
    () => parseWatchlistCsv(`ra,dec,radius\n${'1,2,3\n'.repeat(100_001)}`),
    /line 100002: more than 100000 entries/,
  );
});

test('MOC: ASCII (MOC 2.0) and JSON forms, mixed orders, ranges; positions in and out', () => {
  const ra = 150.1;
  const dec = 2.2;
  const p10 = healpixNest(ra, dec, 10);
  const q18 = healpixNest(40, -30, 18);
  const ascii = parseMoc(`10/${p10 - 1}-${p10 + 1}\n18/${q18} 29/`);
  const json = parseMoc(JSON.stringify({ 10: [p10 - 1, p10, p10 + 1], 18: [q18] }));
  const commas = parseMoc(`10/${p10 - 1},${p10},${p10 + 1} 18/${q18}`);
  for (const moc of [ascii, json, commas]) {
    assert.equal(moc.contains(ra, dec), true);
    assert.equal(moc.contains(40, -30), true);
    assert.equal(moc.contains(40.01, -30), false, 'an order-18 pixel is 0.8 arcsec');
    assert.equal(moc.contains(ra + 180, -dec), false);
  }
  assert.equal(
    ascii.depth,
    24,
    '29/ states the depth; cells are kept at the deepest supported order',
  );
  assert.ok(Math.abs(parseMoc('0/0-11').skyFraction - 1) < 1e-12, '0/0-11 is the whole sky');
  assert.throws(() => parseMoc('10/5 25/1'), /cells of order 25 are finer than the supported 24/);
  assert.throws(() => parseMoc('3/768'), /cell '768' is not a pixel of order 3/);
  assert.throws(() => parseMoc('5 3/1'), /a cell before any 'order\/'/);
  assert.throws(() => parseMoc('3/9-2'), /range runs backwards/);
  assert.throws(() => parseMoc('30/1'), /order '30' is not an integer in \[0, 29\]/);
  assert.throws(() => parseMoc('3/'), /no cells/);
  assert.throws(() => parseMoc('{"3": 5}'), /cells must be an array/);
});
