/**
 * Type-checks a parsed filter against the alert schema and compiles it to a predicate: a tree of
 * closures, one per node, that reads the alert's fields and nothing else (no eval, no Function,
 * no property named by the user that the schema does not list). SQL's three-valued logic: null
 * is "unknown", a comparison with null is null, NOT null is null, null AND false is false,
 * null OR true is true, and the filter matches only where the whole expression is true.
 */
import type { Alert } from '../alerts/types.js';
import { separationDeg } from '../healpix/index.js';
import { show, type Literal, type Node } from './ast.js';
import { FilterError, quote } from './errors.js';
import { MAX_COST } from './limits.js';
import { alertFields, type FieldType, type ScalarKind } from './fields.js';
import { ARCSEC_PER_DEG } from '../util/numeric.js';

/** A sky region a filter can test the DIASource's position against (a watchlist, a watchmap). */
export interface SkyRegion {
  contains(raDeg: number, decDeg: number): boolean;
}

export interface FilterContext {
  watchlists?: ReadonlyMap<string, SkyRegion>;
  watchmaps?: ReadonlyMap<string, SkyRegion>;
  /** The alert record's type tree (default: the current schema's). */
  fields?: FieldType;
}

/** Cost of the calls that do more than a comparison: a pass over the history, an index lookup. */
const COST = { aggregate: 20, watchlist: 10, watchmap: 5, cone: 3, math: 2 } as const;
/** mag(f) = -2.5 log10(f / 3631 Jy): the AB zero point for a flux in nJy (Oke & Gunn 1983). */
const AB_ZERO_POINT_NJY = 2.5 * Math.log10(3631e9);

type Value = Literal;
type Eval = (alert: Alert) => Value;
type Kind = ScalarKind | 'null';

interface Compiled {
  kind: Kind;
  fn: Eval;
  cost: number;
  /** The value when the node reads nothing from the alert. */
  constant?: Value;
}

export interface CompiledFilter {
  /** The parsed form, fully parenthesised. */
  explain: string;
  cost: number;
  /** True, false or null (unknown) under three-valued logic. */
  evaluate(alert: Alert): boolean | null;
  /** Whether the expression is true for this alert. */
  matches(alert: Alert): boolean;
  /** The dotted paths it reads (a list alone: its length), for decoding only those (./projection.ts). */
  reads: ReadonlyArray<readonly string[]>;
}

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

function kindOfLiteral(value: Literal): Kind {
  return value === null ? 'null' : (typeof value as ScalarKind);
}

function kindName(kind: Kind): string {
  return kind === 'null' ? 'NULL' : `a ${kind}`;
}

function constant(value: Literal, cost = 1): Compiled {
  return { kind: kindOfLiteral(value), fn: () => value, cost, constant: value };
}

/** Where the DIASource is: what cone(), watchlist() and watchmap() read. */
const POSITION = [
  ['diaSource', 'ra'],
  ['diaSource', 'dec'],
] as const;

class Compiler {
  /** The paths the compiled closures read. */
  readonly reads: Array<readonly string[]> = [];

  constructor(
    private readonly fields: FieldType,
    private readonly context: FilterContext,
  ) {}

  compile(node: Node): Compiled {
    switch (node.kind) {
      case 'literal':
        return constant(node.value);
      case 'field':
        return this.field(node.path, node.pos);
      case 'call':
        return this.call(node.name, node.args, node.pos);
      case 'neg': {
        const operand = this.expect(node.operand, 'number', 'unary minus');
        const fn = operand.fn;
        return {
          kind: 'number',
          cost: operand.cost + 1,
          fn: (a) => {
            const x = fn(a);
            return x === null ? null : -(x as number);
          },
        };
      }
      case 'arith':
        return this.arith(node);
      case 'compare':
        return this.compare(node);
      case 'in':
        return this.in(node);
      case 'between': {
        const low: Node = {
          kind: 'compare',
          op: '>=',
          left: node.operand,
          right: node.low,
          pos: node.pos,
        };
        const high: Node = {
          kind: 'compare',
          op: '<=',
          left: node.operand,
          right: node.high,
          pos: node.pos,
        };
        const both = this.logic('and', this.compile(low), this.compile(high));
        return node.negated ? this.not(both) : both;
      }
      case 'isnull': {
        const operand = this.nullable(node.operand);
        const fn = operand.fn;
        const negated = node.negated;
        return { kind: 'boolean', cost: operand.cost + 1, fn: (a) => (fn(a) === null) !== negated };
      }
      case 'not':
        return this.not(this.expect(node.operand, 'boolean', 'NOT'));
      case 'and':
      case 'or':
        return this.logic(
          node.kind,
          this.expect(node.left, 'boolean', node.kind.toUpperCase()),
          this.expect(node.right, 'boolean', node.kind.toUpperCase()),
        );
    }
  }

