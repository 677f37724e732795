/**
 * One image per (visit, detector) in the cloud: before its alerts can exist, processImage claims
 * the pair for the image's content digest and raw object, in Firestore (`ImageIdentity/{visit}_{detector}`,
 * created in a transaction). Alert ids come from (visit, detector), so a different image under a
 * claimed pair is refused (dead letter with the reason) and a byte-identical copy under another
 * raw path is a no-op: never two payloads under one id.
 */
import type { Firestore } from '@google-cloud/firestore';

export const IDENTITY_COLLECTION = 'ImageIdentity';

export interface IdentityClaim {
  visit: number;
  detector: number;
  /** sha256 of the raw object's bytes. */
  digest: string;
  /** The processing key (raw path) of the image that holds the pair. */
  key: string;
}

/** 'claimed' (first, or a retry of the holder), 'copy' (the same bytes under another raw path) or 'conflict'. */
export type ClaimOutcome =
  { outcome: 'claimed' } | { outcome: 'copy' | 'conflict'; holder: IdentityClaim };

/**
 * Claims (visit, detector) for an image. `holderMayChange`: the same raw path may take the pair
 * over with new bytes (a fixed upload) because none of its alerts were handed off yet.
 */
export async function claimIdentity(
  db: Firestore,
  claim: IdentityClaim,
  holderMayChange: boolean,
  collection = IDENTITY_COLLECTION,
): Promise<ClaimOutcome> {
  const doc = db.collection(collection).doc(`${claim.visit}_${claim.detector}`);
  return db.runTransaction(async (tx) => {
    const snap = await tx.get(doc);
    if (!snap.exists) {
      tx.create(doc, { ...claim, claimedAt: new Date().toISOString() });
      return { outcome: 'claimed' } as const;
    }
    const holder = snap.data() as IdentityClaim;
    if (holder.key === claim.key && (holder.digest === claim.digest || holderMayChange)) {
      if (holder.digest !== claim.digest)
        tx.set(doc, { ...claim, claimedAt: new Date().toISOString() });
      return { outcome: 'claimed' } as const;
    }
    return { outcome: holder.digest === claim.digest ? 'copy' : 'conflict', holder } as const;
  });
}
