/**
 * Reading FITS files (FITS Standard 4.0): the primary HDU, IMAGE extensions and tile-compressed
 * images (ZIMAGE = T binary tables); other extensions (tables) are skipped.
 * @example
 *   const [primary, ...extensions] = readFits(readFileSync('image.fits'));
 *   const sci = extensions.find((h) => h.name === 'IMAGE');
 */
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { verifyChecksums } from './checksum.js';
import { FitsError } from './errors.js';
import { BLOCK_LENGTH, CARD_LENGTH, parseHeader, type FitsHeader } from './header.js';
import {
  applyScaling,
  checkBitpix,
  fromBigEndian,
  nativeInPlace,
  type FitsData,
} from './pixels.js';
import { readCompressedImage } from './compressed.js';

export interface FitsHdu {
  header: FitsHeader;
  /** EXTNAME (trimmed), 'PRIMARY' for an unnamed primary HDU, '' for an unnamed extension. */
  name: string;
  /** BITPIX of the stored pixels (ZBITPIX for a compressed image). */
  bitpix: number;
  /** NAXIS1 (0 without data). */
  width: number;
  /** NAXIS2 times any higher axes (1 for a 1-D array, 0 without data). */
  height: number;
  /**
   * Physical pixel values, row-major (FITS pixel (1,1) at index 0):
   * - unscaled: Uint8Array (8), Int16Array (16), Int32Array (32), BigInt64Array (64), Float32Array, Float64Array;
   * - unsigned conventions (BSCALE 1, BZERO 2^15 / 2^31 / -128): Uint16Array, Uint32Array, Int8Array;
   * - other BSCALE/BZERO: Float32Array for BITPIX 8, 16, -32, else Float64Array, BLANK pixels NaN.
   * null when the HDU has no data.
   */
  data: FitsData | null;
}

/** Structure of an HDU's data unit, from its header. */
interface Layout {
  bitpix: number;
  axes: number[];
  /** Data bytes (without the padding to 2880). */
  size: number;
}

function integerCard(header: FitsHeader, key: string, hdu: number, fallback?: number): number {
  const value = header.get(key) ?? fallback;
  if (value === undefined) throw new FitsError(`HDU ${hdu}: missing ${key} card`);
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new FitsError(`HDU ${hdu}: bad ${key} value ${String(value)}`);
  }
  return value;
}

function layoutOf(header: FitsHeader, hdu: number): Layout {
  const bitpix = checkBitpix(header.get('BITPIX'));
  const naxis = integerCard(header, 'NAXIS', hdu);
  if (naxis > 999) throw new FitsError(`HDU ${hdu}: bad NAXIS ${naxis}`);
  const axes: number[] = [];
  for (let i = 1; i <= naxis; i++) axes.push(integerCard(header, `NAXIS${i}`, hdu));
  const pixels = naxis === 0 ? 0 : axes.reduce((a, b) => a * b, 1);
  const pcount = hdu === 0 ? 0 : integerCard(header, 'PCOUNT', hdu, 0);
  const gcount = hdu === 0 ? 1 : integerCard(header, 'GCOUNT', hdu, 1);
  const size = (Math.abs(bitpix) / 8) * gcount * (pcount + pixels);
  if (!Number.isSafeInteger(size)) throw new FitsError(`HDU ${hdu}: data size overflows`);
  return { bitpix, axes, size };
}

function startsWith(bytes: Uint8Array, offset: number, text: string): boolean {
  for (let i = 0; i < text.length; i++) if (bytes[offset + i] !== text.charCodeAt(i)) return false;
  return true;
}

/** True when the bytes are only zeros or blanks (tolerated padding after the last HDU). */
function isPadding(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0 && bytes[i] !== 32) return false;
  return true;
}

/** Parses every HDU of a FITS file; tables that are not compressed images are skipped. */
export interface ReadFitsOptions {
  /**
   * Verify CHECKSUM/DATASUM cards where present (./checksum.ts) and fail on a mismatch. Default
   * false: cut-outs often carry their parent's stale sums (the DECam files in test/data do);
   * processImage verifies raw images, where a mismatch means corruption on the way.
   */
  verifyChecksums?: boolean;
}

export function readFits(bytes: Uint8Array, options: ReadFitsOptions = {}): FitsHdu[] {
  const walk = walkHdus(bytes.length, options);
  for (let step = walk.next(); ;) {
    if (step.done) return step.value;
    step = walk.next(fromMemory(bytes, step.value));
  }
}

