/**
 * FITS headers: ordered 80-character cards (FITS Standard 4.0, Pence et al. 2010, A&A 524, A42, sect. 4).
 *
 * Values are string | number | boolean | null (null = undefined value or commentary card).
 * Supported: quoted strings with '' escapes, the CONTINUE long-string convention (read and
 * write), HIERARCH keywords (ESO convention), COMMENT / HISTORY / blank commentary cards,
 * logicals, integers and floats (with E or D exponents). Keyword look-ups ignore case and an
 * optional "HIERARCH " prefix.
 * @example
 *   const h = new FitsHeader();
 *   h.set('GAIN', 4.1, 'e-/ADU');
 *   h.getNumber('gain'); // 4.1
 *   h.toBytes();         // cards + END, padded to a 2880-byte block
 */
import { FitsError } from './errors.js';

export type FitsValue = string | number | boolean | null;

export interface FitsCard {
  /** Upper-case keyword; for HIERARCH cards the name after "HIERARCH " (e.g. "ESO DET CHIP"). */
  keyword: string;
  /** Card value; null for commentary cards (their text is in `comment`) and undefined values. */
  value: FitsValue;
  comment: string;
}

export const CARD_LENGTH = 80;
export const BLOCK_LENGTH = 2880;

/** Keywords whose cards carry free text instead of a value. */
const COMMENTARY = new Set(['COMMENT', 'HISTORY', '']);
const STANDARD_KEYWORD = /^[A-Z0-9_-]{0,8}$/;
const INTEGER = /^[+-]?\d+$/;
const REAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[EDed][+-]?\d+)?$/;
/** Longest string piece one card holds with the CONTINUE '&': 80 - "KEYWORD = '".length - "&'".length. */
const LONG_STRING_PIECE = 67;

/** Canonical form of a keyword for look-up: upper case, no HIERARCH prefix, single spaces. */
export function normalizeKeyword(key: string): string {
  const upper = key.trim().toUpperCase().replace(/\s+/g, ' ');
  return upper.startsWith('HIERARCH ') ? upper.slice(9).trim() : upper;
}

export class FitsHeader implements Iterable<FitsCard> {
  private readonly list: FitsCard[] = [];

  constructor(cards: Iterable<FitsCard> = []) {
    for (const card of cards) this.list.push({ ...card, keyword: normalizeKeyword(card.keyword) });
  }

  /** The cards in order (a read-only view; use set / add / delete to change them). */
  get cards(): readonly FitsCard[] {
    return this.list;
  }

  get length(): number {
    return this.list.length;
  }

  [Symbol.iterator](): Iterator<FitsCard> {
    return this.list[Symbol.iterator]();
  }

  private indexOf(key: string): number {
    const k = normalizeKeyword(key);
    return this.list.findIndex((card) => card.keyword === k);
  }

  has(key: string): boolean {
    return this.indexOf(key) >= 0;
  }

  /** Value of the first card with this keyword; undefined when absent. */
  get(key: string): FitsValue | undefined {
    const i = this.indexOf(key);
    return i < 0 ? undefined : this.list[i].value;
  }

  /** Numeric value (a numeric string counts too); undefined when absent or not a number. */
  getNumber(key: string): number | undefined {
    const value = this.get(key);
    if (typeof value === 'number') return value;
    if (typeof value === 'string') {
      const text = value.trim();
      if (REAL.test(text)) return Number(text.replace(/[dD]/, 'E'));
    }
    return undefined;
  }

  /** String value; undefined when absent or not a string. */
  getString(key: string): string | undefined {
    const value = this.get(key);
    return typeof value === 'string' ? value : undefined;
  }

  /** Logical value; undefined when absent or not a logical. */
  getBoolean(key: string): boolean | undefined {
    const value = this.get(key);
    return typeof value === 'boolean' ? value : undefined;
  }

