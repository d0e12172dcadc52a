/** Pipeline stages shared by the CLI, the demo and the benchmark. */
export { buildTreeFromStore, createModelFolder, trainModelFolder, learnTreeInFolder, evaluateModel, beamWidths, treeQuality } from './ops.js';
export type { BuildOptions, CreateFolderOptions, TrainModelOptions, LearnTreeOptions, EvalOptions, ModelEvalReport, TreeQuality } from './ops.js';
export { storeToTree, mapItems, mapSequences, mapCases, storeUsers } from './items.js';
