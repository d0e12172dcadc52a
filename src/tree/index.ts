/** Tree layout, builders and the tree file. */
export { TreeLayout } from './layout.js';
export { Tree, placeInOrder, type TreeItems, type TreeMeta, type TreeInit } from './tree.js';
export { buildCategoryTree, buildRandomTree, fromOrder, type BuildTreeOptions } from './build.js';
export { encodeTree, decodeTree, readTree, TREE_FORMAT, TREE_VERSION } from './io.js';
export {
  learnTree,
  pathLogLikelihood,
  DEFAULT_LEARN_GAP,
  DEFAULT_LEARN_ROWS_PER_CALL,
  type LearnTreeData,
  type LearnTreeOptions,
  type LearnTreeResult,
  type PairNodeScorer,
} from './learn.js';
export { buildKMeansTree, kMeansLeafOrder, DEFAULT_KMEANS_ITERATIONS, type KMeansTreeOptions } from './kmeans.js';
