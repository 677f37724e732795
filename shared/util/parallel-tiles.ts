/**
 * Tile filtering spread over the main thread and a WorkerPool: tiles are independent, so each
 * thread runs its contiguous share of the plan's tiles (tileShares). A stage exports a "share"
 * function that runs its filter on `args.indices`; the main thread calls it directly and the
 * workers by module URL, with planes on SharedArrayBuffers.
 */
import type { WorkerPool } from './worker-pool.js';
import { tileShares, type TilePlan } from './tiles.js';

export interface ShareTask {
  /** URL of the module exporting the worker-side function. */
  module: string;
  /** Worker-side function: takes args (with shared planes) plus `indices`. */
  fn: string;
}

/**
 * Runs `local(args(0) + indices)` here and `task(args(t) + indices)` on the pool's workers.
 * `args(thread)` may give each thread its own output planes (blended tiles overlap).
 */
export async function runTileShares<A extends object>(
  plan: TilePlan,
  pool: WorkerPool,
  task: ShareTask,
  local: (indices: number[]) => void,
  remoteArgs: (thread: number) => A,
): Promise<void> {
  const shares = tileShares(plan, 1 + pool.size);
  const remote = shares
    .slice(1)
    .map((indices, i) =>
      indices.length
        ? pool.run({ ...task, args: { ...remoteArgs(i + 1), indices } })
        : Promise.resolve(),
    );
  try {
    local(shares[0]);
  } finally {
    await Promise.all(remote);
  }
}
