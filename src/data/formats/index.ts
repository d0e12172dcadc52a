/** The input formats by name. */
import { UsageError } from '../../core/errors.js';
import { INPUT_FORMATS, type InputFormat } from '../types.js';
import type { FormatSpec } from './format.js';
import { movieLensFormat } from './movielens.js';
import { sequenceFormat } from './sequence.js';
import { userBehaviorFormat } from './userbehavior.js';

export type { ByteRowSink, FormatSpec, ItemInfo, ItemInfoMap, RowSink } from './format.js';
export { UNTIMED_BEHAVIOR } from './format.js';

export { INPUT_FORMATS } from '../types.js';

const SPECS: Record<InputFormat, FormatSpec> = {
  userbehavior: userBehaviorFormat,
  movielens: movieLensFormat,
  sequence: sequenceFormat,
};

/** The spec of format `name`; UsageError for an unknown name. */
export function formatSpec(name: string): FormatSpec {
  if (!Object.hasOwn(SPECS, name)) {
    throw new UsageError(`unknown format ${JSON.stringify(name)} (expected ${INPUT_FORMATS.join(', ')})`);
  }
  return SPECS[name as InputFormat];
}
