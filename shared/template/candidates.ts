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
import { TILE_ORDER, tileOf, tilesInCircle } from '../prompt/template-tiles.js';

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
  /** Template tiles (HEALPix order TILE_ORDER, nested) the image covers. */
  tiles: number[];
  /** Per tile (same order), the overlap as a share of the smaller of the tile and the image (tileOverlaps). */
  overlaps: number[];
  /** 'processed', or 'no template' when the image made no alerts for want of one. */
  outcome: CandidateOutcome;
}

export type CandidateOutcome = 'processed' | 'no template';

/**
 * Default of the smallest overlap (tileOverlaps) for which an image counts as a tile's candidate. An
 * image no larger than a tile is shared by about 4 tiles at most, so one of them holds at least a
 * quarter of it: with 1/5 every image counts somewhere, and a detector mostly in a tile counts there,
 * while the slivers it leaves on neighbours (a few percent of it) make no candidates.
 */
export const DEFAULT_MIN_TILE_OVERLAP = 0.2;

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

/** The JSON object of a message payload and readers of its fields, each failing with a CandidateError. */
function payloadFields(data: Buffer, what: string) {
  let raw: unknown;
  try {
    raw = JSON.parse(data.toString('utf8'));
  } catch {
    throw new CandidateError(`${what}: payload is not JSON`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    throw new CandidateError(`${what}: payload is not a JSON object`);
  const m = raw as Record<string, unknown>;
  const fail = (field: string, want: string): never => {
    throw new CandidateError(
      `${what}: ${field} ${JSON.stringify(m[field]) ?? 'missing'} is not ${want}`,
    );
  };
  const text = (field: string): string =>
    typeof m[field] === 'string' && m[field] !== '' ? m[field] : fail(field, 'a non-empty string');
  const band = (): string => {
    const b = text('band');
    return /^[A-Za-z0-9_.-]{1,32}$/.test(b)
      ? b
      : fail('band', 'a band name (letters, digits, _.-)');
  };
  return { m, fail, text, band };
}

/** The candidate in a message payload, or a CandidateError naming the first thing wrong with it. */
export function parseCandidate(data: Buffer, messageId: string): TemplateCandidate {
  const { m, fail, text, band: readBand } = payloadFields(data, `candidate ${messageId}`);
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
  // Absent in the messages of a processImage older than the field: every tile counts, as then.
  const overlaps = m.overlaps ?? (tiles as number[]).map(() => 1);
  if (
    !Array.isArray(overlaps) ||
    overlaps.length !== (tiles as number[]).length ||
    !overlaps.every((f) => typeof f === 'number' && f >= 0 && f <= 1)
  )
    fail('overlaps', 'one number in [0, 1] per tile');
  if (!OUTCOMES.includes(m.outcome as CandidateOutcome))
    fail('outcome', OUTCOMES.map((o) => `'${o}'`).join(' or '));
  const band = readBand();
  const mjd = typeof m.mjd === 'number' && Number.isFinite(m.mjd) ? m.mjd : fail('mjd', 'a number');
  const overlapOf = new Map<number, number>();
  for (const [k, t] of (tiles as number[]).entries())
    overlapOf.set(t, Math.max(overlapOf.get(t) ?? 0, (overlaps as number[])[k]));
  const sorted = [...overlapOf.keys()].sort((a, b) => a - b);
  return {
    name: text('name'),
    generation: text('generation'),
    key: text('key'),
    visit: id('visit'),
    detector: id('detector'),
    band,
    mjd,
    tiles: sorted,
    overlaps: sorted.map((t) => overlapOf.get(t)!),
    outcome: m.outcome as CandidateOutcome,
  };
}

/**
 * The `kind` attribute of a build request on `template-candidates`: payload JSON `{band, tile}`, one
 * tile a delivery, published by templateBuilder for each tile a candidate makes due.
 */
export const BUILD_KIND = 'build';

export interface BuildRequest {
  band: string;
  tile: number;
}

/** The build request in a message payload, or a CandidateError naming the first thing wrong with it. */
export function parseBuildRequest(data: Buffer, messageId: string): BuildRequest {
  const { m, fail, band } = payloadFields(data, `build request ${messageId}`);
  const tile =
    Number.isInteger(m.tile) && (m.tile as number) >= 0 && (m.tile as number) < TILE_COUNT
      ? (m.tile as number)
      : fail('tile', `a tile number in [0, ${TILE_COUNT})`);
  return { band: band(), tile };
}

/** The candidate's identity in a tile: one record however often it is delivered (Firestore document id). */
export function candidateId(c: Pick<TemplateCandidate, 'key' | 'generation'>): string {
  return `${c.key}@${c.generation}`.replace(/\//g, '_');
}

/** Sub-tiles sampled per tile for its fill factor: HEALPix order TILE_ORDER + 5 (1024 equal areas). */
export const FILL_SUB_ORDER = 5;

/** Image pixels sampled per side for the share of the image in each tile (32^2 evenly spread). */
const IMAGE_SAMPLES = 32;

/** Sky positions (degrees) of the centres of tile `tile`'s 4^FILL_SUB_ORDER equal-area sub-pixels. */
function tileSamples(tile: number): { ra: Float64Array; dec: Float64Array } {
  const n = 4 ** FILL_SUB_ORDER;
  const nside = order2nside(TILE_ORDER + FILL_SUB_ORDER);
  const ra = new Float64Array(n);
  const dec = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const { theta, phi } = pix2ang_nest(nside, tile * n + i);
    ra[i] = (phi * 180) / Math.PI;
    dec[i] = 90 - (theta * 180) / Math.PI;
  }
  return { ra, dec };
}

/** A tile an image overlaps, and the overlap as a share of the smaller of the two areas. */
export interface TileOverlap {
  tile: number;
  overlap: number;
}

/**
 * The tiles an image with a WCS overlaps, with the overlap as a share of the smaller of the tile and
 * the image: the larger of the share of the image's pixels in the tile (32^2 samples) and the share of
 * the tile's equal-area sub-pixels on the image. A detector lying wholly in a tile has 1, however
 * small against it; a sliver on a neighbour, a few percent. Tiles the image misses are left out.
 */
export function tileOverlaps(exposure: Exposure): TileOverlap[] {
  const { wcs, width, height } = exposure;
  if (!wcs) return [];
  const { cone } = detectorFootprint(wcs, width, height);
  const n = IMAGE_SAMPLES * IMAGE_SAMPLES;
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    x[k] = (((k % IMAGE_SAMPLES) + 0.5) * width) / IMAGE_SAMPLES - 0.5;
    y[k] = ((Math.floor(k / IMAGE_SAMPLES) + 0.5) * height) / IMAGE_SAMPLES - 0.5;
  }
  const sky = wcs.pixelToSky({ x, y });
  const inImage = new Map<number, number>();
  for (let k = 0; k < n; k++) {
    const t = tileOf(sky.ra[k], sky.dec[k]);
    inImage.set(t, (inImage.get(t) ?? 0) + 1);
  }
  const out: TileOverlap[] = [];
  for (const tile of tilesInCircle({ center: [cone.ra, cone.dec], radiusDeg: cone.radiusDeg })) {
    const p = wcs.skyToPixel(tileSamples(tile));
    let on = 0;
    for (let i = 0; i < p.x.length; i++)
      if (p.x[i] >= -0.5 && p.x[i] < width - 0.5 && p.y[i] >= -0.5 && p.y[i] < height - 0.5) on++;
    const overlap = Math.max((inImage.get(tile) ?? 0) / n, on / p.x.length);
    if (overlap > 0) out.push({ tile, overlap });
  }
  return out;
}

/**
 * Fraction of tile `tile`'s area that `template` covers with data: the share of the tile's equal-area
 * HEALPix sub-pixels (order TILE_ORDER + FILL_SUB_ORDER) whose centre falls on a pixel without NO_DATA
 * (the WCS is in the parent's pixels, as views keep it).
 */
export function tileFillFactor(template: Exposure, tile: number): number {
  const wcs = template.wcs;
  if (!wcs) return 0;
  const n = 4 ** FILL_SUB_ORDER;
  const { x, y } = wcs.skyToPixel(tileSamples(tile));
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
