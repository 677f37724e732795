/** The parsed form of a filter expression; every node keeps the offset of its first token. */
export type Literal = number | string | boolean | null;

export type CompareOp = '=' | '!=' | '<' | '<=' | '>' | '>=';
export type ArithOp = '+' | '-' | '*' | '/';

export type Node =
  | { kind: 'literal'; value: Literal; pos: number }
  | { kind: 'field'; path: string[]; pos: number }
  | { kind: 'call'; name: string; args: Node[]; pos: number }
  | { kind: 'neg'; operand: Node; pos: number }
  | { kind: 'arith'; op: ArithOp; left: Node; right: Node; pos: number }
  | { kind: 'compare'; op: CompareOp; left: Node; right: Node; pos: number }
  | { kind: 'in'; operand: Node; items: Node[]; negated: boolean; pos: number }
  | { kind: 'between'; operand: Node; low: Node; high: Node; negated: boolean; pos: number }
  | { kind: 'isnull'; operand: Node; negated: boolean; pos: number }
  | { kind: 'not'; operand: Node; pos: number }
  | { kind: 'and' | 'or'; left: Node; right: Node; pos: number };

function literalText(value: Literal): string {
  if (value === null) return 'NULL';
  if (typeof value === 'string') return `'${value.replaceAll("'", "''")}'`;
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  return String(value);
}

/** The canonical text of a node, fully parenthesised: what `ap filter --explain` prints. */
export function show(node: Node): string {
  switch (node.kind) {
    case 'literal':
      return literalText(node.value);
    case 'field':
      return node.path.join('.');
    case 'call':
      return `${node.name}(${node.args.map(show).join(', ')})`;
    case 'neg':
      return `(-${show(node.operand)})`;
    case 'arith':
    case 'compare':
      return `(${show(node.left)} ${node.op} ${show(node.right)})`;
    case 'in':
      return `(${show(node.operand)} ${node.negated ? 'NOT IN' : 'IN'} (${node.items.map(show).join(', ')}))`;
    case 'between':
      return `(${show(node.operand)} ${node.negated ? 'NOT BETWEEN' : 'BETWEEN'} ${show(node.low)} AND ${show(node.high)})`;
    case 'isnull':
      return `(${show(node.operand)} IS ${node.negated ? 'NOT NULL' : 'NULL'})`;
    case 'not':
      return `(NOT ${show(node.operand)})`;
    case 'and':
    case 'or':
      return `(${show(node.left)} ${node.kind.toUpperCase()} ${show(node.right)})`;
  }
}
