/**
 * Float32 planes on SharedArrayBuffers, so worker threads read and write the same pixels. New
 * planes take buffers released for reuse when there are some (buffer-pool.ts).
 */
import { Plane, type ImageF, type PixelArray } from '../image/plane.js';
import { sharedBuffer } from './buffer-pool.js';

export interface SharedPlane {
  buffer: SharedArrayBuffer;
  width: number;
  height: number;
}

/** A contiguous shared copy of `plane` (or zeros when `plane` is a size). */
export function toShared(plane: ImageF | { width: number; height: number }): SharedPlane {
  const copy = plane instanceof Plane;
  const buffer = sharedBuffer(4 * plane.width * plane.height, !copy);
  const data = new Float32Array(buffer);
  if (copy) for (let y = 0; y < plane.height; y++) data.set(plane.row(y), y * plane.width);
  return { buffer, width: plane.width, height: plane.height };
}

/** For inputs a worker only reads: the plane's own pixels when it is already contiguous on a SharedArrayBuffer, else a shared copy. */
export function asShared(plane: ImageF): SharedPlane {
  const shared = sharedOrCopy(plane);
  return {
    buffer: shared.data.buffer as SharedArrayBuffer,
    width: plane.width,
    height: plane.height,
  };
}

/** A plane as it crosses to a worker: its pixels (on a SharedArrayBuffer), size and origin. */
export interface PlaneData<T extends PixelArray> {
  data: T;
  width: number;
  height: number;
  x0: number;
  y0: number;
}

/** The crossing form of a contiguous plane: its own pixels, not a copy. */
export const planeDataOf = <T extends PixelArray>(p: Plane<T>): PlaneData<T> => ({
  data: p.data,
  width: p.width,
  height: p.height,
  x0: p.x0,
  y0: p.y0,
});

/** The plane a worker rebuilds from its crossing form (contiguous, origin kept). */
export const planeOf = <T extends PixelArray>(p: PlaneData<T>): Plane<T> =>
  new Plane(p.data, p.width, p.height, p.width, 0, p.x0, p.y0);

export function fromShared(s: SharedPlane): ImageF {
  return new Plane(new Float32Array(s.buffer), s.width, s.height);
}

/** A contiguous copy of any plane on a SharedArrayBuffer, origin (x0, y0) kept. */
export function sharedCopy<T extends PixelArray>(plane: Plane<T>): Plane<T> {
  const ctor = plane.data.constructor as {
    new (buffer: SharedArrayBuffer): T;
    BYTES_PER_ELEMENT: number;
  };
  const data = new ctor(sharedBuffer(ctor.BYTES_PER_ELEMENT * plane.width * plane.height, false));
  for (let y = 0; y < plane.height; y++) data.set(plane.row(y), y * plane.width);
  return new Plane(data, plane.width, plane.height, plane.width, 0, plane.x0, plane.y0);
}

/** The plane itself when it is contiguous on a SharedArrayBuffer (as the warp's outputs are), else sharedCopy(plane). */
export function sharedOrCopy<T extends PixelArray>(plane: Plane<T>): Plane<T> {
  return plane.contiguous && plane.data.buffer instanceof SharedArrayBuffer
    ? plane
    : sharedCopy(plane);
}

/** Copies a contiguous plane's pixels back into `target` (same size; a view is filled row by row). */
export function copyPixels<T extends PixelArray>(source: Plane<T>, target: Plane<T>): void {
  for (let y = 0; y < target.height; y++) target.row(y).set(source.row(y));
}
