/**
 * Template-input visits: a set of single visits of one field to coadd into a template (shared/template),
 * then later science visits to difference against it. Built on the simulator's plan and renderer:
 * the inputs hold the static sky (stars, galaxies), asteroids at their epochs, cosmic rays, defects,
 * satellite streaks and ONE transient present in one input only; they differ in dither, rotation,
 * seeing (2.5-7 px by default), transparency and sky. The later visits hold the night's transients
 * and asteroids. Variable stars are left out of both, since a coadd's flux of a variable is a mean
 * over epochs that the per-visit truth does not describe.
 * @example
 *   const set = planTemplateInputs({ size: 1024, seed: 3 }, { inputs: 12, later: 1 });
 *   const input = renderImage(set.inputPlan(0), set.inputs[0]);
 */
import type { SimConfig } from './config.js';
import type { Transient } from './field.js';
import { limitingMag, planNight, type NightPlan } from './night.js';
import type { ImageSpec } from './plan.js';
import { rngStream } from './random.js';

/** What the defaults change against an ordinary night (wider seeing, transparency, dithers, rotations; more streaks). */
export const TEMPLATE_INPUT_SIM: Partial<SimConfig> = {
  fwhmRangePx: [2.5, 7],
  transparency: [0.5, 1],
  ditherPx: 100,
  rotationDeg: [0.2, 2],
  streakProbability: 0.5,
};

export interface TemplateInputOptions {
  /** Template-input visits (VISIT 1..inputs). Default 12. */
  inputs: number;
  /** Later science visits (VISIT inputs+1 ...). Default 1. */
  later: number;
  /** The one-visit transient is this many magnitudes brighter than the input's 5-sigma limit. Default 2. */
  transientBrighterMag: number;
}

export interface TemplateInputSet {
  /** The whole plan (the field as drawn, every visit's spec). */
  plan: NightPlan;
  inputs: ImageSpec[];
  later: ImageSpec[];
  /** The transient present only in input `oneVisit.index` (VISIT oneVisit.visit). */
  oneVisit: { index: number; visit: number; transient: Transient };
  /** The plan to render input k with (its transients: the one-visit transient in that input only). */
  inputPlan(k: number): NightPlan;
  /** The plan to render the later visits with (the night's transients and asteroids, no variables). */
  laterPlan: NightPlan;
}

/** An id the field's own transients never take. */
const ONE_VISIT_TRANSIENT_ID = 1_000_000;

export function planTemplateInputs(
  partial: Partial<SimConfig> = {},
  options: Partial<TemplateInputOptions> = {},
): TemplateInputSet {
  const o: TemplateInputOptions = { inputs: 12, later: 1, transientBrighterMag: 2, ...options };
  if (!Number.isInteger(o.inputs) || o.inputs < 1 || !Number.isInteger(o.later) || o.later < 0)
    throw new RangeError(
      `template inputs must be a positive integer and later visits a non-negative one, got ${o.inputs}, ${o.later}`,
    );
  const plan = planNight({ ...TEMPLATE_INPUT_SIM, ...partial, visits: o.inputs + o.later });
  const inputs = plan.visits.slice(0, o.inputs);
  const later = plan.visits.slice(o.inputs);
  const rng = rngStream(plan.config.seed, 'one-visit-transient');
  const index = rng.int(o.inputs);
  const spec = inputs[index];
  const c = (plan.config.size - 1) / 2;
  const sky = spec.wcs.pixelToSky({
    x: Float64Array.of(c + rng.between(-0.3, 0.3) * plan.config.size),
    y: Float64Array.of(c + rng.between(-0.3, 0.3) * plan.config.size),
  });
  const transient: Transient = {
    id: ONE_VISIT_TRANSIENT_ID,
    ra: sky.ra[0],
    dec: sky.dec[0],
    mag: limitingMag(spec, plan.config) - o.transientBrighterMag,
    mjd0: spec.mjd,
    slopeMagPerDay: 0,
    hostId: -1,
  };
  const quiet = { ...plan.field, transients: [], variables: [] };
  const withOne = { ...quiet, transients: [transient] };
  return {
    plan,
    inputs,
    later,
    oneVisit: { index, visit: spec.visit, transient },
    inputPlan: (k) => ({ ...plan, field: k === index ? withOne : quiet }),
    laterPlan: { ...plan, field: { ...plan.field, variables: [] } },
  };
}
