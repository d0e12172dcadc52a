/**
 * The model folder: `manifest.json` (format, version, resolved config, seed,
 * sha256 of every file, training summary), `tree.msgpack`, and `scorer/`
 * (`model.json` + `weights.bin`). Written to a temporary sibling folder and
 * swapped into place (see writeModel and recoverModelFolder), so a crash
 * never leaves a half-written model nor a missing one; read back with every
 * checksum, size and the manifest's tree fields verified.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ArborError, ModelFormatError } from '../core/errors.js';
import { fileError } from '../core/fs-errors.js';
import { recoverFolder, replaceFolder, writeDurable } from './atomic.js';
import { decodeScorer, encodeScorer } from '../scorer/io.js';
import type { ScorerNetwork } from '../scorer/network.js';
import { decodeTree, encodeTree } from '../tree/io.js';
import type { Tree } from '../tree/tree.js';

/** Format name in manifest.json. */
export const MODEL_FORMAT = 'arbor-model';
/** Current model folder version. */
export const MODEL_VERSION = 1;

/** manifest.json. */
export interface Manifest {
  format: typeof MODEL_FORMAT;
  version: number;
  createdAt: string;
  seed: number;
  /** The resolved configuration (build + training) that produced this model. */
  config: Record<string, unknown>;
  tree: { branching: number; depth: number; numItems: number; init: string };
  /** sha256 (hex) of every file, by path relative to the folder. */
  files: Record<string, string>;
  /** Training summary, once a scorer is trained. */
  training?: unknown;
}

/** A loaded (or about to be written) model. */
export interface Model {
  tree: Tree;
  /** Absent until `arbor train` has run. */
  network?: ScorerNetwork;
  manifest: Manifest;
}

const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

/**
 * Repairs what a killed writer left beside the model folder `dir` (see
 * recoverFolder in atomic.ts: the previous model is moved back when a kill
 * fell between the swap's two renames; dead writers' leftovers are
 * removed). Called by readModel and writeModel; safe to call at any time.
 */
export function recoverModelFolder(dir: string): void {
  recoverFolder(dir, join(resolve(dir), 'manifest.json'), 'model folder');
}

/** Throws unless `target` is absent, an empty folder, or a model folder (so a typo in --out never replaces other files). */
function checkReplaceable(target: string, dir: string): void {
  let st;
  try {
    st = statSync(target);
  } catch {
    return;
  }
  if (!st.isDirectory()) throw new ArborError(`cannot write model folder ${dir}: it exists and is a file, not a model folder: choose another path, or remove it first`);
  const entries = readdirSync(target);
  if (entries.length === 0) return;
  let isModel = false;
  try {
    const text = readFileSync(join(target, 'manifest.json'), 'utf8');
    isModel = text.includes(`"${MODEL_FORMAT}"`);
  } catch {
    isModel = false;
  }
  if (!isModel) {
    throw new ArborError(`cannot write model folder ${dir}: it exists and is not an arbor model folder (no arbor manifest.json among its ${entries.length} entries), so it is not replaced: choose another path, or remove it first`);
  }
}

/**
 * True when `dir` is a model folder that holds a trained scorer (its
 * manifest lists scorer files, or scorer/ holds its files): replacing
 * it with a new tree would delete that training.
 */
export function holdsTrainedScorer(dir: string): boolean {
  const target = resolve(dir);
  recoverModelFolder(dir);
  // an untrained folder has an empty scorer/ folder
  if (existsSync(join(target, 'scorer', 'weights.bin')) || existsSync(join(target, 'scorer', 'model.json'))) return true;
  try {
    const manifest = JSON.parse(readFileSync(join(target, 'manifest.json'), 'utf8')) as { files?: Record<string, unknown> };
    return Object.keys(manifest.files ?? {}).some((f) => f.startsWith('scorer/'));
  } catch {
    return false;
  }
}

/**
 * Writes a model folder atomically: everything goes into a temporary sibling,
 * then replaces `dir` (the previous folder, if any, is removed only after the
 * new one is in place; recoverModelFolder repairs a kill in between). An
 * existing `dir` must be a model folder or empty. Failures (disk full,
 * read-only) are FileErrors naming the path, and leave the previous folder.
 */
