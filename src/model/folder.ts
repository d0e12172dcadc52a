/**
 * The model folder: `manifest.json` (format, version, resolved config, seed,
 * sha256 of every file, training summary), `tree.msgpack`, and `scorer/`
 * (`model.json` + `weights.bin`). Written to a temporary sibling folder and
 * renamed into place, so a crash never leaves a half-written model; read back
 * with every checksum and size verified.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { ArborError, ModelFormatError } from '../core/errors.js';
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
 * Writes a model folder atomically: everything goes into a temporary sibling,
 * then replaces `dir` (the previous folder, if any, is removed only after the
 * new one is in place).
 */
export async function writeModel(
  dir: string,
  parts: { tree: Tree; network?: ScorerNetwork; seed: number; config: Record<string, unknown>; training?: unknown },
): Promise<Manifest> {
  const target = resolve(dir);
  const parent = dirname(target);
  mkdirSync(parent, { recursive: true });
  const stamp = `${process.pid}-${Date.now()}`;
  const tmp = join(parent, `.${basename(target)}.tmp-${stamp}`);
  const old = join(parent, `.${basename(target)}.old-${stamp}`);
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
    mkdirSync(join(tmp, 'scorer'), { recursive: true });
    for (const [name, data] of Object.entries(files)) writeFileSync(join(tmp, name), data);
    writeFileSync(join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
    if (existsSync(target)) renameSync(target, old);
    renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    if (existsSync(old) && !existsSync(target)) renameSync(old, target);
    throw new ArborError(`cannot write model folder ${dir}: ${(e as Error).message}`);
  }
  rmSync(old, { recursive: true, force: true });
  return manifest;
}

/** Reads and verifies a model folder. `requireScorer` makes a missing scorer an error. */
export function readModel(dir: string, opts: { requireScorer?: boolean } = {}): Model {
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
  const tree = decodeTree(read('tree.msgpack'), join(dir, 'tree.msgpack'));
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
