/** Evaluation: metrics, baseline retrievers, the evaluation loop and its tables. */
export { MetricsAccumulator, fMeasure, hitsAt, userMetrics, validateKs } from './metrics.js';
export type { AveragedMetrics, MetricsAtK } from './metrics.js';
export { PopularityRetriever, popularityRanking } from './popularity.js';
export type { PopularityOptions, PopularityRanking } from './popularity.js';
export { ItemCFRetriever } from './itemcf.js';
export type { ItemCFOptions } from './itemcf.js';
export { evaluate, latencySummary, methodKs, methodLabel, metricsAt } from './evaluate.js';
export type { EvalMethod, EvalReport, EvaluateOptions, LatencySummary, MethodReport } from './evaluate.js';
export { formatEvalTable, formatMarkdownTable } from './table.js';
export { groupPurity, purityByLevel, groupCohesion, movedFraction } from './tree-quality.js';
export { pairedDifference, pairedRatio } from './paired.js';
export type { PairedDifference, PairedDifferenceOptions, PairedRatio } from './paired.js';
