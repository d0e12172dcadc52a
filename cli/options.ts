/**
 * The command table: every command's options as data (name, type, default,
 * range, required, help, environment variable). The CLI (program.ts), the
 * docs (docs/CLI.md, `npm run docs`) and config-file validation are built
 * from it; defaults come from the modules that own them. This file loads no
 * tfjs, so the data commands start fast.
 */
import type { OptionSpec } from '../src/core/options.js';
import { DEFAULT_SEED } from '../src/core/rng.js';
import { INPUT_FORMATS } from '../src/data/types.js';
import { BACKEND_CHOICES } from '../src/scorer/backend-choice.js';
import { MAX_BEAM, MAX_K } from '../src/serve/schemas.js';
import { maxWorkers } from '../src/runtime/workers.js';
import { DEFAULT_SCORER_CONFIG, SCORER_KIND_NAMES } from '../src/scorer/config.js';
import { CHECKPOINT_EVERY, DEFAULT_JOINT_ROUNDS, OBJECTIVES, TRAIN_DEFAULTS as T } from '../src/trainer/defaults.js';
import { DEFAULT_LEARN_GAP } from '../src/tree/learn.js';

const seed: OptionSpec = { name: 'seed', type: 'int', arg: 'S', default: DEFAULT_SEED, help: 'random seed: the same seed gives the same split, tree, weights and results' };
const db: OptionSpec = { name: 'db', type: 'string', arg: 'FILE', default: 'arbor.db', help: 'SQLite store to read or write' };
const json: OptionSpec = { name: 'json', type: 'bool', default: false, help: 'print machine-readable JSON on stdout', env: false };
const config: OptionSpec = { name: 'config', type: 'string', arg: 'FILE', help: 'JSON file of option values (keys are option names); flags and ARBOR_* variables override it', env: false };
const backend: OptionSpec = { name: 'backend', type: 'string', arg: 'NAME', default: 'auto', choices: BACKEND_CHOICES, help: 'tfjs backend: node-gpu (@tensorflow/tfjs-node-gpu, TensorFlow with CUDA), node (@tensorflow/tfjs-node, TensorFlow on the CPU), wasm or cpu (plain JavaScript); auto takes the first of these that loads. The native ones are optional dependencies (their install downloads libtensorflow); stderr says which backend runs and how to install the native one when it is missing' };
const k: OptionSpec = { name: 'k', short: 'k', type: 'int', arg: 'K', default: 200, min: 1, help: 'number of items to return' };
/** add-items --embed-from and --placement values (src/pipeline/add-items.ts takes them). */
const EMBED_SOURCES = ['auto', 'events', 'vectors', 'category'] as const;
const PLACEMENTS = ['neighbours', 'centroid', 'node', 'random'] as const;
const workersWhy = 'at most twice the CPU cores: each worker holds a copy of the model';
const maxWorkerThreads = { of: maxWorkers, text: '2 × CPU cores' };
const beam: OptionSpec = { name: 'beam', type: 'int', arg: 'B', min: 1, help: 'nodes kept per tree level (>= k; default: 2 × k)' };

const rank: OptionSpec = {
  name: 'rank',
  type: 'string',
  arg: 'RULE',
  default: 'auto',
  help: "how beam search and brute force rank the nodes of a tree level: a node's key is log σ(its score) plus w × its parent's key; auto: the w chosen for the model on validation users when it was trained; path: w = 1 (the sum over the whole path); node: w = 0 (the node's own score, as in the TDM paper); or a number w in [0, 1]",
};
const includeHistory: OptionSpec = {
  name: 'include-history',
  type: 'bool',
  default: false,
  help: "let items of the query's own history come back (e.g. for repeat purchases); by default they are left out, inside the beam search, so a query still gets k new items",
};
const oracle: OptionSpec = { name: 'oracle', type: 'bool', default: true, help: 'also run brute force with the same scorer (--no-oracle to skip)' };
const baselines: OptionSpec = { name: 'baselines', type: 'strings', arg: 'LIST', default: ['popularity', 'itemcf'], help: 'baselines to compare (empty string for none): popularity, itemcf, ease (EASE, Steck 2019: closed form, λ chosen on the validation users; up to 20,000 items or training users, whichever is fewer), two-tower (user and item towers trained with in-batch softmax and the logQ correction, early stopping on the validation users, served by an HNSW index from hnswlib-node, or exact search without it)' };