export async function writeModel(
  dir: string,
  parts: { tree: Tree; network?: ScorerNetwork; seed: number; config: Record<string, unknown>; training?: unknown },
): Promise<Manifest> {
  const target = resolve(dir);
  const parent = dirname(target);
  recoverModelFolder(dir);
  checkReplaceable(target, dir);
  try {
    mkdirSync(parent, { recursive: true });
  } catch (e) {
    throw fileError('create', parent, e, 'cannot create the folder of model');
  }
  const files: Record<string, Uint8Array | string> = { 'tree.msgpack': encodeTree(parts.tree) };
  if (parts.network) {
    const s = await encodeScorer(parts.network);
    files['scorer/model.json'] = s.modelJson;
    files['scorer/weights.bin'] = s.weightsBin;
  }
  const { layout } = parts.tree;
  const manifest: Manifest = {
    format: MODEL_FORMAT,
    version: MODEL_VERSION,
    createdAt: new Date().toISOString(),
    seed: parts.seed,
    config: parts.config,
    tree: { branching: layout.branching, depth: layout.depth, numItems: parts.tree.numItems, init: parts.tree.meta.init },
    files: Object.fromEntries(Object.entries(files).map(([name, data]) => [name, sha256(data)])),
    ...(parts.training !== undefined ? { training: parts.training } : {}),
  };
  try {
    replaceFolder(target, (tmp) => {
      // one level at a time: a recursive mkdir reports ENOENT instead of EROFS on a read-only file system
      mkdirSync(join(tmp, 'scorer'));
      for (const [name, data] of Object.entries(files)) writeDurable(join(tmp, name), data);
      writeDurable(join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
    });
  } catch (e) {
    throw fileError('write', dir, e, 'cannot write model folder', '; the previous model folder (if any) is unchanged');
  }
  return manifest;
}

/** Reads and verifies a model folder. `requireScorer` makes a missing scorer an error. */
export function readModel(dir: string, opts: { requireScorer?: boolean } = {}): Model {
  recoverModelFolder(dir);
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) {
    throw new ModelFormatError(manifestPath, existsSync(dir) ? 'missing: not an arbor model folder' : 'model folder does not exist');
  }
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (e) {
    throw new ModelFormatError(manifestPath, `not valid JSON (${(e as Error).message})`);
  }
  if (!manifest || typeof manifest !== 'object') throw new ModelFormatError(manifestPath, 'not an arbor model (expected a JSON object)');
  if (manifest.format !== MODEL_FORMAT) throw new ModelFormatError(manifestPath, `not an arbor model (format ${JSON.stringify(manifest.format)})`);
  if (manifest.version !== MODEL_VERSION) {
    throw new ModelFormatError(manifestPath, `model version ${JSON.stringify(manifest.version)} is not supported (expected ${MODEL_VERSION})`);
  }
  const read = (name: string): Buffer => {
    const path = join(dir, name);
    const want = manifest.files?.[name];
    if (!want) throw new ModelFormatError(manifestPath, `lists no checksum for ${name}`);
    let data: Buffer;
    try {
      data = readFileSync(path);
    } catch {
      throw new ModelFormatError(path, 'missing');
    }
    if (sha256(data) !== want) throw new ModelFormatError(path, 'checksum mismatch: the file is corrupt or was changed after writing');
    return data;
  };
  if (!manifest.files || typeof manifest.files !== 'object' || Object.values(manifest.files).some((h) => typeof h !== 'string')) {
    throw new ModelFormatError(manifestPath, 'files must map each file to its sha256');
  }
  const tree = decodeTree(read('tree.msgpack'), join(dir, 'tree.msgpack'));
  checkManifestTree(manifest, tree, manifestPath);
  let network: ScorerNetwork | undefined;
  if (manifest.files['scorer/model.json']) {
    network = decodeScorer(
      { modelJson: read('scorer/model.json').toString('utf8'), weightsBin: read('scorer/weights.bin') },
      join(dir, 'scorer'),
    );
    if (network.numInternal !== tree.layout.numInternal || network.numItems !== tree.numItems) {
      throw new ModelFormatError(join(dir, 'scorer/model.json'), `scorer is for ${network.numItems} items / ${network.numInternal} nodes, the tree has ${tree.numItems} / ${tree.layout.numInternal}`);
    }
  } else if (opts.requireScorer) {
    throw new ModelFormatError(join(dir, 'scorer'), 'no trained scorer in this model folder: run `arbor train` first');
  }
  return { tree, network, manifest };
}

/** The manifest's tree fields must describe the tree file (they are what GET /v1/model and tools report). */
function checkManifestTree(manifest: Manifest, tree: Tree, manifestPath: string): void {
  const said = (manifest.tree ?? {}) as Partial<Manifest['tree']>;
  const actual: Manifest['tree'] = { branching: tree.layout.branching, depth: tree.layout.depth, numItems: tree.numItems, init: tree.meta.init };
  for (const field of ['branching', 'depth', 'numItems', 'init'] as const) {
    if (said[field] !== actual[field]) {
      throw new ModelFormatError(
        manifestPath,
        `tree.${field} is ${JSON.stringify(said[field])} but tree.msgpack holds ${JSON.stringify(actual[field])}: the manifest was edited or belongs to another tree; rebuild the model (arbor build-tree, then train)`,
      );
    }
  }
}