/**
 * What the HDU walk asks of its byte source: the bytes at `offset` (up to `length`, fewer at the
 * end of the file), an image's native pixels from `offset`, or the HDU's checksums verified.
 */
type Need =
  | { kind: 'bytes'; offset: number; length: number }
  | { kind: 'pixels'; offset: number; layout: Layout }
  | { kind: 'checksums'; header: FitsHeader; index: number; offsets: [number, number, number] };

type Served = Uint8Array | ((count: number) => FitsData) | undefined;

/**
 * The HDUs of a FITS file of `size` bytes, walked once for readFits (bytes in memory) and readFitsFile
 * (read as needed): every check and error message of the format is here, the byte source serves `Need`s.
 */
function* walkHdus(size: number, options: ReadFitsOptions): Generator<Need, FitsHdu[], Served> {
  const first = yield* bytesAt(0, BLOCK_LENGTH);
  if (!startsWith(first, 0, 'SIMPLE  ='))
    throw new FitsError('not a FITS file: it does not start with a SIMPLE card');
  const hdus: FitsHdu[] = [];
  let offset = 0;
  for (let index = 0; offset < size; index++) {
    const block = index === 0 ? first : yield* bytesAt(offset, BLOCK_LENGTH);
    if (index > 0 && !startsWith(block, 0, 'XTENSION=')) {
      if (isPadding(yield* bytesAt(offset, size - offset))) break;
      throw new FitsError(`HDU ${index} at byte ${offset}: expected an XTENSION card`);
    }
    // The header's blocks up to the one with its END card (a card never spans two blocks).
    const blocks = [block];
    let read = block.length;
    while (!hasEndCard(blocks[blocks.length - 1]) && offset + read < size) {
      blocks.push(yield* bytesAt(offset + read, BLOCK_LENGTH));
      read += blocks[blocks.length - 1].length;
    }
    if (!hasEndCard(blocks[blocks.length - 1]))
      throw new FitsError(`truncated file: header at byte ${offset} has no END card`);
    const parsed = parseHeader(joined(blocks, read), 0);
    const header = parsed.header;
    const dataOffset = offset + parsed.dataOffset;
    if (index === 0 && header.get('SIMPLE') !== true)
      throw new FitsError('primary header: SIMPLE is not T');
    const layout = layoutOf(header, index);
    if (dataOffset + layout.size > size) {
      throw new FitsError(
        `truncated file: HDU ${index} needs ${layout.size} data bytes at byte ${dataOffset}, file has ${size} bytes`,
      );
    }
    const end = dataOffset + Math.ceil(layout.size / BLOCK_LENGTH) * BLOCK_LENGTH;
    if (options.verifyChecksums)
      yield { kind: 'checksums', header, index, offsets: [offset, dataOffset, end] };
    const kind = kindOf(header, index);
    if (kind === 'compressed')
      hdus.push(decodeCompressed(header, yield* bytesAt(dataOffset, layout.size), index));
    else if (kind === 'image')
      hdus.push(decodeImage(header, layout, yield* pixelsAt(dataOffset, layout), index));
    offset = end;
  }
  return hdus;
}

function* bytesAt(offset: number, length: number): Generator<Need, Uint8Array, Served> {
  return (yield { kind: 'bytes', offset, length }) as Uint8Array;
}

function* pixelsAt(
  offset: number,
  layout: Layout,
): Generator<Need, (count: number) => FitsData, Served> {
  return (yield { kind: 'pixels', offset, layout }) as (count: number) => FitsData;
}

