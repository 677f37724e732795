/**
 * Numeric columns of a FITS binary table (FITS Standard 4.0, section 7.3): the first BINTABLE
 * extension that is not a compressed image. Scalar columns of types B, I, J, K (with TSCALn,
 * TZEROn and TNULLn applied; nulls read as NaN), E and D are read; other columns are listed by
 * name but hold no values.
 * writeTableColumns writes such a table (float64 columns) after an empty primary HDU.
 * @example const t = readTableColumns(bytes); t.column('ra'); // Float64Array
 */
import { FitsError } from './errors.js';
import { cellNumber, TYPE_BYTES } from './compressed.js';
import { BLOCK_LENGTH, FitsHeader, parseHeader } from './header.js';

export interface FitsTable {
  rows: number;
  /** Column names (TTYPEn) as written, in order. */
  names: string[];
  /** The numeric column named `name` (case-insensitive), or null when absent or not numeric. */
  column(name: string): Float64Array | null;
}

interface Field {
  name: string;
  type: string;
  repeat: number;
  offset: number;
}

function fieldsOf(header: FitsHeader): { fields: Field[]; rowBytes: number } {
  const n = header.getNumber('TFIELDS') ?? 0;
  const fields: Field[] = [];
  let offset = 0;
  for (let i = 1; i <= n; i++) {
    const form = (header.getString(`TFORM${i}`) ?? '').trim().toUpperCase();
    const m = /^(\d*)([LXBIJKAEDCMPQ])/.exec(form);
    if (!m) throw new FitsError(`binary table: column ${i} has an unknown TFORM '${form}'`);
    const repeat = m[1] === '' ? 1 : Number(m[1]);
    const name = (header.getString(`TTYPE${i}`) ?? `COL${i}`).trim();
    fields.push({ name, type: m[2], repeat, offset });
    offset += m[2] === 'X' ? Math.ceil(repeat / 8) : repeat * TYPE_BYTES[m[2]];
  }
  return { fields, rowBytes: offset };
}

function readColumn(
  header: FitsHeader,
  index: number,
  f: Field,
  data: DataView,
  rows: number,
  rowBytes: number,
): Float64Array | null {
  if (f.repeat !== 1 || !'BIJKED'.includes(f.type)) return null;
  const scale = header.getNumber(`TSCAL${index}`) ?? 1;
  const zero = header.getNumber(`TZERO${index}`) ?? 0;
  const nullValue = header.getNumber(`TNULL${index}`);
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const at = r * rowBytes + f.offset;
    const raw = cellNumber(data, at, f.type);
    if (raw === nullValue && 'BIJK'.includes(f.type)) {
      out[r] = Number.NaN;
      continue;
    }
    out[r] = zero + scale * raw;
  }
  return out;
}

/** The first binary table of a FITS file; throws FitsError when there is none or it is truncated. */
export function readTableColumns(bytes: Uint8Array): FitsTable {
  let offset = 0;
  for (let index = 0; offset < bytes.length; index++) {
    const { header, dataOffset } = parseHeader(bytes, offset);
    const naxis = header.getNumber('NAXIS') ?? 0;
    const axes = Array.from({ length: naxis }, (_, i) => header.getNumber(`NAXIS${i + 1}`) ?? 0);
    const size =
      (Math.abs(header.getNumber('BITPIX') ?? 8) / 8) *
      (header.getNumber('GCOUNT') ?? 1) *
      ((header.getNumber('PCOUNT') ?? 0) + (naxis ? axes.reduce((a, b) => a * b, 1) : 0));
    const xtension = (header.getString('XTENSION') ?? '').trim().toUpperCase();
    if (index > 0 && xtension === 'BINTABLE' && header.get('ZIMAGE') !== true) {
      const [rowBytes, rows] = [axes[0] ?? 0, axes[1] ?? 0];
      if (dataOffset + rowBytes * rows > bytes.length)
        throw new FitsError(
          `binary table in HDU ${index}: truncated (${rows} rows of ${rowBytes} bytes)`,
        );
      const { fields, rowBytes: sum } = fieldsOf(header);
      if (sum !== rowBytes)
        throw new FitsError(
          `binary table in HDU ${index}: columns take ${sum} bytes, NAXIS1 is ${rowBytes}`,
        );
      const data = new DataView(bytes.buffer, bytes.byteOffset + dataOffset, rowBytes * rows);
      return {
        rows,
        names: fields.map((f) => f.name),
        column(name) {
          const i = fields.findIndex((f) => f.name.toLowerCase() === name.toLowerCase());
          return i < 0 ? null : readColumn(header, i + 1, fields[i], data, rows, rowBytes);
        },
      };
    }
    offset = dataOffset + Math.ceil(size / BLOCK_LENGTH) * BLOCK_LENGTH;
  }
  throw new FitsError('no binary table extension');
}

/** A FITS file of one binary table of float64 (TFORM 1D) columns, named EXTNAME `name`. */
export function writeTableColumns(
  columns: ReadonlyArray<{ name: string; values: ArrayLike<number>; unit?: string }>,
  name: string,
): Uint8Array {
  const rows = columns[0]?.values.length ?? 0;
  if (columns.some((c) => c.values.length !== rows))
    throw new RangeError('table columns must have the same length');
  const primary = new FitsHeader();
  primary.set('SIMPLE', true, 'conforms to FITS standard');
  primary.set('BITPIX', 8);
  primary.set('NAXIS', 0);
  primary.set('EXTEND', true);
  const h = new FitsHeader();
  h.set('XTENSION', 'BINTABLE', 'binary table extension');
  h.set('BITPIX', 8);
  h.set('NAXIS', 2);
  h.set('NAXIS1', 8 * columns.length, 'bytes per row');
  h.set('NAXIS2', rows, 'rows');
  h.set('PCOUNT', 0);
  h.set('GCOUNT', 1);
  h.set('TFIELDS', columns.length);
  columns.forEach((c, i) => {
    h.set(`TTYPE${i + 1}`, c.name);
    h.set(`TFORM${i + 1}`, '1D');
    if (c.unit) h.set(`TUNIT${i + 1}`, c.unit);
  });
  h.set('EXTNAME', name);
  const [head0, head1] = [primary.toBytes(), h.toBytes()];
  const dataLength = Math.ceil((8 * columns.length * rows) / BLOCK_LENGTH) * BLOCK_LENGTH;
  const out = new Uint8Array(head0.length + head1.length + dataLength);
  out.set(head0);
  out.set(head1, head0.length);
  const view = new DataView(out.buffer, head0.length + head1.length, dataLength);
  for (let r = 0; r < rows; r++)
    columns.forEach((c, i) => view.setFloat64(8 * (r * columns.length + i), c.values[r]));
  return out;
}
