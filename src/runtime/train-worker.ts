/**
 * One worker of the data-parallel trainer (see train-pool.ts): its own tfjs
 * backend and copy of the MLP, the embedding table and its optimiser state
 * shared with the other workers. For every step of an epoch it computes its
 * shard (a contiguous slice of the batch), waits at the barrier, reduces all
 * shards' gradients in shard order over its slice of the flat MLP vector
 * and its share of the table's rows, updates them, waits again and loads
 * the updated MLP into its tfjs variables. Not part of
 * the public API.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from '../scorer/backend.js';
import { ScorerNetwork } from '../scorer/network.js';
import { decodeTree } from '../tree/io.js';
import { makeProducer } from '../trainer/producer.js';
import { RowGradients } from '../trainer/row-gradients.js';
import type { SampleSet } from '../trainer/samples.js';
import { SparseAdam } from '../trainer/sparse-adam.js';
import { StepEngine } from '../trainer/step-engine.js';
import { Barrier, BarrierAborted } from './barrier.js';
import { EPOCH, FINISHED, type FromTrainWorker, type StepRange, type ToTrainWorker, type WorkerInit } from './train-protocol.js';
import { FlatAdam, flatShare } from '../trainer/flat-adam.js';

const port = parentPort!;
const init = workerData as WorkerInit;
const { index, workers, shared } = init;
const post = (m: FromTrainWorker) => port.postMessage(m);

/** Everything a worker keeps between epochs. */
interface State {
  engine: StepEngine;
  network: ScorerNetwork;
  barrier: Barrier;
  mlpGrads: Float32Array[];
  rowGrads: RowGradients[];
}

async function start(): Promise<State> {
  const backend = await initBackend(init.backend);
  const tree = decodeTree(init.tree, '(training tree)');
  const network = ScorerNetwork.withTable(init.config, init.numInternal, init.numItems, shared.table, init.mlp, '(training weights)');
  const sequences: Int32Array[] = [];
  for (let u = 0; u + 1 < shared.starts.length; u++) sequences.push(shared.events.subarray(shared.starts[u], shared.starts[u + 1]));
  const samples: SampleSet = { sequences, seq: shared.seq, pos: shared.pos, ...(shared.weight.length > 0 ? { weight: shared.weight } : {}) };
  const producer = makeProducer(init.producer, { tree, network, samples, negatives: init.negatives, seed: init.seed, trainBeam: init.trainBeam, pathWeight: init.pathWeight });
  const d = init.config.embDim;
  const embAdam = new SparseAdam(shared.table, d, init.lr, { state: { m: shared.adamM, v: shared.adamV } });
  const mlpAdam = new FlatAdam(init.mlpSize, init.lr, { moments: { m: shared.mlpM, v: shared.mlpV } });
  if (init.resume) {
    mlpAdam.restore(init.resume.mlpAdam, flatShare(init.mlpSize, index, workers));
    embAdam.loadState({ arrays: { m: shared.adamM, v: shared.adamV }, counts: { step: init.resume.embStep } });
  }
  const mlpGrads = Array.from({ length: workers }, (_, j) => shared.mlpGrads.subarray(j * init.mlpSize, (j + 1) * init.mlpSize));
  const rowGrads = shared.rowGrads.map((buf, j) => new RowGradients(buf, init.rowCapacity, d, j === index ? network.numRows : 0));
  const engine = new StepEngine({
    tree,
    network,
    producer,
    shardCapacity: Math.ceil(init.batchSize / workers),
    mlpAdam,
    mlpWeights: shared.mlpWeights,
    embedding: embAdam,
    mlpGrad: mlpGrads[index],
    rowGrad: rowGrads[index],
    share: { index, count: workers },
  });
  post({ type: 'ready', index, backend });
  return { engine, network, barrier: new Barrier(shared.barrier, workers), mlpGrads, rowGrads };
}

const now = () => process.hrtime.bigint();

/** Runs steps from..to-1 of one epoch; returns the epoch's summed loss after them (sample-weighted, as the in-process trainer sums it). */
function runEpoch(s: State, epoch: number, count: number, range: StepRange): number {
  const { engine, barrier } = s;
  if (Atomics.load(shared.control, EPOCH) !== epoch) throw new Error(`epoch ${epoch} was posted but the shared order is for ${Atomics.load(shared.control, EPOCH)}`);
  const b = init.batchSize;
  const steps = Math.ceil(count / b);
  const order = shared.order;
  const stats = shared.stats;
  const timing = engine.timing;
  let lossSum = range.loss;
  let lastProgress = now();
  engine.startEpoch();
  for (let step = range.from; step < Math.min(steps, range.to); step++) {
    const first = step * b;
    const nb = Math.min(b, count - first);
    const lo = Math.floor((index * nb) / workers);
    const hi = Math.floor(((index + 1) * nb) / workers);
    const r = engine.compute(order.subarray(first + lo, first + hi), epoch, first + lo);
    stats[2 * index] = r.loss;
    stats[2 * index + 1] = r.pairs;
    let t = now();
    barrier.wait();
    timing.wait += Number(now() - t);
    let loss = 0;
    let pairs = 0;
    for (let j = 0; j < workers; j++) {
      loss += stats[2 * j];
      pairs += stats[2 * j + 1];
    }
    engine.update(s.mlpGrads, s.rowGrads, pairs);
    t = now();
    barrier.wait();
    timing.wait += Number(now() - t);
    engine.syncWeights();
    lossSum += (loss / pairs) * nb;
    if (index === 0 && (step === range.to - 1 || step === steps - 1 || Number(now() - lastProgress) > 1e8)) {
      post({ type: 'progress', done: first + nb, loss: lossSum / (first + nb) });
      lastProgress = now();
    }
  }
  engine.endEpoch();
  return lossSum;
}

function wire(e: unknown): { name: string; message: string } {
  const err = e as Error;
  return { name: err?.name ?? 'Error', message: err?.message ?? String(e) };
}

start().then(
  (s) => {
    port.on('message', (msg: ToTrainWorker) => {
      if (msg.type === 'close') {
        port.close();
        return;
      }
      try {
        const loss = runEpoch(s, msg.epoch, msg.count, msg.steps);
        Atomics.add(shared.control, FINISHED, 1);
        const first = index === 0 ? { weights: s.network.variableArrays(), ...(msg.steps.snapshot ? { mlpAdam: s.engine.mlpAdamState() } : {}) } : {};
        post({ type: 'epoch-done', index, loss, timing: { ...s.engine.timing }, ...first });
      } catch (e) {
        const aborted = e instanceof BarrierAborted;
        if (!aborted) s.barrier.abort();
        post({ type: 'failed', index, error: wire(e), aborted });
      }
    });
  },
  (e) => {
    new Barrier(shared.barrier, workers).abort();
    post({ type: 'failed', index, error: wire(e), aborted: false });
  },
);
