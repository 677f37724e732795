/**
 * The filter language: `compileFilter(text, context)` parses, type-checks against the alert
 * schema and compiles an expression to a predicate over alerts (grammar and semantics in
 * ./README.md). Every failure is a FilterError with one line naming the column.
 */
import { compileNode, type CompiledFilter, type FilterContext } from './compile.js';
import { parse } from './parser.js';

export { FilterError } from './errors.js';
export { type CompiledFilter, type FilterContext, type SkyRegion } from './compile.js';
export { MAX_COST, MAX_DEPTH, MAX_EXPRESSION_BYTES } from './limits.js';

export function compileFilter(text: string, context: FilterContext = {}): CompiledFilter {
  return compileNode(parse(text), context);
}
