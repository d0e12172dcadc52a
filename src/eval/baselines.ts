/**
 * The baselines `arbor eval --baselines` knows, built by name from the
 * training users (and, for those with a setting to choose, the validation
 * users; never the test users).
 */
import { UsageError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/log.js';
import type { EvalCase, UserSequence } from '../data/types.js';
import { assertEaseFits, easeSize, selectEase } from './ease.js';
import type { EvalMethod } from './evaluate.js';
import { ItemCFRetriever } from './itemcf.js';
import { PopularityRetriever } from './popularity.js';
import { TwoTowerRetriever, trainTwoTower } from './two-tower.js';

/** Baseline names, in the order the docs list them. */
export const BASELINE_NAMES = ['popularity', 'itemcf', 'ease', 'two-tower'] as const;

/** What a baseline is built from. */
export interface BaselineData {
  /** Training users' sequences (item indices of the catalogue, oldest first). */
  train: readonly UserSequence[];
  /** Validation users (history → truth), for baselines with a setting to choose. */
  valid: readonly EvalCase[];
  numItems: number;
  /** Category index of each item (-1: none), for baselines that use it. */
  itemCategory?: Int32Array;
  seed: number;
  logger?: Logger;
}

/** Throws a UsageError for an unknown name, naming the known ones. */
export function assertBaselineName(name: string): void {
  if (!(BASELINE_NAMES as readonly string[]).includes(name)) {
    throw new UsageError(`unknown baseline ${JSON.stringify(name)} (known: ${BASELINE_NAMES.join(', ')})`);
  }
}

/** Why a known baseline cannot serve this data (EASE's size limit), or undefined when it can. */
export function baselineUnavailable(name: string, data: Pick<BaselineData, 'train' | 'numItems'>): string | undefined {
  assertBaselineName(name);
  if (name !== 'ease') return undefined;
  try {
    assertEaseFits(easeSize(data.train.map((s) => s.items), data.numItems));
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * Checks, before anything is built, that every named baseline exists and can
 * serve this data (EASE's size limit), so a run never fails halfway: throws a
 * UsageError for an unknown name, an ArborError naming the limit otherwise.
 */
export function checkBaselines(names: readonly string[], data: Pick<BaselineData, 'train' | 'numItems'>): void {
  for (const name of names) assertBaselineName(name);
  if (names.includes('ease')) assertEaseFits(easeSize(data.train.map((s) => s.items), data.numItems));
}

/** Builds one baseline, timing its build; `details` record what it chose. */
export function buildBaseline(name: string, data: BaselineData): EvalMethod {
  assertBaselineName(name);
  const logger = data.logger ?? silentLogger;
  const started = process.hrtime.bigint();
  const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
  const items = data.train.map((s) => s.items);
  switch (name) {
    case 'popularity':
      return { retriever: new PopularityRetriever(data.train, data.numItems), buildSeconds: seconds() };
    case 'itemcf':
      return { retriever: new ItemCFRetriever(data.train, data.numItems), buildSeconds: seconds() };
    case 'two-tower': {
      const { model, summary } = trainTwoTower({ sequences: items, numItems: data.numItems, itemCategory: data.itemCategory, valid: data.valid }, { seed: data.seed }, logger);
      const indexStarted = process.hrtime.bigint();
      const retriever = new TwoTowerRetriever(model, { seed: data.seed });
      const indexSeconds = Number(process.hrtime.bigint() - indexStarted) / 1e9;
      // how much of the exact top k the index finds, on the validation users' histories
      const probe = data.valid.slice(0, 300).map((c) => c.history);
      const indexRecall = retriever.indexRecall(probe, 50);
      logger.info(`two-tower: ${retriever.index.kind} index over ${data.numItems} item vectors in ${indexSeconds.toFixed(1)} s; it finds ${(indexRecall * 100).toFixed(1)}% of the exact top 50 on ${probe.length} validation histories`);
      return {
        retriever,
        buildSeconds: seconds(),
        details: {
          index: retriever.index.kind,
          indexParams: retriever.index.params,
          indexSeconds,
          indexRecallAt50: indexRecall,
          indexRecallUsers: probe.length,
          epochs: summary.epochs,
          bestEpoch: summary.bestEpoch,
          samplesPerEpoch: summary.samplesPerEpoch,
          samplesPerSecond: summary.samplesPerSecond,
          trainSeconds: summary.trainSeconds,
          validUsers: summary.validUsers,
          categories: model.catEmb !== undefined,
        },
      };
    }
    default: {
      const s = selectEase(items, data.numItems, data.valid, { logger });
      const fit = s.retriever.fit;
      return {
        retriever: s.retriever,
        buildSeconds: seconds(),
        details: {
          lambda: s.lambda,
          form: fit.size.form,
          dim: fit.size.dim,
          validK: s.validK,
          validUsers: s.validUsers,
          trials: s.trials,
        },
      };
    }
  }
}