  /** Comment of the first card with this keyword. */
  getComment(key: string): string | undefined {
    const i = this.indexOf(key);
    return i < 0 ? undefined : this.list[i].comment;
  }

  /**
   * Sets the first card with this keyword (keeping its place and, unless given, its comment),
   * or appends a new card. COMMENT / HISTORY always append a new card.
   */
  set(key: string, value: FitsValue, comment?: string): this {
    const keyword = normalizeKeyword(key);
    if (COMMENTARY.has(keyword)) {
      return this.add(
        keyword as 'COMMENT' | 'HISTORY' | '',
        value === null ? (comment ?? '') : String(value),
      );
    }
    if (typeof value === 'number' && !Number.isFinite(value)) {
      throw new FitsError(`header card ${keyword}: ${value} cannot be written in FITS`);
    }
    const i = this.indexOf(keyword);
    if (i >= 0) this.list[i] = { keyword, value, comment: comment ?? this.list[i].comment };
    else this.list.push({ keyword, value, comment: comment ?? '' });
    return this;
  }

  /** Appends a commentary card (COMMENT, HISTORY or blank keyword) with free text. */
  add(keyword: 'COMMENT' | 'HISTORY' | '', text: string): this {
    this.list.push({ keyword, value: null, comment: text });
    return this;
  }

  /** Removes every card with this keyword; true when one was there. */
  delete(key: string): boolean {
    const k = normalizeKeyword(key);
    let removed = false;
    for (let i = this.list.length - 1; i >= 0; i--) {
      if (this.list[i].keyword === k) {
        this.list.splice(i, 1);
        removed = true;
      }
    }
    return removed;
  }

  /** Texts of all COMMENT (or HISTORY) cards. */
  commentary(keyword: 'COMMENT' | 'HISTORY'): string[] {
    return this.list.filter((card) => card.keyword === keyword).map((card) => card.comment);
  }

  clone(): FitsHeader {
    return new FitsHeader(this.list);
  }

  /** The cards as 80-character lines, without END. */
  toCardStrings(): string[] {
    return this.list.flatMap(formatCard);
  }

  /** The header as FITS bytes: cards, END, blank-padded to a multiple of 2880 bytes. */
  toBytes(): Uint8Array {
    const text = [...this.toCardStrings(), 'END'.padEnd(CARD_LENGTH)].join('');
    const length = Math.ceil(text.length / BLOCK_LENGTH) * BLOCK_LENGTH;
    return Buffer.from(text.padEnd(length), 'latin1');
  }
}

/** Parses header blocks at `offset`; returns the header and the offset of the data after the END block. */
export function parseHeader(
  bytes: Uint8Array,
  offset: number,
): { header: FitsHeader; dataOffset: number } {
  const lines: string[] = [];
  for (let pos = offset; ; pos += CARD_LENGTH) {
    if (pos + CARD_LENGTH > bytes.length) {
      throw new FitsError(`truncated file: header at byte ${offset} has no END card`);
    }
    const line = Buffer.from(bytes.buffer, bytes.byteOffset + pos, CARD_LENGTH).toString('latin1');
    if (line.startsWith('END') && line.slice(3).trim() === '') {
      const dataOffset =
        offset + Math.ceil((pos + CARD_LENGTH - offset) / BLOCK_LENGTH) * BLOCK_LENGTH;
      return { header: new FitsHeader(parseCards(lines)), dataOffset };
    }
    lines.push(line);
  }
}

/** Parses 80-character card images (without END) into cards, joining CONTINUE long strings. */
export function parseCards(lines: readonly string[]): FitsCard[] {
  const cards: FitsCard[] = [];
  let open: FitsCard | null = null; // the string card that CONTINUE cards extend
  for (const [n, line] of lines.entries()) {
    const card = parseCard(line, n + 1);
    const previous = open?.value;
    if (
      open &&
      typeof previous === 'string' &&
      previous.endsWith('&') &&
      card.keyword === 'CONTINUE'
    ) {
      const piece = parseStringValue(line.slice(8), n + 1, line);
      open.value = previous.slice(0, -1) + piece.text.trimEnd();
      if (piece.comment)
        open.comment = open.comment ? `${open.comment} ${piece.comment}` : piece.comment;
      continue;
    }
    open = typeof card.value === 'string' ? card : null;
    cards.push(card);
  }
  return cards;
}

