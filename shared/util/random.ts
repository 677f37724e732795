/**
 * Small seeded random number generators for reproducible sampling (sky-source positions, fake
 * sources, test data). The simulator has its own streams (shared/sim/random.ts).
 */

/** Seeded uniform generator on [0, 1): mulberry32 (T. Ettinger), 32-bit state, period 2^32. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
