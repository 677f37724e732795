/** Worker-thread side of the alert cutouts (build.ts): encodes cutouts as FITS files. */
import { claimTiles } from '../util/parallel-tiles.js';
import { cutoutFits, type CutoutParts } from './cutouts.js';

export function encodeCutouts(parts: CutoutParts[]): Uint8Array[] {
  return parts.map(cutoutFits);
}

/** Chunks of cutouts, each encoded by the thread that claims it first from the shared counter. */
export interface ClaimedCutouts {
  chunks: CutoutParts[][];
  claim: Int32Array;
}

/** Encodes the chunks this thread claims; returns them by chunk index. */
export function encodeClaimedCutouts(args: ClaimedCutouts): Array<[number, Uint8Array[]]> {
  const done: Array<[number, Uint8Array[]]> = [];
  for (const i of claimTiles(args.claim, args.chunks.length))
    done.push([i, encodeCutouts(args.chunks[i])]);
  return done;
}
