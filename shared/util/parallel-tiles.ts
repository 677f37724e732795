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

/** The worker-side function of runClaimedTiles: takes args plus the shared counter `claim` and the tile `count`. */
export type ClaimTask<A> = Task<A & { claim: Int32Array; count: number }, unknown>;

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

/** Tile indices claimed one at a time from a shared counter until `count` are taken (every thread claims from the same counter). */
export function* claimTiles(counter: Int32Array, count: number): Generator<number> {
  for (let t = Atomics.add(counter, 0, 1); t < count; t = Atomics.add(counter, 0, 1)) yield t;
}

/**
 * As runTileShares, for stages whose tiles write disjoint pixels (no blending): the threads claim
 * tiles from a shared counter as they go, so that a thread which starts late (a worker still busy
 * with an earlier task) or runs slower takes fewer, and none waits for another's fixed share. The
 * worker-side function gets `claim` (the counter) and `count` besides its args.
 */
export async function runClaimedTiles<A extends object>(
  plan: TilePlan,
  pool: WorkerPool,
  task: ClaimTask<A>,
  local: (indices: Iterable<number>) => void,
  remoteArgs: () => A,
): Promise<void> {
  const claim = new Int32Array(new SharedArrayBuffer(4));
  const count = plan.tiles.length;
  const remote = Array.from({ length: pool.size }, () =>
    pool.runTask(task, { ...remoteArgs(), claim, count }),
  );
  try {
    local(claimTiles(claim, count));
  } finally {
    await Promise.all(remote);
  }
}
