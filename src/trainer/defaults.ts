/**
 * Training's defaults, owned here and imported by the library and the CLI's
 * option table alike, so the two cannot drift apart. Chosen from
 * measurements (docs/BENCHMARKS.md). This file loads no tfjs, so the CLI's
 * option table can import it.
 */
import { DEFAULT_SEED } from '../core/rng.js';

/** Training defaults (see TrainOptions in src/trainer/train.ts). */
export const TRAIN_DEFAULTS = {
  epochs: 8,
  batchSize: 256,
  lr: 0.01,
  negatives: 'auto',
  objective: 'tdm',
  trainBeam: 4,
  seed: DEFAULT_SEED,
  patience: 2,
  validK: 50,
  maxValidUsers: 500,
  maxSamplesPerEpoch: 0,
} as const;

/** Default steps between training checkpoints (`train --checkpoint-every`). */
export const CHECKPOINT_EVERY = 1000;

/** Tree-learning rounds of `train --joint` (JTM) after the initial training. */
export const DEFAULT_JOINT_ROUNDS = 2;

/** The training objectives (`train --objective`), each a registered batch producer (producer.ts). */
export const OBJECTIVES = ['tdm', 'otm', 'beam', 'sibling'] as const;
