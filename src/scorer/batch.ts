/**
 * Batched scoring helpers: detect a scorer that scores many users per call,
 * and wrap any other NodeScorer so batched search can use it unchanged.
 */
import type { BatchNodeScorer, BatchScoringSession, NodeScorer, ScoringSession } from './types.js';

/** True when `s` can score several users in one call. */
export function isBatchScorer(s: NodeScorer): s is BatchNodeScorer {
  return typeof (s as Partial<BatchNodeScorer>).openBatch === 'function';
}

/**
 * A batch session over any NodeScorer: one session per user, each call
 * split into runs of consecutive rows of the same user.
 */
export function openBatchFallback(scorer: NodeScorer, histories: Int32Array[]): BatchScoringSession {
  const sessions: ScoringSession[] = [];
  try {
    for (const h of histories) sessions.push(scorer.open(h));
  } catch (e) {
    for (const s of sessions) s.close();
    throw e;
  }
  return {
    score(users: Int32Array, nodes: Int32Array, level: number): Float32Array {
      const out = new Float32Array(nodes.length);
      let start = 0;
      while (start < nodes.length) {
        let end = start + 1;
        while (end < nodes.length && users[end] === users[start]) end++;
        out.set(sessions[users[start]].score(nodes.subarray(start, end), level), start);
        start = end;
      }
      return out;
    },
    close(): void {
      for (const s of sessions) s.close();
    },
  };
}
