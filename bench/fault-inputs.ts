/**
 * The malformed inputs of the fault campaign (`npm run bench -- faults`): raw images and events
 * of >= 40 kinds, each kind a function of a variant number (its visit, detector and pixel seed).
 */
import { FitsHeader, writeFits } from '../shared/fits/index.js';

export interface Input {
  /** Raw object name (may itself be the fault). */
  name: string;
  /** Object bytes to upload; null: the event alone is the fault (nothing uploaded). */
  bytes: Buffer | null;
  /** Replaces the notification payload (malformed events). */
  payload?: string;
  /** The CloudEvent has no Pub/Sub message at all. */
  noMessage?: boolean;
}

type Cards = Record<string, string | number | boolean>;

/** A small image with a TAN WCS and the cards of a raw image; `cards` override or add (undefined-valued keys are dropped). */
function image(
  v: number,
  cards: Cards = {},
  drop: string[] = [],
  size: [number, number] = [64, 64],
  fill?: (i: number) => number,
): Buffer {
  const [w, h] = size;
  const base: Cards = {
    CTYPE1: 'RA---TAN',
    CTYPE2: 'DEC--TAN',
    CRPIX1: w / 2,
    CRPIX2: h / 2,
    CRVAL1: 150 + v * 0.01,
    CRVAL2: 2,
    CD1_1: -0.2 / 3600,
    CD1_2: 0,
    CD2_1: 0,
    CD2_2: 0.2 / 3600,
    'MJD-OBS': 61000.1 + v / 1440,
    FILTER: 'r',
    VISIT: 1000 + v,
  };
  const header = new FitsHeader();
  for (const [k, value] of Object.entries({ ...base, ...cards }))
    if (!drop.includes(k)) header.set(k, value);
  const data = new Float32Array(w * h);
  for (let i = 0; i < data.length; i++)
    data[i] = fill ? fill(i) : 100 + ((i * 7919 + v * 104729) % 97) / 10;
  return Buffer.from(writeFits([{ data, width: w, height: h, header }]));
}

/** Replaces the first card starting with `keyword` (or END, inserting before it) by `card`. */
function patchCard(bytes: Buffer, keyword: string, card: string): Buffer {
  const out = Buffer.from(bytes);
  for (let at = 0; at < 2880 * 4; at += 80) {
    const key = out
      .subarray(at, at + 8)
      .toString('latin1')
      .trimEnd();
    if (key === keyword || key === 'END') {
      if (key === 'END') out.write('END'.padEnd(80), at + 80, 'latin1');
      out.write(card.padEnd(80).slice(0, 80), at, 'latin1');
      return out;
    }
  }
  return out;
}

function flipBytes(bytes: Buffer, from: number, count: number, seed: number): Buffer {
  const out = Buffer.from(bytes);
  let x = seed;
  for (let k = 0; k < count; k++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    out[from + (x % (out.length - from))] ^= 1 << (x % 8);
  }
  return out;
}

