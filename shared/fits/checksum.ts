/**
 * FITS CHECKSUM and DATASUM verification (FITS Standard 4.0, appendix J; Seaman, Pence & Rots
 * 2002): DATASUM is the 32-bit ones' complement sum of the data unit (with its fill), as an
 * unsigned decimal string; a correct CHECKSUM makes the ones' complement sum of the whole HDU
 * (header and data) equal -0 (0xFFFFFFFF). Checked only when the cards are present: a flipped
 * byte then fails the read with the HDU and card named, instead of flooding the pipeline.
 */
import { FitsError } from './errors.js';
import type { FitsHeader } from './header.js';

/** Ones' complement sum of the big-endian 32-bit words of bytes[start, end) (beyond the array: zeros), added to `sum`. */
export function onesComplementSum(bytes: Uint8Array, start: number, end: number, sum = 0): number {
  let hi = sum >>> 16;
  let lo = sum & 0xffff;
  const stop = Math.min(end, bytes.length) - 3;
  let i = start;
  for (; i < stop; i += 4) {
    hi += (bytes[i] << 8) | bytes[i + 1];
    lo += (bytes[i + 2] << 8) | bytes[i + 3];
  }
  for (; i < Math.min(end, bytes.length); i++) {
    const v = bytes[i] << (8 * (1 - ((i - start) % 2)));
    if ((i - start) % 4 < 2) hi += v;
    else lo += v;
  }
  // Fold the carries end-around until both halves fit 16 bits (doubles hold the sums exactly).
  while (hi > 0xffff || lo > 0xffff) {
    const hiCarry = Math.floor(hi / 65536);
    const loCarry = Math.floor(lo / 65536);
    hi = (hi % 65536) + loCarry;
    lo = (lo % 65536) + hiCarry;
  }
  return ((hi << 16) | lo) >>> 0;
}

/** Throws FitsError when the HDU's DATASUM or CHECKSUM card is present and does not match its bytes. */
export function verifyChecksums(
  header: FitsHeader,
  bytes: Uint8Array,
  headerStart: number,
  dataStart: number,
  dataEnd: number,
  index: number,
): void {
  const datasumCard = header.get('DATASUM');
  const checksumCard = header.getString('CHECKSUM');
  if (datasumCard === undefined && checksumCard === undefined) return;
  const dataSum = onesComplementSum(bytes, dataStart, dataEnd);
  if (datasumCard !== undefined) {
    const expected = Number(String(datasumCard).trim());
    if (!Number.isFinite(expected) || expected !== dataSum)
      throw new FitsError(
        `HDU ${index}: DATASUM ${JSON.stringify(datasumCard)} does not match the data (sum ${dataSum}): corrupt or altered data`,
      );
  }
  if (checksumCard !== undefined && !/^0+$/.test(checksumCard.trim())) {
    const total = onesComplementSum(bytes, headerStart, dataStart, dataSum);
    if (total !== 0xffffffff)
      throw new FitsError(
        `HDU ${index}: CHECKSUM does not match the header and data: corrupt or altered HDU`,
      );
  }
}
