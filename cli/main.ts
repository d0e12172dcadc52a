/**
 * The `arbor` command line. The only place that reads argv, prints results
 * and exits. Exit codes: 0 success, 1 runtime error, 2 usage error.
 */
import { Command, CommanderError } from 'commander';
import { ArborError } from '../src/core/errors.js';
import { fileError } from '../src/core/fs-errors.js';
import { describeUnexpected } from './unexpected.js';
import { addCommand, usageLine, type Options } from './program.js';
import * as data from './data-commands.js';
import type * as Heavy from './commands.js';

type Action = (opts: Options, positional: string[]) => Promise<void>;

/** A command of commands.ts, loaded when it runs: the data commands start without loading tfjs. */
const later = (name: keyof typeof Heavy): Action => async (opts, positional) => ((await import('./commands.js'))[name] as Action)(opts, positional);

const c = {
  ...data,
  buildTreeCommand: later('buildTreeCommand'),
  trainCommand: later('trainCommand'),
  learnTreeCommand: later('learnTreeCommand'),
  addItemsCommand: later('addItemsCommand'),
  retrieveCommand: later('retrieveCommand'),
  evalCommand: later('evalCommand'),
  demoCommand: later('demoCommand'),
  serveCommand: later('serveCommand'),
};

const program = new Command();
program
  .name('arbor')
  .description('Tree-based deep retrieval (TDM) for recommendation: ingest logs, build an item tree, train a node scorer, retrieve with beam search, evaluate.')
  .version('0.1.0')
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s), outputError: (s, write) => write(usageLine(s, 'arbor --help')) });

const common = `Options may also come from ARBOR_<NAME> environment variables (e.g. ARBOR_SEED=7) or a --config JSON file;
flags win over the environment, which wins over the file. Data goes to stdout, logs and progress to stderr.
Exit codes: 0 success, 1 runtime error, 2 usage error.`;

