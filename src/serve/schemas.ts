/**
 * JSON schemas of the service's requests and responses. Requests are checked
 * strictly (no type coercion, unknown fields rejected) so a typo such as
 * `"exclude_history"` is a 400 naming the field rather than silently ignored.
 */

/** Largest k a request may ask for. */
export const MAX_K = 10_000;
/** Largest beam a request may ask for. */
export const MAX_BEAM = 100_000;
/**
 * Default largest sum of the queries' beams in one batch request: 256
 * queries at beam 400 (k 200). It bounds one request's work (beam search
 * scores about 2 · beam · depth nodes a query) and the size of its answer
 * (k <= beam items a query).
 */
export const DEFAULT_MAX_BATCH_BEAM = 102_400;
/** Longest history a request may send (the scorer reads only the most recent 69). */
export const MAX_HISTORY = 10_000;

const itemId = { type: ['string', 'integer'] } as const;

/** One query: `history` (item ids, oldest first) or `user` (an id in the server's store), and its knobs. */
export const querySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    history: { type: 'array', maxItems: MAX_HISTORY, items: itemId },
    user: { type: ['string', 'integer'] },
    k: { type: 'integer', minimum: 1, maximum: MAX_K },
    beam: { type: 'integer', minimum: 1, maximum: MAX_BEAM },
    excludeHistory: { type: 'boolean' },
    categories: { type: 'array', minItems: 1, maxItems: MAX_K, items: itemId },
  },
} as const;

/** Body of `POST /v1/retrieve:batch`. */
export function batchSchema(maxBatch: number) {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['queries'],
    properties: { queries: { type: 'array', minItems: 1, maxItems: maxBatch, items: querySchema } },
  } as const;
}

/** One answer (also each element of a batch answer). */
export const resultSchema = {
  type: 'object',
  properties: {
    items: {
      type: 'array',
      items: { type: 'object', properties: { item: { type: 'string' }, score: { type: 'number' } } },
    },
    pairsScored: { type: 'integer' },
    skippedHistory: { type: 'integer' },
    ms: { type: 'number' },
  },
} as const;

/** Answer of `POST /v1/retrieve:batch`. */
export const batchResultSchema = {
  type: 'object',
  properties: { results: { type: 'array', items: resultSchema }, ms: { type: 'number' } },
} as const;

/** `{"error": "..."}`, the body of every 4xx and 5xx answer. */
export const errorSchema = { type: 'object', properties: { error: { type: 'string' } } } as const;
