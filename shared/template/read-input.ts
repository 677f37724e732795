/**
 * A template input from a file's bytes (the CLI reads it from disk, templateBuilder from the raw
 * bucket): the exposure, the astrometric rms its header states, and the sha256 of the bytes as
 * its identity in TMPLID; or, when it cannot be read, the reason (listed as rejected).
 */
import { createHash } from 'node:crypto';
import { readExposureWithHeader } from '../fits/exposure.js';
import type { TemplateInput } from './build.js';
import { WCS_RMS_CARDS } from './measure.js';

/** An input that could not be read, and why. */
export interface UnreadableInput {
  name: string;
  reason: string;
}

export function templateInputFromBytes(
  bytes: Uint8Array,
  name: string,
): TemplateInput | UnreadableInput {
  try {
    const { exposure, header } = readExposureWithHeader(bytes, name);
    const rms = WCS_RMS_CARDS.map((k) => header.getNumber(k)).find((v) => v !== undefined);
    return {
      name,
      exposure,
      wcsRmsArcsec: rms ?? Number.NaN,
      id: createHash('sha256').update(bytes).digest('hex'),
    };
  } catch (err) {
    const message = (err as Error).message;
    return {
      name,
      reason: `unreadable: ${message.startsWith(`${name}: `) ? message.slice(name.length + 2) : message}`,
    };
  }
}
