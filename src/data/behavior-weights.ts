/**
 * Behaviour-type weights: how much a training target counts by the type of
 * its event (Taobao's pv, cart, fav, buy; any type a store holds). Written
 * `buy=4,cart=2,fav=2,pv=1`; types not listed weigh 1; weight 0 leaves that
 * type's events out as targets (they stay in the histories).
 */
import { UsageError } from '../core/errors.js';

/** Behaviour type → weight. */
export type BehaviorWeights = Record<string, number>;

/**
 * Parses `type=weight,type=weight,...` (an empty string: no weights).
 * Throws a UsageError naming the bad part: a part without `=`, an empty
 * type, a type given twice, or a weight that is not a non-negative number.
 */
export function parseBehaviorWeights(spec: string, option = '--behavior-weights'): BehaviorWeights {
  const out: BehaviorWeights = {};
  const text = spec.trim();
  if (text === '') return out;
  for (const raw of text.split(',')) {
    const part = raw.trim();
    const eq = part.indexOf('=');
    if (eq < 0) throw new UsageError(`${option}: expected TYPE=WEIGHT, got ${JSON.stringify(part)}`);
    const type = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (type === '') throw new UsageError(`${option}: empty behaviour type in ${JSON.stringify(part)}`);
    if (Object.hasOwn(out, type)) throw new UsageError(`${option}: behaviour type ${JSON.stringify(type)} is given twice`);
    const w = value === '' ? NaN : Number(value);
    if (!Number.isFinite(w) || w < 0) throw new UsageError(`${option}: the weight of ${JSON.stringify(type)} must be a non-negative number, got ${JSON.stringify(value)}`);
    out[type] = w;
  }
  checkBehaviorWeights(out, option);
  return out;
}

/** Throws a UsageError unless every weight is a finite non-negative number (types left out weigh 1, so all-0 weights are checked against the data: checkBehaviorTypes). */
export function checkBehaviorWeights(weights: BehaviorWeights, option = '--behavior-weights'): void {
  for (const [type, w] of Object.entries(weights)) {
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) throw new UsageError(`${option}: the weight of ${JSON.stringify(type)} must be a non-negative number, got ${JSON.stringify(w)}`);
  }
}

/**
 * Checks the weights against the behaviour types of the training events
 * (`counts`: type → events): a type that no training event has is a
 * UsageError naming it and the known types; so is a set of weights that
 * leaves every training event at weight 0.
 */
export function checkBehaviorTypes(weights: BehaviorWeights, counts: ReadonlyMap<string, number>, option = '--behavior-weights'): void {
  const known = [...counts.keys()];
  const list = known.length > 12 ? `${known.slice(0, 12).map((t) => JSON.stringify(t)).join(', ')}, … (${known.length} in all)` : known.map((t) => JSON.stringify(t)).join(', ');
  for (const type of Object.keys(weights)) {
    if (!counts.has(type)) throw new UsageError(`${option}: unknown behaviour type ${JSON.stringify(type)} (the training events have ${known.length ? list : 'none'})`);
  }
  if (known.length > 0 && known.every((t) => (weights[t] ?? 1) === 0)) throw new UsageError(`${option}: every training event has weight 0: no event would be a training target`);
}
