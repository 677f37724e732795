/**
 * Pub/Sub subscription filters on message attributes, with the grammar of
 * https://cloud.google.com/pubsub/docs/subscription-message-filter :
 *   attributes:KEY                       the attribute exists
 *   attributes.KEY = "v" / != "v"        exists and equals / exists and differs
 *   hasPrefix(attributes.KEY, "p")       exists and starts with p
 *   NOT x (or -x), a AND b, a OR b, ( x ) — AND and OR may not mix without parentheses.
 * Keys are identifiers or quoted strings; values are quoted strings.
 */
export type AttributeFilter = (attributes: Readonly<Record<string, string>>) => boolean;

export class FilterSyntaxError extends Error {}

type Token = { kind: 'word' | 'string' | 'punct'; text: string; at: number };

const PUNCT = ['!=', '(', ')', ',', '=', ':', '.', '-'];

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '"' || c === "'") {
      let text = '';
      let j = i + 1;
      for (; j < source.length && source[j] !== c; j++) {
        if (source[j] === '\\' && j + 1 < source.length) j++;
        text += source[j];
      }
      if (j >= source.length) throw new FilterSyntaxError(`unterminated string at ${i}`);
      tokens.push({ kind: 'string', text, at: i });
      i = j + 1;
    } else if (/[A-Za-z0-9_]/.test(c)) {
      const word = /^[A-Za-z0-9_]+/.exec(source.slice(i))![0];
      tokens.push({ kind: 'word', text: word, at: i });
      i += word.length;
    } else {
      const punct = PUNCT.find((p) => source.startsWith(p, i));
      if (!punct) throw new FilterSyntaxError(`unexpected '${c}' at ${i}`);
      tokens.push({ kind: 'punct', text: punct, at: i });
      i += punct.length;
    }
  }
  return tokens;
}

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): AttributeFilter {
    const filter = this.expression();
    if (this.pos < this.tokens.length) this.error('unexpected trailing input');
    return filter;
  }

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  private error(message: string): never {
    const token = this.peek();
    throw new FilterSyntaxError(
      token ? `${message} at ${token.at} ('${token.text}')` : `${message} at end of filter`,
    );
  }

  private accept(kind: Token['kind'], text?: string): Token | undefined {
    const token = this.peek();
    if (token && token.kind === kind && (text === undefined || token.text === text)) {
      this.pos++;
      return token;
    }
    return undefined;
  }

  private expect(kind: Token['kind'], text?: string): Token {
    return this.accept(kind, text) ?? this.error(`expected ${text ?? kind}`);
  }

  private expression(): AttributeFilter {
    const first = this.term();
    const op = this.peek()?.kind === 'word' ? this.peek()!.text : undefined;
    if (op !== 'AND' && op !== 'OR') return first;
    const terms = [first];
    while (this.accept('word', op)) terms.push(this.term());
    const other = op === 'AND' ? 'OR' : 'AND';
    if (this.peek()?.kind === 'word' && this.peek()!.text === other)
      this.error('AND and OR need parentheses to mix');
    return op === 'AND' ? (a) => terms.every((t) => t(a)) : (a) => terms.some((t) => t(a));
  }

  private term(): AttributeFilter {
    if (this.accept('word', 'NOT') || this.accept('punct', '-')) {
      const inner = this.term();
      return (a) => !inner(a);
    }
    if (this.accept('punct', '(')) {
      const inner = this.expression();
      this.expect('punct', ')');
      return inner;
    }
    if (this.accept('word', 'hasPrefix')) {
      this.expect('punct', '(');
      this.expect('word', 'attributes');
      this.expect('punct', '.');
      const key = this.key();
      this.expect('punct', ',');
      const prefix = this.expect('string').text;
      this.expect('punct', ')');
      return (a) => Object.hasOwn(a, key) && a[key].startsWith(prefix);
    }
    this.expect('word', 'attributes');
    if (this.accept('punct', ':')) {
      const key = this.key();
      return (a) => Object.hasOwn(a, key);
    }
    this.expect('punct', '.');
    const key = this.key();
    const op =
      this.accept('punct', '=') ?? this.accept('punct', '!=') ?? this.error("expected '=' or '!='");
    const value = this.expect('string').text;
    return op.text === '='
      ? (a) => Object.hasOwn(a, key) && a[key] === value
      : (a) => Object.hasOwn(a, key) && a[key] !== value;
  }

  private key(): string {
    return (this.accept('word') ?? this.accept('string') ?? this.error('expected attribute key'))
      .text;
  }
}

/** Maximum filter length Pub/Sub accepts, in bytes. */
export const MAX_FILTER_BYTES = 256;

/** Parses a filter; the empty filter matches everything. Throws FilterSyntaxError. */
export function parseFilter(source: string): AttributeFilter {
  if (Buffer.byteLength(source) > MAX_FILTER_BYTES)
    throw new FilterSyntaxError(`filter longer than ${MAX_FILTER_BYTES} bytes`);
  if (source.trim() === '') return () => true;
  return new Parser(tokenize(source)).parse();
}