  /** Compiles a node that must be of `kind` (or NULL). */
  private expect(node: Node, kind: ScalarKind, where: string): Compiled {
    const compiled = this.compile(node);
    if (compiled.kind !== kind && compiled.kind !== 'null')
      throw new FilterError(
        node.pos,
        `${where} needs ${kindName(kind)}, found ${kindName(compiled.kind)}: ${quote(show(node))}`,
      );
    return compiled;
  }

  /** The operand of IS [NOT] NULL: any value, or a whole record (diaObject IS NULL). */
  private nullable(node: Node): Compiled {
    if (node.kind === 'field') {
      const { type, arrayAt } = this.resolve(node.path, node.pos);
      if (type.kind === 'record' && arrayAt < 0)
        return { kind: 'boolean', cost: 1, fn: this.read(node.path) };
    }
    return this.compile(node);
  }

  private not(operand: Compiled): Compiled {
    const fn = operand.fn;
    return {
      kind: 'boolean',
      cost: operand.cost + 1,
      fn: (a) => {
        const x = fn(a);
        return x === null ? null : !x;
      },
    };
  }

  private logic(op: 'and' | 'or', left: Compiled, right: Compiled): Compiled {
    const l = left.fn;
    const r = right.fn;
    const cost = left.cost + right.cost + 1;
    if (op === 'and')
      return {
        kind: 'boolean',
        cost,
        fn: (a) => {
          const x = l(a);
          if (x === false) return false;
          const y = r(a);
          if (y === false) return false;
          return x === null || y === null ? null : true;
        },
      };
    return {
      kind: 'boolean',
      cost,
      fn: (a) => {
        const x = l(a);
        if (x === true) return true;
        const y = r(a);
        if (y === true) return true;
        return x === null || y === null ? null : false;
      },
    };
  }

  /** A reader of a field, noted among the paths the filter reads. */
  private read(path: readonly string[]): (root: unknown) => Value {
    this.reads.push(path);
    return getter(path);
  }

  private resolve(path: string[], pos: number): { type: FieldType; arrayAt: number } {
    let type = this.fields;
    let arrayAt = -1;
    for (const [i, name] of path.entries()) {
      if (type.kind === 'array') {
        arrayAt = i;
        type = type.items;
      }
      const shown = path.slice(0, i + 1).join('.');
      if (type.kind !== 'record')
        throw new FilterError(
          pos,
          `${path.slice(0, i).join('.')} has no fields, so ${quote(shown)} is unknown`,
        );
      const next = type.fields.get(name);
      if (!next)
        throw new FilterError(
          pos,
          `unknown field ${quote(shown)}${i === 0 ? ' (fields start at the alert: diaSource.snr, diaObject.nDiaSources, ...)' : ''}`,
        );
      type = next;
    }
    return { type, arrayAt };
  }

  private field(path: string[], pos: number): Compiled {
    const { type, arrayAt } = this.resolve(path, pos);
    const name = path.join('.');
    if (arrayAt >= 0 || type.kind === 'array')
      throw new FilterError(
        pos,
        `${quote(name)} is a list: use count(), min(), max() or mean() over it`,
      );
    if (type.kind === 'record')
      throw new FilterError(
        pos,
        `${quote(name)} is a record: name one of its fields, e.g. ${name}.${[...type.fields.keys()][0]}`,
      );
    if (type.kind === 'bytes')
      throw new FilterError(pos, `${quote(name)} holds bytes, which filters cannot compare`);
    return { kind: type.kind, cost: 1, fn: this.read(path) };
  }

  private arith(node: Extract<Node, { kind: 'arith' }>): Compiled {
    const left = this.expect(node.left, 'number', `'${node.op}'`);
    const right = this.expect(node.right, 'number', `'${node.op}'`);
    const l = left.fn;
    const r = right.fn;
    const op = ARITH[node.op];
    return {
      kind: 'number',
      cost: left.cost + right.cost + 1,
      fn: (a) => {
        const x = l(a);
        if (x === null) return null;
        const y = r(a);
        return y === null ? null : finite(op(x as number, y as number));
      },
    };
  }

  private compare(node: Extract<Node, { kind: 'compare' }>): Compiled {
    const left = this.compile(node.left);
    const right = this.compile(node.right);
    this.sameKind(left, right, node.right.pos, `'${node.op}'`);
    const ordered = node.op !== '=' && node.op !== '!=';
    if (ordered && (left.kind === 'boolean' || right.kind === 'boolean'))
      throw new FilterError(node.pos, `'${node.op}' does not order booleans; use = or !=`);
    const l = left.fn;
    const r = right.fn;
    const test = COMPARE[node.op];
    return {
      kind: 'boolean',
      cost: left.cost + right.cost + 1,
      fn: (a) => {
        const x = l(a);
        if (x === null) return null;
        const y = r(a);
        return y === null ? null : test(x, y);
      },
    };
  }

