/**
 * Templates: coadds of calibrated single visits on a sky tile's grid (see README.md).
 * @example
 *   import { buildTemplate, templateToFits } from '../template/index.js';
 *   const build = await buildTemplate(inputs, { tile: 123456, band: 'r' });
 *   writeFileSync('T.fits', templateToFits(build));
 */
export {
  DEFAULT_TEMPLATE_CONFIG,
  resolveTemplateConfig,
  type RejectionMethod,
  type TemplateConfig,
} from './config.js';
export {
  buildTemplate,
  NotEnoughInputsError,
  type BuildOptions,
  type TemplateBuild,
  type TemplateInput,
} from './build.js';
export {
  cropGrid,
  footprintBox,
  tileCentre,
  tileGrid,
  tileOfCentre,
  type OutputGrid,
  type PixelBox,
} from './grid.js';
export { readInputsTable, type InputRow } from './inputs-table.js';
export { WCS_RMS_CARDS } from './measure.js';
export { templateToFits } from './write.js';
export { templateInputFromBytes, type UnreadableInput } from './read-input.js';
export {
  BUILD_KIND,
  candidateId,
  CandidateError,
  DEFAULT_MIN_TILE_OVERLAP,
  fillByBand,
  type BandFill,
  parseBuildRequest,
  parseCandidate,
  tileFillFactor,
  tileOverlaps,
  type BuildRequest,
  type CandidateOutcome,
  type TemplateCandidate,
  type TileOverlap,
} from './candidates.js';
