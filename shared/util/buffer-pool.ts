/**
 * SharedArrayBuffers handed back by their owner once nothing reads them, reused by the next
 * shared planes of their size made on this thread (toShared, sharedCopy). A new 64 MB buffer is
 * mapped page by page as it is first written, each page zero-filled by the kernel (16,384 page
 * faults, ~0.1 s of system CPU per 4k plane); a reused one is only zeroed, or not even that when
 * it is to be overwritten whole.
 * @example
 *   const out = new Float32Array(sharedBuffer(4 * width * height)); // zeros
 *   releaseShared(finishedPlane.data); // its owner reads and writes it no more
 */

/** Bytes held for reuse at most: what is released beyond it is left to the garbage collector. */
const MAX_HELD_BYTES = 512 * 1024 * 1024;

const held = new Map<number, SharedArrayBuffer[]>();
let heldBytes = 0;

/**
 * A SharedArrayBuffer of `byteLength` bytes, a released one when there is one: zeros, unless
 * `zeroed` is false (for a caller that writes every byte before anything reads it).
 */
export function sharedBuffer(byteLength: number, zeroed = true): SharedArrayBuffer {
  const buffer = held.get(byteLength)?.pop();
  if (!buffer) return new SharedArrayBuffer(byteLength);
  heldBytes -= byteLength;
  if (zeroed) new Uint8Array(buffer).fill(0);
  return buffer;
}

/**
 * Hands back the buffers of `arrays` for reuse: the caller owns them, and neither it nor anything
 * it lent them to reads or writes them again. Arrays that do not cover their whole
 * SharedArrayBuffer (views, plain ArrayBuffers) are left alone, as is a buffer already held.
 */
export function releaseShared(...arrays: ArrayBufferView[]): void {
  for (const a of arrays) {
    const buffer = a.buffer;
    if (!(buffer instanceof SharedArrayBuffer) || a.byteOffset !== 0) continue;
    const size = buffer.byteLength;
    if (a.byteLength !== size || heldBytes + size > MAX_HELD_BYTES) continue;
    const list = held.get(size) ?? [];
    if (list.includes(buffer)) continue;
    list.push(buffer);
    held.set(size, list);
    heldBytes += size;
  }
}
