/**
 * PSF models as the pixels and cards of a FITS image extension, so that a characterized image can
 * be stored with its PSF and read back unchanged (a template prepared at preload, for example).
 *
 * Cards: PSFMODEL = 'PIXEL' (the PSFEx-like PixelPsf: PSFSIZE, PSFDEG, PSFFRMW/PSFFRMH the frame
 * its polynomial is normalised on; pixels = its basis images stacked vertically, float64) or
 * 'GAUSSIAN' (PSFIXX/PSFIYY/PSFIXY second moments in px^2, PSFSIZE; no pixels). PSFX0/PSFY0 give
 * the origin of the model's own pixels in the frame it is evaluated in (an OffsetPsf), 0 if none.
 * @example
 *   const hdu = psfToHdu(exposure.psf);
 *   const same = psfFromHdu((k) => cards.get(k), hdu.data, hdu.width, hdu.height);
 */
import { GaussianPsf } from './gaussian-psf.js';
import { OffsetPsf } from './offset-psf.js';
import { PixelPsf, polyTerms } from './pixel-psf.js';
import type { Psf } from './types.js';

export interface PsfHdu {
  /** Row-major pixels (null when the model is analytic). */
  data: Float64Array | null;
  width: number;
  height: number;
  cards: Array<[string, string | number]>;
}

/** Header values by keyword, as any FITS reader can provide them. */
export type PsfHeaderLookup = (keyword: string) => string | number | boolean | undefined;

/** The extension holding `psf`; throws for model kinds that have no stored form. */
export function psfToHdu(psf: Psf): PsfHdu {
  const offset = psf instanceof OffsetPsf ? psf : null;
  const model = offset ? offset.local : psf;
  const origin: Array<[string, number]> = [
    ['PSFX0', offset?.x0 ?? 0],
    ['PSFY0', offset?.y0 ?? 0],
  ];
  if (model instanceof PixelPsf) {
    const size = model.stampSize;
    return {
      data: model.basis,
      width: size,
      height: size * model.terms.length,
      cards: [
        ['PSFMODEL', 'PIXEL'],
        ['PSFSIZE', size],
        ['PSFDEG', model.degree],
        ['PSFFRMW', model.frame.width],
        ['PSFFRMH', model.frame.height],
        ...origin,
      ],
    };
  }
  if (model instanceof GaussianPsf) {
    return {
      data: null,
      width: 0,
      height: 0,
      cards: [
        ['PSFMODEL', 'GAUSSIAN'],
        ['PSFSIZE', model.stampSize],
        ['PSFIXX', model.ixx],
        ['PSFIYY', model.iyy],
        ['PSFIXY', model.ixy],
        ...origin,
      ],
    };
  }
  throw new TypeError(`psfToHdu: no stored form for a ${model.constructor.name}`);
}

/** The number a PSF extension's card holds; throws Error('PSF extension: missing or bad <keyword>'). */
export function psfCardNumber(get: PsfHeaderLookup, keyword: string): number {
  const v = get(keyword);
  const n = typeof v === 'number' ? v : Number(v);
  if (v === undefined || !Number.isFinite(n))
    throw new Error(`PSF extension: missing or bad ${keyword}`);
  return n;
}

/** The PSF of an extension written by psfToHdu; throws Error('PSF extension: ...') when it is malformed. */
export function psfFromHdu(
  get: PsfHeaderLookup,
  data: ArrayLike<number> | null,
  width: number,
  height: number,
): Psf {
  const num = (k: string): number => psfCardNumber(get, k);
  const kind = get('PSFMODEL');
  const size = num('PSFSIZE');
  let model: Psf;
  if (kind === 'PIXEL') {
    const degree = num('PSFDEG');
    const nTerms = polyTerms(degree).length;
    if (!data || width !== size || height !== size * nTerms || data.length !== width * height) {
      throw new Error(
        `PSF extension: ${width}x${height} pixels for ${nTerms} basis images of ${size}x${size}`,
      );
    }
    model = new PixelPsf(size, degree, Float64Array.from(data), {
      width: num('PSFFRMW'),
      height: num('PSFFRMH'),
    });
  } else if (kind === 'GAUSSIAN') {
    model = new GaussianPsf(num('PSFIXX'), num('PSFIYY'), num('PSFIXY'), size);
  } else {
    throw new Error(`PSF extension: unknown PSFMODEL ${String(kind)}`);
  }
  const x0 = num('PSFX0');
  const y0 = num('PSFY0');
  return x0 !== 0 || y0 !== 0 ? new OffsetPsf(model, x0, y0) : model;
}