addCommand(program, 'ingest', '<file>', 'Read an interaction log into the SQLite store (one transaction: a bad row changes nothing).', c.ingestCommand,
  `Formats:
  userbehavior  Taobao CSV, no header: user,item,category,behavior(pv|cart|fav|buy),timestamp
  movielens     ratings.dat (::), u.data (tab) or ratings.csv (header); --items movies.dat|u.item|movies.csv for genres
  sequence      one user a line: user item1 item2 ... (time order); --items JSON {item: [attribute ids]}
FILE may be - (standard input), /dev/stdin or a pipe (e.g. <(zcat log.gz)); files must be UTF-8.
Re-ingesting the same content (from a file or a pipe) adds nothing. A sequence file's users must not already be in the store.
Prints an ingest report (JSON) on stdout.
${common}`);
addCommand(program, 'ingest-items', '<file>', 'Add items to the store with or without events (one a line: ITEM or ITEM,CATEGORY), e.g. new items to give to add-items.', c.ingestItemsCommand,
  `A new item is created with its category; an item stored without a category gets this one; an item stored
with a category keeps it. One transaction: a bad line changes nothing. Prints a report (JSON) on stdout.
${common}`);
addCommand(program, 'split', '', 'Hold out test and validation users (papers\' protocol: first half of a held-out user\'s behaviours is input, second half truth).', c.splitCommand, common);
addCommand(program, 'build-tree', '', 'Create a model folder with an item tree (by category, random, or k-means on a trained model).', c.buildTreeCommand,
  `--init kmeans --from MODEL is the TDM rebuild: recursive balanced k-means (2-means for branching 2) on MODEL's
learned item embeddings; train the new folder afterwards.
${common}`);
addCommand(program, 'train', '', "Train the node scorer for a model folder's tree (written atomically into the folder).", c.trainCommand,
  `Trains on the store's training users; validation users (arbor split --valid-users) drive early stopping
and the best epoch's weights are kept. Without a split every user is a training user.
--joint (JTM) alternates training and tree learning for --rounds rounds and keeps the round with the best
validation recall; a learned tree that lowers the tree-learning objective of its first levels on the
validation users' pairs is refused before retraining and ends the rounds (docs/TREE-LEARNING.md); every
round's figures go into manifest.json.
Training runs on --workers threads (default: one per CPU core), each step split between them; the same seed
and worker count give the same weights, and --workers 1 gives those of --workers 0 (the main thread). The
attention scorer and item side features train on the main thread (a note says so). manifest.json records
the worker count that ran.
${common}`);
addCommand(program, 'learn-tree', '', 'JTM tree learning: re-assign items to leaves with the trained scorer (one step; retrain afterwards).', c.learnTreeCommand,
  `Greedy from the root, --gap levels at a time, every item picks the descendant that maximises the summed
log-probabilities of its training pairs' ancestors, under capacities that keep the tree balanced.
\`arbor train --joint --rounds R\` alternates this with training and keeps the best round.
${common}`);
addCommand(program, 'add-items', '', "Add the store's items that a trained model lacks to its tree and scorer, without retraining.", c.addItemsCommand,
  `Each new item gets a first embedding (see --embed-from) and descends to the subtree that fits it best; when the
tree's last level is full it grows a level (old items keep their relative places). Items without events (from
arbor ingest-items or --item-vectors) are added too. The folder is rewritten atomically; afterwards the items are
accepted in histories and retrieved. \`arbor train --warm-start\` then adapts the scorer to them.
See docs/LIVING-CATALOGUES.md for the measurements behind the defaults.
${common}`);
addCommand(program, 'retrieve', '', 'Retrieve the top k items for users with beam search.', c.retrieveCommand,
  `With --json each query prints one line: {"user": "...", "items": [{"item": "...", "score": 0.0}], "pairsScored": N,
"skippedHistory": N, "config": {...}}. Unknown history items are skipped and counted on stderr.
Items of the query's own history are never returned unless --include-history is given.
${common}`);
addCommand(program, 'eval', '', 'Precision/recall/F@k and metrics beyond recall on the test users: beam search vs brute force vs baselines, with cost per query.', c.evalCommand,
  `Each test user's behaviours are sorted by time: the first half is the query, the distinct items of the
second half the truth. As in the TDM papers' protocol, every method may return items of the query half (a
user may come back to an item), unlike retrieve and serve, which leave history items out by default.
Per method and k, averaged over test users (JSON: methods[].metrics[]):
  precision, recall, f   hits in the top k over k, over the truth size; their harmonic mean
  ndcg                   binary gains: sum of 1/log2(rank+1) over hits, over the same for a perfect list
  hitRate                share of users with at least one hit
  coverage               share of the catalogue in at least one user's top k
  novelty                mean self-information of the listed items in bits, -log2 p(i), p(i) the item's
                         add-one smoothed share of the training users' events: (count+1) / (events+items)
  diversity              share of pairs of listed items (both with a category) whose categories differ;
                         over users whose list has two such items
  newCategoryRecall      recall on the truth items whose category is absent from the user's history,
                         over the users who have one (newCategoryUsers)
diversity and newCategoryRecall need item categories (absent otherwise).
${common}`);
addCommand(program, 'demo', '', 'Synthetic data → split → build-tree → train → eval, printing the comparison table.', c.demoCommand, common);
addCommand(program, 'serve', '', 'Serve retrieval over HTTP (JSON): POST /v1/retrieve, POST /v1/retrieve:batch, GET /healthz, GET /v1/model.', c.serveCommand,
  `Once listening, prints one JSON line on stdout: {"url": "http://127.0.0.1:8080", "port": 8080, ...}.
Request: {"history": ["item", ...], "k": 200, "beam": 400, "excludeHistory": true, "categories": ["cat", ...]}
(or "user": "ID" instead of "history" when --db is given); every field but history/user is optional.
"excludeHistory" defaults to true (history items never come back; false lets them, as does --include-history
for requests that do not say).
Answer: {"items": [{"item": "...", "score": 0.0}], "pairsScored": N, "skippedHistory": N, "ms": 0.0}.
Errors are {"error": "field: what"}: 400 bad request, 404 unknown user, 413 body over --body-limit or a batch
whose beams sum past --max-batch-beam, 415 not JSON, 503 when the request's queries would go past --max-pending
(retry later). Logs are JSON lines on stderr.
SIGTERM (or Ctrl-C) stops accepting connections, finishes the requests in flight and exits 0.
${common}`);
addCommand(program, 'synth', '', 'Write a seeded synthetic data set (planted category hierarchy) as a Taobao-format CSV.', c.synthCommand, common);

// standard output that goes away (`| head -1`) ends the command quietly; one that fails (a full disk) gets one line
for (const [stream, name] of [[process.stdout, 'standard output'], [process.stderr, 'standard error']] as const) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    if (stream === process.stdout) process.stderr.write(`arbor: ${fileError('write', name, e).message}\n`);
    process.exit(1);
  });
}

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help' ? 0 : 2;
  } else if (e instanceof ArborError) {
    process.stderr.write(`arbor: ${e.message}\n`);
    process.exitCode = e.exitCode;
  } else {
    process.stderr.write(`arbor: ${describeUnexpected(e)}\n`);
    process.exitCode = 1;
  }
}
