/**
 * Data-parallel training on worker threads (`arbor train --workers N`).
 * tfjs-wasm has no threads in Node, so each worker runs its own backend and
 * its own copy of the MLP; the embedding table, its sparse Adam state, the
 * training samples and the epoch's order live in SharedArrayBuffers.
 *
 * Steps are synchronous: a batch of `batchSize` samples is cut into one
 * contiguous shard per worker; each worker produces and differentiates its
 * shard, then, after a barrier, every worker sums all shards' MLP gradients
 * in shard order over its slice of the flat MLP weight vector (shared) and
 * applies Adam to that slice, and applies the table's sparse Adam step to
 * its share of the rows (blocks of 16 rows dealt round the workers: each
 * row updated once per step, by one thread, and no cache line written by
 * two); after a second barrier every worker loads the whole weight vector
 * into its tfjs copy of the MLP. Every random draw comes from
 * streams derived from the seed, the epoch and the sample's position
 * (src/trainer/streams.ts). So a run depends on the seed and the number of
 * workers only, never on thread timing, and one worker gives exactly the
 * weights of the in-process trainer (`trainScorer`), which runs the same
 * StepEngine with a single shard. Different worker counts draw the same
 * pairs; their weights differ only by the float rounding of the sums.
 *
 * The main thread only hands out runs of steps: it writes the epoch's
 * order, has the workers run its steps up to the next checkpoint (or the
 * epoch's end), writes the checkpoint from the shared table and worker 0's
 * MLP and optimiser state while the workers wait, and at the epoch's end
 * copies the table and worker 0's MLP into the caller's network and
 * validates (early stopping) as the in-process trainer does. A resumed run
 * starts the workers from the checkpoint's weights and optimiser state.
 *
 * Covered: the pooling scorer, plain or with the hierarchical user
 * preference. The attention scorer and item side features (category
 * embedding, item vectors) train on the calling thread, with a logged note.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ArborError, UsageError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/log.js';
import { backendInfo } from '../scorer/backend.js';
import { touched } from '../trainer/sparse-adam.js';
import type { NamedArrays, ScorerNetwork } from '../scorer/network.js';
import { EpochLoop, profileOf, type TrainData, type TrainOptions, type TrainSummary } from '../trainer/epoch-loop.js';
import { negativesPerLevel } from '../trainer/negatives.js';
import { PATH_RULE } from '../beam/retriever.js';
import { makeProducer, type ProducerName } from '../trainer/producer.js';
import { flatSize } from '../trainer/reduce.js';
import { RowGradients, rowCapacity } from '../trainer/row-gradients.js';
import { slidingWindowSamples, type SampleSet } from '../trainer/samples.js';
import type { StepTiming } from '../trainer/shard-step.js';
import { epochOrder } from '../trainer/streams.js';
import { EpochProgress } from '../trainer/progress.js';
import { checkpointDue, type Checkpoints, type TrainState } from '../trainer/train-state.js';
import { DEFAULT_TRAIN_OPTIONS, producerContext, trainScorer, validateTrainOptions } from '../trainer/train.js';
import { encodeTree } from '../tree/io.js';
import type { Tree } from '../tree/tree.js';
import { Barrier } from './barrier.js';
import { EPOCH, FINISHED, type FromTrainWorker, type SharedMemory, type StepRange, type ToTrainWorker, type WireError, type WorkerInit } from './train-protocol.js';
import type { DenseAdamState } from '../trainer/adam-state.js';
import { scorerKind } from '../scorer/kinds.js';

/** Default worker count of training: the number of CPU cores. */
export function defaultTrainWorkers(): number {
  return availableParallelism();
}

/** Why a run cannot use worker threads (undefined: it can). */
export function inProcessReason(network: ScorerNetwork, data: TrainData): string | undefined {
  const unsupported = scorerKind(network.config.kind).workersUnsupported;
  if (unsupported) return unsupported;
  if (data.features) return 'item side features (category embedding, item vectors) train on the calling thread (worker threads cover plain item embeddings)';
  return undefined;
}

/**
 * Trains `network` for `tree` in place with `options.workers` worker threads
 * (default: the number of CPU cores; 0: the calling thread, as
 * `trainScorer`); returns the summary, whose options record the worker count
 * that ran. The weights left are the best epoch's.
 */
