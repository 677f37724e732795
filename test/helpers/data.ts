/**
 * The real images the tests use, kept in the repository under test/data/ with their provenance
 * and licence (each folder's README.md and LICENSE-sfft).
 */
import { fileURLToPath } from 'node:url';

/** A real DECam i-band pair, 256 x 256, TPV WCS (test/data/decam-mini/README.md). */
export const DECAM_DIR = fileURLToPath(new URL('../data/decam-mini/', import.meta.url));

/** A real JWST NIRCam F200W pair, 900 x 900, MJy/sr, noise maps and PSFs (test/data/nircam-a2744/README.md). */
export const NIRCAM_DIR = fileURLToPath(new URL('../data/nircam-a2744/', import.meta.url));
