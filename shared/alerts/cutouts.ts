/**
 * Alert cutouts: a square stamp of an Exposure around a DiaSource as a whole FITS file.
 *
 * Layout (astropy: `fits.open(io.BytesIO(cutout))`):
 * Headers are kept within one 2880-byte block where possible: alert size is mostly block padding.
 *   HDU 0 (primary)  image, float32, nJy when the exposure's zero point is known (BUNIT) else ADU,
 *                    with the exposure's WCS shifted to the stamp (CRPIX - origin; SIP/TPV terms
 *                    are relative to CRPIX so they stay valid) and LTV1/LTV2 = -origin
 *   HDU 'VARIANCE'   float32, BUNIT^2, RICE_1 tile-compressed (quantized to 1/16 of its own pixel
 *                    noise, fpack's default; astropy decompresses it transparently): one 2880-byte
 *                    block less per cutout, which keeps a 30 px alert within Rubin's ~82 KB budget
 *   HDU 'MASK'       int16 (int32 when a bit above 14 is set), MP_<PLANE> cards give bit numbers
 *   HDU 'PSF'        float32 PSF stamp at the source, centred, summing to 1
 * Pixels of the stamp outside the exposure are NaN with mask NO_DATA.
 */
import { FitsHeader, writeFits, type FitsHduInput } from '../fits/index.js';
import type { Exposure } from '../image/exposure.js';
import { MASK_PLANE_NAMES, MaskPlane } from '../image/mask.js';
import type { Psf } from '../psf/types.js';
import { AB_MAG_OF_1_NJY } from '../association/calibration.js';

export interface CutoutConfig {
  /** Smallest stamp side, pixels. Default 30. */
  minSize: number;
  /** Largest stamp side, pixels. Default 102. */
  maxSize: number;
}

export const DEFAULT_CUTOUT_CONFIG: CutoutConfig = { minSize: 30, maxSize: 102 };

/** Stamp side for a detection whose footprint box is `bboxSize` pixels: clamped to [minSize, maxSize]. */
export function cutoutSize(bboxSize: number, config: CutoutConfig = DEFAULT_CUTOUT_CONFIG): number {
  return Math.max(config.minSize, Math.min(config.maxSize, Math.ceil(bboxSize)));
}

/** Metadata cards written to the primary header. */
export type CutoutCards = Record<string, string | number | boolean>;

/** A cutout's pixels and cards before FITS encoding: plain data, so it can go to a worker thread. */
export interface CutoutParts {
  size: number;
  image: Float32Array;
  variance: Float32Array;
  mask: Int16Array | Int32Array;
  /** Primary header cards in order: keyword, value, comment. */
  primaryCards: Array<[string, string | number | boolean, string | undefined]>;
  unit: string;
  /** PSF stamp at the source, centred, and its FWHM in pixels (NaN when the model does not know it). */
  psf: { size: number; data: Float32Array; fwhm: number } | null;
}

/**
 * A `size` x `size` cutout centred on pixel (round(x), round(y)) of the exposure, as FITS bytes;
 * arguments as cutoutParts (psf: PSF to include, default the exposure's; none when both are missing).
 */
export function makeCutout(...args: Parameters<typeof cutoutParts>): Buffer {
  return cutoutFits(cutoutParts(...args));
}

/** The pixels and cards of makeCutout's cutout (cheap); cutoutFits encodes them (most of the cost). */
export function cutoutParts(
  exposure: Exposure,
  x: number,
  y: number,
  size: number,
  psf: Psf | null = exposure.psf,
  cards: CutoutCards = {},
): CutoutParts {
  const x0 = Math.round(x) - Math.floor(size / 2);
  const y0 = Math.round(y) - Math.floor(size / 2);
  const zp = exposure.info.zeroPoint;
  const scale = Number.isFinite(zp) ? 10 ** (-0.4 * (zp - AB_MAG_OF_1_NJY)) : 1;
  const image = new Float32Array(size * size).fill(Number.NaN);
  const variance = new Float32Array(size * size).fill(Number.NaN);
  const mask = new Int32Array(size * size).fill(MaskPlane.NO_DATA);
  let maskOr = 0;
  const iStart = Math.max(0, -x0);
  const iEnd = Math.min(size, exposure.width - x0);
  for (let j = 0; j < size; j++) {
    const py = y0 + j;
    if (py < 0 || py >= exposure.height || iEnd <= iStart) continue;
    const imageRow = exposure.image.row(py);
    const varianceRow = exposure.variance.row(py);
    for (let i = iStart; i < iEnd; i++) {
      image[j * size + i] = imageRow[x0 + i] * scale;
      variance[j * size + i] = varianceRow[x0 + i] * scale * scale;
    }
    mask.set(exposure.mask.row(py).subarray(x0 + iStart, x0 + iEnd), j * size + iStart);
  }
  for (const m of mask) maskOr |= m;

  const primaryCards: CutoutParts['primaryCards'] = [];
  for (const [key, value] of exposure.wcs?.toHeaderCards() ?? []) {
    const shift = key === 'CRPIX1' ? x0 : key === 'CRPIX2' ? y0 : 0;
    primaryCards.push(
      shift === 0
        ? [key, value, undefined]
        : [key, (value as number) - shift, 'reference pixel, shifted to the cutout'],
    );
  }
  primaryCards.push(
    ['LTV1', -x0, 'cutout pixel = parent pixel + LTV1'],
    ['LTV2', -y0, 'cutout pixel = parent pixel + LTV2'],
  );
  const unit = Number.isFinite(zp) ? 'nJy' : 'adu';
  primaryCards.push(['BUNIT', unit, 'pixel unit']);
  for (const [key, value] of Object.entries(cards)) primaryCards.push([key, value, undefined]);
  let psfPart: CutoutParts['psf'] = null;
  if (psf) {
    const stamp = psf.stampAt(x, y, true);
    psfPart = { size: stamp.size, data: stamp.data, fwhm: psf.fwhmAt(x, y) };
  }
  return {
    size,
    image,
    variance,
    mask: maskOr < 1 << 15 ? Int16Array.from(mask) : mask,
    primaryCards,
    unit,
    psf: psfPart,
  };
}

/** The FITS file of a cutout (layout in the module comment). */
export function cutoutFits(parts: CutoutParts): Buffer {
  const { size } = parts;
  const primary = new FitsHeader();
  for (const [key, value, comment] of parts.primaryCards) primary.set(key, value, comment);
  const varianceHeader = new FitsHeader().set('BUNIT', `${parts.unit}**2`, 'variance of the image');
  const maskHeader = new FitsHeader();
  MASK_PLANE_NAMES.forEach((name, bit) => maskHeader.set(`MP_${name}`, bit, `mask bit of ${name}`));
  const hdus: FitsHduInput[] = [
    { data: parts.image, width: size, height: size, header: primary },
    {
      name: 'VARIANCE',
      data: parts.variance,
      width: size,
      height: size,
      header: varianceHeader,
      compress: 'RICE_1',
    },
    { name: 'MASK', data: parts.mask, width: size, height: size, header: maskHeader },
  ];
  if (parts.psf) {
    // A PSF model may not know its FWHM at a point (NaN): the card is left out, as FITS has no NaN.
    const psfHeader = new FitsHeader();
    if (Number.isFinite(parts.psf.fwhm))
      psfHeader.set('PSFFWHM', parts.psf.fwhm, 'PSF FWHM at the source, pixels');
    hdus.push({
      name: 'PSF',
      data: parts.psf.data,
      width: parts.psf.size,
      height: parts.psf.size,
      header: psfHeader,
    });
  }
  const bytes = writeFits(hdus);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
