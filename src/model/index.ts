/** The model folder: manifest, tree and scorer, written atomically and verified on load. */
export { writeModel, readModel, holdsTrainedScorer, MODEL_FORMAT, MODEL_VERSION, type Manifest, type Model } from './folder.js';
export { EXCLUDE_HISTORY_DEFAULT, QueryResolver, type IndexQuery, type QueryBody, type QueryDefaults, type ResolvedQuery, type UserSource } from './queries.js';
export { modelSummary, type ModelSummary } from './summary.js';
