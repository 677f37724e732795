/**
 * One Cloud Function instance in a worker thread: loads functions/index.ts (which registers the
 * entry points with functions-framework), runs one invocation at a time, and forwards its
 * structured log lines and the time it spent in each cloud call to the main thread.
 */
import { parentPort } from 'node:worker_threads';
import { getFunction } from '@google-cloud/functions-framework/testing';
import '../index.js';
import { createServices, setServices } from '../context.js';
import { instrumentServices, type CallTimings } from './call-timings.js';
import { checkpoints, type CrashingMessage, type CrashPlan } from './crash-point.js';

/** A request from the pool: run entry point `fn` on a CloudEvent. */
export interface InvocationRequest {
  id: number;
  fn: string;
  event: unknown;
  /** A crash rehearsal (crash-point.ts). */
  crashAfter?: CrashPlan;
}

/** What the worker posts back. */
export type InstanceMessage =
  | { type: 'ready' }
  | { type: 'log'; line: string }
  | { type: 'done'; id: number; error: string | null; calls: CallTimings }
  | CrashingMessage;

const port = parentPort;
if (!port) throw new Error('instance-worker.ts runs as a worker thread');

/** The running invocation's checkpoint when it rehearses a crash: log lines and successful timed calls pass it. */
let checkpoint: ((point: string) => void) | null = null;

// Log lines go to the main thread whole, which files them and reacts to them.
let pending = '';
process.stderr.write = ((chunk: string | Uint8Array): boolean => {
  pending += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
  for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
    const line = pending.slice(0, nl);
    port.postMessage({ type: 'log', line } satisfies InstanceMessage);
    pending = pending.slice(nl + 1);
    checkpoint?.(messageOf(line));
  }
  return true;
}) as typeof process.stderr.write;

function messageOf(line: string): string {
  try {
    return String((JSON.parse(line) as { message?: unknown }).message ?? '');
  } catch {
    return '';
  }
}

const calls: CallTimings = {};
setServices(instrumentServices(createServices(), calls, (category) => checkpoint?.(category)));

port.postMessage({ type: 'ready' } satisfies InstanceMessage);
port.on('message', (request: InvocationRequest) => {
  for (const key of Object.keys(calls)) delete calls[key];
  checkpoint = request.crashAfter ? checkpoints(port, request.id, request.crashAfter) : null;
  const fn = getFunction(request.fn) as ((event: unknown) => unknown) | undefined;
  Promise.resolve()
    .then(() => {
      if (!fn) throw new Error(`no function '${request.fn}' is registered`);
      return fn(request.event);
    })
    .then(
      () =>
        port.postMessage({
          type: 'done',
          id: request.id,
          error: null,
          calls: { ...calls },
        } satisfies InstanceMessage),
      (err: unknown) => {
        const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        port.postMessage({
          type: 'done',
          id: request.id,
          error,
          calls: { ...calls },
        } satisfies InstanceMessage);
      },
    );
});
