/**
 * Tile-compressed images: a BINTABLE with ZIMAGE = T, one row per tile (FITS tiled image
 * compression convention, Pence et al. 2010; FITS Standard 4.0 sect. 10). Reads RICE_1, GZIP_1,
 * GZIP_2 and NOCOMPRESS tiles, quantized floats (NO_DITHER, SUBTRACTIVE_DITHER_1/2) with ZSCALE,
 * ZZERO and ZBLANK; writes RICE_1 for integer images and quantized floats.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { FitsError } from './errors.js';
import { FitsHeader, type FitsCard } from './header.js';
import {
  dequantize,
  parseQuantizeMethod,
  quantizeTile,
  NULL_VALUE,
  type TileScaling,
} from './dither.js';
import { riceDecode, riceEncode } from './rice.js';
import {
  applyScaling,
  flipSign,
  fromBigEndian,
  storageOf,
  toBigEndian,
  type FitsData,
} from './pixels.js';

interface Column {
  name: string;
  /** Byte offset in a row. */
  offset: number;
  /** TFORM type letter; for P/Q descriptors, the letter of the heap elements in `element`. */
  type: string;
  element: string;
  repeat: number;
}

/** Bytes per element of each binary-table TFORM type letter (X, bits, is counted apart). */
export const TYPE_BYTES: Record<string, number> = {
  L: 1,
  B: 1,
  A: 1,
  I: 2,
  J: 4,
  K: 8,
  E: 4,
  D: 8,
  C: 8,
  M: 16,
  P: 8,
  Q: 16,
};

function parseColumns(header: FitsHeader): Column[] {
  const n = header.getNumber('TFIELDS') ?? 0;
  if (!Number.isInteger(n) || n < 0 || n > 999) throw new FitsError(`bad TFIELDS ${n}`);
  const columns: Column[] = [];
  let offset = 0;
  for (let i = 1; i <= n; i++) {
    const form = (header.getString(`TFORM${i}`) ?? '').trim().toUpperCase();
    const m = /^(\d*)([LXBIJKAEDCMPQ])([A-Z]?)/.exec(form);
    if (!m) throw new FitsError(`bad TFORM${i} '${form}'`);
    const repeat = m[1] === '' ? 1 : Number(m[1]);
    const type = m[2];
    columns.push({
      name: (header.getString(`TTYPE${i}`) ?? '').trim().toUpperCase(),
      offset,
      type,
      element: m[3],
      repeat,
    });
    offset += type === 'X' ? Math.ceil(repeat / 8) : repeat * TYPE_BYTES[type];
  }
  return columns;
}

/** Reads one cell value (first element) of a scalar numeric column. */
export function cellNumber(view: DataView, pos: number, type: string): number {
  switch (type) {
    case 'B':
      return view.getUint8(pos);
    case 'I':
      return view.getInt16(pos);
    case 'J':
      return view.getInt32(pos);
    case 'K':
      return Number(view.getBigInt64(pos));
    case 'E':
      return view.getFloat32(pos);
    case 'D':
      return view.getFloat64(pos);
    default:
      throw new FitsError(`unsupported column type ${type} for a tile parameter`);
  }
}

const ELEMENT_BITPIX: Record<string, number> = { B: 8, I: 16, J: 32, K: 64, E: -32, D: -64 };

/** Keywords of the table that describe the table or the compression, not the image. */
function isTableKeyword(keyword: string): boolean {
  return (
    /^(XTENSION|BITPIX|NAXIS\d*|PCOUNT|GCOUNT|TFIELDS|THEAP|CHECKSUM|DATASUM|EXTEND)$/.test(
      keyword,
    ) ||
    /^(TTYPE|TFORM|TUNIT|TNULL|TSCAL|TZERO|TDISP|TDIM)\d+$/.test(keyword) ||
    /^Z(IMAGE|BITPIX|NAXIS\d*|TILE\d+|CMPTYPE|NAME\d+|VAL\d+|QUANTIZ|DITHER0|SCALE|ZERO|BLANK|SIMPLE|TENSION|EXTEND|BLOCKED|PCOUNT|GCOUNT|HECKSUM|DATASUM|MASKCMP)$/.test(
      keyword,
    )
  );
}

export interface DecompressedImage {
  header: FitsHeader;
  bitpix: number;
  width: number;
  height: number;
  data: FitsData;
}