function badCard(n: number, line: string, problem: string): FitsError {
  const shown = line.trimEnd().slice(0, 40).replace(ALL_NON_PRINTABLE, '?');
  return new FitsError(`bad header card ${n} '${shown}': ${problem}`);
}

const NON_PRINTABLE = /[^\x20-\x7e]/;
const ALL_NON_PRINTABLE = /[^\x20-\x7e]/g;

/**
 * One card; a string value keeps its trailing '&' for parseCards to join CONTINUE cards.
 * Non-printable characters are an error in keywords and values; in comments (as some
 * writers leave them) they become '?'.
 */
function parseCard(line: string, n: number): FitsCard {
  if (!NON_PRINTABLE.test(line)) return parsePrintableCard(line, n);
  const card = parsePrintableCard(line.replace(ALL_NON_PRINTABLE, '\x7f'), n);
  if (
    (typeof card.value === 'string' && card.value.includes('\x7f')) ||
    card.keyword.includes('\x7f')
  ) {
    throw badCard(n, line, 'non-printable character in the value');
  }
  return { ...card, comment: card.comment.replace(/\x7f/g, '?') };
}

function parsePrintableCard(line: string, n: number): FitsCard {
  const head = line.slice(0, 8).trimEnd().toUpperCase();
  if (head === 'HIERARCH' && line.includes('=')) {
    const eq = line.indexOf('=');
    const keyword = normalizeKeyword(line.slice(8, eq));
    if (!keyword) throw badCard(n, line, 'HIERARCH card without a keyword');
    return { keyword, ...parseValue(line.slice(eq + 1), n, line) };
  }
  if (!STANDARD_KEYWORD.test(head) || head.includes(' ')) throw badCard(n, line, 'invalid keyword');
  if (COMMENTARY.has(head) || line.slice(8, 10) !== '= ') {
    return { keyword: head, value: null, comment: line.slice(8).trimEnd() };
  }
  return { keyword: head, ...parseValue(line.slice(10), n, line) };
}

/** A value field (after "= "): value and comment. */
function parseValue(field: string, n: number, line: string): { value: FitsValue; comment: string } {
  const text = field.trimStart();
  if (text.startsWith("'")) {
    const { text: raw, comment } = parseStringValue(field, n, line);
    return { value: raw.trimEnd(), comment };
  }
  const slash = text.indexOf('/');
  const valueText = (slash < 0 ? text : text.slice(0, slash)).trim();
  const comment = slash < 0 ? '' : text.slice(slash + 1).trim();
  if (valueText === '') return { value: null, comment };
  if (valueText === 'T') return { value: true, comment };
  if (valueText === 'F') return { value: false, comment };
  if (INTEGER.test(valueText)) return { value: Number(valueText), comment };
  if (REAL.test(valueText)) return { value: Number(valueText.replace(/[dD]/, 'E')), comment };
  // complex values "(re, im)" are kept as their text
  if (/^\(.*\)$/.test(valueText)) return { value: valueText, comment };
  throw badCard(n, line, `cannot parse value '${valueText}'`);
}

/** A quoted string starting at the field's first non-blank character: raw text ('' unescaped) and comment. */
function parseStringValue(
  field: string,
  n: number,
  line: string,
): { text: string; comment: string } {
  let i = field.indexOf("'");
  if (i < 0 || field.slice(0, i).trim() !== '') throw badCard(n, line, 'expected a quoted string');
  let text = '';
  for (i++; ; i++) {
    if (i >= field.length) throw badCard(n, line, 'unterminated string');
    if (field[i] === "'") {
      if (field[i + 1] === "'") {
        text += "'";
        i++;
      } else break;
    } else text += field[i];
  }
  const rest = field.slice(i + 1).trim();
  if (rest !== '' && !rest.startsWith('/')) throw badCard(n, line, 'text after the string value');
  return { text, comment: rest.slice(1).trim() };
}

