/**
 * Rice coding of integer pixels, as in the FITS tiled image compression convention
 * (RICE_1; Pence, Seaman & White 2009, PASP 121, 414):
 * differences of adjacent pixels, zigzag-mapped to unsigned values, coded in blocks with a
 * per-block split level FS (all-zero and raw "high entropy" blocks as special cases).
 * Arithmetic wraps at the pixel width (1, 2 or 4 bytes) as in CFITSIO's ricecomp.c.
 */
import { FitsError } from './errors.js';

/** Bits of the FS code and its largest value, by bytes per pixel. */
const PARAMS: Record<number, { fsBits: number; fsMax: number }> = {
  1: { fsBits: 3, fsMax: 6 },
  2: { fsBits: 4, fsMax: 14 },
  4: { fsBits: 5, fsMax: 25 },
};

function params(bytePix: number): { fsBits: number; fsMax: number } {
  const p = PARAMS[bytePix];
  if (!p) throw new FitsError(`RICE_1: unsupported BYTEPIX ${bytePix} (1, 2 or 4)`);
  return p;
}

/** Wraps a sum to the signed (2, 4 bytes) or unsigned (1 byte) pixel width. */
function wrapper(bytePix: number): (v: number) => number {
  if (bytePix === 1) return (v) => v & 0xff;
  if (bytePix === 2) return (v) => (v << 16) >> 16;
  return (v) => v | 0;
}

/**
 * Decodes one RICE_1 tile of `count` pixels into `out` (from index 0).
 * Throws FitsError when the stream ends early.
 */
export function riceDecode(
  input: Uint8Array,
  count: number,
  blockSize: number,
  bytePix: number,
  out: Int32Array,
): void {
  const { fsBits, fsMax } = params(bytePix);
  if (!(blockSize > 0)) throw new FitsError(`RICE_1: bad BLOCKSIZE ${blockSize}`);
  const wrap = wrapper(bytePix);
  const end = input.length;
  if (end < bytePix + 1) throw new FitsError('RICE_1: compressed tile shorter than its header');
  // zero padding lets the fast paths read a few bytes past the end; `p > end` is checked per block
  const c = new Uint8Array(end + 8);
  c.set(input);
  let lastpix = 0;
  for (let k = 0; k < bytePix; k++) lastpix = lastpix * 256 + c[k];
  lastpix = wrap(lastpix);
  let p = bytePix;
  let b = c[p++]; // bit buffer
  let nbits = 8; // valid bits in b
  for (let i = 0; i < count; ) {
    nbits -= fsBits;
    while (nbits < 0) {
      b = ((b << 8) | c[p++]) >>> 0;
      nbits += 8;
    }
    const fs = (b >>> nbits) - 1;
    b &= (1 << nbits) - 1;
    const imax = Math.min(i + blockSize, count);
    if (fs < 0) {
      for (; i < imax; i++) out[i] = lastpix;
    } else if (fs === fsMax) {
      // raw differences of 8 * bytePix bits each
      const bbits = 8 * bytePix;
      for (; i < imax; i++) {
        let diff = b; // nbits bits
        let need = bbits - nbits;
        while (need >= 8) {
          diff = diff * 256 + c[p++];
          need -= 8;
        }
        if (need > 0) {
          const next = c[p++];
          nbits = 8 - need;
          diff = diff * (1 << need) + (next >>> nbits);
          b = next & ((1 << nbits) - 1);
        } else {
          nbits = 0;
          b = 0;
        }
        const d = diff % 2 === 0 ? diff / 2 : -(diff - 1) / 2 - 1;
        lastpix = wrap(lastpix + d);
        out[i] = lastpix;
      }
    } else if (fs > fsMax) {
      throw new FitsError(`RICE_1: corrupt tile (split level ${fs} > ${fsMax})`);
    } else {
      for (; i < imax; i++) {
        while (b === 0) {
          if (p >= end) throw new FitsError('RICE_1: compressed tile ended early');
          nbits += 8;
          b = c[p++];
        }
        const nzero = nbits - (32 - Math.clz32(b));
        nbits -= nzero + 1;
        b ^= 1 << nbits;
        nbits -= fs;
        while (nbits < 0) {
          b = ((b << 8) | c[p++]) >>> 0;
          nbits += 8;
        }
        const diff = ((nzero << fs) | (b >>> nbits)) >>> 0;
        b &= (1 << nbits) - 1;
        lastpix = wrap(lastpix + ((diff >>> 1) ^ -(diff & 1)));
        out[i] = lastpix;
      }
    }
    if (p > end) throw new FitsError('RICE_1: compressed tile ended early');
  }
}

