/**
 * The multi-interest (attention) scorer's strategy: its sessions
 * (attention-session.ts) and the per-item explanation, which history
 * behaviours it attended to most on the path to a returned item. Each node
 * on the path (one per level) gives every behaviour an attention weight; a
 * behaviour's figure is its mean weight over the path.
 */
import type { Tree } from '../tree/tree.js';
import { AttentionSession, attentionBatchSession } from './attention-session.js';
import type { AttendedBehaviour, ScorerKind } from './kind.js';
import type { ScorerNetwork } from './network.js';

/** The attention weights of `history`'s behaviours on the path to each of `items`, the `top` highest first. */
function explainAttention(network: ScorerNetwork, tree: Tree, history: Int32Array, items: Int32Array, top: number): AttendedBehaviour[][] {
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

/** The attention kind's strategy. */
export const ATTENTION_KIND: ScorerKind = {
  name: 'attention',
  summary: 'attention (multi-interest, DIN-style: each scored node weights every behaviour by a small attention unit)',
  categoryEmbByDefault: true,
  treeLearningUnsupported: 'tree learning scores nodes with pooled user vectors, which the attention scorer does not have: train it on a fixed tree',
  workersUnsupported: 'the attention scorer trains on the calling thread (worker threads cover the pooling scorer)',
  sessions: (network, tree) => ({ openBatch: (histories) => attentionBatchSession(network, tree, histories) }),
  explain: explainAttention,
};
