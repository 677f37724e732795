/**
 * The INPUTS binary-table extension of a template: one row per input offered, used or rejected and
 * why, with what selection measured (FITS Standard 4.0 sect. 7.3, big-endian; any FITS reader,
 * e.g. astropy.table, reads it). Written after the image extensions; readers of the image skip it.
 */
import { FitsError } from '../fits/errors.js';
import { BLOCK_LENGTH, FitsHeader, parseHeader } from '../fits/header.js';

export interface InputRow {
  /** File name (or object key) of the input. */
  file: string;
  visit: number;
  detector: number;
  mjd: number;
  used: boolean;
  /** Why it was rejected ('' when used). */
  reason: string;
  /** Share of the coadd's weight (0 when rejected). */
  weight: number;
  /** PSF FWHM, arcsec; PSF ellipticity; 5-sigma point-source depth, AB mag; sky, ADU per pixel. */
  fwhmArcsec: number;
  ellipticity: number;
  depthMag: number;
  skyAdu: number;
  /** AB mag of 1 ADU, and where it came from: 'header', 'stars' (matched to another input) or 'none'. */
  zeroPoint: number;
  zeroPointSource: string;
  /** Astrometric fit rms, arcsec (NaN: not given). */
  wcsRmsArcsec: number;
  psfChi2: number;
  psfStars: number;
  /** Fraction of the output grid covered, and of that the fraction rejection removed. */
  coverage: number;
  rejectedFraction: number;
}

type Kind = 'A' | 'D' | 'J' | 'L';
interface Column {
  name: string;
  key: keyof InputRow;
  kind: Kind;
  /** Characters for 'A'. */
  width?: number;
  unit?: string;
}

const COLUMNS: readonly Column[] = [
  { name: 'FILE', key: 'file', kind: 'A', width: 96 },
  { name: 'VISIT', key: 'visit', kind: 'D' },
  { name: 'DETECTOR', key: 'detector', kind: 'J' },
  { name: 'MJD', key: 'mjd', kind: 'D', unit: 'd' },
  { name: 'USED', key: 'used', kind: 'L' },
  { name: 'REASON', key: 'reason', kind: 'A', width: 160 },
  { name: 'WEIGHT', key: 'weight', kind: 'D' },
  { name: 'FWHM', key: 'fwhmArcsec', kind: 'D', unit: 'arcsec' },
  { name: 'ELLIP', key: 'ellipticity', kind: 'D' },
  { name: 'DEPTH', key: 'depthMag', kind: 'D', unit: 'mag' },
  { name: 'SKY', key: 'skyAdu', kind: 'D', unit: 'adu' },
  { name: 'ZEROPT', key: 'zeroPoint', kind: 'D', unit: 'mag' },
  { name: 'ZPSOURCE', key: 'zeroPointSource', kind: 'A', width: 8 },
  { name: 'WCSRMS', key: 'wcsRmsArcsec', kind: 'D', unit: 'arcsec' },
  { name: 'PSFCHI2', key: 'psfChi2', kind: 'D' },
  { name: 'PSFSTARS', key: 'psfStars', kind: 'J' },
  { name: 'COVERAGE', key: 'coverage', kind: 'D' },
  { name: 'REJFRAC', key: 'rejectedFraction', kind: 'D' },
];

const bytesOf = (c: Column): number =>
  c.kind === 'A' ? (c.width ?? 1) : c.kind === 'D' ? 8 : c.kind === 'J' ? 4 : 1;
const ROW_BYTES = COLUMNS.reduce((s, c) => s + bytesOf(c), 0);

/** The INPUTS extension (header and padded data), to append to a FITS file. */
export function inputsTableHdu(rows: readonly InputRow[]): Uint8Array {
  const h = new FitsHeader();
  h.set('XTENSION', 'BINTABLE', 'binary table extension');
  h.set('BITPIX', 8);
  h.set('NAXIS', 2);
  h.set('NAXIS1', ROW_BYTES, 'bytes per row');
  h.set('NAXIS2', rows.length, 'rows: one per input');
  h.set('PCOUNT', 0);
  h.set('GCOUNT', 1);
  h.set('TFIELDS', COLUMNS.length);
  COLUMNS.forEach((c, i) => {
    h.set(`TTYPE${i + 1}`, c.name);
    h.set(`TFORM${i + 1}`, c.kind === 'A' ? `${c.width}A` : `1${c.kind}`);
    if (c.unit) h.set(`TUNIT${i + 1}`, c.unit);
  });
  h.set('EXTNAME', 'INPUTS', 'template inputs, used and rejected');
  const head = h.toBytes();
  const dataLength = Math.ceil((ROW_BYTES * rows.length) / BLOCK_LENGTH) * BLOCK_LENGTH;
  const out = new Uint8Array(head.length + dataLength);
  out.set(head);
  const view = new DataView(out.buffer, head.length, dataLength);
  let pos = 0;
  for (const row of rows) {
    for (const c of COLUMNS) {
      const v = row[c.key];
      if (c.kind === 'A') {
        const text = String(v)
          .replace(/[^\x20-\x7e]/g, '?')
          .slice(0, c.width);
        for (let k = 0; k < (c.width ?? 0); k++)
          view.setUint8(pos + k, k < text.length ? text.charCodeAt(k) : 0x20);
      } else if (c.kind === 'D') view.setFloat64(pos, Number(v));
      else if (c.kind === 'J') view.setInt32(pos, Number(v));
      else view.setUint8(pos, v ? 0x54 : 0x46);
      pos += bytesOf(c);
    }
  }
  return out;
}

/** The rows of a file's INPUTS extension; throws FitsError when there is none. */
export function readInputsTable(bytes: Uint8Array, source = 'template'): InputRow[] {
  let offset = 0;
  while (offset < bytes.length) {
    const { header, dataOffset } = parseHeader(bytes, offset);
    const axes = Array.from(
      { length: header.getNumber('NAXIS') ?? 0 },
      (_, i) => header.getNumber(`NAXIS${i + 1}`) ?? 0,
    );
    const size =
      (Math.abs(header.getNumber('BITPIX') ?? 8) / 8) *
      (header.getNumber('GCOUNT') ?? 1) *
      ((header.getNumber('PCOUNT') ?? 0) + (axes.length ? axes.reduce((a, b) => a * b, 1) : 0));
    if (header.getString('EXTNAME')?.trim() === 'INPUTS')
      return decodeRows(header, bytes.subarray(dataOffset, dataOffset + size));
    offset = dataOffset + Math.ceil(size / BLOCK_LENGTH) * BLOCK_LENGTH;
  }
  throw new FitsError(`${source}: no INPUTS extension`);
}

function decodeRows(header: FitsHeader, data: Uint8Array): InputRow[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const rows: InputRow[] = [];
  const n = header.getNumber('NAXIS2') ?? 0;
  const rowBytes = header.getNumber('NAXIS1') ?? ROW_BYTES;
  for (let r = 0; r < n; r++) {
    let pos = r * rowBytes;
    const row: Record<string, unknown> = {};
    for (const c of COLUMNS) {
      if (c.kind === 'A')
        row[c.key] = String.fromCharCode(...data.subarray(pos, pos + (c.width ?? 0))).trimEnd();
      else if (c.kind === 'D') row[c.key] = view.getFloat64(pos);
      else if (c.kind === 'J') row[c.key] = view.getInt32(pos);
      else row[c.key] = view.getUint8(pos) === 0x54;
      pos += bytesOf(c);
    }
    rows.push(row as unknown as InputRow);
  }
  return rows;
}
