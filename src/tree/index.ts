/** Tree layout, builders and the tree file. */
export { TreeLayout } from './layout.js';
export { Tree, placeInOrder, type TreeItems, type TreeMeta, type TreeInit } from './tree.js';
export { buildCategoryTree, buildRandomTree, fromOrder, type BuildTreeOptions } from './build.js';
export { encodeTree, decodeTree, readTree, TREE_FORMAT, TREE_VERSION } from './io.js';
