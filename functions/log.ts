/**
 * Structured logs: one JSON object a line on stderr, in the shape Cloud Logging parses
 * (severity, message, and any fields such as per-stage timings and latencies).
 */
export type Severity = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';

export function log(severity: Severity, message: string, fields: Record<string, unknown> = {}): void {
  process.stderr.write(`${JSON.stringify({ severity, message, time: new Date().toISOString(), ...fields })}\n`);
}