  private sameKind(left: Compiled, right: Compiled, pos: number, where: string): void {
    if (left.kind !== right.kind && left.kind !== 'null' && right.kind !== 'null')
      throw new FilterError(
        pos,
        `${where} compares ${kindName(left.kind)} with ${kindName(right.kind)}`,
      );
  }

  private in(node: Extract<Node, { kind: 'in' }>): Compiled {
    const operand = this.compile(node.operand);
    const items = node.items.map((item) => {
      const compiled = this.compile(item);
      this.sameKind(operand, compiled, item.pos, 'IN');
      return compiled;
    });
    const x = operand.fn;
    const fns = items.map((i) => i.fn);
    const negated = node.negated;
    const cost = operand.cost + items.reduce((sum, i) => sum + i.cost, 0);
    const result: Compiled = {
      kind: 'boolean',
      cost,
      fn: (a) => {
        const v = x(a);
        if (v === null) return null;
        let unknown = false;
        for (const f of fns) {
          const w = f(a);
          if (w === null) unknown = true;
          else if (w === v) return !negated;
        }
        return unknown ? null : negated;
      },
    };
    return result;
  }

  private call(name: string, args: Node[], pos: number): Compiled {
    const arity = (n: number) => {
      if (args.length !== n)
        throw new FilterError(
          pos,
          `${name}() takes ${n} argument${n === 1 ? '' : 's'}, found ${args.length}`,
        );
    };
    switch (name) {
      case 'abs': {
        arity(1);
        const x = this.expect(args[0], 'number', 'abs()');
        const f = x.fn;
        return {
          kind: 'number',
          cost: x.cost + 1,
          fn: (a) => {
            const v = f(a);
            return v === null ? null : Math.abs(v as number);
          },
        };
      }
      case 'mag': {
        arity(1);
        const x = this.expect(args[0], 'number', 'mag()');
        const f = x.fn;
        return {
          kind: 'number',
          cost: x.cost + COST.math,
          fn: (a) => {
            const v = f(a) as number | null;
            return v === null || !(v > 0) ? null : AB_ZERO_POINT_NJY - 2.5 * Math.log10(v);
          },
        };
      }
      case 'cone':
        arity(3);
        return this.cone(args);
      case 'watchlist':
      case 'watchmap': {
        arity(1);
        const regions = name === 'watchlist' ? this.context.watchlists : this.context.watchmaps;
        const label = this.stringLiteral(args[0], `${name}()`);
        const region = regions?.get(label);
        if (!region) {
          const known = [...(regions?.keys() ?? [])];
          throw new FilterError(
            args[0].pos,
            `unknown ${name} ${quote(label)}${known.length ? ` (known: ${known.slice(0, 5).join(', ')})` : ''}`,
          );
        }
        this.reads.push(...POSITION);
        return {
          kind: 'boolean',
          cost: COST[name],
          fn: (a) => region.contains(a.diaSource.ra, a.diaSource.dec),
        };
      }
      case 'count':
      case 'min':
      case 'max':
      case 'mean':
        arity(1);
        return this.aggregate(name, args[0]);
      default:
        throw new FilterError(
          pos,
          `unknown function ${quote(name)} (functions: abs, mag, cone, watchlist, watchmap, count, min, max, mean)`,
        );
    }
  }

  private numberLiteral(node: Node, where: string): number {
    const compiled = this.compile(node);
    if (typeof compiled.constant !== 'number')
      throw new FilterError(node.pos, `${where} takes a number here, found ${quote(show(node))}`);
    return compiled.constant;
  }

  private stringLiteral(node: Node, where: string): string {
    if (node.kind !== 'literal' || typeof node.value !== 'string')
      throw new FilterError(node.pos, `${where} takes a 'quoted name', found ${quote(show(node))}`);
    return node.value;
  }

  private cone(args: Node[]): Compiled {
    const ra = this.numberLiteral(args[0], 'cone() right ascension');
    const dec = this.numberLiteral(args[1], 'cone() declination');
    const radius = this.numberLiteral(args[2], 'cone() radius (arcsec)');
    if (dec < -90 || dec > 90)
      throw new FilterError(args[1].pos, `cone() declination ${dec} is outside [-90, 90] degrees`);
    if (!(radius > 0) || radius > 180 * ARCSEC_PER_DEG)
      throw new FilterError(args[2].pos, `cone() radius ${radius} arcsec is outside (0, 648000]`);
    const radiusDeg = radius / ARCSEC_PER_DEG;
    this.reads.push(...POSITION);
    return {
      kind: 'boolean',
      cost: COST.cone,
      fn: (a) => separationDeg(ra, dec, a.diaSource.ra, a.diaSource.dec) <= radiusDeg,
    };
  }

