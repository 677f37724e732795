/**
 * Float32 planes on SharedArrayBuffers, so worker threads read and write the same pixels.
 */
import { Plane, type ImageF } from '../image/plane.js';

export interface SharedPlane {
  buffer: SharedArrayBuffer;
  width: number;
  height: number;
}

/** A contiguous shared copy of `plane` (or zeros when `plane` is a size). */
export function toShared(plane: ImageF | { width: number; height: number }): SharedPlane {
  const buffer = new SharedArrayBuffer(4 * plane.width * plane.height);
  const data = new Float32Array(buffer);
  if (plane instanceof Plane) for (let y = 0; y < plane.height; y++) data.set(plane.row(y), y * plane.width);
  return { buffer, width: plane.width, height: plane.height };
}

export function fromShared(s: SharedPlane): ImageF {
  return new Plane(new Float32Array(s.buffer), s.width, s.height);
}
