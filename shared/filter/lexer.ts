/**
 * Tokenizer of the filter language: numbers, 'strings' ('' escapes a quote), identifiers,
 * keywords (case-insensitive), operators and punctuation. Written by hand: no regular expression
 * ever sees the user's text, so no input can make it backtrack.
 */
import { FilterError, quote } from './errors.js';

export const KEYWORDS = [
  'AND',
  'OR',
  'NOT',
  'IN',
  'BETWEEN',
  'IS',
  'NULL',
  'TRUE',
  'FALSE',
] as const;
export type Keyword = (typeof KEYWORDS)[number];

/** Operators and punctuation, longest first so `<=` wins over `<`. */
const SYMBOLS = [
  '<=',
  '>=',
  '<>',
  '!=',
  '=',
  '<',
  '>',
  '+',
  '-',
  '*',
  '/',
  '(',
  ')',
  ',',
  '.',
] as const;
export type Symbol_ = (typeof SYMBOLS)[number];

/** The longest number, string or identifier token accepted. */
export const MAX_TOKEN_LENGTH = 256;

export type Token =
  | { kind: 'number'; value: number; pos: number; text: string }
  | { kind: 'string'; value: string; pos: number; text: string }
  | { kind: 'ident'; value: string; pos: number; text: string }
  | { kind: 'keyword'; value: Keyword; pos: number; text: string }
  | { kind: 'symbol'; value: Symbol_; pos: number; text: string }
  | { kind: 'end'; pos: number; text: string };

const isDigit = (c: string) => c >= '0' && c <= '9';
const isIdentStart = (c: string) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
const isIdentPart = (c: string) => isIdentStart(c) || isDigit(c);
const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\n' || c === '\r';

function keywordOf(word: string): Keyword | null {
  const upper = word.toUpperCase();
  return (KEYWORDS as readonly string[]).includes(upper) ? (upper as Keyword) : null;
}

function tooLong(pos: number, what: string): FilterError {
  return new FilterError(pos, `${what} longer than ${MAX_TOKEN_LENGTH} characters`);
}

/** Splits an expression into tokens, ending with an `end` token. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (isSpace(c)) {
      i++;
      continue;
    }
    const start = i;
    if (isDigit(c) || (c === '.' && isDigit(text[i + 1] ?? ''))) {
      while (i < text.length && isDigit(text[i])) i++;
      if (text[i] === '.') {
        i++;
        while (i < text.length && isDigit(text[i])) i++;
      }
      if (text[i] === 'e' || text[i] === 'E') {
        let j = i + 1;
        if (text[j] === '+' || text[j] === '-') j++;
        if (!isDigit(text[j] ?? ''))
          throw new FilterError(start, `malformed number ${quote(text.slice(start, j))}`);
        i = j;
        while (i < text.length && isDigit(text[i])) i++;
      }
      if (i < text.length && isIdentPart(text[i]))
        throw new FilterError(start, `malformed number ${quote(text.slice(start, i + 1))}`);
      const raw = text.slice(start, i);
      if (raw.length > MAX_TOKEN_LENGTH) throw tooLong(start, 'number');
      const value = Number(raw);
      if (!Number.isFinite(value))
        throw new FilterError(start, `number ${quote(raw)} is out of range`);
      tokens.push({ kind: 'number', value, pos: start, text: raw });
      continue;
    }
    if (c === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new FilterError(start, 'unterminated string');
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += text[i++];
        if (value.length > MAX_TOKEN_LENGTH) throw tooLong(start, 'string');
      }
      tokens.push({ kind: 'string', value, pos: start, text: text.slice(start, i) });
      continue;
    }
    if (isIdentStart(c)) {
      while (i < text.length && isIdentPart(text[i])) i++;
      const word = text.slice(start, i);
      if (word.length > MAX_TOKEN_LENGTH) throw tooLong(start, 'name');
      const keyword = keywordOf(word);
      if (keyword) tokens.push({ kind: 'keyword', value: keyword, pos: start, text: word });
      else tokens.push({ kind: 'ident', value: word, pos: start, text: word });
      continue;
    }
    const symbol = SYMBOLS.find((s) => text.startsWith(s, i));
    if (!symbol) {
      const hint = c === '"' ? " (strings take single quotes: 'r')" : '';
      throw new FilterError(start, `unexpected character ${quote(c)}${hint}`);
    }
    tokens.push({ kind: 'symbol', value: symbol, pos: start, text: symbol });
    i += symbol.length;
  }
  tokens.push({ kind: 'end', pos: text.length, text: '' });
  return tokens;
}
