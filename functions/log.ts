/**
 * Structured logs of the functions: one JSON object a line on stderr, the shape Cloud Logging
 * parses (severity, message, time, and fields such as per-stage timings and latencies).
 */
import { stderrJsonLogger, type Severity } from '../shared/pipeline/log.js';

export function log(
  severity: Severity,
  message: string,
  fields: Record<string, unknown> = {},
): void {
  stderrJsonLogger({ severity, message, time: new Date().toISOString(), ...fields });
}
