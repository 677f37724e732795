/**
 * Starts the shared WorkerPool and has its workers load the modules whose tasks processDetector
 * runs on them, while the caller downloads and reads its images: otherwise the worker starts when
 * runDiff first asks for it, and the science's characterization (its first task) waits for the
 * thread to start and for its modules to load (under tsx also to compile), with the calling thread
 * idle. `ap diff` does the same for its first task (cli/commands/diff.ts).
 * @example
 *   warmPipelinePool();                       // before the downloads
 *   const [bytes] = await Promise.all([download(raw), ...]);
 */
import { siblingModule } from '../util/worker.js';
import { WorkerPool } from '../util/worker-pool.js';

/** The modules of the pool tasks of processDetector's stages, the first task's first. */
export const PIPELINE_WORKER_MODULES: readonly string[] = [
  '../characterize/characterize-async',
  '../characterize/background-async',
  '../warp/warp',
  '../diffim/kernel-fit',
  '../diffim/difference-mask',
  '../diffim/noise',
  '../diffim/convolve-field',
  '../diffim/decorrelate',
  '../detect/likelihood-worker',
  '../detect/measure-parallel',
  '../detect/cell-widths',
  '../pipeline/realbogus-input',
  '../alerts/cutout-worker',
].map((m) => siblingModule(m, import.meta.url).href);

/**
 * The shared pool started and PIPELINE_WORKER_MODULES loading on its workers; returns at once. A
 * module that fails to load is not reported here: its task fails in the pipeline, with its reason.
 */
export function warmPipelinePool(): void {
  const pool = WorkerPool.shared();
  if (pool.size > 0) void pool.preload(PIPELINE_WORKER_MODULES).catch(() => undefined);
}
