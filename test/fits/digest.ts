import { createHash } from 'node:crypto';
import type { FitsData } from '../../shared/fits/index.js';

/**
 * SHA-256 of pixel values as little-endian float64 with one NaN bit pattern: the same digest
 * as `digest()` in scripts/make-fits-fixtures.py, so any reader's values compare exactly.
 */
export function pixelDigest(data: FitsData): string {
  const values = Float64Array.from(data as ArrayLike<number>, Number);
  const bits = new BigUint64Array(values.buffer);
  for (let i = 0; i < values.length; i++)
    if (Number.isNaN(values[i])) bits[i] = 0x7ff8000000000000n;
  return createHash('sha256').update(new Uint8Array(values.buffer)).digest('hex');
}

/** The same digest in python, for runPython scripts: `digest(array)`. */
export const PYTHON_DIGEST = `
import hashlib
import numpy as np
def digest(data):
    values = np.ascontiguousarray(np.asarray(data, dtype='<f8')).copy()
    canonical = values.view('<u8').copy()
    canonical[np.isnan(values)] = 0x7FF8000000000000
    return hashlib.sha256(canonical.tobytes()).hexdigest()
`;
