/**
 * Recursive-descent parser of the filter language (grammar in ./README.md). Precedence, lowest
 * first: OR, AND, NOT, a predicate (comparison, IN, BETWEEN, IS NULL), + -, * /, unary minus.
 * Size and nesting are bounded before any recursion can exhaust the stack.
 */
import type { ArithOp, CompareOp, Node } from './ast.js';
import { FilterError, quote } from './errors.js';
import { MAX_COST, MAX_DEPTH, MAX_EXPRESSION_BYTES } from './limits.js';
import { tokenize, type Keyword, type Symbol_, type Token } from './lexer.js';

const COMPARE: Partial<Record<Symbol_, CompareOp>> = {
  '=': '=',
  '!=': '!=',
  '<>': '!=',
  '<': '<',
  '<=': '<=',
  '>': '>',
  '>=': '>=',
};

function describe(token: Token): string {
  return token.kind === 'end' ? 'end of expression' : quote(token.text);
}

class Parser {
  private index = 0;
  private depth = 0;
  /** Values read (literals, fields, calls): each costs at least one unit, so this bounds the cost early. */
  private leaves = 0;

  constructor(private readonly tokens: Token[]) {}

  private get token(): Token {
    return this.tokens[this.index];
  }

  private next(): Token {
    const token = this.tokens[this.index];
    if (token.kind !== 'end') this.index++;
    return token;
  }

  private isKeyword(word: Keyword, offset = 0): boolean {
    const token = this.tokens[Math.min(this.index + offset, this.tokens.length - 1)];
    return token.kind === 'keyword' && token.value === word;
  }

  private isSymbol(symbol: Symbol_): boolean {
    return this.token.kind === 'symbol' && this.token.value === symbol;
  }

  private expectSymbol(symbol: Symbol_, context: string): void {
    if (!this.isSymbol(symbol))
      throw new FilterError(
        this.token.pos,
        `expected '${symbol}' ${context}, found ${describe(this.token)}`,
      );
    this.next();
  }

  private expectKeyword(word: Keyword, context: string): void {
    if (!this.isKeyword(word))
      throw new FilterError(
        this.token.pos,
        `expected ${word} ${context}, found ${describe(this.token)}`,
      );
    this.next();
  }

  /** Counts one level of nesting around `parse`. */
  private nested<T>(pos: number, parse: () => T): T {
    if (++this.depth > MAX_DEPTH)
      throw new FilterError(pos, `expression nested deeper than ${MAX_DEPTH} levels`);
    try {
      return parse();
    } finally {
      this.depth--;
    }
  }

  parseAll(): Node {
    const node = this.or();
    if (this.token.kind !== 'end')
      throw new FilterError(this.token.pos, `unexpected ${describe(this.token)}`);
    return node;
  }

  private or(): Node {
    let left = this.and();
    while (this.isKeyword('OR')) {
      const pos = this.next().pos;
      left = { kind: 'or', left, right: this.and(), pos };
    }
    return left;
  }

  private and(): Node {
    let left = this.not();
    while (this.isKeyword('AND')) {
      const pos = this.next().pos;
      left = { kind: 'and', left, right: this.not(), pos };
    }
    return left;
  }

  private not(): Node {
    if (!this.isKeyword('NOT')) return this.predicate();
    const pos = this.next().pos;
    return { kind: 'not', operand: this.nested(pos, () => this.not()), pos };
  }

