/**
 * The training checkpoint of a model folder, `MODEL/checkpoint/`:
 *
 *  - `arrays.bin`: every float32 array of the state back to back
 *    (little-endian): the weights (embedding table and MLP), the optimisers'
 *    moments, the best epoch's weights, the item feature parameters;
 *  - `state.json`: the rest (epoch, step, steps done, the epoch's loss so
 *    far, the epoch reports, the best epoch's recall and path weight, the
 *    optimisers' step counts and β powers) with, for each array, its key,
 *    shape and place in arrays.bin; and the identity of the run (store
 *    data, tree, options, seed, workers, backend);
 *  - `manifest.json`: format, version and the sha256 of both files.
 *
 * Written atomically (atomic.ts: a temporary sibling, fsync, rename), so a
 * crash leaves the previous checkpoint or the new one. A finished training
 * rewrites the model folder without it.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError } from '../core/errors.js';
import { fileError } from '../core/fs-errors.js';
import { recoverFolder, removeFolder, replaceFolder, writeDurable } from '../model/atomic.js';
import type { NamedArrays } from '../scorer/network.js';
import type { MomentArray } from '../trainer/adam-state.js';
import type { TrainState } from '../trainer/train-state.js';

/** Format name in the checkpoint's manifest.json. */
export const CHECKPOINT_FORMAT = 'arbor-checkpoint';
/** Current checkpoint version. */
export const CHECKPOINT_VERSION = 1;

/** What makes two training runs the same run: a checkpoint continues only a run with equal fields. */
export interface RunIdentity {
  /** sha256 of the training sequences and the validation cases (in the tree's item indices). */
  data: string;
  /** The store they were read from (reported, not compared: a copy of the store resumes). */
  store: string;
  /** sha256 of the model's tree file. */
  tree: string;
  seed: number;
  /** Worker threads asked for (0: the calling thread). */
  workers: number;
  /** The tfjs backend that ran. */
  backend: string;
  /** Every option that shapes the weights (training options, scorer, embedding size, item features). */
  options: Record<string, unknown>;
}

/** The checkpoint folder of model folder `modelDir`. */
export function checkpointFolder(modelDir: string): string {
  return join(modelDir, 'checkpoint');
}

/** A key → float32 array reference inside state.json. */
interface ArrayRef {
  $array: number;
  shape?: number[];
}

interface ArrayEntry {
  offset: number;
  length: number;
}

/** Collects arrays while the state is turned into JSON. */
class ArrayWriter {
  readonly arrays: Float32Array[] = [];
  readonly entries: ArrayEntry[] = [];
  private offset = 0;

  ref(a: Float32Array, shape?: number[]): ArrayRef {
    this.arrays.push(a);
    this.entries.push({ offset: this.offset, length: a.length });
    this.offset += a.length * 4;
    return { $array: this.arrays.length - 1, ...(shape ? { shape } : {}) };
  }

  named(w: NamedArrays): Record<string, ArrayRef> {
    const out: Record<string, ArrayRef> = {};
    for (const [name, a] of w) out[name] = this.ref(a.data, a.shape);
    return out;
  }

  moments(ms: MomentArray[]): { name: string; data: ArrayRef }[] {
    return ms.map((m) => ({ name: m.name, data: this.ref(m.data, m.shape) }));
  }
}

/** The state as JSON with every array replaced by a reference. */
function encodeState(s: TrainState, w: ArrayWriter): unknown {
  const { best, ...loop } = s.loop;
  return {
    epoch: s.epoch,
    step: s.step,
    stepsDone: s.stepsDone,
    lossSum: s.lossSum,
    epochSeconds: s.epochSeconds,
    finished: s.finished,
    weights: w.named(s.weights),
    mlpAdam: { iterations: s.mlpAdam.iterations, accBeta1: s.mlpAdam.accBeta1, accBeta2: s.mlpAdam.accBeta2, m: w.moments(s.mlpAdam.m), v: w.moments(s.mlpAdam.v) },
    embedding: { arrays: Object.fromEntries(Object.entries(s.embedding.arrays).map(([k, a]) => [k, w.ref(a)])), counts: s.embedding.counts },
    loop: { ...loop, ...(best ? { best: { recall: best.recall, epoch: best.epoch, pathWeight: best.pathWeight, weights: w.named(best.weights) } } : {}) },
  };
}

const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

/**
 * Writes `state` of the run `identity` as the checkpoint of model folder
 * `modelDir`, replacing the previous one atomically. Failures are
 * FileErrors naming the folder (the previous checkpoint is kept).
 */
