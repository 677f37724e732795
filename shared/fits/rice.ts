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
  const s = 32 - 8 * bytePix;
  const unsigned = bytePix === 1;
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
  for (let i = 0; i < count;) {
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
        const diff = (nzero << fs) | (b >>> nbits);
        b &= (1 << nbits) - 1;
        const sum = lastpix + ((diff >>> 1) ^ -(diff & 1));
        lastpix = unsigned ? (sum << s) >>> s : (sum << s) >> s;
        out[i] = lastpix;
      }
    }
    if (p > end) throw new FitsError('RICE_1: compressed tile ended early');
  }
}

/** Output bytes with CFITSIO's bit accumulator: only its low bits matter, higher ones may overflow. */
class BitSink {
  out: Uint8Array;
  pos = 0;
  acc = 0;
  toGo = 8;

  constructor(capacity: number) {
    this.out = new Uint8Array(capacity);
  }

  reserve(bytes: number): void {
    if (this.pos + bytes <= this.out.length) return;
    const grown = new Uint8Array(this.out.length * 2 + bytes);
    grown.set(this.out.subarray(0, this.pos));
    this.out = grown;
  }

  /** Writes the low n bits of `bits` (n <= 32), most significant first. */
  put(bits: number, n: number): void {
    if (this.toGo + n > 32) {
      this.acc = (this.acc << this.toGo) | ((bits >>> (n - this.toGo)) & ((1 << this.toGo) - 1));
      this.out[this.pos++] = this.acc & 0xff;
      n -= this.toGo;
      this.toGo = 8;
    }
    this.acc = (this.acc << n) | (n === 32 ? bits : bits & ((1 << n) - 1));
    this.toGo -= n;
    while (this.toGo <= 0) {
      this.out[this.pos++] = (this.acc >> -this.toGo) & 0xff;
      this.toGo += 8;
    }
  }

  finish(): Uint8Array {
    if (this.toGo < 8) this.out[this.pos++] = (this.acc << this.toGo) & 0xff;
    return this.out.slice(0, this.pos);
  }
}

/** Encodes `count` pixels of `input` (values in the pixel width's range) as one RICE_1 tile. */
export function riceEncode(
  input: ArrayLike<number>,
  blockSize: number,
  bytePix: number,
): Uint8Array {
  const { fsBits, fsMax } = params(bytePix);
  const bbits = 8 * bytePix;
  const shift = 32 - bbits;
  const unsigned = bytePix === 1;
  const count = input.length;
  const sink = new BitSink(count * bytePix + 64);
  const first =
    count > 0 ? (unsigned ? (input[0] << shift) >>> shift : (input[0] << shift) >> shift) : 0;
  sink.put(first, bbits);
  const diff = new Uint32Array(blockSize);
  let lastpix = first;
  for (let i = 0; i < count; i += blockSize) {
    const n = Math.min(blockSize, count - i);
    // worst case of a block: raw differences, or unary parts of ~4 bits per pixel over the split bits
    sink.reserve(n * (bytePix + 9) + 16);
    let sum = 0;
    for (let j = 0; j < n; j++) {
      const v = input[i + j];
      const next = unsigned ? (v << shift) >>> shift : (v << shift) >> shift;
      const d = ((next - lastpix) << shift) >> shift; // difference wrapped to the pixel width
      diff[j] = d < 0 ? ~(d << 1) : d << 1;
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
      sink.put(fsMax + 1, fsBits);
      for (let j = 0; j < n; j++) sink.put(diff[j] | 0, bbits);
    } else if (fs === 0 && sum === 0) {
      sink.put(0, fsBits);
    } else {
      sink.put(fs + 1, fsBits);
      const mask = (1 << fs) - 1;
      const out = sink.out;
      let { acc, toGo, pos } = sink;
      for (let j = 0; j < n; j++) {
        const v = diff[j];
        let top = v >>> fs;
        // top zeros then a one
        if (toGo >= top + 1) {
          acc = (acc << (top + 1)) | 1;
          toGo -= top + 1;
        } else {
          acc <<= toGo;
          out[pos++] = acc & 0xff;
          for (top -= toGo; top >= 8; top -= 8) out[pos++] = 0;
          acc = 1;
          toGo = 7 - top;
        }
        if (fs > 0) {
          acc = (acc << fs) | (v & mask);
          toGo -= fs;
          while (toGo <= 0) {
            out[pos++] = (acc >> -toGo) & 0xff;
            toGo += 8;
          }
        }
      }
      sink.acc = acc;
      sink.toGo = toGo;
      sink.pos = pos;
    }
  }
  return sink.finish();
}
