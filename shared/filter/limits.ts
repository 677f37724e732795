/** The bounds every filter expression is held to (see ./README.md, "Limits"). */

/** The longest expression accepted, in UTF-8 bytes. */
export const MAX_EXPRESSION_BYTES = 4096;
/** The deepest nesting of parentheses, NOT, unary minus and function calls. */
export const MAX_DEPTH = 64;
/** The highest cost an expression may have; one unit is about one field comparison. */
export const MAX_COST = 1000;
