/**
 * The next_visit notice, modeled on Rubin's NextVisit (prompt_processing, DMTN-260): sent by the
 * scheduler before the exposure so that each detector's inputs can be preloaded.
 *
 * @example
 *   parseNextVisit(JSON.stringify({ instrument: 'APSIM', groupId: '2026-11-25T03:12:00.1',
 *     nimages: 1, filters: 'r', coordinateSystem: 'ICRS', position: [150.1, 2.2],
 *     rotationSystem: 'SKY', cameraAngle: 0, survey: 'WIDE', duration: 30, detectors: [0, 1] }))
 */
export interface NextVisit {
  instrument: string;
  /** Identifies the visit's snaps; also the folder of its raw images. */
  groupId: string;
  /** Snaps in the visit. */
  nimages: number;
  /** Filter band. */
  filters: string;
  /** 'ICRS' (Rubin's CoordSys 2); others cannot be preloaded. */
  coordinateSystem: 'ICRS';
  /** Boresight [ra, dec], degrees. */
  position: [number, number];
  /** 'SKY' (Rubin's RotSys 2): cameraAngle is the sky position angle. */
  rotationSystem: 'SKY' | 'HORIZON' | 'MOUNT';
  /** Camera rotation, degrees. */
  cameraAngle: number;
  survey: string;
  /** Expected visit duration, seconds. */
  duration: number;
  /** Detector numbers to preload. */
  detectors: number[];
}

/** Largest notice accepted, bytes (a full 189-detector notice is ~2 KB). */
export const MAX_NEXT_VISIT_BYTES = 64 * 1024;

export class MessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MessageError';
  }
}

const COORD_SYS: Record<string, 'ICRS'> = { ICRS: 'ICRS', '2': 'ICRS' };
const ROT_SYS: Record<string, NextVisit['rotationSystem']> = {
  SKY: 'SKY',
  '2': 'SKY',
  HORIZON: 'HORIZON',
  '3': 'HORIZON',
  MOUNT: 'MOUNT',
  '4': 'MOUNT',
};

function field<T>(
  record: Record<string, unknown>,
  name: string,
  check: (v: unknown) => v is T,
  what: string,
): T {
  const value = record[name];
  if (!check(value)) throw new MessageError(`next_visit: '${name}' must be ${what}`);
  return value;
}

const isString = (v: unknown): v is string =>
  typeof v === 'string' && v.length > 0 && v.length <= 256;
/** Longest instrument name and groupId accepted, characters (Rubin's are < 20 and ~30). */
export const MAX_INSTRUMENT_CHARS = 64;
export const MAX_GROUP_ID_CHARS = 128;
const INSTRUMENT_NAME = new RegExp(`^[A-Za-z0-9_-]{1,${MAX_INSTRUMENT_CHARS}}$`);
const GROUP_ID = new RegExp(`^[A-Za-z0-9._:+-]{1,${MAX_GROUP_ID_CHARS}}$`);
/** Components made only of dots ('.', '..') navigate paths; they are not names. */
const DOTS_ONLY = /^\.+$/;

/**
 * Checks the instrument and groupId that become object-name components (raw images, preloads,
 * processing keys): allowed characters, bounded lengths, no '.' or '..'; throws MessageError.
 */
export function checkObjectNames(what: string, instrument: string, groupId: string): void {
  if (!INSTRUMENT_NAME.test(instrument))
    throw new MessageError(
      `${what}: instrument '${instrument.slice(0, 80)}' is not 1-${MAX_INSTRUMENT_CHARS} of [A-Za-z0-9_-]`,
    );
  if (!GROUP_ID.test(groupId) || DOTS_ONLY.test(groupId))
    throw new MessageError(
      `${what}: groupId '${groupId.slice(0, 160)}' is not 1-${MAX_GROUP_ID_CHARS} of [A-Za-z0-9._:+-] (and not only dots)`,
    );
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isCount = (v: unknown): v is number =>
  Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 1000;

/** Parses and validates a notice; throws MessageError naming the first bad field. */
export function parseNextVisit(body: string | Uint8Array): NextVisit {
  const size = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
  if (size > MAX_NEXT_VISIT_BYTES)
    throw new MessageError(`next_visit: message of ${size} bytes exceeds ${MAX_NEXT_VISIT_BYTES}`);
  let raw: unknown;
  try {
    raw = JSON.parse(typeof body === 'string' ? body : Buffer.from(body).toString('utf8'));
  } catch {
    throw new MessageError('next_visit: body is not JSON');
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    throw new MessageError('next_visit: body is not a JSON object');
  const r = raw as Record<string, unknown>;
  const coordinateSystem = COORD_SYS[String(r.coordinateSystem)];
  if (!coordinateSystem)
    throw new MessageError(
      `next_visit: coordinateSystem '${String(r.coordinateSystem)}' is not ICRS`,
    );
  const rotationSystem = ROT_SYS[String(r.rotationSystem)];
  if (!rotationSystem)
    throw new MessageError(
      `next_visit: rotationSystem '${String(r.rotationSystem)}' is not SKY, HORIZON or MOUNT`,
    );
  const position = r.position;
  if (
    !Array.isArray(position) ||
    position.length !== 2 ||
    !position.every(isNumber) ||
    Math.abs(position[1]) > 90
  ) {
    throw new MessageError('next_visit: position must be [ra, dec] in degrees');
  }
  const detectors = r.detectors;
  if (
    !Array.isArray(detectors) ||
    detectors.length === 0 ||
    detectors.length > 1000 ||
    !detectors.every((d) => Number.isInteger(d) && d >= 0)
  ) {
    throw new MessageError('next_visit: detectors must be a non-empty list of detector numbers');
  }
  const groupId = field(r, 'groupId', isString, 'a non-empty string');
  const instrument = field(r, 'instrument', isString, 'a non-empty string');
  checkObjectNames('next_visit', instrument, groupId);
  return {
    instrument,
    groupId,
    nimages: field(r, 'nimages', isCount, 'a positive integer'),
    filters: field(r, 'filters', isString, 'a non-empty string'),
    coordinateSystem,
    position: [((position[0] % 360) + 360) % 360, position[1]],
    rotationSystem,
    cameraAngle: field(r, 'cameraAngle', isNumber, 'a number (degrees)'),
    survey: typeof r.survey === 'string' ? r.survey : '',
    duration: field(r, 'duration', isNumber, 'a number (seconds)'),
    detectors: [...new Set(detectors as number[])].sort((a, b) => a - b),
  };
}
