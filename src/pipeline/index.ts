/** The pipeline stages over a store and a model folder, shared by the CLI, the library, the demo and the benchmark. */
export { buildTreeFromStore, createModelFolder, trainModelFolder, learnTreeInFolder, evaluateModel, beamWidths, treeQuality } from './ops.js';
export type { BuildOptions, CreateFolderOptions, TrainModelOptions, LearnTreeOptions, EvalOptions, ModelEvalReport, TreeQuality } from './ops.js';