/** Growable byte sink with a bit writer. */
class BitWriter {
  bytes: Uint8Array;
  length = 0;
  private buffer = 0; // pending bits, fewer than 8
  private pending = 0;

  constructor(capacity: number) {
    this.bytes = new Uint8Array(Math.max(capacity, 16));
  }

  private push(byte: number): void {
    if (this.length === this.bytes.length) {
      const grown = new Uint8Array(this.bytes.length * 2);
      grown.set(this.bytes);
      this.bytes = grown;
    }
    this.bytes[this.length++] = byte;
  }

  /** Writes the low `n` bits of `value` (n <= 32), most significant first. */
  write(value: number, n: number): void {
    for (let shift = n - 8; shift > -8; shift -= 8) {
      const take = shift >= 0 ? 8 : 8 + shift;
      const chunk = shift >= 0 ? Math.floor(value / 2 ** shift) & 0xff : value & ((1 << take) - 1);
      this.buffer = (this.buffer << take) | chunk;
      this.pending += take;
      if (this.pending >= 8) {
        this.pending -= 8;
        this.push((this.buffer >>> this.pending) & 0xff);
        this.buffer &= (1 << this.pending) - 1;
      }
    }
  }

  /** Writes `zeros` zero bits then a one bit. */
  unary(zeros: number): void {
    let z = zeros;
    while (z + this.pending >= 8) {
      z -= 8 - this.pending;
      this.push(this.buffer << (8 - this.pending));
      this.buffer = 0;
      this.pending = 0;
    }
    this.write(1, z + 1);
  }

  finish(): Uint8Array {
    if (this.pending > 0) this.push((this.buffer << (8 - this.pending)) & 0xff);
    this.pending = 0;
    return this.bytes.subarray(0, this.length);
  }
}

/** Encodes `count` pixels of `input` (values in the pixel width's range) as one RICE_1 tile. */
export function riceEncode(input: ArrayLike<number>, blockSize: number, bytePix: number): Uint8Array {
  const { fsBits, fsMax } = params(bytePix);
  const wrap = wrapper(bytePix);
  const bbits = 8 * bytePix;
  const signed = (v: number): number => (v << (32 - bbits)) >> (32 - bbits);
  const count = input.length;
  const out = new BitWriter(count * bytePix + 16);
  const first = count > 0 ? input[0] : 0;
  out.write(first < 0 ? first + 2 ** bbits : first, bbits);
  const diff = new Float64Array(blockSize);
  let lastpix = count > 0 ? wrap(input[0]) : 0;
  for (let i = 0; i < count; i += blockSize) {
    const n = Math.min(blockSize, count - i);
    let sum = 0;
    for (let j = 0; j < n; j++) {
      const next = wrap(input[i + j]);
      const d = signed(next - lastpix);
      diff[j] = d < 0 ? -2 * d - 1 : 2 * d;
      sum += diff[j];
      lastpix = next;
    }
    // split level from the mean mapped difference (CFITSIO's choice)
    let psum = Math.floor(Math.max(0, (sum - Math.floor(n / 2) - 1) / n) / 2);
    let fs = 0;
    while (psum > 0) {
      fs++;
      psum = Math.floor(psum / 2);
    }
    if (fs >= fsMax) {
      out.write(fsMax + 1, fsBits);
      for (let j = 0; j < n; j++) out.write(diff[j], bbits);
    } else if (fs === 0 && sum === 0) {
      out.write(0, fsBits);
    } else {
      out.write(fs + 1, fsBits);
      const scale = 2 ** fs;
      for (let j = 0; j < n; j++) {
        const top = Math.floor(diff[j] / scale);
        out.unary(top);
        if (fs > 0) out.write(diff[j] - top * scale, fs);
      }
    }
  }
  return out.finish();
}
