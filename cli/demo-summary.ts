/**
 * The demo's report for a newcomer: what the data and the protocol are, one
 * row per method with a line saying what the method is, arbor's beam search
 * against every other row (recall ratio with a bootstrap interval, and
 * plainly which rows beat it), and the commands to try next.
 */
import type { MethodReport } from '../src/eval/evaluate.js';
import type { Versus } from '../src/eval/versus.js';
import type { ModelEvalReport } from '../src/pipeline/ops.js';

/** What each evaluated method is, in one line. */
const WHAT: Record<string, (m: MethodReport) => string> = {
  beam: (m) => `descends the trained tree, keeping the best ${m.beam} nodes a level`,
  'brute-force': () => 'the same trained scorer over every item: the most beam search can find',
  popularity: () => 'the most-interacted training items, the same list for everyone',
  itemcf: () => "item-based collaborative filtering: items that co-occur with the user's items",
  ease: () => 'EASE (Steck 2019): a closed-form item-item linear model, λ chosen on validation users',
  'two-tower': () => 'a neural user tower and item tower, nearest items by inner product',
};

/** Display names of the methods. */
const NAME: Record<string, (m: MethodReport) => string> = {
  beam: (m) => `arbor, beam ${m.beam}`,
  'brute-force': () => 'brute force',
  popularity: () => 'popularity',
  itemcf: () => 'item-CF',
  ease: () => 'EASE',
  'two-tower': () => 'two-tower',
};

const nameOf = (m: { name: string; beam?: number }) => (NAME[m.name] ?? (() => m.name))(m as MethodReport);
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const times = (x: number) => (Number.isFinite(x) ? `${x >= 10 ? x.toFixed(1) : x.toFixed(2)}×` : '∞');

/** Facts about the demo's data and training that the report states. */
export interface DemoFacts {
  items: number;
  users: number;
  events: number;
  trainUsers: number;
  validUsers: number;
  testUsers: number;
  seed: number;
  epochs: number;
  trainSeconds: number;
}

/** Lays out rows of cells in columns (first column left-aligned, the rest right-aligned but the last). */
function columns(rows: string[][]): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) =>
    r
      .map((cell, c) => (c === 0 || c === r.length - 1 ? cell.padEnd(c === r.length - 1 ? 0 : widths[c]) : cell.padStart(widths[c])))
      .join('   ')
      .trimEnd(),
  );
}

/**
 * The demo's text report. `ref` is the beam-search row the comparison is
 * made for, `vs` its comparison with every other row at `k`.
 */
export function formatDemoSummary(report: ModelEvalReport, ref: MethodReport, vs: Versus[], k: number, facts: DemoFacts): string {
  const lines: string[] = [];
  lines.push(
    `arbor demo: a synthetic catalogue of ${facts.items.toLocaleString('en')} items in planted categories, ${facts.users.toLocaleString('en')} users, ` +
      `${facts.events.toLocaleString('en')} events (seed ${facts.seed}).`,
    `The scorer trained on ${facts.trainUsers} users (${facts.epochs} epoch${facts.epochs === 1 ? '' : 's'}, ${facts.trainSeconds.toFixed(0)} s); ` +
      `settings were chosen on ${facts.validUsers} validation users; every figure below is on ${report.users} held-out test users.`,
    "Each test user's behaviours are sorted by time: the first half is the query, the items of the second half the truth.",
    '',
  );
  const ks = report.ks;
  const header = ['method', ...ks.map((x) => `recall@${x}`), 'ms/query', 'what it is'];
  const rows = report.methods.map((m) => [
    nameOf(m),
    ...ks.map((x) => {
      const e = m.metrics.find((y) => y.k === x);
      return e ? pct(e.recall) : '–';
    }),
    m.msPerQuery.p50.toFixed(2),
    (WHAT[m.name] ?? (() => ''))(m),
  ]);
  lines.push(...columns([header, ...rows]), '');

  lines.push(`arbor (beam ${ref.beam}) against each row: recall@${k} ratio, 95 % interval over the test users (resampled)`);
  const vsRows = vs.map((v) => {
    const say =
      v.name === 'brute-force'
        ? v.verdict === 'behind'
          ? `brute force finds more; the beam scores ${pct(v.pairsRatio)} of its pairs`
          : `beam search finds what brute force finds, scoring ${pct(v.pairsRatio)} of its pairs`
        : v.verdict === 'ahead'
          ? 'arbor ahead'
          : v.verdict === 'behind'
            ? `${nameOf(v)} AHEAD of arbor`
            : 'level: the interval includes 1';
    return [`  ${nameOf(v)}`, times(v.ratio), `(${times(v.low)}–${times(v.high)})`, say];
  });
  if (vsRows.length > 0) lines.push(...columns(vsRows));
  const behind = vs.filter((v) => v.verdict === 'behind' && v.name !== 'brute-force' && v.name !== 'beam');
  const level = vs.filter((v) => v.verdict === 'level' && v.name !== 'brute-force' && v.name !== 'beam');
  if (behind.length > 0) {
    lines.push(
      '',
      `On this demo ${behind.map((v) => `${nameOf(v)} (${pct(v.otherRecall)})`).join(' and ')} ${behind.length === 1 ? 'beats' : 'beat'} arbor's beam search (${pct(ref.metrics.find((x) => x.k === k)!.recall)}) at recall@${k}.`,
    );
  }
  if (behind.length > 0 || level.length > 0) {
    lines.push(
      'Item-item models are strong on a catalogue this small. The tree is for catalogues where scoring every item',
      'is too slow; docs/BENCHMARKS.md compares the same methods on larger synthetic sets and on real data.',
    );
  }
  lines.push(
    '',
    'Try next:',
    ...columns([
      ['  npx arbor demo --keep demo', '# keep the store (demo/demo.db) and the trained model (demo/model)'],
      ['  npx arbor retrieve --model demo/model --history i1,i2,i3 -k 10', '# the top 10 for a history (history items are left out)'],
      ['  npx arbor eval --db demo/demo.db --model demo/model -k 10,50 --beam 50,200', '# every metric, two beam widths'],
      ['  npx arbor eval --db demo/demo.db --model demo/model --baselines two-tower', '# a neural baseline too (minutes)'],
      ['  npx arbor demo --items 30000 --users 1600 --test-users 250 --epochs 2', "# a larger catalogue (several minutes; the bench's demo set)"],
      ['  npx arbor demo --json', '# the whole evaluation as one JSON document'],
    ]),
    'Your own data: README.md, "Using your data".',
  );
  return lines.join('\n');
}
