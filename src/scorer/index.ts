/** The tfjs node scorer: the scorer kinds (pooling, attention) behind one interface, config, network, backend, sessions and weights I/O. */
export { initBackend, activeBackend, backendInfo, describeBackend, BACKEND_CHOICES, type BackendChoice, type BackendInfo } from './backend.js';
export { DEFAULT_SCORER_CONFIG, DEFAULT_ATTENTION_UNITS, SCORER_KIND_NAMES, maxHistory, validateScorerConfig, type ScorerConfig, type ScorerKindName } from './config.js';
export { SCORER_KINDS, scorerKind } from './kinds.js';
export type { ScorerKind, SessionOpener } from './kind.js';
export { ScorerNetwork, matMulT, mlpEntries, type MlpParams, type NamedArrays } from './network.js';
export { NetworkScorer } from './session.js';
export { encodeScorer, decodeScorer, SCORER_FORMAT, SCORER_VERSION, type ScorerFiles } from './io.js';
export type { NodeScorer, ScoringSession, BatchNodeScorer, BatchScoringSession } from './types.js';
export { isBatchScorer, openBatchFallback } from './batch.js';
export { AttentionSession } from './attention-session.js';
export { attentionLogits, attentionWeights, type AttentionParams } from './attention.js';
export { explainItems, explainUnsupported, type AttendedBehaviour } from './explain.js';