export async function trainParallel(
  tree: Tree,
  network: ScorerNetwork,
  data: TrainData,
  options: Partial<TrainOptions> = {},
  logger: Logger = silentLogger,
  checkpoints?: Checkpoints,
): Promise<TrainSummary> {
  const workers = options.workers ?? defaultTrainWorkers();
  const o: TrainOptions = { ...DEFAULT_TRAIN_OPTIONS, ...options, workers };
  validateTrainOptions(o);
  if (workers === 0) return trainScorer(tree, network, data, o, logger, checkpoints);
  const reason = inProcessReason(network, data);
  if (reason) {
    logger.info(`note: ${reason}; --workers ${workers} is not used`);
    return trainScorer(tree, network, data, o, logger, checkpoints);
  }
  const resume = checkpoints?.resume;
  if (resume) network.restore(resume.weights);
  const samples = slidingWindowSamples(data.sequences, data.targetWeights);
  const total = samples.seq.length;
  if (total === 0) throw new UsageError('no training samples: the training users need at least two behaviours each');
  const negs = negativesPerLevel(tree, o.negatives);
  const producerName = o.objective as ProducerName;
  // sizes from a producer on this thread (the workers build their own)
  const local = makeProducer(producerName, producerContext(tree, network, samples, negs, o));
  const cap = local.capacity(Math.ceil(o.batchSize / workers));
  const rows = rowCapacity(cap, network.numRows);
  const mlpSize = flatSize(network.variables());
  const shared = sharedMemory(network, samples, workers, mlpSize, rows);
  if (resume) {
    shared.adamM.set(resume.embedding.arrays.m);
    shared.adamV.set(resume.embedding.arrays.v);
  }
  const treeBytes = encodeTree(tree);
  const mlp = network.variableArrays();
  const pool = await TrainPool.start(workers, (index) => ({
    index,
    workers,
    backend: backendChoice(),
    config: network.config,
    numInternal: network.numInternal,
    numItems: network.numItems,
    tree: treeBytes,
    mlp,
    producer: producerName,
    trainBeam: o.trainBeam,
    pathWeight: o.pathWeight ?? PATH_RULE,
    negatives: negs,
    seed: o.seed,
    lr: o.lr,
    batchSize: o.batchSize,
    rowCapacity: rows,
    mlpSize,
    shared,
    ...(resume ? { resume: { mlpAdam: resume.mlpAdam, embStep: resume.embedding.counts.step } } : {}),
  }));
  logger.info(`training on ${workers} worker thread${workers === 1 ? '' : 's'} (backend ${pool.backend}), ${o.batchSize} samples a step`);
  const loop = new EpochLoop(tree, network, data, o, logger, resume?.loop);
  let timings: StepTiming[] = [];
  let stepsDone = resume?.stepsDone ?? 0;
  let mlpAdam = resume?.mlpAdam;
  const b = o.batchSize;
  /** A checkpoint of the run as the workers left it (worker 0's MLP and optimiser, the shared table and its optimiser). */
  const state = (at: Pick<TrainState, 'epoch' | 'step' | 'stepsDone' | 'lossSum' | 'epochSeconds' | 'finished'>, weights: NamedArrays): TrainState => ({
    ...at,
    weights: new Map([['embedding', { shape: [network.numRows, network.config.embDim], data: shared.table }], ...weights]),
    mlpAdam: mlpAdam!,
    embedding: { arrays: { m: shared.adamM, v: shared.adamV }, counts: { step: at.stepsDone } },
    loop: loop.state(),
  });
  try {
    for (let epoch = resume ? resume.epoch : 1; epoch <= o.epochs && !resume?.finished; epoch++) {
      const order = epochOrder(o.seed, epoch, total, o.maxSamplesPerEpoch);
      const steps = Math.ceil(order.length / b);
      shared.order.set(order);
      Atomics.store(shared.control, EPOCH, epoch);
      const from = resume && epoch === resume.epoch ? resume.step : 0;
      let lossSum = from > 0 ? resume!.lossSum : 0;
      let seconds = from > 0 ? resume!.epochSeconds : 0;
      const bar = new EpochProgress(logger.progress(`epoch ${epoch}/${o.epochs}`, order.length), epoch, o.epochs, order.length, Math.min(order.length, from * b));
      let r: Awaited<ReturnType<TrainPool['epoch']>> | undefined;
      try {
        // steps in runs that end where a checkpoint falls (or at the epoch's end)
        for (let step = from; step < steps; ) {
          const to = checkpoints && checkpoints.every > 0 ? Math.min(steps, step + checkpoints.every - (stepsDone % checkpoints.every)) : steps;
          Atomics.store(shared.control, FINISHED, 0);
          const t0 = process.hrtime.bigint();
          r = await pool.epoch(epoch, order.length, { from: step, to, loss: lossSum, snapshot: checkpoints !== undefined }, (done, loss) => bar.update(done, loss));
          seconds += Number(process.hrtime.bigint() - t0) / 1e9;
          if (Atomics.load(shared.control, FINISHED) !== workers) throw new ArborError('training workers ended an epoch out of step');
          stepsDone += to - step;
          step = to;
          lossSum = r.loss;
          if (r.mlpAdam) mlpAdam = r.mlpAdam;
          if (checkpointDue(checkpoints, stepsDone, step === steps)) checkpoints!.save(state({ epoch, step, stepsDone, lossSum, epochSeconds: seconds, finished: false }, r.weights));
        }
      } finally {
        bar.stop();
      }
      if (r) {
        network.restore(r.weights);
        timings = r.timings;
      }
      network.emb.set(shared.table);
      const stop = loop.end({ epoch, loss: lossSum / order.length, samples: order.length, seconds });
      checkpoints?.save(state({ epoch: epoch + 1, step: 0, stepsDone, lossSum: 0, epochSeconds: 0, finished: stop || epoch === o.epochs }, network.variableArrays()));
      if (stop) break;
    }
  } finally {
    await pool.close();
  }
  return loop.finish({ total, pairsPerSample: local.pairsPerSample, negativesPerLevel: negs, profile: timings.map(profileOf) });
}

