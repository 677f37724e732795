/**
 * An ObjectStore (shared/alerts/archive.ts) on a Cloud Storage bucket through @google-cloud/storage.
 * Creation is conditional on the object not existing (ifGenerationMatch: 0): a second write of a
 * key fails with 412 and is reported as a duplicate, never overwriting the first.
 */
import type { Bucket } from '@google-cloud/storage';
import type { ObjectStore } from '../alerts/archive.js';

const PRECONDITION_FAILED = 412;
const NOT_FOUND = 404;

export class GcsObjectStore implements ObjectStore {
  constructor(readonly bucket: Bucket) {}

  async putIfAbsent(key: string, data: Buffer, contentType: string): Promise<boolean> {
    try {
      await this.bucket
        .file(key)
        .save(data, { resumable: false, contentType, preconditionOpts: { ifGenerationMatch: 0 } });
      return true;
    } catch (err) {
      if ((err as { code?: number }).code === PRECONDITION_FAILED) return false;
      throw err;
    }
  }

  async get(key: string): Promise<Buffer | null> {
    try {
      const [data] = await this.bucket.file(key).download();
      return data;
    } catch (err) {
      if ((err as { code?: number }).code === NOT_FOUND) return null;
      throw err;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const [files] = await this.bucket.getFiles({ prefix });
    return files.map((f) => f.name).sort();
  }
}