/** The blocks as one array of `length` bytes (the block itself when there is one). */
function joined(blocks: Uint8Array[], length: number): Uint8Array {
  if (blocks.length === 1) return blocks[0];
  const out = new Uint8Array(length);
  let at = 0;
  for (const b of blocks) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

/** A Need served from the whole file in memory: views of its bytes, pixels copied out of them. */
function fromMemory(bytes: Uint8Array, need: Need): Served {
  switch (need.kind) {
    case 'bytes':
      return bytes.subarray(need.offset, Math.min(bytes.length, need.offset + need.length));
    case 'pixels': {
      const { offset, layout } = need;
      const data = bytes.subarray(offset, offset + layout.size);
      return (count: number) => fromBigEndian(data, layout.bitpix, count);
    }
    case 'checksums':
      verifyChecksums(need.header, bytes, ...need.offsets, need.index);
      return undefined;
  }
}

function hduName(header: FitsHeader, index: number): string {
  const extname = header.getString('EXTNAME')?.trim();
  return extname || (index === 0 ? 'PRIMARY' : '');
}

/** What an HDU holds that is read: a compressed image, an image, or nothing (another table). */
function kindOf(header: FitsHeader, index: number): 'compressed' | 'image' | null {
  const xtension =
    index === 0 ? 'IMAGE' : (header.getString('XTENSION') ?? '').trim().toUpperCase();
  if (xtension === 'BINTABLE' && header.get('ZIMAGE') === true) return 'compressed';
  return xtension === 'IMAGE' ? 'image' : null;
}

/** A compressed image's HDU from its data unit's bytes (the binary table). */
function decodeCompressed(header: FitsHeader, bytes: Uint8Array, index: number): FitsHdu {
  try {
    const image = readCompressedImage(header, bytes);
    return { ...image, name: hduName(image.header, index) };
  } catch (e) {
    if (e instanceof FitsError)
      throw new FitsError(`HDU ${index} (${hduName(header, index) || 'unnamed'}): ${e.message}`);
    throw e;
  }
}

/** An image's HDU, `pixels` giving its native pixels of count values (asked for only when it has some). */
function decodeImage(
  header: FitsHeader,
  layout: Layout,
  pixels: (count: number) => FitsData,
  index: number,
): FitsHdu {
  const name = hduName(header, index);
  const { bitpix, axes } = layout;
  if (axes.length === 0 || axes.includes(0))
    return { header, name, bitpix, width: 0, height: 0, data: null };
  const width = axes[0];
  const height = axes.slice(1).reduce((a, b) => a * b, 1);
  const data = applyScaling(pixels(width * height), bitpix, header);
  return { header, name, bitpix, width, height, data };
}

/**
 * readFits of a file on disk: the same HDUs, but each image's pixels are read from the file
 * straight into their own shared buffer and swapped there, where readFits copies them out of the
 * whole file read into memory (a 4096^2 float image: ~100 ms and 64 MB less). With
 * verifyChecksums the file is read whole and given to readFits.
 */
export async function readFitsFile(
  path: string,
  options: ReadFitsOptions = {},
): Promise<FitsHdu[]> {
  if (options.verifyChecksums) return readFits(await readFile(path), options);
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const walk = walkHdus(size, options);
    for (let step = walk.next(); ;) {
      if (step.done) return step.value;
      step = walk.next(await fromFile(file, size, step.value));
    }
  } finally {
    await file.close();
  }
}

/** A Need served by reading the file: bytes into an array of their own, pixels into a shared buffer. */
async function fromFile(file: FileHandle, size: number, need: Need): Promise<Served> {
  switch (need.kind) {
    case 'bytes': {
      const length = Math.max(0, Math.min(need.length, size - need.offset));
      return readFully(file, new Uint8Array(length), need.offset);
    }
    case 'pixels':
      return nativePixels(file, need.offset, need.layout);
    case 'checksums':
      throw new Error('checksums are verified on the file in memory (readFits)');
  }
}

/** Reads `out.length` bytes of the file from `offset` into `out`. */
async function readFully(file: FileHandle, out: Uint8Array, offset: number): Promise<Uint8Array> {
  for (let got = 0; got < out.length;) {
    const { bytesRead } = await file.read(out, got, out.length - got, offset + got);
    if (bytesRead === 0) throw new FitsError(`file ended at byte ${offset + got} while reading`);
    got += bytesRead;
  }
  return out;
}

/**
 * decodeImage's pixel source for the image whose layout is given, its data at `offset`: its values
 * read into a shared buffer of their own and made native there (decodeImage, synchronous, asks for them).
 */
async function nativePixels(
  file: FileHandle,
  offset: number,
  layout: Layout,
): Promise<(count: number) => FitsData> {
  const { bitpix, axes } = layout;
  const pixels = axes.length === 0 ? 0 : axes.reduce((a, b) => a * b, 1);
  const bytes = new Uint8Array(new SharedArrayBuffer((pixels * Math.abs(bitpix)) / 8));
  await readFully(file, bytes, offset);
  return (count: number) => nativeInPlace(bytes, bitpix, count);
}

/** True when the 80-character cards of `bytes` include END (as parseHeader finds it). */
function hasEndCard(bytes: Uint8Array): boolean {
  for (let pos = 0; pos + CARD_LENGTH <= bytes.length; pos += CARD_LENGTH) {
    if (!startsWith(bytes, pos, 'END')) continue;
    const line = Buffer.from(bytes.buffer, bytes.byteOffset + pos, CARD_LENGTH).toString('latin1');
    if (line.slice(3).trim() === '') return true;
  }
  return false;
}
