// Worker thread body of WorkerPool: imports the task's module and calls its exported function.
import { parentPort } from 'node:worker_threads';

interface Task {
  id: number;
  module: string;
  fn: string;
  args: unknown;
}

async function run(task: Task): Promise<void> {
  try {
    const mod = (await import(task.module)) as Record<string, unknown>;
    // A preload (WorkerPool.preload): the module is loaded, nothing is called.
    if (task.fn === '') {
      parentPort?.postMessage({ id: task.id, result: null });
      return;
    }
    const fn = mod[task.fn];
    if (typeof fn !== 'function')
      throw new TypeError(`${task.module} exports no function ${task.fn}`);
    const result: unknown = await (fn as (args: unknown) => unknown)(task.args);
    parentPort?.postMessage({ id: task.id, result });
  } catch (err) {
    parentPort?.postMessage({ id: task.id, error: (err as Error).stack ?? String(err) });
  }
}

parentPort?.on('message', (task: Task) => void run(task));
