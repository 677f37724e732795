import type { Wcs } from './types.js';
import type { Matrix2 } from './matrix.js';
import type { SipPolynomial } from './polynomial.js';
import { TanWcs, type TanWcsParams } from './tangent-wcs.js';
import { SipWcs } from './sip.js';
import { TpvWcs, TPV_TERMS } from './tpv.js';

/** Anything with FITS-header lookup, e.g. a shared/fits HDU header. */
export interface HeaderLike {
  get(key: string): string | number | boolean | null | undefined;
}

function numberCard(header: HeaderLike, key: string): number | undefined {
  const v = header.get(key);
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v.trim()) : v;
  if (typeof n !== 'number' || !Number.isFinite(n))
    throw new Error(`WCS card ${key} = ${JSON.stringify(v)} is not a finite number`);
  return n;
}

function requiredNumber(header: HeaderLike, key: string): number {
  const n = numberCard(header, key);
  if (n === undefined) throw new Error(`celestial WCS lacks ${key}`);
  return n;
}

function stringCard(header: HeaderLike, key: string): string | undefined {
  const v = header.get(key);
  return typeof v === 'string' ? v.trim().toUpperCase() : undefined;
}

/**
 * The linear part: CD if any CDi_j is present, else PCi_j x CDELTi, else CDELTi with CROTA2
 * (the AIPS convention, translated as in Calabretta & Greisen 2002, A&A 395, 1077, sect. 6.1).
 */
function cdFromHeader(header: HeaderLike): Matrix2 {
  const cdKeys = ['CD1_1', 'CD1_2', 'CD2_1', 'CD2_2'];
  const cd = cdKeys.map((k) => numberCard(header, k));
  if (cd.some((v) => v !== undefined)) {
    const [a, b, c, d] = cd.map((v) => v ?? 0);
    return [
      [a, b],
      [c, d],
    ];
  }
  const cdelt1 = numberCard(header, 'CDELT1');
  const cdelt2 = numberCard(header, 'CDELT2');
  if (cdelt1 === undefined || cdelt2 === undefined)
    throw new Error('celestial WCS has neither a CD matrix nor CDELT1/CDELT2');
  const pc = ['PC1_1', 'PC1_2', 'PC2_1', 'PC2_2'].map((k) => numberCard(header, k));
  if (pc.some((v) => v !== undefined)) {
    const [p11, p12, p21, p22] = pc.map((v, i) => v ?? (i === 0 || i === 3 ? 1 : 0));
    return [
      [cdelt1 * p11, cdelt1 * p12],
      [cdelt2 * p21, cdelt2 * p22],
    ];
  }
  const rho = ((numberCard(header, 'CROTA2') ?? numberCard(header, 'CROTA1') ?? 0) * Math.PI) / 180;
  return [
    [cdelt1 * Math.cos(rho), -cdelt2 * Math.sin(rho)],
    [cdelt1 * Math.sin(rho), cdelt2 * Math.cos(rho)],
  ];
}

/** Coefficients NAME_p_q with p + q <= order, as a 'p_q' record. */
function sipBlock(header: HeaderLike, name: string, order: number): SipPolynomial {
  const out: Record<string, number> = {};
  for (let p = 0; p <= order; p++) {
    for (let q = 0; p + q <= order; q++) {
      const c = numberCard(header, `${name}_${p}_${q}`);
      if (c !== undefined) out[`${p}_${q}`] = c;
    }
  }
  return out;
}

function sipFromHeader(header: HeaderLike, tan: TanWcsParams): SipWcs {
  const aOrder = numberCard(header, 'A_ORDER');
  const bOrder = numberCard(header, 'B_ORDER');
  if (aOrder === undefined || bOrder === undefined)
    throw new Error('TAN-SIP WCS lacks A_ORDER/B_ORDER');
  const order = Math.max(aOrder, bOrder);
  const apOrder = numberCard(header, 'AP_ORDER');
  const bpOrder = numberCard(header, 'BP_ORDER');
  const hasInverse = apOrder !== undefined && bpOrder !== undefined;
  return new SipWcs({
    ...tan,
    order,
    a: sipBlock(header, 'A', aOrder),
    b: sipBlock(header, 'B', bOrder),
    ...(hasInverse
      ? { ap: sipBlock(header, 'AP', apOrder), bp: sipBlock(header, 'BP', bpOrder) }
      : {}),
  });
}

function tpvFromHeader(header: HeaderLike, tan: TanWcsParams): TpvWcs {
  const read = (axis: number) =>
    Array.from({ length: TPV_TERMS }, (_, k) => numberCard(header, `PV${axis}_${k}`));
  return new TpvWcs({ ...tan, pv1: read(1), pv2: read(2) });
}

/**
 * The celestial WCS of a FITS header (primary description, CTYPE1 = RA---xxx, CTYPE2 = DEC--xxx),
 * or null when the header has none. Supports TAN, TAN-SIP and TPV with a CD matrix, PC + CDELT
 * or CDELT + CROTA2. Throws an Error naming the problem for a celestial WCS it cannot use
 * (another projection, swapped or galactic axes, a singular matrix, missing cards).
 * @example
 *   const wcs = wcsFromHeader(hdu.header); // TanWcs | SipWcs | TpvWcs | null
 */
export function wcsFromHeader(header: HeaderLike): Wcs | null {
  const ctype1 = stringCard(header, 'CTYPE1') ?? '';
  const ctype2 = stringCard(header, 'CTYPE2') ?? '';
  const celestial = /^(RA--|DEC-|GLON|GLAT|ELON|ELAT)/;
  if (!celestial.test(ctype1) && !celestial.test(ctype2)) return null;
  if (!ctype1.startsWith('RA---') || !ctype2.startsWith('DEC--')) {
    throw new Error(
      `unsupported celestial axes CTYPE1='${ctype1}', CTYPE2='${ctype2}' (need RA---xxx, DEC--xxx)`,
    );
  }
  const projection = ctype1.slice(5);
  if (ctype2.slice(5) !== projection)
    throw new Error(`CTYPE1 '${ctype1}' and CTYPE2 '${ctype2}' disagree on the projection`);
  for (const key of ['CUNIT1', 'CUNIT2']) {
    const unit = stringCard(header, key);
    if (unit !== undefined && unit !== '' && unit !== 'DEG')
      throw new Error(`${key} = '${unit}'; only degrees are supported`);
  }
  const tan: TanWcsParams = {
    crpix: [requiredNumber(header, 'CRPIX1') - 1, requiredNumber(header, 'CRPIX2') - 1],
    crval: [requiredNumber(header, 'CRVAL1'), requiredNumber(header, 'CRVAL2')],
    cd: cdFromHeader(header),
    lonpole: numberCard(header, 'LONPOLE') ?? 180,
  };
  switch (projection) {
    case 'TAN':
      return new TanWcs(tan);
    case 'TAN-SIP':
      return sipFromHeader(header, tan);
    case 'TPV':
      return tpvFromHeader(header, tan);
    default:
      throw new Error(
        `unsupported projection '${projection}' in CTYPE1='${ctype1}' (supported: TAN, TAN-SIP, TPV)`,
      );
  }
}
