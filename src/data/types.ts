/**
 * Shapes shared by the data layer and its consumers.
 *
 * Item and user indices are dense, 0-based, and stable for a given store
 * (index = SQLite rowid - 1). Categories likewise; -1 means "no category".
 */

/** Every input format `arbor ingest` understands. */
export const INPUT_FORMATS = ['userbehavior', 'movielens', 'sequence'] as const;

/** Input formats `arbor ingest` understands. */
export type InputFormat = (typeof INPUT_FORMATS)[number];

/** Role of a user after `arbor split`. */
export type UserRole = 'train' | 'valid' | 'test';

/** The item catalogue of a store. */
export interface Catalogue {
  /** External item ids, by item index. */
  itemIds: string[];
  /** Category index of each item, -1 when unknown. */
  itemCategory: Int32Array;
  /** External category ids, by category index. */
  categoryIds: string[];
}

/** One user's behaviours, oldest first (ties broken by ingest order). */
export interface UserSequence {
  /** External user id. */
  user: string;
  role: UserRole;
  /** Item indices in time order. */
  items: Int32Array;
  /** Weight of each event by its behaviour type, aligned with `items` (only when asked for: Store.sequences with behaviorWeights). */
  weights?: Float32Array;
}

/** What one ingest did. */
export interface IngestReport {
  file: string;
  format: InputFormat;
  /** Data rows read from the file (after --min-rating filtering: `kept`). */
  rowsRead: number;
  rowsKept: number;
  /** Events newly inserted (rows already in the store are not duplicated). */
  eventsInserted: number;
  usersInserted: number;
  itemsInserted: number;
  categoriesInserted: number;
  /** True when this exact file content had been ingested before (nothing changed). */
  alreadyIngested: boolean;
}

/** What a split did. */
export interface SplitReport {
  testUsers: number;
  validUsers: number;
  trainUsers: number;
  seed: number;
}

/** A held-out user under the papers' protocol. */
export interface EvalCase {
  user: string;
  /** First half of the time-sorted behaviours: the model input. */
  history: Int32Array;
  /** Distinct items of the second half: the ground truth. */
  truth: Int32Array;
}

/** What inserting an in-memory dataset did: an IngestReport whose `file` is the caller's label. */
export type DatasetInsertReport = Omit<IngestReport, 'format' | 'alreadyIngested'>;

/** Row counts of a store. */
export interface StoreStats {
  users: number;
  items: number;
  categories: number;
  events: number;
  /** Users by role (every role present, 0 when none). */
  roles: Record<UserRole, number>;
}
