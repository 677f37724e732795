/**
 * The night's known-object figures (issue 22): of the asteroids detected at |expected SNR| >= 6,
 * how many alerts carry their own ssObjectId; how many alerts carry a wrong one; how many asteroid
 * detections went into DIAObjects; and the residuals of the predictions (ssSource.ephOffset).
 */
import { ssObjectIdOf, type MpcOrbit } from '../../shared/solar/orbit.js';
import type { ReceivedAlert } from './broker.js';
import {
  matchAlert,
  MATCH_RADIUS_PX,
  percentiles,
  SNR_CUT,
  type Percentiles,
  type TruthWithDetector,
} from './metrics.js';

export interface KnownObjectFigures {
  snrCut: number;
  /** Asteroids at |expected SNR| >= snrCut with an alert within MATCH_RADIUS_PX, and those whose alert carries their ssObjectId. */
  detected: number;
  associated: number;
  completeness: number | null;
  /** Alerts with an ssObjectId, and those whose source is not that object (another object, or no asteroid). */
  withSsObject: number;
  wrongObject: number;
  /** wrongObject over every alert of the night. */
  wrongFraction: number | null;
  /** Alerts of asteroid detections (any SNR) that carry a diaObjectId: known objects polluting DIAObjects. */
  inDiaObjects: number;
  /** Observed minus predicted positions of the associated alerts, arcsec. */
  residualArcsec: Percentiles;
}

/** `orbitsByDetector`: each detector's asteroid orbits, indexed by their truth id. */
export function knownObjectFigures(
  alerts: ReceivedAlert[],
  truth: TruthWithDetector[],
  orbitsByDetector: Map<number, MpcOrbit[]>,
): KnownObjectFigures {
  const idOf = (t: TruthWithDetector): string => {
    const orbit = orbitsByDetector.get(t.detector)?.[t.id];
    return orbit ? String(ssObjectIdOf(orbit.designation)) : 'none';
  };
  const moving = truth.filter((t) => t.kind === 'moving');
  const nearest = (t: TruthWithDetector): ReceivedAlert | null => {
    let best: ReceivedAlert | null = null;
    let bestD = MATCH_RADIUS_PX;
    for (const a of alerts) {
      if (a.visit !== t.visit || a.detector !== t.detector) continue;
      const d = Math.hypot(a.x - t.x, a.y - t.y);
      if (d <= bestD) [best, bestD] = [a, d];
    }
    return best;
  };
  let detected = 0;
  let associated = 0;
  for (const t of moving.filter((r) => Math.abs(r.expectedSnr) >= SNR_CUT)) {
    const a = nearest(t);
    if (!a) continue;
    detected++;
    if (a.ssObjectId === idOf(t)) associated++;
  }
  const withSs = alerts.filter((a) => a.ssObjectId !== 'null');
  const wrongObject = withSs.filter((a) => {
    const t = matchAlert(a, moving);
    return !t || idOf(t) !== a.ssObjectId;
  }).length;
  const inDiaObjects = alerts.filter(
    (a) => a.diaObjectId !== 'null' && matchAlert(a, moving) !== null,
  ).length;
  return {
    snrCut: SNR_CUT,
    detected,
    associated,
    completeness: detected ? associated / detected : null,
    withSsObject: withSs.length,
    wrongObject,
    wrongFraction: alerts.length ? wrongObject / alerts.length : null,
    inDiaObjects,
    residualArcsec: percentiles(withSs.map((a) => a.ephOffset ?? Number.NaN)),
  };
}
