/** The scorer kinds by name: the one place that lists them. */
import { UsageError } from '../core/errors.js';
import { ATTENTION_KIND } from './attention-kind.js';
import { SCORER_KIND_NAMES, type ScorerKindName } from './config.js';
import type { ScorerKind } from './kind.js';
import { POOLING_KIND } from './pooling-kind.js';

/** Every scorer kind, by name. */
export const SCORER_KINDS: Record<ScorerKindName, ScorerKind> = { pooling: POOLING_KIND, attention: ATTENTION_KIND };

export { SCORER_KIND_NAMES, type ScorerKindName } from './config.js';

/** The strategy of kind `name`; a UsageError naming the kinds for an unknown one. */
export function scorerKind(name: string): ScorerKind {
  if (!Object.hasOwn(SCORER_KINDS, name)) throw new UsageError(`scorer kind must be one of ${SCORER_KIND_NAMES.join(', ')}, got ${JSON.stringify(name)}`);
  return SCORER_KINDS[name as ScorerKindName];
}
