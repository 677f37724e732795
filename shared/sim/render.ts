/**
 * Draws the light of the field into one image's pixel grid: sky, stars, galaxies, and (in the
 * science visits) transients, variable-star changes, asteroids and satellite streaks.
 * Each source is drawn only within its own stamp; sky positions are mapped to pixels once per
 * source through the image's WCS.
 */
import { simPrediction } from './asteroids.js';
import { variableMag, transientMag, type SkyField } from './field.js';
import { addMoffat, moffatRadius, type MoffatShape } from './moffat.js';
import type { ImageSpec, Streak } from './plan.js';
import { addSersic, galaxyForm } from './sersic.js';

/** Flux in ADU of an AB magnitude in an image with zero point zp. */
export function magToAdu(mag: number, zp: number): number {
  return Math.pow(10, -0.4 * (mag - zp));
}

/**
 * Stars are drawn out to where they add less than this fraction of sqrt(sky in ADU) per pixel
 * (the sky noise is sqrt(sky / gain), within a factor 1.5 of it).
 */
const STAR_EDGE_FRACTION = 0.005;
/** Galaxies are cut where their surface brightness falls below this fraction of sqrt(sky in ADU). */
const GALAXY_EDGE_FRACTION = 0.01;
/** Largest drawing radius of a bright star, pixels. */
const MAX_STAR_RADIUS = 256;
/** Steps per pixel along an asteroid's trail. */
const TRAIL_STEPS_PER_PIXEL = 2;

/** A point source placed in an image: where, how bright (ADU) and the sky position it came from. */
export interface PlacedSource {
  kind: 'transient' | 'variable' | 'moving';
  id: number;
  x: number;
  y: number;
  ra: number;
  dec: number;
  flux: number;
  /** Host galaxy id (transients), else -1. */
  hostId: number;
}

/** The sky background of an image, ADU. */
export function skyBackground(spec: ImageSpec, size: number): Float32Array {
  const out = new Float32Array(size * size);
  const half = (size - 1) / 2;
  for (let y = 0; y < size; y++) {
    const v = (y - half) / half;
    for (let x = 0; x < size; x++) {
      const u = (x - half) / half;
      out[y * size + x] = spec.skyAdu * (1 + spec.skyGradU * u + spec.skyGradV * v);
    }
  }
  return out;
}

function addPoint(
  light: Float32Array,
  size: number,
  spec: Pick<ImageSpec, 'psf' | 'skyAdu'>,
  x: number,
  y: number,
  flux: number,
  minRadius: number,
): void {
  if (!(flux > 0)) return;
  const shape: MoffatShape = spec.psf.shapeAt(x, y);
  const radius = Math.max(
    minRadius,
    moffatRadius(shape, flux, STAR_EDGE_FRACTION * Math.sqrt(spec.skyAdu), MAX_STAR_RADIUS),
  );
  if (x < -radius || y < -radius || x > size - 1 + radius || y > size - 1 + radius) return;
  addMoffat(light, size, size, x, y, shape, flux, radius);
}

/**
 * Adds the static sky's stars and galaxies whose catalogue index has the given parity (0 even,
 * 1 odd) to `target`: the two halves can be drawn on two threads and summed, with the same
 * floating-point result either way.
 */