/** A number as FITS writes it: integers as digits, others in the shortest exact form with an E exponent. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) throw new FitsError(`cannot write ${value} in a FITS header`);
  if (Number.isInteger(value) && Math.abs(value) < 1e21)
    return Object.is(value, -0) ? '-0.0' : String(value);
  const text = String(value).toUpperCase();
  return text.includes('.') || text.includes('E') ? text : `${text}.0`;
}

function quote(text: string): string {
  return text.replace(/'/g, "''");
}

/** A card as one or more 80-character lines (CONTINUE for long strings, several lines for long commentary). */
export function formatCard(card: FitsCard): string[] {
  const { keyword, value, comment } = card;
  if (/[^\x20-\x7e]/.test(keyword + (typeof value === 'string' ? value : '') + comment)) {
    throw new FitsError(`header card ${keyword}: non-ASCII text cannot be written in FITS`);
  }
  if (COMMENTARY.has(keyword) || (value === null && keyword === 'CONTINUE')) {
    const chunks = comment.match(/.{1,72}/g) ?? [''];
    return chunks.map((chunk) => (keyword.padEnd(8) + chunk).padEnd(CARD_LENGTH));
  }
  const hierarch = !STANDARD_KEYWORD.test(keyword) || keyword.includes(' ');
  if (hierarch) return [formatHierarch(keyword, value, comment)];
  if (typeof value === 'string') return formatString(keyword, value, comment);
  let field = '';
  if (typeof value === 'boolean') field = (value ? 'T' : 'F').padStart(20);
  else if (typeof value === 'number') field = formatNumber(value).padStart(20);
  else field = ' '.repeat(20);
  return [withComment(`${keyword.padEnd(8)}= ${field}`, comment)];
}

/** Appends " / comment", cut to fit the card. */
function withComment(text: string, comment: string): string {
  const full = comment ? `${text} / ${comment}` : text;
  return full.slice(0, CARD_LENGTH).padEnd(CARD_LENGTH);
}

function formatHierarch(keyword: string, value: FitsValue, comment: string): string {
  let field = '';
  if (typeof value === 'string') field = `'${quote(value)}'`;
  else if (typeof value === 'boolean') field = value ? 'T' : 'F';
  else if (typeof value === 'number') field = formatNumber(value);
  const text = `HIERARCH ${keyword} = ${field}`;
  if (text.length > CARD_LENGTH)
    throw new FitsError(`HIERARCH card ${keyword}: keyword and value exceed 80 characters`);
  return withComment(text, comment);
}

/** A string card; strings too long for one card continue on CONTINUE cards ending in '&'. */
function formatString(keyword: string, value: string, comment: string): string[] {
  const escaped = quote(value);
  if (escaped.length <= 68)
    return [withComment(`${keyword.padEnd(8)}= '${escaped.padEnd(8)}'`, comment)];
  // split the unescaped text so no '' escape is cut in two
  const pieces: string[] = [];
  let piece = '';
  for (const ch of value) {
    const add = ch === "'" ? "''" : ch;
    if (piece.length + add.length > LONG_STRING_PIECE) {
      pieces.push(piece);
      piece = '';
    }
    piece += add;
  }
  pieces.push(piece);
  return pieces.map((p, i) => {
    const last = i === pieces.length - 1;
    const head = i === 0 ? `${keyword.padEnd(8)}= ` : 'CONTINUE  ';
    const text = `${head}'${p}${last ? '' : '&'}'`;
    return last ? withComment(text, comment) : text.padEnd(CARD_LENGTH);
  });
}
