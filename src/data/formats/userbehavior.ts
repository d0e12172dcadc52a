/**
 * Taobao UserBehavior CSV, no header:
 * `user_id,item_id,category_id,behavior_type,timestamp`, behavior_type one of
 * pv, cart, fav, buy. The item's category comes from the row itself.
 */
import { InputError } from '../../core/errors.js';
import { checkId, parseInteger, splitExact } from '../fields.js';
import type { FormatSpec } from './format.js';

const FIELDS = ['user_id', 'item_id', 'category_id', 'behavior_type', 'timestamp'] as const;
const BEHAVIORS = new Set(['pv', 'cart', 'fav', 'buy']);

/** The `userbehavior` format. */
export const userBehaviorFormat: FormatSpec = {
  encoding: 'utf8',
  takesMinRating: false,
  parser(file, sink) {
    return (line, lineNo) => {
      const at = { file, line: lineNo };
      const [user, item, category, behavior, ts] = splitExact(at, line, ',', FIELDS);
      if (!BEHAVIORS.has(behavior)) {
        throw new InputError(file, lineNo, 'behavior_type must be pv, cart, fav or buy', behavior);
      }
      sink.event(
        checkId(at, 'user_id', user),
        checkId(at, 'item_id', item),
        behavior,
        parseInteger(at, 'timestamp', ts),
        checkId(at, 'category_id', category),
      );
    };
  },
};
