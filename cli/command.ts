import { parseArgs, type ParseArgsConfig } from 'node:util';

/** An error the user can fix: printed as one line on stderr, exit code 2. */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** One `ap` subcommand: its help text, options and what it does. */
export interface Command<O extends Options = Options> {
  name: string;
  summary: string;
  /** Usage lines and option docs, printed by --help. */
  help: string;
  options: O;
  /** True when the command takes positional arguments (e.g. input files); they are passed to run. */
  positionals?: boolean;
  run(values: ParsedValues<O>, verbose: boolean, positionals: string[]): Promise<void>;
}

export type ParsedValues<O extends Options> = ReturnType<typeof parseArgs<{ options: O; strict: true }>>['values'];

/** Declares a command with typed option values. */
export function defineCommand<O extends Options>(command: Command<O>): Command<O> {
  return command;
}

/** A required string option, or an InputError naming it. */
export function required(values: Record<string, unknown>, name: string): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '') throw new InputError(`missing required option --${name}`);
  return value;
}

/** A numeric option parsed strictly, with a default. */
export function numberOption(values: Record<string, unknown>, name: string, fallback: number): number {
  const value = values[name];
  if (value === undefined) return fallback;
  const n = Number(value);
  if (typeof value !== 'string' || value.trim() === '' || !Number.isFinite(n)) {
    throw new InputError(`--${name} must be a number, got '${String(value)}'`);
  }
  return n;
}

/** Progress on stderr when it is a terminal; silent otherwise. */
export function progress(message: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${message}`);
}

export function progressDone(): void {
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
}