/** The kinds of malformed input: name -> (variant -> input). */
export function kinds(): Record<string, (v: number) => Input> {
  const raw = (group: string, v: number, det = v % 200) => `APSIM/${group}-${v}/0/${det}.fits`;
  const img =
    (group: string, cards: Cards = {}, drop: string[] = []) =>
    (v: number): Input => ({
      name: raw(group, v),
      bytes: image(v, { DETECTOR: v % 200, ...cards }, drop),
    });
  const bytesOf =
    (group: string, make: (v: number) => Buffer) =>
    (v: number): Input => ({ name: raw(group, v), bytes: make(v) });
  const good = (v: number) => image(v, { DETECTOR: v % 200 });
  return {
    'empty file': bytesOf('empty', () => Buffer.alloc(0)),
    'random bytes': bytesOf('random', (v) => flipBytes(Buffer.alloc(5760, 65), 0, 3000, v + 1)),
    'truncated header': bytesOf('trunc-h', (v) => good(v).subarray(0, 100 + v)),
    'truncated data': bytesOf('trunc-d', (v) => good(v).subarray(0, 2880 + 4000 + v)),
    'SIMPLE = F': bytesOf('simple', (v) =>
      patchCard(good(v), 'SIMPLE', 'SIMPLE  =                    F'),
    ),
    'no END card': bytesOf('noend', (v) =>
      Buffer.from(
        good(v)
          .toString('latin1')
          .replace(/END {77}/, ' '.repeat(80)),
        'latin1',
      ),
    ),
    'BITPIX = 7': bytesOf('bitpix', (v) =>
      patchCard(good(v), 'BITPIX', 'BITPIX  =                    7'),
    ),
    'NAXIS = 0': bytesOf('naxis0', (v) =>
      patchCard(good(v), 'NAXIS', 'NAXIS   =                    0'),
    ),
    'NAXIS1 negative': bytesOf('naxisneg', (v) =>
      patchCard(good(v), 'NAXIS1', 'NAXIS1  =                   -5'),
    ),
    'NAXIS1 huge': bytesOf('naxisbig', (v) =>
      patchCard(good(v), 'NAXIS1', 'NAXIS1  =           1000000000'),
    ),
    'card without =': bytesOf('card', (v) => patchCard(good(v), 'FILTER', 'FILTER    r')),
    'non-ASCII header': bytesOf('ascii', (v) =>
      flipBytes(good(v), 0, 1, v).fill(0xe9, 80 * 12 + 20, 80 * 12 + 30),
    ),
    "VISIT = 'abc'": img('visit-abc', { VISIT: 'abc' }),
    'VISIT negative': img('visit-neg', { VISIT: -1 }),
    'VISIT fraction': img('visit-frac', { VISIT: 1.5 }),
    'VISIT beyond 25 bits': img('visit-big', { VISIT: 2 ** 40 }),
    'DETECTOR negative': img('det-neg', { DETECTOR: -2 }),
    'DETECTOR differs from path': (v) => ({
      name: raw('det-path', v),
      bytes: image(v, { DETECTOR: (v % 200) + 1 }),
    }),
    'CD1_1 = CD2_2 = 0': img('cd0', { CD1_1: 0, CD2_2: 0, CD1_2: 1e-12, CD2_1: 1e-12 }),
    'CD all zero': img('cdzero', { CD1_1: 0, CD2_2: 0 }),
    'CD x 1e-9': img('cd1e-9', { CD1_1: -0.2e-9 / 3600, CD2_2: 0.2e-9 / 3600 }),
    '200"/px': img('200as', { CD1_1: -200 / 3600, CD2_2: 200 / 3600 }),
    'sheared CD': img('shear', {
      CD1_2: 0.19 / 3600,
      CD2_1: 0.2 / 3600,
      CD1_1: -0.2 / 3600,
      CD2_2: -0.19 / 3600,
    }),
    'CD NaN text': img('cdnan', { CD1_1: 'NaN' }),
    'unknown projection': img('ctype', { CTYPE1: 'RA---XYZ', CTYPE2: 'DEC--XYZ' }),
    'CRVAL2 beyond the pole': img('crval', { CRVAL2: 95 }),
    'no WCS': img('nowcs', {}, [
      'CTYPE1',
      'CTYPE2',
      'CD1_1',
      'CD1_2',
      'CD2_1',
      'CD2_2',
      'CRVAL1',
      'CRVAL2',
      'CRPIX1',
      'CRPIX2',
    ]),
    'no observation time': img('nomjd', {}, ['MJD-OBS', 'VISIT']),
    'stale DATASUM': bytesOf('datasum', (v) =>
      patchCard(good(v), 'END', `DATASUM = '${12345 + v}'`),
    ),
    'stale CHECKSUM': bytesOf('checksum', (v) =>
      patchCard(good(v), 'END', "CHECKSUM= 'hcHjjc9ghcEghc9g'"),
    ),
    'all pixels NaN': (v) => ({
      name: raw('nan', v),
      bytes: image(v, { DETECTOR: v % 200 }, [], [64, 64], () => Number.NaN),
    }),
    'all pixels zero': (v) => ({
      name: raw('zero', v),
      bytes: image(v, { DETECTOR: v % 200 }, [], [64, 64], () => 0),
    }),
    'infinite pixels': (v) => ({
      name: raw('inf', v),
      bytes: image(v, { DETECTOR: v % 200 }, [], [64, 64], (i) => (i % 3 ? Infinity : -Infinity)),
    }),
    '1 x 1 image': (v) => ({
      name: raw('tiny', v),
      bytes: image(v, { DETECTOR: v % 200, CRPIX1: 1, CRPIX2: 1 }, [], [1, 1]),
    }),
    'BSCALE = 0': img('bscale', { BSCALE: 0 }),
    'byte flips in the data': bytesOf('flips', (v) => flipBytes(good(v), 2880 * 2, 200, v + 7)),
    "groupId '..'": (v) => ({ name: `APSIM/../0/${v}.fits`, bytes: good(v) }),
    '900-character instrument': (v) => ({
      name: `${'I'.repeat(900)}/g-${v}/0/1.fits`,
      bytes: good(v),
    }),
    'not a .fits name': (v) => ({ name: `APSIM/png-${v}/0/1.png`, bytes: good(v) }),
    'detector 99999': (v) => ({ name: `APSIM/det5-${v}/0/99999.fits`, bytes: good(v) }),
    'notification not JSON': (v) => ({
      name: raw('json', v),
      bytes: null,
      payload: `{not json ${v}`,
    }),
    'notification without a name': (v) => ({
      name: raw('noname', v),
      bytes: null,
      payload: JSON.stringify({ bucket: 'x', generation: String(v) }),
    }),
    'event without a message': (v) => ({ name: raw('nomsg', v), bytes: null, noMessage: true }),
    'object missing from the bucket': (v) => ({ name: raw('missing', v), bytes: null }),
  };
}