/** Training options shared by `train` and `demo`. */
export const TRAIN_OPTIONS: OptionSpec[] = [
  { name: 'epochs', type: 'int', arg: 'N', min: 1, default: T.epochs, help: 'maximum passes over the training samples (stops early on validation users when the store has them)' },
  { name: 'batch-size', type: 'int', arg: 'N', min: 1, default: T.batchSize, help: 'target items per training step (each brings one positive and its negatives per level)' },
  { name: 'lr', type: 'number', arg: 'X', min: 0, default: T.lr, help: 'Adam learning rate' },
  { name: 'negatives', type: 'string', arg: 'LIST', default: T.negatives, help: 'negatives per tree level: "auto" (1,1,2,2,3,3,... by depth) or a comma list (the last value repeats)' },
  {
    name: 'objective',
    type: 'string',
    arg: 'NAME',
    default: T.objective,
    choices: OBJECTIVES,
    help: "what each step trains on: tdm (every ancestor of the target is a positive, --negatives uniform same-level nodes the negatives), otm (OTM: the current model's beam candidates on every level, labelled with OTM's pseudo targets, plus the uniform negatives), beam (otm's candidates with tdm's labels) or sibling (each ancestor against its siblings: a hierarchical softmax under the path rank rule)",
  },
  { name: 'train-beam', type: 'int', arg: 'B', min: 1, default: T.trainBeam, help: 'otm and beam objectives: nodes the training beam keeps per level (each level then brings branching × B candidates)' },
  { name: 'patience', type: 'int', arg: 'N', min: 0, default: T.patience, help: 'epochs without validation improvement before stopping' },
  { name: 'valid-k', type: 'int', arg: 'K', min: 1, default: T.validK, help: 'k (and beam) of the validation recall used for early stopping' },
  { name: 'max-samples', type: 'int', arg: 'N', min: 0, default: T.maxSamplesPerEpoch, help: 'cap on training samples per epoch, a fresh seeded subset each epoch (0: all)' },
  { name: 'emb-dim', type: 'int', arg: 'D', min: 1, max: 4096, default: DEFAULT_SCORER_CONFIG.embDim, help: 'embedding size of items and nodes' },
  { name: 'scorer', type: 'string', arg: 'KIND', default: DEFAULT_SCORER_CONFIG.kind, choices: SCORER_KIND_NAMES, help: 'node scorer: pooling (TDM: each time window is the mean of its behaviours) or attention (multi-interest, DIN-style: each scored node weights every behaviour by a small attention unit, so different nodes see different parts of the history; slower to train and to query, see docs/BENCHMARKS.md)' },
  { name: 'category-emb', type: 'string', arg: 'MODE', default: 'auto', choices: ['auto', 'on', 'off'], help: "add a learned category embedding to every item's row (behaviours and leaves); auto: on with --scorer attention when the items have categories; off with pooling (on trains on the calling thread, without worker threads, and is not yet measured as a default on every bench set)" },
  { name: 'item-vectors', type: 'string', arg: 'FILE', help: 'dense item side vectors (e.g. image or text embeddings), JSON lines {"item": "<item id>", "vector": [x1, x2, ...]}, all of one length; projected to the embedding size by a learned layer and added to the item rows; items without a vector get a learned default; unknown ids are skipped with a counted warning', env: false },
  { name: 'workers', type: 'int', arg: 'N', min: 0, max: maxWorkerThreads, rangeWhy: workersWhy, help: 'worker threads for training (data-parallel: each has its own tfjs backend and copy of the MLP, all share the embedding table; every step is split between them and their gradients are summed in a fixed order); default: the number of CPU cores; 0: train on the calling thread; at most twice the number of cores. The weights depend on the seed and this number (1 gives exactly those of 0). The attention scorer and item side features (--category-emb, --item-vectors) train on the calling thread' },
  { name: 'hierarchical', type: 'bool', default: true, help: "JTM's hierarchical user preference: when scoring a node on level j, history items are represented by their level-j ancestors (measured better on the synthetic set, Amazon Beauty and MovieLens; about 2x slower to train; --no-hierarchical turns it off)" },
];

