/**
 * One thread's part of a synchronous training step, the same code with one
 * shard (the in-process trainer) and with several (one per worker thread):
 *
 *  1. `compute`: the producer fills this shard's batch, ShardStep runs the
 *     forward/backward and leaves the shard's flat MLP gradient and its
 *     RowGradients in this engine's buffers (shared memory on workers);
 *  2. (workers: a barrier, after which every shard's gradients are readable)
 *  3. `update`: the shards' gradients are reduced in shard order; each
 *     thread sums and Adam-updates only its slice of the flat MLP weight
 *     vector (shared memory on workers) and its share of the table's rows;
 *  4. (workers: a barrier before the next step reads the table and weights);
 *  5. `syncWeights`: the thread loads the whole flat weight vector into its
 *     tfjs variables.
 *
 * With one shard this is exactly the in-process trainer, so `--workers 1`
 * gives the weights of `--workers 0` bit for bit.
 */
import type { ScorerNetwork } from '../scorer/network.js';
import type { EmbeddingUpdater } from './item-features.js';
import type { BatchProducer } from './batch-types.js';
import { ALL_ROWS, assignFlat, readFlat, reduceFlat, reduceRows, type RowShare } from './reduce.js';
import { flatShare, type FlatAdam, type FlatRange } from './flat-adam.js';
import type { DenseAdamState } from './adam-state.js';
import type { RowGradients } from './row-gradients.js';
import { ShardStep, emptyTiming, type StepTiming } from './shard-step.js';
import type { Tree } from '../tree/tree.js';
import { threadCpuSeconds } from '../core/thread-cpu.js';

/** What one shard's compute left for the reduction. */
export interface ShardResult {
  /** Summed loss over the shard's pairs. */
  loss: number;
  pairs: number;
}

/** What a StepEngine works with. */
export interface StepEngineParts {
  tree: Tree;
  network: ScorerNetwork;
  producer: BatchProducer;
  /** Most samples in one shard. */
  shardCapacity: number;
  /** Adam of the MLP (its moments shared with the other workers, each updating its slice). */
  mlpAdam: FlatAdam;
  /** The MLP's weights as one flat vector (on workers, shared memory: each thread updates its slice, every thread loads all of it). */
  mlpWeights: Float32Array;
  /** Sparse optimiser of the table (updates only this thread's share of the rows). */
  embedding: EmbeddingUpdater;
  /** Receives this shard's flat MLP gradient (on workers, a view on shared memory the others read after the barrier). */
  mlpGrad: Float32Array;
  /** Receives this shard's table gradient (likewise). */
  rowGrad: RowGradients;
  /** Rows, and slice of the MLP vector, this thread updates (default: all). */
  share?: RowShare;
  /** Record StepTiming (default true). */
  timed?: boolean;
}

const now = () => process.hrtime.bigint();

/** Runs this thread's shard of each step and its share of the updates. */
export class StepEngine {
  readonly timing: StepTiming = emptyTiming();
  readonly mlpGrad: Float32Array;
  readonly rowGrad: RowGradients;
  private readonly network: ScorerNetwork;
  private readonly producer: BatchProducer;
  private readonly mlpAdam: FlatAdam;
  private readonly mlpWeights: Float32Array;
  private readonly mlpRange: FlatRange;
  private readonly embedding: EmbeddingUpdater;
  private readonly share: RowShare;
  private readonly timed: boolean;
  private readonly step: ShardStep;
  private readonly reduced: Float32Array;