export function renderStaticHalf(
  field: SkyField,
  spec: ImageSpec,
  size: number,
  target: Float32Array,
  parity: 0 | 1,
): void {
  const zp = spec.zeroPoint;
  const stampHalf = (spec.psf.stampSize - 1) / 2;
  const stars = spec.wcs.skyToPixel({ ra: field.stars.ra, dec: field.stars.dec });
  for (let i = parity; i < field.stars.mag.length; i += 2) {
    addPoint(target, size, spec, stars.x[i], stars.y[i], magToAdu(field.stars.mag[i], zp), 0);
  }
  const half = field.galaxies.filter((_, i) => i % 2 === parity);
  const pixels = spec.wcs.skyToPixel({
    ra: Float64Array.from(half, (g) => g.ra),
    dec: Float64Array.from(half, (g) => g.dec),
  });
  half.forEach((g, i) => {
    const x = pixels.x[i];
    const y = pixels.y[i];
    if (x < -200 || y < -200 || x > size + 200 || y > size + 200) return;
    const form = galaxyForm(spec.wcs.jacobian(x, y).matrix, g.reArcsec, g.axisRatio, g.paDeg);
    addSersic(
      target,
      size,
      size,
      { x, y, flux: magToAdu(g.mag, zp), sersicN: g.sersicN, ...form },
      spec.psf.shapeAt(x, y),
      stampHalf,
      GALAXY_EDGE_FRACTION * Math.sqrt(spec.skyAdu),
    );
  });
}

/**
 * Renders the light (ADU, without sky) of the field in one image except the odd half of the
 * static sky (see renderStaticHalf; the caller adds it); returns it with the list of changing
 * point sources drawn (for the truth table).
 */
export function renderLightExceptOddHalf(
  field: SkyField,
  spec: ImageSpec,
  size: number,
): { light: Float32Array; placed: PlacedSource[] } {
  const light = new Float32Array(size * size);
  const zp = spec.zeroPoint;
  const stampHalf = (spec.psf.stampSize - 1) / 2;
  renderStaticHalf(field, spec, size, light, 0);

  const placed: PlacedSource[] = [];
  const place = (
    kind: PlacedSource['kind'],
    id: number,
    ra: number,
    dec: number,
    flux: number,
    hostId: number,
  ): PlacedSource => {
    const p = spec.wcs.skyToPixel({ ra: Float64Array.of(ra), dec: Float64Array.of(dec) });
    const source = { kind, id, x: p.x[0], y: p.y[0], ra, dec, flux, hostId };
    if (source.x >= 0 && source.y >= 0 && source.x <= size - 1 && source.y <= size - 1)
      placed.push(source);
    return source;
  };

  for (const v of field.variables) {
    const s = place('variable', v.id, v.ra, v.dec, magToAdu(variableMag(v, spec.mjd), zp), -1);
    addPoint(light, size, spec, s.x, s.y, s.flux, stampHalf);
  }
  if (spec.isTemplate) return { light, placed };

  for (const t of field.transients) {
    const s = place(
      'transient',
      t.id,
      t.ra,
      t.dec,
      magToAdu(transientMag(t, spec.mjd), zp),
      t.hostId,
    );
    addPoint(light, size, spec, s.x, s.y, s.flux, stampHalf);
  }

  for (const m of field.moving) {
    const flux = magToAdu(simPrediction(m.orbit, spec.mjd).vMag, zp);
    const track = (dtDays: number): [number, number] => {
      const p = simPrediction(m.orbit, spec.mjd + dtDays);
      return [p.ra, p.dec];
    };
    const [ra, dec] = track(0);
    const mid = place('moving', m.id, ra, dec, flux, -1);
    const halfExp = spec.exposureTime / 2 / 86400;
    const ends = [track(-halfExp), track(halfExp)];
    const endPix = spec.wcs.skyToPixel({
      ra: Float64Array.from(ends, (e) => e[0]),
      dec: Float64Array.from(ends, (e) => e[1]),
    });
    // The ends straddle the midpoint: centre the segment on it (the orbit is straight over 30 s).
    const hx = (endPix.x[1] - endPix.x[0]) / 2;
    const hy = (endPix.y[1] - endPix.y[0]) / 2;
    addTrail(
      light,
      size,
      spec,
      [mid.x - hx, mid.y - hy],
      [mid.x + hx, mid.y + hy],
      flux,
      stampHalf,
    );
  }

  if (spec.streak) addStreak(light, size, spec, spec.streak);
  return { light, placed };
}

