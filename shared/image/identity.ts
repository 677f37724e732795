/**
 * An image's identity, (visit, detector), from one place: its header, else derived
 * deterministically, never a silent 0.
 *
 * - visit: the first of VISIT, EXPNUM, EXPID that is present; a present card that is not a
 *   non-negative integer is an error (a card of 'abc' must not become visit 0). Without any, the
 *   visit is the exposure start in whole minutes since MJD 51544 (2000-01-01), which fits the id's
 *   25 bits until 2063; two different images of one detector starting in the same minute then
 *   collide, and the collision is refused downstream (never stored under shared ids). With no
 *   time either, a 25-bit FNV-1a hash of the pixel bytes.
 * - detector: a numeric DETECTOR, else CCDNUM, else the number ending CCDNAME (or a textual
 *   DETECTOR): 'S29' -> 29, 'ccd07' -> 7, else a hash of the name below 256; without any of them
 *   0, and the source says so (callers warn).
 */
import { FitsError } from '../fits/errors.js';
import type { FitsHeader } from '../fits/header.js';

export type VisitSource = 'header' | 'time' | 'digest';
export type DetectorSource = 'header' | 'name' | 'default';

export interface ImageIdentity {
  visit: number;
  detector: number;
  /** Where each id came from: the header's card, or derived (see the module comment). */
  visitSource: VisitSource;
  detectorSource: DetectorSource;
}

export const VISIT_KEYS = ['VISIT', 'EXPNUM', 'EXPID'] as const;
export const DETECTOR_KEYS = ['DETECTOR', 'CCDNUM'] as const;
/** MJD of the epoch of derived visit ids (2000-01-01T00:00 UTC). */
export const DERIVED_VISIT_EPOCH_MJD = 51544;
const MINUTES_PER_DAY = 1440;
const VISIT_HASH_BITS = 25;
const DETECTOR_HASH_RANGE = 256;

/** The integer value of an id card, or an error naming the card; undefined when absent. */
function idCard(header: FitsHeader, key: string): number | undefined {
  if (!header.has(key)) return undefined;
  const raw = header.get(key);
  const value = header.getNumber(key);
  if (value === undefined || !Number.isInteger(value) || value < 0) {
    throw new FitsError(`${key} = ${JSON.stringify(raw)} is not a non-negative integer id`);
  }
  return value;
}

/** 32-bit FNV-1a of bytes. */
export function fnv1a(bytes: Uint8Array, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * The identity of an image from its header; `startMjd` is the exposure start (NaN when unknown)
 * and `pixels` the pixel bytes, hashed only when neither an id card nor a time is given.
 */
export function imageIdentity(
  header: FitsHeader,
  startMjd: number,
  pixels: () => Uint8Array,
): ImageIdentity {
  let visit: number | undefined;
  for (const key of VISIT_KEYS) visit ??= idCard(header, key);
  let visitSource: VisitSource = 'header';
  if (visit === undefined && Number.isFinite(startMjd)) {
    visit = Math.floor((startMjd - DERIVED_VISIT_EPOCH_MJD) * MINUTES_PER_DAY + 1e-6);
    visitSource = 'time';
    if (visit < 0)
      throw new FitsError(
        `observation time MJD ${startMjd} is before ${DERIVED_VISIT_EPOCH_MJD}, so no visit id can be derived from it; give a VISIT card`,
      );
  }
  if (visit === undefined) {
    visit = fnv1a(pixels()) >>> (32 - VISIT_HASH_BITS);
    visitSource = 'digest';
  }

  // DECam's DETECTOR is the CCD's serial ('S3-177_107419-14-1'): a name, not a number.
  const names: string[] = [];
  let detector: number | undefined;
  for (const key of DETECTOR_KEYS) {
    const text = header.getNumber(key) === undefined ? header.getString(key)?.trim() : undefined;
    if (text) names.push(text);
    else detector ??= idCard(header, key);
  }
  let detectorSource: DetectorSource = 'header';
  const name =
    detector === undefined
      ? [header.getString('CCDNAME')?.trim(), ...names].find((n) => n)
      : undefined;
  if (detector === undefined && name) {
    const digits = /(\d+)\D*$/.exec(name);
    detector =
      digits && Number(digits[1]) < DETECTOR_HASH_RANGE
        ? Number(digits[1])
        : fnv1a(new TextEncoder().encode(name)) % DETECTOR_HASH_RANGE;
    detectorSource = 'name';
  }
  if (detector === undefined) {
    detector = 0;
    detectorSource = 'default';
  }
  return { visit, detector, visitSource, detectorSource };
}
