/** Pipeline stages shared by the CLI, the demo and the benchmark. */
export { buildTreeFromStore, createModelFolder, trainModelFolder, evaluateModel } from './ops.js';
export type { BuildOptions, TrainModelOptions, EvalOptions, ModelEvalReport } from './ops.js';
export { storeToTree, mapItems, mapSequences, mapCases } from './items.js';
