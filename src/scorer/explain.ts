/**
 * Multi-interest inspection: for a returned item, which history behaviours
 * the scorer attended to most on the path from the root to the item's leaf,
 * for kinds that can say (see ScorerKind.explain).
 */
import { UsageError } from '../core/errors.js';
import type { Tree } from '../tree/tree.js';
import type { AttendedBehaviour } from './kind.js';
import { scorerKind } from './kinds.js';
import type { ScorerNetwork } from './network.js';

export type { AttendedBehaviour } from './kind.js';

/** Why `network` cannot explain its items; undefined when it can. */
export function explainUnsupported(network: ScorerNetwork): string | undefined {
  const kind = scorerKind(network.config.kind);
  return kind.explain ? undefined : (kind.explainUnsupported ?? `the ${kind.name} scorer has no per-item attention to show`);
}

/**
 * For each of `items`, the `top` behaviours of `history` with the highest
 * mean attention weight on the path to the item, best first. Throws a
 * UsageError for a kind without attention (pooling averages the history).
 */
export function explainItems(network: ScorerNetwork, tree: Tree, history: Int32Array, items: Int32Array, top = 3): AttendedBehaviour[][] {
  const kind = scorerKind(network.config.kind);
  if (!kind.explain) throw new UsageError(`--explain needs a model trained with --scorer attention: ${explainUnsupported(network)}`);
  return kind.explain(network, tree, history, items, top);
}