/** The backend the workers should load: the one this thread runs. */
function backendChoice(): WorkerInit['backend'] {
  return backendInfo()?.choice ?? 'auto';
}

const sharedF32 = (n: number) => new Float32Array(new SharedArrayBuffer(4 * n));
const sharedI32 = (n: number) => new Int32Array(new SharedArrayBuffer(4 * n));

/** Allocates the shared memory and copies the table and the samples into it. */
function sharedMemory(network: ScorerNetwork, samples: SampleSet, workers: number, mlpSize: number, rows: number): SharedMemory {
  const table = sharedF32(network.emb.length);
  table.set(network.emb);
  const starts = sharedI32(samples.sequences.length + 1);
  samples.sequences.forEach((s, u) => (starts[u + 1] = starts[u] + s.length));
  const events = sharedI32(starts[samples.sequences.length]);
  samples.sequences.forEach((s, u) => events.set(s, starts[u]));
  const seq = sharedI32(samples.seq.length);
  seq.set(samples.seq);
  const pos = sharedI32(samples.pos.length);
  pos.set(samples.pos);
  const weight = sharedF32(samples.weight ? samples.weight.length : 0);
  if (samples.weight) weight.set(samples.weight);
  const d = network.config.embDim;
  return {
    table,
    adamM: touched(sharedF32(table.length)),
    adamV: touched(sharedF32(table.length)),
    events,
    starts,
    seq,
    pos,
    weight,
    order: sharedI32(samples.seq.length),
    mlpGrads: sharedF32(workers * mlpSize),
    mlpWeights: sharedF32(mlpSize),
    mlpM: sharedF32(mlpSize),
    mlpV: sharedF32(mlpSize),
    rowGrads: Array.from({ length: workers }, () => new SharedArrayBuffer(RowGradients.bytes(rows, d))),
    stats: new Float64Array(new SharedArrayBuffer(8 * 2 * workers)),
    barrier: Barrier.cells(),
    control: sharedI32(2),
  };
}

/** What one epoch on the pool gave. */
interface EpochResult {
  /** Summed (sample-weighted) loss of the epoch so far. */
  loss: number;
  /** Worker 0's MLP weights after the epoch. */
  weights: NamedArrays;
  /** Each worker's step timing so far. */
  timings: StepTiming[];
  /** Worker 0's MLP optimiser state, when asked for. */
  mlpAdam?: DenseAdamState;
}

