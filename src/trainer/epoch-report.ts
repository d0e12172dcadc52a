/** What one training epoch reports: loss, samples, time and the validation recall with its path weight. */
import type { PathWeightTrial } from './path-weight.js';

/** Figures of one epoch. */
export interface EpochReport {
  epoch: number;
  loss: number;
  samples: number;
  seconds: number;
  /** Validation recall@validK (beam search at widths validK and 4·validK, averaged) under `pathWeight`, when validation users exist. */
  validRecall?: number;
  /** The path weight of `validRecall`: fixed, or the best of the grid for this epoch's weights. */
  pathWeight?: number;
  /** Every path weight tried on this epoch's weights (absent when the weight was fixed). */
  pathWeightTrials?: PathWeightTrial[];
}
