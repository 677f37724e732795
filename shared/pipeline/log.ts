/**
 * Structured logging for the pipeline: one JSON object a line ({severity, message, ...fields}),
 * the form Cloud Logging parses from a function's stderr. Library code logs only through an
 * injected `PipelineLogger`.
 */
export type Severity = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';

export interface LogEntry {
  severity: Severity;
  message: string;
  [field: string]: unknown;
}

export type PipelineLogger = (entry: LogEntry) => void;

/** Writes each entry as a JSON line to stderr. */
export const stderrJsonLogger: PipelineLogger = (entry) => {
  process.stderr.write(`${JSON.stringify(entry)}\n`);
};

/** Discards entries. */
export const silentLogger: PipelineLogger = () => {};
