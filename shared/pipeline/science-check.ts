/**
 * What can be refused about a science image alone, before any template is looked for: its ids,
 * the sizes its header implies, its observation time, its pixels. processDetector runs these
 * first; the Cloud Function runs them (and a characterization) when no template covers the image
 * yet, so a bad image is dead-lettered with its reason instead of being parked as "no template".
 */
import { DETECTOR_BITS, VISIT_BITS } from '../apdb/ids.js';
import { characterizeImage, type CharacterizeOverrides } from '../characterize/characterize.js';
import type { FitsHeader } from '../fits/header.js';
import type { Exposure } from '../image/exposure.js';
import { DETECTOR_KEYS, VISIT_KEYS } from '../image/identity.js';
import { PipelineInputError } from './errors.js';
import { checkLimits, type LimitsConfig } from './limits.js';
import type { PipelineLogger } from './log.js';
import { checkImageData } from './preprocess.js';

/** The science image and the ids a caller may impose on it (processDetector's DetectorInputs). */
export interface ScienceInputs {
  science: Exposure;
  scienceHeader?: FitsHeader | null;
  visit?: number;
  detector?: number;
}

/** Visit and detector ids from the inputs, else the image's identity (shared/image/identity.ts), with a warning when derived. */
function resolveIds(
  inputs: ScienceInputs,
  log: PipelineLogger,
): { visit: number; detector: number } {
  const info = inputs.science.info;
  const header = inputs.scienceHeader;
  const fromHeader = (keys: readonly string[]): boolean =>
    header == null || keys.some((k) => header.has(k));
  const visit = inputs.visit ?? info.visit;
  const detector = inputs.detector ?? info.detector;
  const visitSource = info.visitSource ?? (fromHeader(VISIT_KEYS) ? 'header' : 'default');
  const detectorSource = info.detectorSource ?? (fromHeader(DETECTOR_KEYS) ? 'header' : 'default');
  if (inputs.visit === undefined && visitSource !== 'header')
    log({
      severity: 'WARNING',
      message: `science header has no ${VISIT_KEYS.join('/')}: visit id ${visit} derived from the ${visitSource === 'time' ? 'exposure start (minutes since MJD 51544)' : visitSource === 'digest' ? 'pixel data' : 'default'}`,
    });
  if (inputs.detector === undefined && detectorSource !== 'header')
    log({
      severity: 'WARNING',
      message: `science header has no ${DETECTOR_KEYS.join('/')}: detector id ${detector}${detectorSource === 'name' ? ' from CCDNAME' : ''}`,
    });
  const fits = (v: number, bits: number): boolean => Number.isInteger(v) && v >= 0 && v < 2 ** bits;
  if (!fits(visit, VISIT_BITS))
    throw new PipelineInputError(
      'science',
      `visit id ${visit} is not an integer in [0, 2^${VISIT_BITS})`,
    );
  if (!fits(detector, DETECTOR_BITS))
    throw new PipelineInputError(
      'science',
      `detector id ${detector} is not an integer in [0, 2^${DETECTOR_BITS})`,
    );
  return { visit, detector };
}

/** Ids, header-implied sizes, observation time and finite pixels of the science; returns its ids. */
export function checkScience(
  inputs: ScienceInputs,
  limits: LimitsConfig,
  log: PipelineLogger,
): { visit: number; detector: number } {
  const ids = resolveIds(inputs, log);
  const { science } = inputs;
  checkLimits(science, 'science', limits);
  if (!Number.isFinite(science.info.mjd))
    throw new PipelineInputError(
      'science',
      'no observation time: give --mjd MJD, or a MJD-OBS, MJD-AVG, MJD, DATE-OBS or JD card',
    );
  checkImageData(science, 'science');
  return ids;
}

/**
 * checkScience, then what only a characterization can tell: a band to look templates up by and
 * at least one star to measure a PSF on (blank, clouded or corrupted pixels have none).
 * Characterizes `inputs.science` in place.
 */
export function screenScienceAlone(
  inputs: ScienceInputs,
  limits: LimitsConfig,
  characterize: CharacterizeOverrides,
  log: PipelineLogger,
): void {
  checkScience(inputs, limits, log);
  if (!inputs.science.info.band)
    throw new PipelineInputError('science', 'science header has no FILTER/BAND: band unknown');
  if (characterizeImage(inputs.science, characterize).psf.nStars === 0)
    throw new PipelineInputError(
      'science',
      'science image has no star to measure its PSF on (blank, clouded or unfocused?)',
    );
}
