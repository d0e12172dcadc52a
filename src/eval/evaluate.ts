/** Runs retrieval methods over held-out users and reports quality and cost. */
import { ArborError, UsageError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/log.js';
import type { Retriever } from '../beam/retriever.js';
import type { EvalCase } from '../data/types.js';
import { MetricsAccumulator, validateKs, type MetricsAtK } from './metrics.js';
import { BeyondAccumulator, type BeyondAtK, type CatalogueFacts } from './beyond.js';

/** A method's metrics at one cut-off: precision, recall, F and the metrics beyond recall (see beyond.ts). */
export type MethodMetrics = MetricsAtK & BeyondAtK;

/**
 * A method to evaluate, with the beam width passed to each of its queries.
 * With a beam, only the cut-offs k <= beam are evaluated for it (beam search
 * returns at most `beam` items).
 */
export interface EvalMethod {
  retriever: Retriever;
  beam?: number;
  /** Seconds the method took to build or train before its first query (baselines that learn). */
  buildSeconds?: number;
  /** What the method's build chose or reports (e.g. a regulariser picked on validation users); copied into its report. */
  details?: Record<string, unknown>;
  /** Path weight of beam search and brute force (default: the scorer's; see RetrieveOptions.pathWeight). */
  pathWeight?: number;
}

/** Per-query latency in milliseconds. */
export interface LatencySummary {
  mean: number;
  /** Median (nearest rank). */
  p50: number;
  /** 95th percentile (nearest rank). */
  p95: number;
}

/** The results of one method. */
export interface MethodReport {
  name: string;
  beam?: number;
  /** The path weight, when one was given. */
  pathWeight?: number;
  /**
   * Metrics averaged over users, one entry per evaluated k in the report's
   * order: every k, except that a method with a beam is evaluated only at
   * k <= beam (each entry names its k).
   */
  metrics: MethodMetrics[];
  /** Mean `pairsScored` per query. */
  pairsPerQuery: number;
  msPerQuery: LatencySummary;
  /** Wall time of the method's whole pass, in milliseconds. */
  totalMs: number;
  /** With `perUser`: each user's recall (in case order), one array per entry of `metrics`. */
  userRecall?: number[][];
  /** Build or training time before the first query, when the method has one (see EvalMethod). */
  buildSeconds?: number;
  /** The method's build details (see EvalMethod). */
  details?: Record<string, unknown>;
}

/** The results of an evaluation run. */
export interface EvalReport {
  /** Number of held-out users. */
  users: number;
  ks: number[];
  methods: MethodReport[];
}

/** Options of {@link evaluate}. */
export interface EvaluateOptions {
  /** Receives progress (default: silent). */
  logger?: Logger;
  /** Also report every user's recall (for paired comparisons of methods on the same users). */
  perUser?: boolean;
  /**
   * The catalogue's size, categories and training event counts: with them,
   * coverage, novelty, diversity and new-category recall are reported too
   * (nDCG and hit rate always are).
   */
  catalogue?: CatalogueFacts;
}

const PROGRESS_EVERY = 100;

/** How a method is named in logs and tables: its name, plus its beam width and path weight when given. */
export function methodLabel(name: string, beam?: number, pathWeight?: number): string {
  const knobs = [...(beam === undefined ? [] : [`beam=${beam}`]), ...(pathWeight === undefined ? [] : [`w=${pathWeight}`])];
  return knobs.length === 0 ? name : `${name} (${knobs.join(', ')})`;
}

/** Mean and nearest-rank percentiles of latencies in milliseconds (zeros when empty). */
export function latencySummary(ms: Float64Array): LatencySummary {
  if (ms.length === 0) return { mean: 0, p50: 0, p95: 0 };
  const sorted = Float64Array.from(ms).sort();
  const rank = (p: number) => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)];
  return { mean: sorted.reduce((a, b) => a + b, 0) / sorted.length, p50: rank(0.5), p95: rank(0.95) };
}

/**
 * The cut-offs a method is evaluated at: all of `ks`, or with a beam only
 * those <= beam. Throws a UsageError naming the values when none is left.
 */
export function methodKs(ks: readonly number[], beam: number | undefined): number[] {
  if (beam === undefined) return [...ks];
  const kept = ks.filter((k) => k <= beam);
  if (kept.length === 0) {
    throw new UsageError(`beam ${beam} is below every k (${ks.join(', ')}): beam search returns at most beam items, so it needs beam >= k`);
  }
  return kept;
}

