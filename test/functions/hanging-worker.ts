/**
 * A function instance for the instance-pool test: entry point 'hang' spins forever (as a
 * degenerate image once did in WarpedPsf), 'ok' answers at once.
 */
import { parentPort } from 'node:worker_threads';
import type { InstanceMessage, InvocationRequest } from '../../functions/night/instance-worker.js';

const port = parentPort;
if (!port) throw new Error('a worker thread');
port.postMessage({ type: 'ready' } satisfies InstanceMessage);
port.on('message', (request: InvocationRequest) => {
  if (request.fn === 'hang') for (;;);
  port.postMessage({
    type: 'done',
    id: request.id,
    error: null,
    calls: {},
  } satisfies InstanceMessage);
});
