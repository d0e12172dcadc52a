/** Training: samples, batch producers, level-wise negatives, the step and its reduction, sparse Adam and the loop. */
export { trainScorer, validateTrainOptions, validationRecall, DEFAULT_TRAIN_OPTIONS, MAX_WORKERS, type TrainOptions, type TrainSummary, type TrainData, type EpochReport, type StepProfile } from './train.js';
export { negativesPerLevel, samplePairs } from './negatives.js';
export { slidingWindowSamples, shuffledOrder, type SampleSet } from './samples.js';
export { epochOrder, sampleRng } from './streams.js';
export { makeProducer, PRODUCERS, type BatchProducer, type BatchCapacity, type ProducerContext, type ProducerName, type ShardBatch, type PairGroup } from './producer.js';
export { StepEngine } from './step-engine.js';
export { SparseAdam } from './sparse-adam.js';
export { ItemFeatures, type EmbeddingUpdater, type ItemFeatureInputs } from './item-features.js';