export function writeCheckpoint(modelDir: string, identity: RunIdentity, state: TrainState): void {
  const dir = checkpointFolder(modelDir);
  const w = new ArrayWriter();
  const json = JSON.stringify({ identity, state: encodeState(state, w), arrays: w.entries });
  try {
    replaceFolder(dir, (tmp) => {
      const hash = createHash('sha256');
      const fd = openSync(join(tmp, 'arrays.bin'), 'wx');
      try {
        for (const a of w.arrays) {
          const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
          hash.update(bytes);
          for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
        }
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      writeDurable(join(tmp, 'state.json'), json);
      const manifest = { format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, files: { 'state.json': sha256(json), 'arrays.bin': hash.digest('hex') } };
      writeDurable(join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
    });
  } catch (e) {
    throw fileError('write', dir, e, 'cannot write training checkpoint', '; the previous checkpoint (if any) is kept');
  }
}

/** True when model folder `modelDir` holds a checkpoint (after repairing an interrupted write). */
export function hasCheckpoint(modelDir: string): boolean {
  const dir = checkpointFolder(modelDir);
  recoverFolder(dir, join(dir, 'manifest.json'), 'checkpoint');
  return existsSync(dir);
}

/** Removes the checkpoint of model folder `modelDir`, if any. */
export function removeCheckpoint(modelDir: string): void {
  const dir = checkpointFolder(modelDir);
  try {
    removeFolder(dir);
  } catch (e) {
    throw fileError('write', dir, e, 'cannot remove training checkpoint');
  }
}

/** A checkpoint read back. */
export interface Checkpoint {
  identity: RunIdentity;
  state: TrainState;
}

/**
 * Reads and verifies the checkpoint of model folder `modelDir`: a
 * CheckpointError naming the folder when there is none ('missing') or when
 * a file is missing, fails its checksum or does not hold a training state
 * ('corrupt').
 */
export function readCheckpoint(modelDir: string): Checkpoint {
  const dir = checkpointFolder(modelDir);
  if (!hasCheckpoint(modelDir)) {
    throw new CheckpointError(dir, 'missing', `no training checkpoint in ${dir}: there is no interrupted run of ${modelDir} to resume; train without --resume`);
  }
  const corrupt = (what: string) => new CheckpointError(dir, 'corrupt', `the training checkpoint ${dir} is corrupt: ${what}; delete the folder and train without --resume`);
  const read = (name: string): Buffer => {
    try {
      return readFileSync(join(dir, name));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw corrupt(`${name} is missing`);
      throw fileError('read', join(dir, name), e, 'cannot read training checkpoint');
    }
  };
  let manifest: { format?: unknown; version?: unknown; files?: Record<string, unknown> };
  try {
    manifest = JSON.parse(read('manifest.json').toString('utf8'));
  } catch (e) {
    if (e instanceof CheckpointError || !(e instanceof SyntaxError)) throw e;
    throw corrupt(`manifest.json is not valid JSON (${e.message})`);
  }
  if (!manifest || typeof manifest !== 'object' || manifest.format !== CHECKPOINT_FORMAT) throw corrupt('manifest.json is not an arbor checkpoint manifest');
  if (manifest.version !== CHECKPOINT_VERSION) {
    throw new CheckpointError(dir, 'mismatch', `the training checkpoint ${dir} has version ${JSON.stringify(manifest.version)}, this arbor reads version ${CHECKPOINT_VERSION}: train without --resume`);
  }
  const verified = (name: string): Buffer => {
    const data = read(name);
    if (sha256(data) !== manifest.files?.[name]) throw corrupt(`${name} fails its checksum (the file was cut short or changed after writing)`);
    return data;
  };
  const text = verified('state.json').toString('utf8');
  const bin = verified('arrays.bin');
  try {
    return decodeCheckpoint(JSON.parse(text), bin);
  } catch (e) {
    throw corrupt(`state.json does not describe a training state (${(e as Error).message})`);
  }
}

/** Rebuilds the state from state.json and arrays.bin (throws on anything malformed). */
function decodeCheckpoint(doc: { identity: RunIdentity; state: Record<string, unknown>; arrays: ArrayEntry[] }, bin: Buffer): Checkpoint {
  const entries = doc.arrays;
  if (!Array.isArray(entries)) throw new Error('no array table');
  const array = (r: unknown): Float32Array => {
    const i = (r as ArrayRef | undefined)?.$array;
    const e = typeof i === 'number' ? entries[i] : undefined;
    if (!e || !Number.isInteger(e.offset) || !Number.isInteger(e.length) || e.offset < 0 || e.length < 0 || e.offset + 4 * e.length > bin.length) throw new Error(`bad array reference ${JSON.stringify(r)}`);
    const out = new Float32Array(e.length);
    new Uint8Array(out.buffer).set(bin.subarray(e.offset, e.offset + 4 * e.length));
    return out;
  };
  const shaped = (r: unknown) => ({ shape: ((r as ArrayRef).shape ?? []).slice(), data: array(r) });
  const named = (o: unknown): NamedArrays => {
    if (!o || typeof o !== 'object') throw new Error('weights missing');
    return new Map(Object.entries(o as Record<string, unknown>).map(([k, r]) => [k, shaped(r)]));
  };
  const moments = (list: unknown): MomentArray[] => {
    if (!Array.isArray(list)) throw new Error('optimiser moments missing');
    return list.map((x: { name: string; data: unknown }) => ({ name: String(x.name), ...shaped(x.data) }));
  };
  const num = (v: unknown, what: string): number => {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${what} is not a number`);
    return v;
  };
  const s = doc.state as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  if (!s || typeof s !== 'object' || !doc.identity || typeof doc.identity !== 'object') throw new Error('state or identity missing');
  const loop = s.loop ?? {};
  if (!Array.isArray(loop.epochs)) throw new Error('epoch reports missing');
  const state: TrainState = {
    epoch: num(s.epoch, 'epoch'),
    step: num(s.step, 'step'),
    stepsDone: num(s.stepsDone, 'stepsDone'),
    lossSum: num(s.lossSum, 'lossSum'),
    epochSeconds: num(s.epochSeconds, 'epochSeconds'),
    finished: Boolean(s.finished),
    weights: named(s.weights),
    mlpAdam: { iterations: num(s.mlpAdam?.iterations, 'iterations'), accBeta1: num(s.mlpAdam?.accBeta1, 'accBeta1'), accBeta2: num(s.mlpAdam?.accBeta2, 'accBeta2'), m: moments(s.mlpAdam?.m), v: moments(s.mlpAdam?.v) },
    embedding: {
      arrays: Object.fromEntries(Object.entries((s.embedding?.arrays ?? {}) as Record<string, unknown>).map(([k, r]) => [k, array(r)])),
      counts: Object.fromEntries(Object.entries((s.embedding?.counts ?? {}) as Record<string, unknown>).map(([k, c]) => [k, num(c, k)])),
    },
    loop: {
      epochs: loop.epochs,
      stale: num(loop.stale, 'stale'),
      trainSeconds: num(loop.trainSeconds, 'trainSeconds'),
      samplesSeen: num(loop.samplesSeen, 'samplesSeen'),
      elapsed: num(loop.elapsed, 'elapsed'),
      ...(loop.best ? { best: { recall: num(loop.best.recall, 'best recall'), epoch: num(loop.best.epoch, 'best epoch'), pathWeight: num(loop.best.pathWeight, 'best path weight'), weights: named(loop.best.weights) } } : {}),
    },
  };
  if (!state.weights.has('embedding')) throw new Error('the embedding table is missing');
  return { identity: doc.identity, state };
}

/** Field-by-field differences between a checkpoint's run and this one ("seed: checkpoint 1, this run 2"). */
export function identityDifferences(saved: RunIdentity, now: RunIdentity): string[] {
  const show = (v: unknown) => (v === undefined ? 'unset' : JSON.stringify(v));
  const out: string[] = [];
  if (saved.data !== now.data) out.push(`training data: the checkpoint's run read other users or behaviours (its store: ${saved.store}; this run: ${now.store})`);
  if (saved.tree !== now.tree) out.push('tree: the model folder holds another tree than the one the checkpoint was trained for');
  if (saved.seed !== now.seed) out.push(`seed: checkpoint ${show(saved.seed)}, this run ${show(now.seed)}`);
  if (saved.workers !== now.workers) out.push(`workers: checkpoint ${show(saved.workers)}, this run ${show(now.workers)}`);
  if (saved.backend !== now.backend) out.push(`backend: checkpoint ${show(saved.backend)}, this run ${show(now.backend)}`);
  const keys = new Set([...Object.keys(saved.options ?? {}), ...Object.keys(now.options)]);
  for (const k of [...keys].sort()) {
    const a = (saved.options ?? {})[k];
    const b = now.options[k];
    if (JSON.stringify(a) !== JSON.stringify(b)) out.push(`${k}: checkpoint ${show(a)}, this run ${show(b)}`);
  }
  return out;
}

/** Throws a CheckpointError ('mismatch') naming the folder and every difference unless the checkpoint is of this run. */
export function checkIdentity(modelDir: string, saved: RunIdentity, now: RunIdentity): void {
  const diff = identityDifferences(saved, now);
  if (diff.length === 0) return;
  const dir = checkpointFolder(modelDir);
  throw new CheckpointError(dir, 'mismatch', `the training checkpoint ${dir} is from another run: ${diff.join('; ')}. Resume with the checkpoint's settings, or delete the folder and train without --resume`);
}
