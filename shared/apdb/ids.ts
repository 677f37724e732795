/**
 * Deterministic ids, so that replaying a visit yields the same rows and alerts.
 *
 * Bit layout of a diaSourceId / diaForcedSourceId (53 bits, a safe JS integer and a positive
 * signed Avro long):
 *
 *     | visit: 25 bits (< 33,554,432) | detector: 8 bits (< 256) | index: 20 bits (< 1,048,576) |
 *
 * i.e. id = visit * 2^28 + detector * 2^20 + index. The index of a DiaSource is its record's
 * index from detection; that of a DiaForcedSource its rank among the visit's forced sources in
 * diaObjectId order. A new DiaObject takes the id of the DiaSource that created it (as Rubin's
 * ap_association does).
 */
export const VISIT_BITS = 25;
export const DETECTOR_BITS = 8;
export const INDEX_BITS = 20;

const DETECTOR_SCALE = 2 ** INDEX_BITS;
const VISIT_SCALE = 2 ** (INDEX_BITS + DETECTOR_BITS);

/** Id of the index-th source of (visit, detector); throws when a part overflows its bits. */
export function sourceId(visit: number, detector: number, index: number): number {
  check('visit', visit, VISIT_BITS);
  check('detector', detector, DETECTOR_BITS);
  check('index', index, INDEX_BITS);
  return visit * VISIT_SCALE + detector * DETECTOR_SCALE + index;
}

/** The (visit, detector, index) an id was made from. */
export function decodeSourceId(id: number): { visit: number; detector: number; index: number } {
  const visit = Math.floor(id / VISIT_SCALE);
  const rest = id - visit * VISIT_SCALE;
  const detector = Math.floor(rest / DETECTOR_SCALE);
  return { visit, detector, index: rest - detector * DETECTOR_SCALE };
}

function check(name: string, value: number, bits: number): void {
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** bits) {
    throw new RangeError(
      `${name} ${value} does not fit the id's ${bits} bits (0..${2 ** bits - 1})`,
    );
  }
}