/**
 * A moving object's trail: its PSF convolved with the segment it crosses during the exposure
 * (the trailed-source model of Veres et al. 2012, PASP 124, 1197), drawn as PSFs at the midpoints
 * of TRAIL_STEPS_PER_PIXEL equal sub-segments per pixel, each with an equal share of the flux (a
 * point source when the segment is shorter than a step).
 */
export function addTrail(
  light: Float32Array,
  size: number,
  spec: Pick<ImageSpec, 'psf' | 'skyAdu'>,
  from: readonly [number, number],
  to: readonly [number, number],
  flux: number,
  minRadius: number,
): void {
  const length = Math.hypot(to[0] - from[0], to[1] - from[1]);
  const steps = Math.max(1, Math.ceil(length * TRAIL_STEPS_PER_PIXEL));
  for (let k = 0; k < steps; k++) {
    const f = (k + 0.5) / steps;
    const x = from[0] + f * (to[0] - from[0]);
    const y = from[1] + f * (to[1] - from[1]);
    addPoint(light, size, spec, x, y, flux / steps, minRadius);
  }
}

/**
 * A satellite trail: the Moffat's line-spread function (1 + d^2/alpha^2)^(1/2 - beta) across the
 * line (the PSF integrated along it), normalised numerically, times the flux per unit length.
 */
export function addStreak(
  light: Float32Array,
  size: number,
  spec: ImageSpec,
  streak: Streak,
): void {
  const shape = spec.psf.shapeAt((size - 1) / 2, (size - 1) / 2);
  const { alpha, beta } = shape;
  const reach = Math.ceil(6 * alpha);
  let norm = 0;
  const step = 0.01;
  for (let d = -reach; d <= reach; d += step)
    norm += Math.pow(1 + (d * d) / (alpha * alpha), 0.5 - beta) * step;
  const amp = streak.fluxPerPixel / norm;
  const cos = Math.cos(streak.angle);
  const sin = Math.sin(streak.angle);
  const alongX = Math.abs(cos) >= Math.abs(sin);
  for (let t = 0; t < size; t++) {
    // Walk the major axis of the line; cover +-reach across it.
    const centre = alongX
      ? streak.y + ((t - streak.x) * sin) / cos
      : streak.x + ((t - streak.y) * cos) / sin;
    const span = Math.ceil(reach / (alongX ? Math.abs(cos) : Math.abs(sin)));
    const lo = Math.max(0, Math.floor(centre) - span);
    const hi = Math.min(size - 1, Math.ceil(centre) + span);
    for (let s = lo; s <= hi; s++) {
      const x = alongX ? t : s;
      const y = alongX ? s : t;
      const d = (x - streak.x) * sin - (y - streak.y) * cos;
      if (Math.abs(d) > reach) continue;
      light[y * size + x] += amp * Math.pow(1 + (d * d) / (alpha * alpha), 0.5 - beta);
    }
  }
}

/** Length of the streak inside the image and its point nearest the image centre. */
export function streakGeometry(
  streak: Streak,
  size: number,
): { length: number; x: number; y: number } {
  const c = (size - 1) / 2;
  const cos = Math.cos(streak.angle);
  const sin = Math.sin(streak.angle);
  const t = (c - streak.x) * cos + (c - streak.y) * sin;
  // Clip the infinite line to the square [0, size-1]^2 (Liang-Barsky).
  let t0 = -Infinity;
  let t1 = Infinity;
  for (const [p, d] of [
    [streak.x, cos],
    [streak.y, sin],
  ]) {
    if (Math.abs(d) < 1e-12) continue;
    const a = (0 - p) / d;
    const b = (size - 1 - p) / d;
    t0 = Math.max(t0, Math.min(a, b));
    t1 = Math.min(t1, Math.max(a, b));
  }
  return { length: Math.max(0, t1 - t0), x: streak.x + t * cos, y: streak.y + t * sin };
}
