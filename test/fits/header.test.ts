import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FitsError,
  FitsHeader,
  formatCard,
  parseCards,
  parseHeader,
} from '../../shared/fits/index.js';

function card(text: string): string {
  return text.padEnd(80);
}

test('parses fixed- and free-format values, logicals, D exponents, undefined values', () => {
  const [a, b, c, d, e, f, g] = parseCards([
    card('NAXIS1  =                 2048 / length of axis'),
    card('CRVAL1  =   3.168366457274E+02 / World coordinate'),
    card('DEXP    =            -1.25D-03'),
    card('NBLEED  = 97146  / free format'),
    card('SIMPLE  =                    T'),
    card('UNDEF   =                      / nothing'),
    card("NAME    = 'O''Brien  '         / quote inside"),
  ]);
  assert.deepEqual(a, { keyword: 'NAXIS1', value: 2048, comment: 'length of axis' });
  assert.equal(b.value, 316.8366457274);
  assert.equal(c.value, -0.00125);
  assert.equal(d.value, 97146);
  assert.equal(e.value, true);
  assert.equal(f.value, null);
  assert.equal(f.comment, 'nothing');
  assert.equal(g.value, "O'Brien");
});

test('commentary cards keep their text; HIERARCH keys are found with or without the prefix', () => {
  const header = new FitsHeader(
    parseCards([
      card('COMMENT   first line'),
      card('HISTORY processed'),
      card("HIERARCH ESO DET CHIP NAME = 'CCD 7' / chip"),
      card('HIERARCH ESO TEL AIRM = 1.25'),
    ]),
  );
  assert.deepEqual(header.commentary('COMMENT'), ['  first line']);
  assert.deepEqual(header.commentary('HISTORY'), ['processed']);
  assert.equal(header.get('ESO DET CHIP NAME'), 'CCD 7');
  assert.equal(header.get('hierarch eso det chip name'), 'CCD 7');
  assert.equal(header.getNumber('ESO TEL AIRM'), 1.25);
});

test('long strings: written on CONTINUE cards and read back whole, with quotes at piece ends', () => {
  const value = `${"a'".repeat(40)}${'x'.repeat(100)}'end'`;
  const header = new FitsHeader().set('LONG', value, 'comment of a long string');
  const lines = header.toCardStrings();
  assert.ok(lines.length > 2);
  assert.ok(lines.every((l) => l.length === 80));
  assert.ok(lines.slice(1).every((l) => l.startsWith('CONTINUE  ')));
  const back = new FitsHeader(parseCards(lines));
  assert.equal(back.get('LONG'), value);
  assert.equal(back.getComment('LONG'), 'comment of a long string');
  assert.equal(back.length, 1);
});

test('a string ending in & without CONTINUE keeps its &', () => {
  const [c] = parseCards([card("AMP     = 'R&D &'")]);
  assert.equal(c.value, 'R&D &');
});

test('numbers survive writing and reading exactly', () => {
  const values = [
    0,
    -0,
    1,
    -1,
    2 ** 53,
    1e21,
    1.5e-300,
    -2.2250738585072014e-308,
    Math.PI,
    1 / 3,
    4.27776918271e-7,
    123456789.123,
  ];
  for (let i = 0; i < 200; i++)
    values.push((Math.random() - 0.5) * 10 ** Math.floor(Math.random() * 40 - 20));
  const header = new FitsHeader();
  values.forEach((v, i) => header.set(`V${i}`, v));
  const back = new FitsHeader(parseCards(header.toCardStrings()));
  values.forEach((v, i) => assert.equal(back.get(`V${i}`), v, `V${i}`));
});

test('set replaces in place, keeps the comment; delete and iteration', () => {
  const header = new FitsHeader().set('A', 1, 'first').set('B', 'x').set('A', 2);
  assert.deepEqual(
    [...header].map((c) => [c.keyword, c.value, c.comment]),
    [
      ['A', 2, 'first'],
      ['B', 'x', ''],
    ],
  );
  assert.equal(header.has('b'), true);
  assert.equal(header.delete('B'), true);
  assert.equal(header.has('B'), false);
  assert.equal(header.delete('B'), false);
  assert.equal(header.getString('A'), undefined);
  assert.equal(header.getNumber('A'), 2);
  assert.throws(() => header.set('BAD', Number.NaN), FitsError);
});

test('cards are fixed format: value right-justified to column 30, strings from column 11', () => {
  assert.equal(
    formatCard({ keyword: 'NAXIS', value: 2, comment: '' })[0],
    card('NAXIS   =                    2'),
  );
  assert.equal(
    formatCard({ keyword: 'SIMPLE', value: true, comment: 'std' })[0],
    card('SIMPLE  =                    T / std'),
  );
  assert.equal(
    formatCard({ keyword: 'XTENSION', value: 'IMAGE', comment: '' })[0],
    card("XTENSION= 'IMAGE   '"),
  );
  assert.equal(
    formatCard({ keyword: 'LONGNAME1', value: 3, comment: '' })[0],
    card('HIERARCH LONGNAME1 = 3'),
  );
});

test('bad cards and missing END throw FitsError naming the problem', () => {
  assert.throws(() => parseCards([card("S       = 'open")]), /unterminated string/);
  assert.throws(() => parseCards([card('X       = 12abc')]), /cannot parse value/);
  assert.throws(() => parseCards([card('BAD KEY = 1')]), /invalid keyword/);
  const noEnd = new TextEncoder().encode(card('SIMPLE  =                    T').repeat(36));
  assert.throws(
    () => parseHeader(noEnd, 0),
    (e: unknown) => e instanceof FitsError && /no END card/.test(e.message),
  );
});

test('toBytes pads with blanks to 2880 bytes after END', () => {
  const bytes = new FitsHeader().set('SIMPLE', true).toBytes();
  assert.equal(bytes.length, 2880);
  const { header, dataOffset } = parseHeader(bytes, 0);
  assert.equal(dataOffset, 2880);
  assert.equal(header.get('SIMPLE'), true);
});

test('non-printable characters: tolerated in comments as ?, an error in values and keywords', () => {
  const [c] = parseCards([card('GAIN    =                  4.1 / e-/ADU \u00b5 \t')]);
  assert.equal(c.value, 4.1);
  assert.equal(c.comment, 'e-/ADU ? ?');
  assert.equal(parseCards([card('COMMENT caf\u00e9')])[0].comment, 'caf?');
  assert.throws(
    () => parseCards([card("NAME    = 'caf\u00e9'")]),
    /non-printable character in the value/,
  );
  assert.throws(
    () => parseCards([card('GA\nN    =                  4.1')]),
    (e: unknown) => e instanceof FitsError && !e.message.includes('\n'),
  );
});