/** Decompresses the image of a ZIMAGE = T binary table; `data` is the table plus its heap. */
export function readCompressedImage(table: FitsHeader, data: Uint8Array): DecompressedImage {
  const num = (key: string, fallback?: number): number => {
    const v = table.getNumber(key) ?? fallback;
    if (v === undefined || !Number.isFinite(v))
      throw new FitsError(`compressed image: missing ${key}`);
    return v;
  };
  const zbitpix = num('ZBITPIX');
  if (![8, 16, 32, -32, -64].includes(zbitpix))
    throw new FitsError(`compressed image: unsupported ZBITPIX ${zbitpix}`);
  const naxis = num('ZNAXIS');
  if (naxis < 1 || naxis > 2)
    throw new FitsError(`compressed image: unsupported ZNAXIS ${naxis} (1 or 2)`);
  const width = num('ZNAXIS1');
  const height = naxis === 2 ? num('ZNAXIS2') : 1;
  const tileW = num('ZTILE1', width);
  const tileH = naxis === 2 ? num('ZTILE2', 1) : 1;
  for (const [k, v] of [
    ['ZNAXIS1', width],
    ['ZNAXIS2', height],
    ['ZTILE1', tileW],
    ['ZTILE2', tileH],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < (k.startsWith('ZTILE') ? 1 : 0))
      throw new FitsError(`compressed image: bad ${k} ${v}`);
  }
  // deflate expands at most ~1032:1, Rice less: more pixels than that means corrupt sizes
  if (width * height > 2 ** 28 || width * height > 1100 * data.length + 1e6) {
    throw new FitsError(
      `compressed image: ${width}x${height} is too large for its ${data.length} bytes`,
    );
  }
  const tilesX = Math.ceil(width / tileW);
  const tilesY = Math.ceil(height / tileH);
  const rowBytes = num('NAXIS1');
  const rows = num('NAXIS2');
  if (rows !== tilesX * tilesY)
    throw new FitsError(`compressed image: ${rows} table rows for ${tilesX * tilesY} tiles`);
  const heap = num('THEAP', rowBytes * rows);
  if (rowBytes * rows > data.length || heap > data.length)
    throw new FitsError('compressed image: table larger than its data');

  const columns = parseColumns(table);
  const last = columns[columns.length - 1];
  if (last && last.offset + last.repeat * (TYPE_BYTES[last.type] ?? 1) > rowBytes) {
    throw new FitsError(`compressed image: columns wider than NAXIS1 = ${rowBytes} bytes`);
  }
  const column = (name: string): Column | undefined => columns.find((c) => c.name === name);
  const compressedCol = column('COMPRESSED_DATA');
  if (!compressedCol || (compressedCol.type !== 'P' && compressedCol.type !== 'Q')) {
    throw new FitsError('compressed image: no COMPRESSED_DATA descriptor column');
  }
  const gzipCol = column('GZIP_COMPRESSED_DATA');
  const rawCol = column('UNCOMPRESSED_DATA');
  const scaleCol = column('ZSCALE');
  const zeroCol = column('ZZERO');
  const blankCol = column('ZBLANK');
  const cmptype = (table.getString('ZCMPTYPE') ?? '').trim().toUpperCase();
  if (!['RICE_1', 'RICE_ONE', 'GZIP_1', 'GZIP_2', 'NOCOMPRESS'].includes(cmptype)) {
    throw new FitsError(`compressed image: unsupported ZCMPTYPE '${cmptype}'`);
  }
  const params = new Map<string, number>();
  for (let i = 1; table.has(`ZNAME${i}`); i++) {
    params.set(
      (table.getString(`ZNAME${i}`) ?? '').trim().toUpperCase(),
      table.getNumber(`ZVAL${i}`) ?? Number.NaN,
    );
  }
  const blockSize = params.get('BLOCKSIZE') ?? 32;
  const bytePix = params.get('BYTEPIX') ?? 4;
  const isFloat = zbitpix < 0;
  const quantized = isFloat && (scaleCol !== undefined || table.has('ZSCALE'));
  const method = parseQuantizeMethod(table.getString('ZQUANTIZ'), quantized);
  const dither0 = table.getNumber('ZDITHER0') ?? 1;

  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const descriptor = (col: Column, row: number): Uint8Array => {
    const pos = row * rowBytes + col.offset;
    const count = col.type === 'P' ? view.getInt32(pos) : Number(view.getBigInt64(pos));
    const offset = col.type === 'P' ? view.getInt32(pos + 4) : Number(view.getBigInt64(pos + 8));
    const size = count * (TYPE_BYTES[col.element] ?? 1);
    if (count < 0 || offset < 0 || heap + offset + size > data.length) {
      throw new FitsError(`compressed image: tile ${row + 1} points outside the heap`);
    }
    return data.subarray(heap + offset, heap + offset + size);
  };
  const tileNumber = (
    col: Column | undefined,
    key: string,
    row: number,
    fallback: number | null,
  ): number | null => {
    if (col) return cellNumber(view, row * rowBytes + col.offset, col.type);
    return table.getNumber(key) ?? fallback;
  };

  const count = width * height;
  const out: FitsData =
    zbitpix === -32
      ? new Float32Array(count)
      : zbitpix === -64
        ? new Float64Array(count)
        : new Int32Array(count);
  const ints = new Int32Array(Math.min(tileW, width) * Math.min(tileH, height));
  for (let row = 0; row < rows; row++) {
    const x0 = (row % tilesX) * tileW;
    const y0 = Math.floor(row / tilesX) * tileH;
    const w = Math.min(tileW, width - x0);
    const h = Math.min(tileH, height - y0);
    const n = w * h;
    const place = (k: number): number => (y0 + Math.floor(k / w)) * width + x0 + (k % w);
    const compressed = descriptor(compressedCol, row);
    let values: FitsData | null = null; // tile values of the image's own type (unquantized)
    if (compressed.length > 0) {
      if (cmptype === 'RICE_1' || cmptype === 'RICE_ONE') {
        riceDecode(compressed, n, blockSize, bytePix, ints);
      } else {
        const bytes = cmptype === 'NOCOMPRESS' ? compressed : gunzip(compressed, row);
        const size = bytes.length / n;
        if (![1, 2, 4, 8].includes(size))
          throw new FitsError(
            `compressed image: tile ${row + 1} has ${bytes.length} bytes for ${n} pixels`,
          );
        const decoded = fromBigEndian(
          cmptype === 'GZIP_2' ? unshuffle(bytes, size) : bytes,
          elementBitpix(size, isFloat && !quantized),
          n,
        );
        if (isFloat && !quantized) values = decoded;
        else ints.set(decoded as ArrayLike<number>);
      }
    } else if (gzipCol && descriptor(gzipCol, row).length > 0) {
      values = fromBigEndian(gunzip(descriptor(gzipCol, row), row), zbitpix, n);
    } else if (rawCol && descriptor(rawCol, row).length > 0) {
      values = fromBigEndian(descriptor(rawCol, row), ELEMENT_BITPIX[rawCol.element] ?? zbitpix, n);
    } else {
      throw new FitsError(`compressed image: tile ${row + 1} has no data`);
    }
    if (values) {
      if (values.length < n) throw new FitsError(`compressed image: tile ${row + 1} is short`);
      for (let k = 0; k < n; k++) out[place(k)] = Number(values[k]);
    } else if (quantized && method) {
      const scaling: TileScaling = {
        scale: tileNumber(scaleCol, 'ZSCALE', row, 1) ?? 1,
        zero: tileNumber(zeroCol, 'ZZERO', row, 0) ?? 0,
        method,
        ditherRow: row + dither0,
        blank: tileNumber(blankCol, 'ZBLANK', row, null),
      };
      dequantize(ints, n, scaling, out as Float32Array | Float64Array, place);
    } else if (w === width) {
      out.set(ints.subarray(0, n), y0 * width);
    } else {
      for (let k = 0; k < n; k++) out[place(k)] = ints[k];
    }
  }

  const header = imageHeader(table, zbitpix, width, height, naxis);
  if (isFloat) return { header, bitpix: zbitpix, width, height, data: out };
  const stored =
    zbitpix === 8
      ? Uint8Array.from(out as Int32Array)
      : zbitpix === 16
        ? Int16Array.from(out as Int32Array)
        : out;
  return { header, bitpix: zbitpix, width, height, data: applyScaling(stored, zbitpix, header) };
}