  constructor(p: StepEngineParts) {
    this.network = p.network;
    this.producer = p.producer;
    this.mlpAdam = p.mlpAdam;
    this.mlpWeights = p.mlpWeights;
    this.embedding = p.embedding;
    this.mlpGrad = p.mlpGrad;
    this.rowGrad = p.rowGrad;
    this.share = p.share ?? ALL_ROWS;
    this.timed = p.timed ?? true;
    this.step = new ShardStep(p.tree, p.network, p.producer.capacity(p.shardCapacity));
    this.reduced = new Float32Array(this.step.mlpSize);
    if (p.mlpWeights.length !== this.step.mlpSize || p.mlpAdam.size !== this.step.mlpSize) throw new Error(`StepEngine: the flat MLP vector must hold the network's ${this.step.mlpSize} weights`);
    this.mlpRange = flatShare(this.step.mlpSize, this.share.index, this.share.count);
  }

  /** Length of the flat MLP gradient. */
  get mlpSize(): number {
    return this.step.mlpSize;
  }

  /** Phase 1: this shard's samples (at positions first.. of epoch `epoch`) → its gradients in the engine's buffers. */
  compute(samples: Int32Array, epoch: number, first: number): ShardResult {
    const t0 = this.timed ? now() : 0n;
    const batch = this.producer.produce(samples, epoch, first);
    if (this.timed) this.timing.produce += Number(now() - t0);
    const loss = this.step.run(batch, this.mlpGrad, this.rowGrad, this.timed ? this.timing : undefined);
    return { loss, pairs: batch.pairs };
  }

  /** Phase 3: reduces every shard's gradients (in shard order) and applies this thread's updates; `pairs` is the step's total. */
  update(mlpGrads: Float32Array[], rowGrads: RowGradients[], pairs: number): void {
    const scale = 1 / pairs;
    let t = this.timed ? now() : 0n;
    const mark = (key: keyof StepTiming) => {
      if (!this.timed) return;
      const t2 = now();
      this.timing[key] += Number(t2 - t);
      t = t2;
    };
    const { lo, hi } = this.mlpRange;
    reduceFlat(mlpGrads, scale, this.reduced, lo, hi);
    mark('reduce');
    this.mlpAdam.apply(this.mlpWeights, this.reduced, lo, hi);
    this.mlpAdam.advance();
    mark('adam');
    if (this.embedding.applyShards) {
      // rows of one shard are read in place, only rows of several are summed first
      this.embedding.applyShards(rowGrads, scale, this.share);
    } else {
      reduceRows(rowGrads, this.embedding, scale, this.share);
      mark('reduce');
      this.embedding.apply();
    }
    mark('adam');
    this.timing.steps++;
  }

  /** The MLP optimiser's state, as checkpoints store it (on workers: after the step's barrier, when every slice is updated). */
  mlpAdamState(): DenseAdamState {
    return this.mlpAdam.state(this.network.variables());
  }

  /** Phase 5 (after the barrier on workers): the tfjs variables take the flat weights every thread's update left. */
  syncWeights(): void {
    const t = this.timed ? now() : 0n;
    assignFlat(this.network.variables(), this.mlpWeights);
    if (this.timed) this.timing.adam += Number(now() - t);
  }

  /**
   * Marks the start of an epoch's steps (for the wall and CPU time in
   * `timing`) and writes this thread's slice of the flat weights from its
   * tfjs variables, which the caller may have set between epochs.
   */
  startEpoch(): void {
    const { lo, hi } = this.mlpRange;
    readFlat(this.network.variables(), this.mlpWeights, lo, hi);
    this.epochStart = [now(), threadCpuSeconds() ?? 0];
  }

  /** Marks the end of an epoch's steps. */
  endEpoch(): void {
    this.timing.wall += Number(now() - this.epochStart[0]);
    this.timing.cpu += ((threadCpuSeconds() ?? 0) - this.epochStart[1]) * 1e9;
  }

  private epochStart: [bigint, number] = [0n, 0];

  /** Both phases with this shard alone (the in-process trainer); returns the step's mean loss. */
  runAlone(samples: Int32Array, epoch: number, first: number): number {
    const r = this.compute(samples, epoch, first);
    this.update([this.mlpGrad], [this.rowGrad], r.pairs);
    this.syncWeights();
    return r.loss / r.pairs;
  }
}
