/**
 * Per-image preprocessing, separable from the rest of the pipeline so that a preload step can
 * prepare a template (characterize it once and cache it) before the science image arrives.
 *
 * Preparing an image checks that it holds data, then characterizes it in place
 * (shared/characterize: NO_DATA/SAT/CR masks, variance derived when absent, background
 * subtracted, PSF model set as exposure.psf).
 * @example
 *   const template = prepareTemplate(readExposure(bytes, 'template.fits'));   // at preload
 *   ... later, per science image:
 *   await processDetector({ science, template, apdb }, config);
 */
import {
  characterizeImage,
  type CharacterizeOverrides,
  type CharacterizeResult,
} from '../characterize/characterize.js';
import { characterizeTemplate } from '../diffim/pipeline.js';
import type { AstromSource } from '../astrom/register.js';
import type { Exposure } from '../image/exposure.js';
import { DEFAULT_PIPELINE_CONFIG } from './config.js';
import { PipelineInputError, type InputRole } from './errors.js';

/** An image characterized and ready to be warped or subtracted. */
export interface PreparedImage {
  readonly kind: 'prepared';
  /** The exposure, updated in place: background subtracted, variance and mask filled, psf set. */
  exposure: Exposure;
  /** FWHM of its PSF model at the image centre, px. */
  psfFwhmPx: number;
  /** Wall time of the preparation, ms (0 for an image read back prepared). */
  timingMs: number;
  /**
   * Its stars for the registration (shared/astrom findSources), when known: a prepared file keeps
   * them (prepared-io.ts), so that the pair's registration does not find them again.
   */
  stars?: AstromSource[];
}

/** A prepared image with everything its characterization measured (prepared in this process). */
export interface CharacterizedImage extends PreparedImage {
  characterization: CharacterizeResult;
}

/** True for the result of prepareTemplate / prepareScience. */
export function isPrepared(value: Exposure | PreparedImage): value is PreparedImage {
  return (value as PreparedImage).kind === 'prepared';
}

/** Throws PipelineInputError when the image has no pixels, or no finite pixel at all. */
export function checkImageData(exposure: Exposure, role: InputRole): void {
  const { width, height } = exposure;
  if (width === 0 || height === 0)
    throw new PipelineInputError(role, `${role} image is empty (${width}x${height} pixels)`);
  for (let y = 0; y < height; y++) {
    const row = exposure.image.row(y);
    for (let x = 0; x < width; x++) if (Number.isFinite(row[x])) return;
  }
  throw new PipelineInputError(role, `${role} image has no finite pixel (all NaN or infinite)`);
}

function prepared(
  exposure: Exposure,
  role: InputRole,
  characterization: CharacterizeResult,
  start: number,
): CharacterizedImage {
  if (characterization.psf.nStars === 0) {
    throw new PipelineInputError(
      role,
      `${role} image has no star to measure its PSF on (blank, clouded or unfocused?)`,
    );
  }
  return {
    kind: 'prepared',
    exposure,
    psfFwhmPx: characterization.psf.fwhmPx,
    characterization,
    timingMs: performance.now() - start,
  };
}

function prepare(
  exposure: Exposure,
  role: InputRole,
  overrides: CharacterizeOverrides,
): CharacterizedImage {
  checkImageData(exposure, role);
  const start = performance.now();
  return prepared(exposure, role, characterizeImage(exposure, overrides), start);
}

/** Checks and characterizes a science image (in place); an image without a single PSF star is an input error. */
export function prepareScience(
  exposure: Exposure,
  overrides: CharacterizeOverrides = DEFAULT_PIPELINE_CONFIG.characterize,
): CharacterizedImage {
  return prepare(exposure, 'science', overrides);
}

/**
 * Checks and characterizes a template (in place) once, for any number of science images: the
 * pipeline warps a prepared template without changing it. Its characterization is the one the
 * pair's orchestration makes (diffim/pipeline.ts characterizeTemplate: with its blank-sky noise
 * correlation, templates being often resampled coadds).
 */
export function prepareTemplate(
  exposure: Exposure,
  overrides: CharacterizeOverrides = DEFAULT_PIPELINE_CONFIG.characterize,
): CharacterizedImage {
  checkImageData(exposure, 'template');
  const start = performance.now();
  return prepared(exposure, 'template', characterizeTemplate(exposure, overrides), start);
}
