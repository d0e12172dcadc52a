/** The tfjs node scorer: config, network, backend, session and weights I/O. */
export { initBackend, activeBackend, backendInfo, describeBackend, BACKEND_CHOICES, type BackendChoice, type BackendInfo } from './backend.js';
export { DEFAULT_SCORER_CONFIG, DEFAULT_ATTENTION_UNITS, maxHistory, validateScorerConfig, type ScorerConfig } from './config.js';
export { ScorerNetwork, matMulT, mlpEntries, type MlpParams, type NamedArrays } from './network.js';
export { NetworkScorer } from './session.js';
export { encodeScorer, decodeScorer, SCORER_FORMAT, SCORER_VERSION, type ScorerFiles } from './io.js';
export type { NodeScorer, ScoringSession, BatchNodeScorer, BatchScoringSession } from './types.js';
export { isBatchScorer, openBatchFallback } from './batch.js';
export { AttentionSession } from './attention-session.js';
export { attentionLogits, attentionWeights, type AttentionParams } from './attention.js';
export { explainItems, type AttendedBehaviour } from './explain.js';
