/**
 * Default values shared by the library and the CLI option declarations, so
 * the two cannot drift apart. Chosen from measurements (docs/BENCHMARKS.md).
 */
import { DEFAULT_SEED } from './rng.js';

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
