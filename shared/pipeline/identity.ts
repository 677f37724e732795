/**
 * One (visit, detector) holds one image: a different image arriving under a stored pair is
 * refused with its reason, never stored or published under the first image's ids; the same image
 * again (same digest) stays a replay.
 */
import { createHash } from 'node:crypto';
import type { Apdb } from '../apdb/types.js';
import { PipelineInputError } from './errors.js';

/** The content digest of an image file: sha256, hex. */
export function imageDigest(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A different image under an already stored (visit, detector). */
export class IdentityCollisionError extends PipelineInputError {
  constructor(
    readonly visit: number,
    readonly detector: number,
    storedDigest: string,
    digest: string,
  ) {
    super(
      'science',
      `visit ${visit} detector ${detector} is already stored from a different image (sha256 ${storedDigest.slice(0, 12)}, this one ${digest.slice(0, 12)}); give each image its own VISIT/DETECTOR (or --visit/--detector)`,
    );
    this.name = 'IdentityCollisionError';
  }
}

/** Throws IdentityCollisionError when the APDB holds (visit, detector) from an image with another digest. */
export async function refuseCollision(
  apdb: Apdb,
  ids: { visit: number; detector: number },
  digest: string | undefined,
): Promise<void> {
  if (digest === undefined) return;
  const stored = await apdb.visitDigest(ids.visit, ids.detector);
  if (typeof stored === 'string' && stored !== digest)
    throw new IdentityCollisionError(ids.visit, ids.detector, stored, digest);
}
