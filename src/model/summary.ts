/** A summary of a loaded model's manifest (`GET /v1/model` and the library's `info()`). */
import type { Model } from './folder.js';

/** What `GET /v1/model` reports. */
export interface ModelSummary {
  format: string;
  version: number;
  createdAt: string;
  seed: number;
  tree: { branching: number; depth: number; numItems: number; init: string };
  categories: number;
  /** The scorer's configuration as stored in the manifest (kind, embDim, hidden, windows, hierarchical). */
  scorer: unknown;
  /** Training outcome when the manifest records one; `behaviorWeights`: the behaviour-type weights of its targets, when training had any. */
  training: { epochs: number; bestEpoch?: number; samplesPerSecond?: number; behaviorWeights?: Record<string, number> } | null;
  /** sha256 of every file of the folder (identifies the exact model served). */
  files: Record<string, string>;
}

/** Summarises a loaded model's manifest for clients. */
export function modelSummary(model: Model): ModelSummary {
  const m = model.manifest;
  const t = m.training as { epochs?: unknown[]; bestEpoch?: number; samplesPerSecond?: number; options?: { behaviorWeights?: Record<string, number> } } | undefined;
  const bw = t?.options?.behaviorWeights;
  return {
    format: m.format,
    version: m.version,
    createdAt: m.createdAt,
    seed: m.seed,
    tree: m.tree,
    categories: model.tree.items.categoryIds.length,
    scorer: (m.config as { scorer?: unknown }).scorer ?? null,
    training: t
      ? { epochs: Array.isArray(t.epochs) ? t.epochs.length : 0, bestEpoch: t.bestEpoch, samplesPerSecond: t.samplesPerSecond, ...(bw && Object.keys(bw).length > 0 ? { behaviorWeights: bw } : {}) }
      : null,
    files: m.files,
  };
}