function elementBitpix(size: number, float: boolean): number {
  return float ? -8 * size : 8 * size;
}

function gunzip(bytes: Uint8Array, row: number): Uint8Array {
  try {
    return gunzipSync(bytes);
  } catch (e) {
    throw new FitsError(
      `compressed image: tile ${row + 1} is not valid gzip (${(e as Error).message})`,
    );
  }
}

/** GZIP_2 stores the most significant bytes of all pixels first, then the next bytes, ... */
function unshuffle(bytes: Uint8Array, size: number): Uint8Array {
  const n = bytes.length / size;
  const out = new Uint8Array(bytes.length);
  for (let b = 0; b < size; b++) for (let i = 0; i < n; i++) out[i * size + b] = bytes[b * n + i];
  return out;
}

/** The image header a compressed table stands for (structural cards from the Z keywords). */
function imageHeader(
  table: FitsHeader,
  bitpix: number,
  width: number,
  height: number,
  naxis: number,
): FitsHeader {
  const primary = table.getBoolean('ZSIMPLE') === true;
  const cards: FitsCard[] = [
    primary
      ? { keyword: 'SIMPLE', value: true, comment: 'conforms to FITS standard' }
      : {
          keyword: 'XTENSION',
          value: table.getString('ZTENSION') ?? 'IMAGE',
          comment: 'image extension',
        },
    { keyword: 'BITPIX', value: bitpix, comment: '' },
    { keyword: 'NAXIS', value: naxis, comment: '' },
    { keyword: 'NAXIS1', value: width, comment: '' },
  ];
  if (naxis === 2) cards.push({ keyword: 'NAXIS2', value: height, comment: '' });
  if (!primary)
    cards.push(
      { keyword: 'PCOUNT', value: 0, comment: '' },
      { keyword: 'GCOUNT', value: 1, comment: '' },
    );
  for (const card of table) if (!isTableKeyword(card.keyword)) cards.push({ ...card });
  const header = new FitsHeader(cards);
  const zblank = table.getNumber('ZBLANK');
  if (bitpix > 0 && zblank !== undefined && !header.has('BLANK')) header.set('BLANK', zblank);
  return header;
}

