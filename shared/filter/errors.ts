/**
 * The one error a filter expression gives: a message naming the 1-based column of the offending
 * token. Always one line, and never longer than MAX_MESSAGE, whatever the expression holds.
 */
const MAX_MESSAGE = 200;
const MAX_QUOTED = 40;

export class FilterError extends Error {
  constructor(
    /** 0-based offset into the expression text. */
    readonly position: number,
    detail: string,
  ) {
    super(oneLine(`at column ${position + 1}: ${detail}`, MAX_MESSAGE));
    this.name = 'FilterError';
  }
}

/** Text of a user's token made safe to quote: control characters escaped, truncated. */
export function quote(text: string): string {
  const shown = text.length > MAX_QUOTED ? `${text.slice(0, MAX_QUOTED)}...` : text;
  return JSON.stringify(shown);
}

function oneLine(text: string, max: number): string {
  let flat = '';
  for (const c of text) {
    const code = c.charCodeAt(0);
    flat += code < 0x20 || code === 0x7f || code === 0x2028 || code === 0x2029 ? ' ' : c;
  }
  return flat.length > max ? `${flat.slice(0, max - 3)}...` : flat;
}
