/** Training: samples, level-wise negatives, sparse Adam and the loop. */
export { trainScorer, validateTrainOptions, validationRecall, DEFAULT_TRAIN_OPTIONS, type TrainOptions, type TrainSummary, type TrainData, type EpochReport } from './train.js';
export { negativesPerLevel, samplePairs } from './negatives.js';
export { slidingWindowSamples, shuffledOrder, type SampleSet } from './samples.js';
export { SparseAdam } from './sparse-adam.js';
export { ItemFeatures, type EmbeddingUpdater, type ItemFeatureInputs } from './item-features.js';
