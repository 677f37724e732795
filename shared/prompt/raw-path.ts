import { checkObjectNames, MessageError } from './next-visit.js';

/** Where a raw image sits in the raw bucket: `{instrument}/{groupId}/{snap}/{detector}.fits`. */
export interface RawImageKey {
  instrument: string;
  groupId: string;
  snap: number;
  detector: number;
}

const RAW_PATH = /^([^/]+)\/([^/]+)\/(\d{1,4})\/(\d{1,4})\.fits(\.fz)?$/;

/**
 * Parses a raw object name; throws MessageError for names that do not follow the layout: allowed
 * characters only, bounded lengths, and no component that is only dots.
 */
export function parseRawPath(name: string): RawImageKey {
  const m = RAW_PATH.exec(name);
  if (!m)
    throw new MessageError(
      `raw object '${name.slice(0, 200)}' is not {instrument}/{groupId}/{snap}/{detector}.fits`,
    );
  checkObjectNames(`raw object '${name.slice(0, 200)}'`, m[1], m[2]);
  return { instrument: m[1], groupId: m[2], snap: Number(m[3]), detector: Number(m[4]) };
}

export function rawPath(key: RawImageKey): string {
  return `${key.instrument}/${key.groupId}/${key.snap}/${key.detector}.fits`;
}

/** The processing record's key: one per (visit, detector); snaps of a visit share it. */
export function processingKey(key: {
  instrument: string;
  groupId: string;
  detector: number;
}): string {
  return `${key.instrument}_${key.groupId}_${key.detector}`.replace(/[/]/g, '_');
}