  private aggregate(name: 'count' | 'min' | 'max' | 'mean', arg: Node): Compiled {
    if (arg.kind !== 'field')
      throw new FilterError(
        arg.pos,
        `${name}() takes a history field such as prvDiaSources${name === 'count' ? '' : '.psfFlux'}`,
      );
    const { type, arrayAt } = this.resolve(arg.path, arg.pos);
    const listPath = arrayAt >= 0 ? arg.path.slice(0, arrayAt) : arg.path;
    const itemPath = arrayAt >= 0 ? arg.path.slice(arrayAt) : [];
    const whole = type.kind === 'array';
    if (name === 'count' && !whole && !(arrayAt >= 0 && type.kind !== 'record'))
      throw new FilterError(
        arg.pos,
        `count() takes a list such as prvDiaSources, found ${quote(arg.path.join('.'))}`,
      );
    if (name !== 'count' && !(arrayAt >= 0 && type.kind === 'number'))
      throw new FilterError(
        arg.pos,
        `${name}() takes a numeric history field such as prvDiaSources.psfFlux, found ${quote(arg.path.join('.'))}`,
      );
    this.reads.push(arg.path);
    const list = getter(listPath) as (a: Alert) => unknown[] | null;
    if (whole) return { kind: 'number', cost: COST.aggregate, fn: (a) => list(a)?.length ?? 0 };
    const item = getter(itemPath) as (row: unknown) => Value;
    const reduce = REDUCE[name];
    return {
      kind: 'number',
      cost: COST.aggregate,
      fn: (a) => {
        const rows = list(a);
        const values: number[] = [];
        for (const row of rows ?? []) {
          const v = item(row);
          if (v !== null) values.push(v as number);
        }
        return reduce(values);
      },
    };
  }
}

/** A reader of a dotted path: null where any step is null or missing, or a number is NaN. */
function getter(path: readonly string[]): (root: unknown) => Value {
  const steps = [...path];
  return (root) => {
    let v: unknown = root;
    for (const key of steps) {
      if (v === null || v === undefined) return null;
      v = (v as Record<string, unknown>)[key];
    }
    if (v === undefined || (typeof v === 'number' && Number.isNaN(v))) return null;
    return v as Value;
  };
}

const ARITH: Record<'+' | '-' | '*' | '/', (x: number, y: number) => number> = {
  '+': (x, y) => x + y,
  '-': (x, y) => x - y,
  '*': (x, y) => x * y,
  '/': (x, y) => x / y,
};

const COMPARE: Record<'=' | '!=' | '<' | '<=' | '>' | '>=', (x: Literal, y: Literal) => boolean> = {
  '=': (x, y) => x === y,
  '!=': (x, y) => x !== y,
  '<': (x, y) => (x as number) < (y as number),
  '<=': (x, y) => (x as number) <= (y as number),
  '>': (x, y) => (x as number) > (y as number),
  '>=': (x, y) => (x as number) >= (y as number),
};

/** SQL aggregates: count of non-null values; min, max and mean are null over none. */
const REDUCE: Record<'count' | 'min' | 'max' | 'mean', (values: number[]) => number | null> = {
  count: (v) => v.length,
  min: (v) => (v.length ? v.reduce((m, x) => (x < m ? x : m), Infinity) : null),
  max: (v) => (v.length ? v.reduce((m, x) => (x > m ? x : m), -Infinity) : null),
  mean: (v) => (v.length ? v.reduce((s, x) => s + x, 0) / v.length : null),
};

/** Type-checks and compiles a parsed expression; throws FilterError naming the column. */
export function compileNode(root: Node, context: FilterContext = {}): CompiledFilter {
  const compiler = new Compiler(context.fields ?? alertFields(), context);
  const compiled = compiler.compile(root);
  if (compiled.kind !== 'boolean' && compiled.kind !== 'null')
    throw new FilterError(
      0,
      `the expression is ${kindName(compiled.kind)}; a filter must be true or false, e.g. diaSource.snr > 10`,
    );
  if (compiled.cost > MAX_COST)
    throw new FilterError(
      0,
      `expression costs ${compiled.cost} units, more than the limit of ${MAX_COST}`,
    );
  const fn = compiled.fn as (a: Alert) => boolean | null;
  return {
    explain: show(root),
    cost: compiled.cost,
    evaluate: fn,
    matches: (a) => fn(a) === true,
    reads: compiler.reads,
  };
}
