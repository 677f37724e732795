/**
 * A function instance for the instance-pool test: entry point 'hang' spins forever (as a
 * degenerate image once did in WarpedPsf), 'ok' answers at once after passing checkpoints
 * 'start' and 'stored' (a crash rehearsal may stop it at either).
 */
import { parentPort } from 'node:worker_threads';
import type { InstanceMessage, InvocationRequest } from '../../functions/night/instance-worker.js';
import { checkpoints } from '../../functions/night/crash-point.js';

const port = parentPort;
if (!port) throw new Error('a worker thread');
port.postMessage({ type: 'ready' } satisfies InstanceMessage);
port.on('message', (request: InvocationRequest) => {
  if (request.fn === 'hang') for (;;);
  const checkpoint = checkpoints(port, request.id, request.crashAfter);
  checkpoint('start');
  checkpoint('stored');
  port.postMessage({
    type: 'done',
    id: request.id,
    error: null,
    calls: {},
  } satisfies InstanceMessage);
});