function fromWire(e: WireError): Error {
  return e.name === 'UsageError' ? new UsageError(e.message) : new ArborError(e.message);
}

const WORKER_URL = new URL('./train-worker.js', import.meta.url);

/** The worker threads of one training run. */
class TrainPool {
  backend = '';
  private readonly handlers: ((m: FromTrainWorker) => void)[] = [];
  private lost: ((index: number, e: Error) => void) | undefined;
  /** Set once a worker died: the run cannot go on. */
  private dead: Error | undefined;
  private closed = false;

  private constructor(
    private readonly threads: Worker[],
    private readonly barrier: Barrier,
  ) {}

  /** Starts `n` workers and resolves once all have loaded (rejects with the first failure). */
  static async start(n: number, initOf: (index: number) => WorkerInit): Promise<TrainPool> {
    const inits = Array.from({ length: n }, (_, i) => initOf(i));
    const threads = inits.map((workerData) => new Worker(WORKER_URL, { workerData }));
    const pool = new TrainPool(threads, new Barrier(inits[0].shared.barrier, n));
    threads.forEach((w, i) => {
      w.on('message', (m: FromTrainWorker) => pool.handlers.forEach((h) => h(m)));
      w.on('error', (e) => pool.fail(i, new ArborError(`training worker ${i} failed: ${e.message}`)));
      w.on('exit', (code) => {
        if (!pool.closed) pool.fail(i, new ArborError(`training worker ${i} exited with code ${code}`));
      });
    });
    try {
      await new Promise<void>((resolve, reject) => {
        let ready = 0;
        pool.lost = (_, e) => reject(e);
        pool.handlers.push((m) => {
          if (m.type === 'ready') {
            pool.backend = m.backend;
            if (++ready === n) resolve();
          } else if (m.type === 'failed') reject(fromWire(m.error));
        });
      });
    } catch (e) {
      await pool.close();
      throw e;
    }
    pool.handlers.length = 0;
    pool.lost = undefined;
    return pool;
  }

  /** A worker failed outside a message: wake the others and fail the current wait. */
  private fail(index: number, e: Error): void {
    this.dead ??= e;
    this.barrier.abort();
    this.lost?.(index, e);
  }

  /** Runs steps of one epoch on every worker; `progress` gets worker 0's (samples done, mean loss so far). */
  epoch(epoch: number, count: number, steps: StepRange, progress: (done: number, loss: number) => void): Promise<EpochResult> {
    if (this.dead) return Promise.reject(this.dead);
    const n = this.threads.length;
    return new Promise<EpochResult>((resolve, reject) => {
      const timings: StepTiming[] = new Array(n);
      const reported = new Array<boolean>(n).fill(false);
      const errors: (Error | undefined)[] = new Array(n);
      let loss = 0;
      let weights: NamedArrays | undefined;
      let mlpAdam: DenseAdamState | undefined;
      let aborted: Error | undefined;
      const report = (index: number) => {
        if (reported[index]) return;
        reported[index] = true;
        if (reported.some((r) => !r)) return;
        this.handlers.length = 0;
        this.lost = undefined;
        const first = errors.find((e) => e) ?? aborted;
        if (first) reject(first);
        else resolve({ loss, weights: weights!, timings, ...(mlpAdam ? { mlpAdam } : {}) });
      };
      this.lost = (index, e) => {
        if (!reported[index]) errors[index] = e;
        report(index);
      };
      this.handlers.push((m) => {
        if (m.type === 'progress') progress(m.done, m.loss);
        else if (m.type === 'epoch-done') {
          timings[m.index] = m.timing;
          if (m.index === 0) {
            loss = m.loss;
            weights = m.weights;
            mlpAdam = m.mlpAdam;
          }
          report(m.index);
        } else if (m.type === 'failed') {
          // a worker that only saw another one's abort says so; the real error wins
          if (m.aborted) aborted ??= fromWire(m.error);
          else errors[m.index] = fromWire(m.error);
          report(m.index);
        }
      });
      const msg: ToTrainWorker = { type: 'epoch', epoch, count, steps };
      for (const w of this.threads) w.postMessage(msg);
    });
  }

  /** Ends the workers. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.threads.map((w) => w.terminate()));
  }
}
