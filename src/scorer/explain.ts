/**
 * Multi-interest inspection: for a returned item, which history behaviours
 * the attention scorer attended to most on the path from the root to the
 * item's leaf. Each node on the path (one per level) gives every behaviour
 * an attention weight; a behaviour's figure is its mean weight over the path.
 */
import { UsageError } from '../core/errors.js';
import type { Tree } from '../tree/tree.js';
import { AttentionSession } from './attention-session.js';
import type { ScorerNetwork } from './network.js';

/** One behaviour's share of the attention on the path to an item. */
export interface AttendedBehaviour {
  /** Index into the query's history (oldest first). */
  historyIndex: number;
  /** The behaviour's item index. */
  item: number;
  /** Mean attention weight over the path's nodes. */
  weight: number;
}

/**
 * For each of `items`, the `top` behaviours of `history` with the highest
 * mean attention weight on the path to the item, best first. Throws a
 * UsageError for a pooling model (it has no attention to show).
 */
export function explainItems(network: ScorerNetwork, tree: Tree, history: Int32Array, items: Int32Array, top = 3): AttendedBehaviour[][] {
  if (network.config.kind !== 'attention') {
    throw new UsageError('--explain needs a model trained with --scorer attention (a pooling model averages the history: it has no per-item attention to show)');
  }
  const session = new AttentionSession(network, tree, history);
  try {
    const depth = tree.layout.depth;
    const slots = session.slots;
    const sums = items.length ? Array.from(items, () => new Float64Array(slots)) : [];
    const paths = Array.from(items, (it) => tree.pathOf(it));
    for (let level = 1; level <= depth; level++) {
      const nodes = Int32Array.from(paths, (p) => p[level]);
      const w = session.attention(nodes, level);
      for (let i = 0; i < items.length; i++) for (let j = 0; j < slots; j++) sums[i][j] += w[i * slots + j] / depth;
    }
    return sums.map((s) => {
      const list: AttendedBehaviour[] = [];
      for (let j = 0; j < slots; j++) {
        const h = session.historyIndexOfSlot(j);
        if (h >= 0) list.push({ historyIndex: h, item: history[h], weight: s[j] });
      }
      return list.sort((a, b) => b.weight - a.weight || b.historyIndex - a.historyIndex).slice(0, top);
    });
  } finally {
    session.close();
  }
}