export interface CompressOptions {
  /** Tile height in rows (tiles span whole rows); default 1. */
  tileRows?: number;
  /** Float images: quantization step = noise / level (as fpack's -q); default 16. */
  quantizeLevel?: number;
  /** Float images: first dither seed ZDITHER0 in 1..10000; default 1. */
  ditherSeed?: number;
}

/**
 * Compresses an image with RICE_1 into a binary-table HDU: returns the table header (image
 * cards from `header` kept) and the table plus heap bytes. Integer data is lossless; float data
 * is quantized with SUBTRACTIVE_DITHER_1 (rows that cannot be quantized are stored gzipped).
 */
export function writeCompressedImage(
  header: FitsHeader,
  data: FitsData,
  width: number,
  height: number,
  options: CompressOptions = {},
): { header: FitsHeader; data: Uint8Array } {
  const { bitpix, bzero } = storageOf(data);
  if (bitpix === 64) throw new FitsError('RICE_1 compression of 64-bit integers is not supported');
  const tileRows = Math.max(1, Math.floor(options.tileRows ?? 1));
  const level = options.quantizeLevel ?? 16;
  const dither0 = options.ditherSeed ?? 1;
  const stored = bzero === 0 ? data : flipSign(data);
  const bytePix = bitpix < 0 ? 4 : bitpix / 8;
  const isFloat = bitpix < 0;
  const tiles: Uint8Array[] = [];
  const gzipTiles: Uint8Array[] = [];
  const scales: number[] = [];
  const zeros: number[] = [];
  let anyNull = false;
  for (let y0 = 0, row = 0; y0 < height; y0 += tileRows, row++) {
    const tile = stored.subarray(y0 * width, Math.min(height, y0 + tileRows) * width) as FitsData;
    if (!isFloat) {
      tiles.push(riceEncode(tile as ArrayLike<number>, 32, bytePix));
      continue;
    }
    const q = quantizeTile(tile as Float32Array | Float64Array, level, row + dither0);
    if (q) {
      tiles.push(riceEncode(q.ints, 32, 4));
      gzipTiles.push(new Uint8Array(0));
      anyNull ||= q.hasNull;
      scales.push(q.scale);
      zeros.push(q.zero);
    } else {
      tiles.push(new Uint8Array(0));
      gzipTiles.push(gzipFloats(tile as Float32Array | Float64Array));
      scales.push(0);
      zeros.push(0);
    }
  }
  const rows = tiles.length;
  // columns: COMPRESSED_DATA [, GZIP_COMPRESSED_DATA, ZSCALE, ZZERO]
  const rowBytes = isFloat ? 8 + 8 + 8 + 8 : 8;
  const heapSize = [...tiles, ...gzipTiles].reduce((s, t) => s + t.length, 0);
  const out = new Uint8Array(rowBytes * rows + heapSize);
  const view = new DataView(out.buffer);
  let heapPos = 0;
  const putDescriptor = (pos: number, bytes: Uint8Array): void => {
    view.setInt32(pos, bytes.length);
    view.setInt32(pos + 4, heapPos);
    out.set(bytes, rowBytes * rows + heapPos);
    heapPos += bytes.length;
  };
  for (let r = 0; r < rows; r++) {
    putDescriptor(r * rowBytes, tiles[r]);
    if (isFloat) {
      putDescriptor(r * rowBytes + 8, gzipTiles[r]);
      view.setFloat64(r * rowBytes + 16, scales[r]);
      view.setFloat64(r * rowBytes + 24, zeros[r]);
    }
  }
  const maxTile = Math.max(0, ...tiles.map((t) => t.length), ...gzipTiles.map((t) => t.length));
  const table = new FitsHeader();
  const add = (keyword: string, value: string | number | boolean, comment = ''): void => {
    table.set(keyword, value, comment);
  };
  add('XTENSION', 'BINTABLE', 'binary table extension');
  add('BITPIX', 8);
  add('NAXIS', 2);
  add('NAXIS1', rowBytes, 'width of table in bytes');
  add('NAXIS2', rows, 'number of rows in table');
  add('PCOUNT', heapSize, 'size of special data area');
  add('GCOUNT', 1);
  add('TFIELDS', isFloat ? 4 : 1);
  add('TTYPE1', 'COMPRESSED_DATA', 'label for field 1');
  add('TFORM1', `1PB(${maxTile})`, 'data format of field: variable length array');
  if (isFloat) {
    add('TTYPE2', 'GZIP_COMPRESSED_DATA', 'label for field 2');
    add('TFORM2', `1PB(${maxTile})`, 'data format of field: variable length array');
    add('TTYPE3', 'ZSCALE', 'label for field 3');
    add('TFORM3', '1D', 'data format of field: 8-byte DOUBLE');
    add('TTYPE4', 'ZZERO', 'label for field 4');
    add('TFORM4', '1D', 'data format of field: 8-byte DOUBLE');
  }
  add('ZIMAGE', true, 'extension contains compressed image');
  add('ZTENSION', 'IMAGE', 'image extension');
  add('ZBITPIX', bitpix, 'data type of original image');
  add('ZNAXIS', 2, 'dimension of original image');
  add('ZNAXIS1', width, 'length of original image axis');
  add('ZNAXIS2', height, 'length of original image axis');
  add('ZPCOUNT', 0);
  add('ZGCOUNT', 1);
  add('ZTILE1', width, 'size of tiles to be compressed');
  add('ZTILE2', tileRows, 'size of tiles to be compressed');
  add('ZCMPTYPE', 'RICE_1', 'compression algorithm');
  add('ZNAME1', 'BLOCKSIZE', 'compression block size');
  add('ZVAL1', 32, 'pixels per block');
  add('ZNAME2', 'BYTEPIX', 'bytes per pixel (1, 2, 4, or 8)');
  add('ZVAL2', bytePix, 'bytes per pixel (1, 2, 4, or 8)');
  if (isFloat) {
    add('ZQUANTIZ', 'SUBTRACTIVE_DITHER_1', 'Pixel Quantization Algorithm');
    add('ZDITHER0', dither0, 'dithering offset when quantizing floats');
    if (anyNull) add('ZBLANK', NULL_VALUE, 'null value in the compressed integer array');
  }
  if (bzero !== 0) {
    add('BSCALE', 1);
    add('BZERO', bzero, 'offset data range to that of unsigned integers');
  }
  for (const card of header) {
    if (!isTableKeyword(card.keyword) && !/^(SIMPLE|BSCALE|BZERO|BLANK|END)$/.test(card.keyword)) {
      table.set(card.keyword, card.value, card.comment);
    }
  }
  return { header: table, data: out };
}

function gzipFloats(values: Float32Array | Float64Array): Uint8Array {
  return gzipSync(toBigEndian(values));
}
