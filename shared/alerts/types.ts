/**
 * An alert as a JS value: the Avro record `alert` of schema/1/0 (after Rubin's lsst.v11_0).
 */
import type { DiaForcedSource, DiaObject, DiaSource } from '../apdb/types.js';

export interface Alert {
  /** The triggering DiaSource's id; also the alert id. */
  diaSourceId: number;
  observation_reason: string | null;
  target_name: string | null;
  diaSource: DiaSource;
  prvDiaSources: DiaSource[] | null;
  prvDiaForcedSources: DiaForcedSource[] | null;
  diaObject: DiaObject | null;
  /** Solar-system association (not produced by this pipeline). */
  ssSource: Record<string, unknown> | null;
  mpc_orbits: Record<string, unknown> | null;
  /** Whole FITS files (see ./cutouts.ts). */
  cutoutDifference: Buffer | null;
  cutoutScience: Buffer | null;
  cutoutTemplate: Buffer | null;
}
