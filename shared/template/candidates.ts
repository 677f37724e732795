/**
 * Incremental templates (issue 16): every processed visit is a template candidate for the sky tiles
 * it covers; a tile and band is built once enough candidates are recorded, then frozen until a
 * release (Rubin's rule that templates stay fixed within a data release, so light curves keep one
 * baseline). This file is the cloud-free part: the candidate message, its validation with a reason,
 * the tiles an image covers, and the fill factor of a tile.
 */
import { order2nside, pix2ang_nest } from '@hscmap/healpix';
import { detectorFootprint } from '../association/associate.js';
import type { Exposure } from '../image/exposure.js';
import { MaskPlane } from '../image/mask.js';
import { TILE_ORDER, tilesInCircle } from '../prompt/template-tiles.js';

/** What processImage publishes on `template-candidates` for one processed (or template-less) image. */
export interface TemplateCandidate {
  /** The raw image: bucket object name and generation. */
  name: string;
  generation: string;
  /** Processing key of the image (`{instrument}_{group}_{detector}`). */
  key: string;
  visit: number;
  detector: number;
  band: string;
  /** Exposure midpoint, MJD TAI. */
  mjd: number;
  /** Template tiles (HEALPix order TILE_ORDER, nested) the image may cover. */
  tiles: number[];
  /** 'processed', or 'no template' when the image made no alerts for want of one. */
  outcome: CandidateOutcome;
}

export type CandidateOutcome = 'processed' | 'no template';

/** A candidate message that cannot be recorded: it goes to the dead-letter topic with this reason. */
export class CandidateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CandidateError';
  }
}

/** Tiles of order TILE_ORDER: 12 * 4^order. */
export const TILE_COUNT = 12 * order2nside(TILE_ORDER) ** 2;

/** Most tiles one candidate may name (a 4k detector touches ~4; the preload bounds footprints at 1024). */
export const MAX_CANDIDATE_TILES = 1024;

const OUTCOMES: readonly CandidateOutcome[] = ['processed', 'no template'];

/** The candidate in a message payload, or a CandidateError naming the first thing wrong with it. */
export function parseCandidate(data: Buffer, messageId: string): TemplateCandidate {
  let raw: unknown;
  try {
    raw = JSON.parse(data.toString('utf8'));
  } catch {
    throw new CandidateError(`candidate ${messageId}: payload is not JSON`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    throw new CandidateError(`candidate ${messageId}: payload is not a JSON object`);
  const m = raw as Record<string, unknown>;
  const fail = (field: string, want: string): never => {
    throw new CandidateError(
      `candidate ${messageId}: ${field} ${JSON.stringify(m[field]) ?? 'missing'} is not ${want}`,
    );
  };
  const text = (field: string): string =>
    typeof m[field] === 'string' && m[field] !== '' ? m[field] : fail(field, 'a non-empty string');
  const id = (field: string): number =>
    Number.isSafeInteger(m[field]) && (m[field] as number) >= 0
      ? (m[field] as number)
      : fail(field, 'a non-negative integer');
  const tiles = m.tiles;
  if (
    !Array.isArray(tiles) ||
    tiles.length === 0 ||
    tiles.length > MAX_CANDIDATE_TILES ||
    !tiles.every((t) => Number.isInteger(t) && t >= 0 && t < TILE_COUNT)
  )
    fail('tiles', `1-${MAX_CANDIDATE_TILES} tile numbers in [0, ${TILE_COUNT})`);
  if (!OUTCOMES.includes(m.outcome as CandidateOutcome))
    fail('outcome', OUTCOMES.map((o) => `'${o}'`).join(' or '));
  const band = text('band');
  if (!/^[A-Za-z0-9_.-]{1,32}$/.test(band)) fail('band', 'a band name (letters, digits, _.-)');
  const mjd = typeof m.mjd === 'number' && Number.isFinite(m.mjd) ? m.mjd : fail('mjd', 'a number');
  return {
    name: text('name'),
    generation: text('generation'),
    key: text('key'),
    visit: id('visit'),
    detector: id('detector'),
    band,
    mjd,
    tiles: [...new Set(tiles as number[])].sort((a, b) => a - b),
    outcome: m.outcome as CandidateOutcome,
  };
}

/** The candidate's identity in a tile: one record however often it is delivered (Firestore document id). */
export function candidateId(c: Pick<TemplateCandidate, 'key' | 'generation'>): string {
  return `${c.key}@${c.generation}`.replace(/\//g, '_');
}

/** The tiles an image with a WCS may cover (those touching the circle around its footprint). */
export function candidateTiles(exposure: Exposure): number[] {
  if (!exposure.wcs) return [];
  const { cone } = detectorFootprint(exposure.wcs, exposure.width, exposure.height);
  return tilesInCircle({ center: [cone.ra, cone.dec], radiusDeg: cone.radiusDeg });
}

/** Sub-tiles sampled per tile for its fill factor: HEALPix order TILE_ORDER + 5 (1024 equal areas). */
export const FILL_SUB_ORDER = 5;

/**
 * Fraction of tile `tile`'s area that `template` covers with data: the share of the tile's equal-area
 * HEALPix sub-pixels (order TILE_ORDER + FILL_SUB_ORDER) whose centre falls on a pixel without NO_DATA
 * (the WCS is in the parent's pixels, as views keep it).
 */
export function tileFillFactor(template: Exposure, tile: number): number {
  const wcs = template.wcs;
  if (!wcs) return 0;
  const n = 4 ** FILL_SUB_ORDER;
  const nside = order2nside(TILE_ORDER + FILL_SUB_ORDER);
  const ra = new Float64Array(n);
  const dec = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const { theta, phi } = pix2ang_nest(nside, tile * n + i);
    ra[i] = (phi * 180) / Math.PI;
    dec[i] = 90 - (theta * 180) / Math.PI;
  }
  const { x, y } = wcs.skyToPixel({ ra, dec });
  let covered = 0;
  for (let i = 0; i < n; i++) {
    const px = Math.round(x[i]) - template.image.x0;
    const py = Math.round(y[i]) - template.image.y0;
    if (px < 0 || py < 0 || px >= template.width || py >= template.height) continue;
    if (!(template.mask.get(px, py) & MaskPlane.NO_DATA)) covered++;
  }
  return covered / n;
}

/** Per band: tiles with candidates, tiles frozen, and the mean fill factor over the tiles with candidates. */
export interface BandFill {
  band: string;
  tiles: number;
  frozen: number;
  fillFactor: number;
}

export function fillByBand(
  tiles: ReadonlyArray<{ band: string; state: string; fillFactor: number }>,
): BandFill[] {
  const bands = new Map<string, BandFill>();
  for (const t of tiles) {
    const b = bands.get(t.band) ?? { band: t.band, tiles: 0, frozen: 0, fillFactor: 0 };
    b.tiles++;
    if (t.state === 'frozen') {
      b.frozen++;
      b.fillFactor += t.fillFactor;
    }
    bands.set(t.band, b);
  }
  return [...bands.values()]
    .map((b) => ({ ...b, fillFactor: b.tiles ? b.fillFactor / b.tiles : 0 }))
    .sort((a, b) => a.band.localeCompare(b.band));
}
