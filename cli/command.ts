import { readFile } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { InsufficientCoverageError } from '../shared/warp/index.js';
import { DifferenceFailedError, KernelFitError } from '../shared/diffim/errors.js';
import { PipelineInputError } from '../shared/pipeline/errors.js';

/** An error the user can fix: printed as one line on stderr, exit code 2. */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

/** The cause of a failed file operation in a few words (ENOENT -> 'no such file'). */
const SYSTEM_CAUSES: Record<string, string> = {
  ENOENT: 'no such file',
  EISDIR: 'is a folder, not a file',
  ENOTDIR: 'a part of the path is not a folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOSPC: 'no space left on the device',
  EROFS: 'read-only file system',
  EMFILE: 'too many open files',
};

/**
 * Any error as the one line the user sees, naming the file once: `FILE: cause`. A Node file
 * error (code and path) is worded from its code; another error is prefixed with `file` unless
 * its message already starts with it.
 */
export function fileError(file: string, err: unknown): InputError {
  if (err instanceof InputError) return err;
  const e = err as NodeJS.ErrnoException;
  if (typeof e.code === 'string' && e.code in SYSTEM_CAUSES)
    return new InputError(`${e.path ?? file}: ${SYSTEM_CAUSES[e.code]}`);
  const message = e instanceof Error ? e.message : String(err);
  return new InputError(message.startsWith(file) ? message : `${file}: ${message}`);
}

/** A Node file error (it carries a code and a path) as an InputError, or null for any other error. */
export function systemFileError(err: unknown): InputError | null {
  const e = err as NodeJS.ErrnoException;
  return typeof e?.path === 'string' && typeof e.code === 'string' ? fileError(e.path, err) : null;
}

/** The bytes of an input file, or an InputError naming it and the cause. */
export async function readInput(path: string): Promise<Buffer> {
  return readFile(path).catch((err: unknown) => {
    throw fileError(path, err);
  });
}

/** Parses an input file's contents; an error of the parser becomes one line naming the file. */
export async function parseInput<T>(path: string, parse: (bytes: Buffer) => T): Promise<T> {
  const bytes = await readInput(path);
  try {
    return parse(bytes);
  } catch (err) {
    throw fileError(path, err);
  }
}

/**
 * The pipeline's input errors (one image unusable, or the pair: shapes, PSF matching, too little
 * overlap) as one line naming the file at fault and, for the pair, the other one; null otherwise.
 */
export function pairError(
  err: unknown,
  sciencePath: string,
  templatePath: string,
): InputError | null {
  if (err instanceof PipelineInputError) {
    const file = err.role === 'template' ? templatePath : sciencePath;
    return new InputError(
      `${file}: ${err.message}${err.role === 'pair' ? ` (template ${templatePath})` : ''}`,
    );
  }
  if (err instanceof InsufficientCoverageError)
    return new InputError(`${templatePath}: ${err.message} (science ${sciencePath})`);
  // Every kernel fit was degenerate, or the difference unusable: the pair's fault, named by the science file.
  if (err instanceof KernelFitError || err instanceof DifferenceFailedError)
    return new InputError(`${sciencePath}: ${err.message} (template ${templatePath})`);
  return null;
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

export type ParsedValues<O extends Options> = ReturnType<
  typeof parseArgs<{ options: O; strict: true }>
>['values'];

/** Declares a command with typed option values. */
export function defineCommand<O extends Options>(command: Command<O>): Command<O> {
  return command;
}

/** A required string option, or an InputError naming it. */
export function required(values: Record<string, unknown>, name: string): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '')
    throw new InputError(`missing required option --${name}`);
  return value;
}

/** A numeric option parsed strictly, with a default. */
export function numberOption(
  values: Record<string, unknown>,
  name: string,
  fallback: number,
): number {
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
