/**
 * FITS reading and writing: headers, images of any BITPIX, tile-compressed images
 * (RICE_1, GZIP_1, GZIP_2), and Exposures as IMAGE / MASK / VARIANCE extensions.
 */
export { FitsError } from './errors.js';
export {
  FitsHeader,
  parseHeader,
  parseCards,
  formatCard,
  type FitsCard,
  type FitsValue,
} from './header.js';
export type { FitsData } from './pixels.js';
export { readFits, readFitsFile, type FitsHdu } from './read.js';
export { writeFits, writeFitsFile, type FitsHduInput, type WriteFitsOptions } from './write.js';
export type { CompressOptions } from './compressed.js';
export {
  readExposure,
  readExposureWithHeader,
  readExposureFromHdus,
  readFitsNamed,
  readFitsFileNamed,
  writeExposure,
  writeExposureFile,
  bandOf,
  visitInfoCards,
  type ReadExposureResult,
  type WriteExposureOptions,
} from './exposure.js';