/** The metrics of a method at cut-off k, or undefined when it was not evaluated there (k > its beam). */
export function metricsAt(method: Pick<MethodReport, 'metrics'>, k: number): MethodMetrics | undefined {
  return method.metrics.find((m) => m.k === k);
}

/** Precision, recall and F per k joined with the metrics beyond recall at the same k. */
function withBeyond(averaged: readonly MetricsAtK[], beyond: readonly BeyondAtK[]): MethodMetrics[] {
  return averaged.map(({ k, precision, recall, f }, i) => ({ k, precision, recall, f, ...beyond[i] }));
}

/** Evaluates one method over all cases. */
function evaluateMethod(
  method: EvalMethod,
  cases: readonly EvalCase[],
  truths: readonly ReadonlySet<number>[],
  allKs: readonly number[],
  logger: Logger,
  perUser: boolean,
  catalogue: CatalogueFacts | undefined,
): MethodReport {
  const { retriever, beam, pathWeight } = method;
  const ks = methodKs(allKs, beam);
  const k = Math.max(...ks);
  const accumulator = new MetricsAccumulator(ks);
  const beyond = new BeyondAccumulator(ks, catalogue);
  const ms = new Float64Array(cases.length);
  let pairs = 0;
  const userRecall = perUser ? ks.map(() => new Array<number>(cases.length)) : undefined;
  const label = methodLabel(retriever.name, beam, pathWeight);
  const progress = logger.progress(`eval ${label}`, cases.length);
  const started = process.hrtime.bigint();
  cases.forEach((c, i) => {
    const t0 = process.hrtime.bigint();
    const result = retriever.retrieve(c.history, { k, beam, ...(pathWeight === undefined ? {} : { pathWeight }) });
    ms[i] = Number(process.hrtime.bigint() - t0) / 1e6;
    pairs += result.pairsScored;
    const metrics = accumulator.add(result.items, truths[i]);
    beyond.add(result.items, c.history, truths[i]);
    if (userRecall) metrics.forEach((m, j) => (userRecall[j][i] = m.recall));
    if ((i + 1) % PROGRESS_EVERY === 0 || i + 1 === cases.length) progress.update(i + 1);
  });
  const totalMs = Number(process.hrtime.bigint() - started) / 1e6;
  progress.stop();
  const msPerQuery = latencySummary(ms);
  logger.info(`${label}: ${cases.length} users, ${msPerQuery.mean.toFixed(3)} ms/query`);
  return {
    name: retriever.name,
    ...(beam === undefined ? {} : { beam }),
    ...(pathWeight === undefined ? {} : { pathWeight }),
    metrics: withBeyond(accumulator.result(), beyond.result()),
    pairsPerQuery: pairs / cases.length,
    msPerQuery,
    totalMs,
    ...(userRecall ? { userRecall } : {}),
    ...(method.buildSeconds === undefined ? {} : { buildSeconds: method.buildSeconds }),
    ...(method.details === undefined ? {} : { details: method.details }),
  };
}

/**
 * Retrieves max(ks) items per case with every method (its beam passed as
 * given; a method with a beam retrieves and is evaluated only at the ks <=
 * its beam) and reports precision/recall/F and the metrics beyond recall
 * (nDCG, hit rate; with `opts.catalogue` also coverage, novelty, diversity
 * and new-category recall: see beyond.ts) at each k averaged over users,
 * mean pairs scored per query, and latency. Throws a UsageError for a k that
 * is not a positive integer or a beam below every k (before any method runs),
 * and an ArborError when there are no cases.
 */
export function evaluate(
  methods: readonly EvalMethod[],
  cases: readonly EvalCase[],
  ks: readonly number[],
  opts: EvaluateOptions = {},
): EvalReport {
  validateKs(ks);
  for (const m of methods) methodKs(ks, m.beam);
  if (opts.catalogue) new BeyondAccumulator(ks, opts.catalogue); // checks the facts before any method runs
  if (cases.length === 0) throw new ArborError('no test users: run `arbor split` first');
  const logger = opts.logger ?? silentLogger;
  const truths = cases.map((c) => new Set(c.truth));
  return {
    users: cases.length,
    ks: [...ks],
    methods: methods.map((m) => evaluateMethod(m, cases, truths, ks, logger, opts.perUser ?? false, opts.catalogue)),
  };
}
