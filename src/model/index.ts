/** The model folder: manifest, tree and scorer, written atomically and verified on load. */
export { writeModel, readModel, holdsTrainedScorer, MODEL_FORMAT, MODEL_VERSION, type Manifest, type Model } from './folder.js';
