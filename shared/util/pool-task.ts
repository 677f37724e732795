/**
 * Typed handles on the tasks a WorkerPool runs. A worker calls an exported function of a module,
 * named by a string; these handles take that name from the code itself (an object key or a key
 * of the module's type), so a misspelt or missing task, or wrong arguments, fail at compile time.
 * @example
 *   export function work(args: { n: number }): number { return args.n * 2; }
 *   const WORK = poolTask(import.meta.url, { work });   // this module's export `work`
 *   const kernel = tasksOf<typeof import('./kernels.js')>(KERNELS_URL);
 *   await pool.runTask(WORK, { n: 2 });                  // Promise<number>
 *   await pool.runTask(kernel('blurTask'), args);        // 'blurTask' checked against kernels.ts
 */

/** A function a pool worker can run: one structured-cloneable argument, a (promised) result. */
type TaskFunction = (args: never) => unknown;

/** Exported function `fn` of `module`, taking A and resolving to R. */
export interface Task<A, R> {
  /** Module URL (import.meta.url, or siblingModule(...).href for another module). */
  readonly module: string;
  /** Name of the module's exported function, called as fn(args). */
  readonly fn: string;
  /** Types only (never set): the argument and result. */
  readonly types?: (args: A) => R;
}

/** The task of a function: its argument and awaited result. */
export type TaskOf<F> = F extends (args: infer A) => infer R ? Task<A, Awaited<R>> : never;

/** Names of a module's exports that are task functions. */
export type TaskName<M> = {
  [K in keyof M]: M[K] extends TaskFunction ? K : never;
}[keyof M] &
  string;

/**
 * The task of function `fn` exported by the module at `module` (normally import.meta.url: the
 * function is this module's export, passed as `{ fn }` so its name is checked by the compiler).
 */
export function poolTask<F extends TaskFunction>(
  module: string,
  named: Record<string, F>,
): TaskOf<F> {
  const names = Object.keys(named);
  if (names.length !== 1) throw new TypeError(`poolTask takes one function, got ${names.length}`);
  return { module, fn: names[0] } as TaskOf<F>;
}

/**
 * Task handles on another module's exports, typed from `typeof import('./that.js')` without
 * loading it here: `tasksOf<typeof import('./k.js')>(url)('name')`.
 */
export function tasksOf<M>(module: string): <K extends TaskName<M>>(fn: K) => TaskOf<M[K]> {
  return (fn) => ({ module, fn }) as unknown as TaskOf<M[typeof fn]>;
}
