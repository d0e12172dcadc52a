/**
 * Each scorer kind's own weights beside the shared MLP: how they are drawn
 * at init, rebuilt from saved arrays and listed for saving. The network asks
 * here and never branches on the kind.
 */
import type * as tf from '@tensorflow/tfjs';
import { attentionEntries, initAttentionArrays, makeAttention, type AttentionParams } from './attention.js';
import type { ScorerConfig, ScorerKindName } from './config.js';
import type { NamedArrays } from './mlp.js';

/** A kind's own trainable parameters (none for pooling). */
export interface KindParams {
  /** The attention unit (attention kind). */
  attention?: AttentionParams;
}

/** How a kind's own weights are made. */
export interface KindWeights {
  /** Draws the initial weights into `arrays` from `next` (uniform in [0, 1)), after the MLP's, so other kinds' draws do not move. */
  init(config: ScorerConfig, next: () => number, arrays: NamedArrays): void;
  /** The parameters from saved arrays; `v` checks each shape and makes the variable. */
  make(config: ScorerConfig, v: (name: string, shape: number[]) => tf.Variable): KindParams;
  /** (saved name, variable) pairs in a fixed order. */
  entries(p: KindParams): [string, tf.Variable][];
}

const KIND_WEIGHTS: Record<ScorerKindName, KindWeights> = {
  pooling: { init: () => {}, make: () => ({}), entries: () => [] },
  attention: {
    init: (config, next, arrays) => initAttentionArrays(config, next, arrays),
    make: (config, v) => ({ attention: makeAttention(config, v) }),
    entries: (p) => (p.attention ? attentionEntries(p.attention) : []),
  },
};

/** The weight rules of the config's kind. */
export function kindWeights(config: ScorerConfig): KindWeights {
  return KIND_WEIGHTS[config.kind];
}
