/**
 * Faint real transients added by the training-set generator to a science image beside its unmasked
 * defects (issue 15 item 7): where the subtraction convolves the science (AL-CONVSCI), an unmasked
 * cosmic ray or hot pixel leaves a PSF-like blob in the difference over a sharp or faint science
 * plane, and so does a transient at S/N 5-10. Fine-tunings on defect-rich nights learnt to call the
 * first bogus at the cost of the second (shared/rb/README.md), so a training night may carry as many
 * of both. Each is a point source (the science's true PSF, photon noise included) on an empty patch
 * of the image, labelled real like the simulator's transients.
 */
import type { Exposure } from '../image/exposure.js';
import type { Rng } from '../sim/random.js';
import { expectedSnr, type SnrContext } from '../sim/truth.js';
import type { InjectedArtifact } from './artifacts.js';

export interface FaintTransientConfig {
  /** Expected difference S/N (truth.ts expectedSnr), drawn uniform in this range. */
  snr: [number, number];
  /** Faint transients per unmasked defect (cosmic ray or hot pixel, every shape) injected in the visit. */
  perDefect: number;
  /** No faint transient within this distance of a real change or of another faint transient, px. */
  clearOfRealPx: number;
  /** Nor within an artifact's radius plus this, px. */
  clearOfArtifactPx: number;
  /** Nor within this of the image's edges, px. */
  edgePx: number;
}

/** As many transients at S/N 5-10 as unmasked defects, kept apart as artifacts.ts keeps its defects from real changes. */
export const DEFAULT_FAINT_TRANSIENT_CONFIG: FaintTransientConfig = {
  snr: [5, 10],
  perDefect: 1,
  clearOfRealPx: 15,
  clearOfArtifactPx: 10,
  edgePx: 10,
};

/** The truth kind of an injected faint transient (a real change: dataset.ts REAL_KINDS). */
export const FAINT_TRANSIENT_KIND = 'faint_transient';

/** What labelling needs of an injected faint transient (dataset.ts ChangeTruth). */
export interface FaintTransient {
  kind: typeof FAINT_TRANSIENT_KIND;
  x: number;
  y: number;
  expectedSnr: number;
}

const DEFECT_KINDS = new Set(['unmasked_cr', 'unmasked_hot']);

/** Draws past this many times the count asked for give up (a crowded image keeps fewer). */
const MAX_DRAWS_PER_TRANSIENT = 20;

/**
 * Adds faint transients to `science` in place (image and variance; `snr.sciencePsf`, the true PSF,
 * is their shape) and returns them: `perDefect` for each unmasked defect of `injected`, clear of
 * `real`, of `injected` and of each other.
 */
export function injectFaintTransients(
  science: Exposure,
  snr: SnrContext,
  real: ReadonlyArray<{ x: number; y: number }>,
  injected: readonly InjectedArtifact[],
  rng: Rng,
  config: FaintTransientConfig = DEFAULT_FAINT_TRANSIENT_CONFIG,
): FaintTransient[] {
  const defects = injected.filter((a) => DEFECT_KINDS.has(a.kind)).length;
  const wanted = Math.round(config.perDefect * defects);
  const { width, height } = science;
  const gain = Number.isFinite(science.info.gain) && science.info.gain > 0 ? science.info.gain : 1;
  const out: FaintTransient[] = [];
  const clear = (x: number, y: number): boolean =>
    [...real, ...out].every((r) => Math.hypot(r.x - x, r.y - y) > config.clearOfRealPx) &&
    injected.every((a) => Math.hypot(a.x - x, a.y - y) > a.radius + config.clearOfArtifactPx);
  for (let draw = 0; out.length < wanted && draw < wanted * MAX_DRAWS_PER_TRANSIENT; draw++) {
    const x = rng.between(config.edgePx, width - 1 - config.edgePx);
    const y = rng.between(config.edgePx, height - 1 - config.edgePx);
    const target = rng.between(config.snr[0], config.snr[1]);
    if (!clear(x, y)) continue;
    const perAdu = expectedSnr(snr, x, y, 1);
    if (!(perAdu > 0)) continue;
    addPointSource(science, snr, x, y, target / perAdu, gain, rng);
    out.push({ kind: FAINT_TRANSIENT_KIND, x, y, expectedSnr: target });
  }
  return out;
}

/** flux * PSF at (x, y), each pixel with its photon noise (variance value / gain, added to the VARIANCE plane). */
function addPointSource(
  science: Exposure,
  snr: SnrContext,
  x: number,
  y: number,
  flux: number,
  gain: number,
  rng: Rng,
): void {
  const stamp = snr.sciencePsf.stampAt(x, y);
  const half = (stamp.size - 1) / 2;
  const [cx, cy] = [Math.round(x), Math.round(y)];
  for (let j = 0; j < stamp.size; j++) {
    const py = cy - half + j;
    if (py < 0 || py >= science.height) continue;
    for (let i = 0; i < stamp.size; i++) {
      const px = cx - half + i;
      if (px < 0 || px >= science.width) continue;
      const value = flux * stamp.data[j * stamp.size + i];
      if (value <= 0) continue;
      const variance = value / gain;
      science.image.set(
        px,
        py,
        science.image.get(px, py) + value + Math.sqrt(variance) * rng.normal(),
      );
      science.variance.set(px, py, science.variance.get(px, py) + variance);
    }
  }
}