  private predicate(): Node {
    const left = this.additive();
    const token = this.token;
    const op = token.kind === 'symbol' ? COMPARE[token.value] : undefined;
    if (op) {
      this.next();
      const node: Node = { kind: 'compare', op, left, right: this.additive(), pos: token.pos };
      const after = this.token;
      if (after.kind === 'symbol' && COMPARE[after.value])
        throw new FilterError(after.pos, `comparisons do not chain: use AND, e.g. a < b AND b < c`);
      return node;
    }
    const negated =
      this.isKeyword('NOT') && (this.isKeyword('IN', 1) || this.isKeyword('BETWEEN', 1));
    if (negated) this.next();
    if (this.isKeyword('IN')) {
      const pos = this.next().pos;
      this.expectSymbol('(', 'after IN');
      const items = [this.additive()];
      while (this.isSymbol(',')) {
        this.next();
        items.push(this.additive());
      }
      this.expectSymbol(')', 'to close the IN list');
      return { kind: 'in', operand: left, items, negated, pos };
    }
    if (this.isKeyword('BETWEEN')) {
      const pos = this.next().pos;
      const low = this.additive();
      this.expectKeyword('AND', 'in BETWEEN ... AND ...');
      return { kind: 'between', operand: left, low, high: this.additive(), negated, pos };
    }
    if (this.isKeyword('IS')) {
      const pos = this.next().pos;
      const not = this.isKeyword('NOT');
      if (not) this.next();
      this.expectKeyword('NULL', not ? 'after IS NOT' : 'after IS');
      return { kind: 'isnull', operand: left, negated: not, pos };
    }
    return left;
  }

  private additive(): Node {
    let left = this.multiplicative();
    while (this.isSymbol('+') || this.isSymbol('-')) {
      const token = this.next();
      left = {
        kind: 'arith',
        op: token.text as ArithOp,
        left,
        right: this.multiplicative(),
        pos: token.pos,
      };
    }
    return left;
  }

  private multiplicative(): Node {
    let left = this.unary();
    while (this.isSymbol('*') || this.isSymbol('/')) {
      const token = this.next();
      left = {
        kind: 'arith',
        op: token.text as ArithOp,
        left,
        right: this.unary(),
        pos: token.pos,
      };
    }
    return left;
  }

  private unary(): Node {
    if (this.isSymbol('-') || this.isSymbol('+')) {
      const token = this.next();
      const operand = this.nested(token.pos, () => this.unary());
      if (token.text === '+') return operand;
      if (operand.kind === 'literal' && typeof operand.value === 'number')
        return { kind: 'literal', value: -operand.value, pos: token.pos };
      return { kind: 'neg', operand, pos: token.pos };
    }
    return this.primary();
  }

  private primary(): Node {
    const token = this.next();
    if (++this.leaves > MAX_COST)
      throw new FilterError(token.pos, `expression costs more than the limit of ${MAX_COST} units`);
    switch (token.kind) {
      case 'number':
      case 'string':
        return { kind: 'literal', value: token.value, pos: token.pos };
      case 'keyword':
        if (token.value === 'NULL') return { kind: 'literal', value: null, pos: token.pos };
        if (token.value === 'TRUE' || token.value === 'FALSE')
          return { kind: 'literal', value: token.value === 'TRUE', pos: token.pos };
        break;
      case 'symbol':
        if (token.value === '(') {
          const inner = this.nested(token.pos, () => this.or());
          this.expectSymbol(')', `to close the '(' at column ${token.pos + 1}`);
          return inner;
        }
        break;
      case 'ident':
        if (this.isSymbol('(')) return this.call(token);
        return this.field(token);
      case 'end':
        break;
    }
    throw new FilterError(token.pos, `expected a value, field or '(', found ${describe(token)}`);
  }

  private call(name: Token): Node {
    this.next();
    return this.nested(name.pos, () => {
      const args: Node[] = [];
      if (!this.isSymbol(')')) {
        args.push(this.additive());
        while (this.isSymbol(',')) {
          this.next();
          args.push(this.additive());
        }
      }
      this.expectSymbol(')', `to close ${name.text}(`);
      return { kind: 'call', name: name.text.toLowerCase(), args, pos: name.pos };
    });
  }

  private field(first: Token): Node {
    const path = [first.text];
    while (this.isSymbol('.')) {
      this.next();
      const part = this.next();
      if (part.kind !== 'ident')
        throw new FilterError(part.pos, `expected a field name after '.', found ${describe(part)}`);
      path.push(part.text);
    }
    return { kind: 'field', path, pos: first.pos };
  }
}

/** Parses an expression; throws FilterError naming the column of the first problem. */
export function parse(text: string): Node {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_EXPRESSION_BYTES)
    throw new FilterError(
      0,
      `expression is ${bytes} bytes, longer than the limit of ${MAX_EXPRESSION_BYTES}`,
    );
  if (text.trim() === '') throw new FilterError(0, 'empty expression');
  return new Parser(tokenize(text)).parseAll();
}
