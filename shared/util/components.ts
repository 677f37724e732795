/**
 * 8-connected components of the pixels marked in `member` (non-zero), visited by a depth-first
 * flood fill. `member` is consumed: visited pixels are zeroed. With `seeds` (indices holding every
 * marked pixel, in any order) only they and their neighbours are visited, not the whole array:
 * the same components, for a sparse mask at the cost of its few pixels.
 * @example
 *   const groups = forEachComponent8(Uint8Array.from(mask, (m) => m & CR), w, h, () => {});
 */
export function forEachComponent8(
  member: Uint8Array,
  w: number,
  h: number,
  onPixel: (index: number, component: number) => void,
  seeds?: ArrayLike<number>,
): number {
  let components = 0;
  const stack: number[] = [];
  const n = seeds ? seeds.length : member.length;
  for (let k = 0; k < n; k++) {
    const s = seeds ? seeds[k] : k;
    if (!member[s]) continue;
    member[s] = 0;
    stack.push(s);
    while (stack.length) {
      const i = stack.pop() as number;
      onPixel(i, components);
      const x = i % w;
      const y = (i - x) / w;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          const yy = y + dy;
          if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
          const j = yy * w + xx;
          if (!member[j]) continue;
          member[j] = 0;
          stack.push(j);
        }
      }
    }
    components++;
  }
  return components;
}
