// A model's scoring (its manifest names it): how the network's output becomes a reliability.
// Its own module, so that model.ts (which reads the manifest) and score.ts (which applies it) share it.

/**
 * How a model turns its network's output into a reliability; each model declares its own in its
 * manifest (`scoring`, SCORING_DESCRIPTIONS), absent: 'single' (rb-v1 to rb-v5).
 * - 'single': the sigmoid of the logit of the cutout as cut.
 * - 'dihedral-probability': test-time augmentation, the mean of the sigmoids over the 8 symmetries
 *   of the square (augmentInto k = 0..7, the rotations and flips the training draws from).
 * - 'dihedral-logit': the sigmoid of the mean logit over the same 8.
 * The network is not invariant to them (one cutout's 8 scores can span 0.1-0.96), so the mean is a
 * steadier estimate at 8 times the forward passes (shared/rb/README.md: what it did to rb-v5).
 */
export type Scoring = 'single' | 'dihedral-probability' | 'dihedral-logit';

/** The manifest's words for each scoring (model.ts reads them back). */
export const SCORING_DESCRIPTIONS: Record<Scoring, string> = {
  single: 'sigmoid of the logit',
  'dihedral-probability':
    'mean over the 8 rotations and flips of the cutout (augmentInto k = 0..7) of the sigmoid of the logit',
  'dihedral-logit':
    'sigmoid of the mean over the 8 rotations and flips of the cutout (augmentInto k = 0..7) of the logit',
};
