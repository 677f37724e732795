/**
 * Pixel arrays: big-endian bytes <-> typed arrays, BSCALE/BZERO, and the unsigned-integer
 * conventions (BZERO = 2^(n-1) for unsigned n-bit data, BZERO = -128 for signed bytes).
 */
import { endianness } from 'node:os';
import { FitsError } from './errors.js';
import type { FitsHeader } from './header.js';

/** Every pixel array the reader returns or the writer accepts. */
export type FitsData =
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | Float32Array
  | Float64Array;

export const BITPIX_VALUES = [8, 16, 32, 64, -32, -64] as const;
const LITTLE_ENDIAN = endianness() === 'LE';

export function checkBitpix(bitpix: unknown): number {
  if (typeof bitpix !== 'number' || !(BITPIX_VALUES as readonly number[]).includes(bitpix)) {
    throw new FitsError(`unsupported BITPIX ${String(bitpix)} (8, 16, 32, 64, -32 or -64)`);
  }
  return bitpix;
}

/** How a typed array is stored: BITPIX and the BZERO of an unsigned/signed-byte convention. */
export function storageOf(data: FitsData): { bitpix: number; bzero: number } {
  if (data instanceof Uint8Array) return { bitpix: 8, bzero: 0 };
  if (data instanceof Int8Array) return { bitpix: 8, bzero: -128 };
  if (data instanceof Int16Array) return { bitpix: 16, bzero: 0 };
  if (data instanceof Uint16Array) return { bitpix: 16, bzero: 32768 };
  if (data instanceof Int32Array) return { bitpix: 32, bzero: 0 };
  if (data instanceof Uint32Array) return { bitpix: 32, bzero: 2147483648 };
  if (data instanceof BigInt64Array) return { bitpix: 64, bzero: 0 };
  if (data instanceof Float32Array) return { bitpix: -32, bzero: 0 };
  return { bitpix: -64, bzero: 0 };
}

/**
 * Reads `count` big-endian values of BITPIX type from `bytes` into a fresh native array, on a
 * SharedArrayBuffer: worker threads then use the pixels in place (shared/util/shared-plane.ts
 * sharedOrCopy), where an ordinary buffer is copied to shared memory and back.
 */
export function fromBigEndian(bytes: Uint8Array, bitpix: number, count: number): FitsData {
  const size = Math.abs(bitpix) / 8;
  if (bytes.length < count * size)
    throw new FitsError(`truncated pixel data: ${bytes.length} of ${count * size} bytes`);
  // Own, aligned buffer (Buffer#slice would share the file's memory).
  const copy = new Uint8Array(new SharedArrayBuffer(count * size));
  copy.set(bytes.subarray(0, count * size));
  return nativeInPlace(copy, bitpix, count);
}

/**
 * The `count` big-endian values of BITPIX type that fill `bytes`, a whole buffer of their own (a
 * SharedArrayBuffer, as fromBigEndian makes), as a native array on it: swapped in place, no copy.
 */
export function nativeInPlace(bytes: Uint8Array, bitpix: number, count: number): FitsData {
  const size = Math.abs(bitpix) / 8;
  if (bytes.byteOffset !== 0 || bytes.byteLength !== count * size)
    throw new FitsError(`pixel buffer of ${bytes.byteLength} bytes for ${count * size}`);
  const buf = Buffer.from(bytes.buffer, 0, bytes.length);
  if (LITTLE_ENDIAN) {
    if (size === 2) buf.swap16();
    else if (size === 4) buf.swap32();
    else if (size === 8) buf.swap64();
  }
  switch (bitpix) {
    case 8:
      return bytes;
    case 16:
      return new Int16Array(bytes.buffer, 0, count);
    case 32:
      return new Int32Array(bytes.buffer, 0, count);
    case 64:
      return new BigInt64Array(bytes.buffer, 0, count);
    case -32:
      return new Float32Array(bytes.buffer, 0, count);
    default:
      return new Float64Array(bytes.buffer, 0, count);
  }
}

/**
 * Big-endian bytes of a native array stored as BITPIX (integer types must already be the stored
 * ones), into `out` (byteLength bytes, e.g. a region of the output file) or a new array.
 */
export function toBigEndian(data: FitsData, out = new Uint8Array(data.byteLength)): Uint8Array {
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  swapToBigEndian(out.subarray(0, data.byteLength), data.BYTES_PER_ELEMENT);
  return out;
}

/** Native values of `size` bytes each, in `bytes`, made big-endian in place. */
export function swapToBigEndian(bytes: Uint8Array, size: number): void {
  if (!LITTLE_ENDIAN) return;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (size === 2) buf.swap16();
  else if (size === 4) buf.swap32();
  else if (size === 8) buf.swap64();
}

/** Flips the sign bit: unsigned <-> offset-signed storage of the same width, in place on the bits. */
export function flipSign(data: FitsData): FitsData {
  if (data instanceof Uint8Array) return new Int8Array(data.map((v) => v ^ 0x80).buffer);
  if (data instanceof Int8Array) return new Uint8Array(data.map((v) => v ^ -0x80).buffer);
  if (data instanceof Int16Array) return new Uint16Array(data.map((v) => v ^ -0x8000).buffer);
  if (data instanceof Uint16Array) return new Int16Array(data.map((v) => v ^ 0x8000).buffer);
  if (data instanceof Int32Array) return new Uint32Array(data.map((v) => v ^ -0x80000000).buffer);
  if (data instanceof Uint32Array)
    return new Int32Array(data.map((v) => (v ^ 0x80000000) >>> 0).buffer);
  throw new FitsError('sign flip applies to 8, 16 and 32-bit integers only');
}

/**
 * Physical values of stored pixels: BSCALE/BZERO applied. Unsigned conventions give
 * Uint16/Uint32/Int8 arrays; other scaled integers give Float32Array (BITPIX 8, 16) or
 * Float64Array (32, 64), with BLANK pixels as NaN; unscaled data is returned as stored.
 */
export function applyScaling(raw: FitsData, bitpix: number, header: FitsHeader): FitsData {
  const bscale = header.getNumber('BSCALE') ?? 1;
  const bzero = header.getNumber('BZERO') ?? 0;
  if (bscale === 1 && bzero === 0) return raw;
  if (bscale === 1) {
    if (bitpix === 8 && bzero === -128) return flipSign(raw);
    if (bitpix === 16 && bzero === 32768) return flipSign(raw);
    if (bitpix === 32 && bzero === 2147483648) return flipSign(raw);
  }
  const blank = bitpix > 0 ? header.getNumber('BLANK') : undefined;
  const n = raw.length;
  const out =
    bitpix === 8 || bitpix === 16 || bitpix === -32 ? new Float32Array(n) : new Float64Array(n);
  if (raw instanceof BigInt64Array) {
    const big = blank === undefined ? null : BigInt(blank);
    for (let i = 0; i < n; i++)
      out[i] = raw[i] === big ? Number.NaN : Number(raw[i]) * bscale + bzero;
  } else {
    for (let i = 0; i < n; i++) {
      const v = raw[i];
      out[i] = v === blank ? Number.NaN : v * bscale + bzero;
    }
  }
  return out;
}
