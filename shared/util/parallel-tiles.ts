/**
 * Tile filtering spread over the main thread and a WorkerPool: tiles are independent, so each
 * thread runs its contiguous share of the plan's tiles (tileShares). A stage exports a "share"
 * function that runs its filter on `args.indices`; the main thread calls it directly and the
 * workers by module URL, with planes on SharedArrayBuffers.
 */
import type { Task } from './pool-task.js';
import type { WorkerPool } from './worker-pool.js';
import { tileShares, type TilePlan } from './tiles.js';

/** The worker-side function: takes args (with shared planes) plus `indices`. */
export type ShareTask<A> = Task<A & { indices: number[] }, unknown>;

/**
 * Runs `local(args(0) + indices)` here and `task(args(t) + indices)` on the pool's workers.
 * `args(thread)` may give each thread its own output planes (blended tiles overlap).
 */
export async function runTileShares<A extends object>(
  plan: TilePlan,
  pool: WorkerPool,
  task: ShareTask<A>,
  local: (indices: number[]) => void,
  remoteArgs: (thread: number) => A,
): Promise<void> {
  const shares = tileShares(plan, 1 + pool.size);
  const remote = shares
    .slice(1)
    .map((indices, i) =>
      indices.length ? pool.runTask(task, { ...remoteArgs(i + 1), indices }) : Promise.resolve(),
    );
  try {
    local(shares[0]);
  } finally {
    await Promise.all(remote);
  }
}