/** Tree-learning options (JTM) shared by `train --joint` and `learn-tree`. */
export const LEARN_OPTIONS: OptionSpec[] = [
  { name: 'rounds', type: 'int', arg: 'R', min: 0, default: DEFAULT_JOINT_ROUNDS, help: 'with --joint: tree-learning rounds after the initial training' },
  { name: 'gap', type: 'int', arg: 'D', min: 1, default: DEFAULT_LEARN_GAP, help: 'tree learning assigns items D levels at a time (JTM; smaller is faster and greedier)' },
  { name: 'max-pairs-per-item', type: 'int', arg: 'N', min: 0, default: 0, help: 'tree learning uses at most N training pairs per item, a seeded subset (0: all)' },
];

/** Every command's options, in help order. */
export const COMMAND_OPTIONS: Record<string, OptionSpec[]> = {
  ingest: [
    { name: 'format', type: 'string', arg: 'F', required: true, choices: INPUT_FORMATS, help: 'input format (see arbor ingest --help, and "Input formats" in docs/GUIDE.md)', env: false },
    { name: 'items', type: 'string', arg: 'FILE', help: 'item side file: movies.dat / u.item / movies.csv (movielens) or attributes JSON (sequence)', env: false },
    { name: 'min-rating', type: 'number', arg: 'R', help: 'movielens only: keep ratings >= R (the papers use 4); default keeps all', env: false },
    db, config,
  ],
  'ingest-items': [db, config],
  split: [
    { name: 'test-users', type: 'int', arg: 'N', default: 0, min: 0, help: 'users held out for testing (their first half of behaviours is input, the second half truth)' },
    { name: 'valid-users', type: 'int', arg: 'N', default: 0, min: 0, help: 'users held out for validation (early stopping); never trained on' },
    db, seed, json, config,
  ],
  'build-tree': [
    { name: 'out', type: 'string', arg: 'DIR', required: true, help: 'model folder to create (replaced atomically if it exists; one holding a trained scorer only with --force)', env: false },
    { name: 'init', type: 'string', arg: 'HOW', default: 'category', choices: ['category', 'random', 'kmeans'], help: 'leaf order: by category (TDM), random, or kmeans: recursive balanced k-means on the item embeddings of a trained model (--from; the TDM rebuild)' },
    { name: 'from', type: 'string', arg: 'DIR', help: 'trained model whose item embeddings --init kmeans clusters', env: false },
    { name: 'branching', type: 'int', arg: 'K', min: 2, default: 2, help: 'children per tree node' },
    { name: 'force', type: 'bool', default: false, env: false, help: 'replace a --out folder that holds a trained model (its scorer is deleted); without it build-tree refuses' },
    db, seed, json, config,
  ],
  train: [
    { name: 'model', type: 'string', arg: 'DIR', required: true, help: 'model folder made by build-tree; the trained scorer is written into it', env: false },
    ...TRAIN_OPTIONS,
    {
      name: 'behavior-weights',
      type: 'string',
      arg: 'TYPE=W,...',
      default: '',
      help: 'weight of a training target by its behaviour type, e.g. buy=4,cart=2,fav=2,pv=1 (Taobao types; any type the store holds): each sample weighs what its target event weighs in the loss (scaled to mean 1); types not listed weigh 1; 0 leaves that type out as a target (it stays in histories); recorded in manifest.json (training.options.behaviorWeights). Empty: every event weighs 1. Pooling scorer only',
    },
    { ...rank, help: "path weight the model is trained for (see eval --rank): auto chooses it on the validation users after every epoch from 0, 0.25, 0.5, 0.625, 0.75, 0.875, 1 and stores it with the scorer (without validation users: path); path, node or a number fixes it; the otm and beam objectives' training beam ranks with it" },
    { name: 'joint', type: 'bool', default: false, help: 'JTM: alternate scorer training and tree learning for --rounds rounds, keep the round with the best validation recall (a learned tree whose validation objective falls is refused before retraining, and the rounds end)' },
    ...LEARN_OPTIONS,
    {
      name: 'checkpoint-every',
      type: 'int',
      arg: 'N',
      min: 0,
      default: CHECKPOINT_EVERY,
      help: 'write a training checkpoint into MODEL/checkpoint every N steps (0: only at epoch ends, which always get one); written atomically, removed when training finishes; not with --joint',
    },
    {
      name: 'resume',
      type: 'bool',
      default: false,
      env: false,
      help: 'continue the interrupted training run whose checkpoint is in MODEL/checkpoint; it ends with the weights the uninterrupted run would have had. Needs the same store data, tree, options, --seed, --workers and backend (a difference is an error naming it)',
    },
    {
      name: 'warm-start',
      type: 'bool',
      default: false,
      env: false,
      help: "start from the folder's trained weights (tree and scorer, including items added by add-items) instead of fresh ones, and train on the store's current events; the scorer's shape comes from the folder (--emb-dim, --scorer and --hierarchical are not used). With --resume: continues an interrupted warm-started run (the folder's weights are unchanged until it ends)",
    },
    db, seed, backend, json, config,
  ],
  'add-items': [
    { name: 'model', type: 'string', arg: 'DIR', required: true, help: 'trained model folder; the store items it lacks are added to its tree and scorer (rewritten atomically)', env: false },
    { name: 'item-vectors', type: 'string', arg: 'FILE', help: 'item side vectors, JSON lines {"item": "<item id>", "vector": [x1, ...]} as for train: a new item with a vector can start from the items whose vectors are nearest', env: false },
    { name: 'embed-from', type: 'string', arg: 'SOURCE', default: 'auto', choices: EMBED_SOURCES, help: "where a new item's first embedding comes from: events (the items it co-occurs with in training users' sequences), vectors (the 10 items with the nearest side vectors), category (its category's items); auto takes events first, then vectors and category in the order that rebuilds the model's own items' trained rows better (vectors first without such a check), each item from the first source with evidence. Items without evidence start from the mean item" },
    { name: 'placement', type: 'string', arg: 'RULE', default: 'neighbours', choices: PLACEMENTS, help: "how a new item finds its leaf: descend to the child with room that holds most of the items its first embedding came from (neighbours; without them as centroid), or whose items' mean embedding is nearest by cosine (centroid), or whose node embedding is (node); random is a uniformly random free leaf (a control for measurements)" },
    db, seed, backend, json, config,
  ],
  'learn-tree': [
    { name: 'model', type: 'string', arg: 'DIR', required: true, help: 'trained model folder; its tree is re-learned with its scorer and rewritten (atomically)', env: false },
    ...LEARN_OPTIONS.filter((o) => o.name !== 'rounds'),
    { name: 'steps', type: 'int', arg: 'N', min: 0, default: 0, help: 'learn only the first N steps from the root (each --gap levels); below them items keep their place where there is room (0: all steps)' },
    db, seed, backend, json, config,
  ],
  retrieve: [
    { name: 'model', type: 'string', arg: 'DIR', required: true, help: 'trained model folder', env: false },
    { name: 'user', type: 'string', arg: 'ID', help: "a user id in the store (--db): retrieve for that user's whole history", env: false },
    { name: 'history', type: 'strings', arg: 'I1,I2,...', help: 'item ids, oldest first', env: false },
    { name: 'input', type: 'string', arg: 'FILE', help: 'JSON lines {"user": "...", "history": ["item", ...]}, one query a line', env: false },
    k,
    { ...beam, min: 'k' },
    rank,
    includeHistory,
    { name: 'categories', type: 'strings', arg: 'C1,C2,...', help: 'only return items of these category ids (external ids, as ingested); subtrees without such an item are never expanded', env: false },
    { name: 'workers', type: 'int', arg: 'N', min: 0, max: maxWorkerThreads, rangeWhy: workersWhy, help: 'worker threads (one tfjs backend each) for --input with several queries; default: the number of CPU cores; 0: answer on the main thread' },
    { name: 'explain', type: 'bool', default: false, help: 'attention models only: for each returned item, the history behaviours with the most attention (mean weight over the nodes on the path to the item); answers on the main thread', env: false },
    db, backend, json, config,
  ],
  eval: [
    { name: 'model', type: 'string', arg: 'DIR', required: true, help: 'trained model folder', env: false },
    { ...k, type: 'ints', arg: 'K1,K2,...', default: [10, 50, 200], help: 'cut-offs for precision/recall/F and the metrics beyond recall (nDCG, hit rate, coverage, novelty, diversity, new-category recall; defined in arbor eval --help)' },
    { ...beam, type: 'ints', arg: 'B1,B2,...', help: 'beam widths: one beam-search row per width (recall, pairs scored and ms per query); a width below some k is evaluated only at the ks <= it (shown as – above it); default: 2 × the largest k' },
    rank,
    oracle,
    baselines,
    { name: 'max-users', type: 'int', arg: 'N', min: 0, default: 0, help: 'evaluate at most N test users (a seeded subset; 0: all)' },
    db, seed, backend, json, config,
  ],
  demo: [
    // sized (with one epoch) so that the whole demo takes well under a minute on a busy 2-core machine
    { name: 'items', type: 'int', arg: 'N', default: 4000, min: 2, help: 'synthetic catalogue size (items that occur in no event are dropped)' },
    { name: 'users', type: 'int', arg: 'N', default: 700, min: 1, help: 'synthetic users' },
    { name: 'test-users', type: 'int', arg: 'N', default: 200, min: 0, help: 'held-out test users' },
    { name: 'valid-users', type: 'int', arg: 'N', default: 100, min: 0, help: 'held-out validation users' },
    { ...k, type: 'ints', arg: 'K1,K2,...', default: [10, 20, 50], help: 'cut-offs for precision/recall/F' },
    { ...beam, type: 'ints', arg: 'B1,B2,...', default: [50], help: 'beam widths, one beam-search row each (as in eval)' },
    rank,
    oracle,
    { ...baselines, default: ['popularity', 'itemcf', 'ease'] },
    { name: 'keep', type: 'string', arg: 'DIR', help: 'keep the store and model in DIR instead of a temporary folder', env: false },
    ...TRAIN_OPTIONS.map((o) => (o.name === 'epochs' ? { ...o, default: 1, help: 'training epochs (the demo keeps this short; `arbor train` defaults to 8 with early stopping)' } : o)),
    seed, backend, json, config,
  ],
  serve: [
    { name: 'model', type: 'string', arg: 'DIR', required: true, help: 'trained model folder to serve', env: false },
    { name: 'port', type: 'int', arg: 'P', default: 8080, min: 0, max: 65535, help: 'TCP port to listen on (0: any free port; the bound port is printed on stdout)' },
    { name: 'host', type: 'string', arg: 'ADDR', default: '127.0.0.1', help: 'address to listen on (0.0.0.0 to accept connections from other machines)' },
    { name: 'workers', type: 'int', arg: 'N', min: 0, max: maxWorkerThreads, rangeWhy: workersWhy, help: 'worker threads answering queries, one tfjs backend and model copy each; default: the number of CPU cores; 0: answer on the server thread; at most twice the number of cores' },
    { ...k, max: MAX_K, help: 'k of requests that give none' },
    { ...includeHistory, help: 'requests that give no "excludeHistory" may get items of their own history back (by default they never do; a request\'s "excludeHistory" always wins)' },
    { ...beam, min: 'k', max: MAX_BEAM, help: 'beam of requests that give none (default: 2 × the request\'s k; never below its k)' },
    { name: 'body-limit', type: 'int', arg: 'BYTES', default: 1048576, min: 64, max: 1 << 30, help: 'largest request body; larger requests get 413' },
    { name: 'max-pending', type: 'int', arg: 'N', default: 256, min: 1, max: 1e9, help: 'most queries accepted and not yet answered: a request whose queries would go past it gets 503 (load shedding instead of an unbounded queue); a batch counts all its queries' },
    { name: 'max-batch', type: 'int', arg: 'N', min: 1, max: 'max-pending', rangeWhy: 'a batch counts all its queries against --max-pending, so a larger one could never be admitted', help: 'most queries in one POST /v1/retrieve:batch request (at most --max-pending; default: 256, or --max-pending when smaller)' },
    { name: 'max-batch-beam', type: 'int', arg: 'N', default: 102400, min: 1, help: "largest sum of the queries' beams in one batch request (a query's beam, or 2 × its k when it gives none); larger batches get 413. Bounds one request's work and the size of its answer" },
    { name: 'log-level', type: 'string', arg: 'LEVEL', default: 'info', choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], help: 'JSON-lines log level on stderr (info logs one line per request)' },
    { ...db, default: undefined, help: 'SQLite store: lets requests give a "user" id instead of a history (optional)' },
    backend, config,
  ],
  synth: [
    { name: 'out', type: 'string', arg: 'FILE', required: true, help: 'CSV to write (Taobao UserBehavior format)', env: false },
    { name: 'items', type: 'int', arg: 'N', default: 20000, min: 2, help: 'catalogue size' },
    { name: 'users', type: 'int', arg: 'N', default: 4000, min: 1, help: 'users' },
    { name: 'category-noise', type: 'number', arg: 'P', default: 0, min: 0, max: 1, help: "probability that an item's category label is replaced by a uniformly random category (1: labels that say nothing); behaviour still follows the planted categories, and the events are the same whatever P" },
    seed, config,
  ],
};
