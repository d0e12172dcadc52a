import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderLinePlot, ticks, wrap } from '../bench/line-plot.js';
import { renderCurveSvg, type BeamCurve } from '../bench/curve.js';

/** The numeric attribute `name` of every element `tag` in an SVG text. */
function attrs(svg: string, tag: string, name: string): number[] {
  return [...svg.matchAll(new RegExp(`<${tag} [^>]*\\b${name}="([^"]+)"`, 'g'))].map((m) => Number(m[1]));
}

test('ticks: 1-2-5 steps on a log axis (finer within a decade), round steps on a linear one', () => {
  assert.deepEqual(ticks(0.01, 1, true), [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1]);
  assert.deepEqual(ticks(0.2, 0.5, true), [0.2, 0.3, 0.4, 0.5]);
  assert.deepEqual(ticks(0, 1, false), [0, 0.2, 0.4, 0.6, 0.8, 1]);
});

test('wrap: lines of at most the width, split at spaces', () => {
  assert.deepEqual(wrap('aa bb cc dd', 5), ['aa bb', 'cc dd']);
  assert.deepEqual(wrap('a verylongword b', 4), ['a', 'verylongword', 'b']);
});

test('renderLinePlot: finite coordinates (zeros on a log axis sit on the floor), legend inside the plot area and sized to its labels', () => {
  const long = 'a data set with a rather long name, 1,234,567 items';
  const svg = renderLinePlot({
    title: 't',
    xLabel: 'x',
    yLabel: 'y',
    xLog: true,
    yLog: true,
    series: [
      { label: long, points: [{ x: 1000, y: 0.2, tag: '50' }, { x: 100, y: 0.25, tag: '400' }], end: { x: 5, y: 0.26 } },
      { label: 'short', points: [{ x: 800, y: 0 }, { x: 90, y: 0.01 }], end: { x: 3, y: 0.012 } },
    ],
    endLabel: 'brute force',
  });
  for (const [tag, name] of [['circle', 'cx'], ['circle', 'cy'], ['rect', 'x'], ['rect', 'y'], ['line', 'y1']]) {
    for (const v of attrs(svg, tag, name)) assert.ok(Number.isFinite(v), `${tag} ${name} ${v}`);
  }
  const width = attrs(svg, 'svg', 'width')[0];
  // the plot frame is the third rect (background, then the frame); the legend box is the one with a stroke of #999
  const legend = /<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" fill="white" fill-opacity/.exec(svg)!;
  const [lx, , lw] = legend.slice(1).map(Number);
  assert.ok(lx > 0 && lx + lw < width, `legend ${lx}..${lx + lw} within ${width}`);
  assert.ok(lw >= long.length * 6, 'the legend is as wide as its longest label');
  assert.ok(svg.includes(long) && svg.includes('brute force'));
});

test('renderCurveSvg: one line per set through its widths at the fixed k, brute force as the end point', () => {
  const curve = (base: number): BeamCurve => ({
    model: 'm',
    ks: [10, 50],
    users: 10,
    points: [
      { beam: 25, recall: [{ k: 10, recall: base / 2 }], pairsPerQuery: 1, msPerQuery: { mean: 1, p50: 1, p95: 1 }, queriesPerSecond: 1000 },
      { beam: 50, recall: [{ k: 10, recall: base / 2 }, { k: 50, recall: base }], pairsPerQuery: 2, msPerQuery: { mean: 2, p50: 2, p95: 2 }, queriesPerSecond: 500 },
      { beam: 100, recall: [{ k: 10, recall: base / 2 }, { k: 50, recall: base }], pairsPerQuery: 3, msPerQuery: { mean: 4, p50: 4, p95: 4 }, queriesPerSecond: 250 },
      { recall: [{ k: 10, recall: base / 2 }, { k: 50, recall: base }], pairsPerQuery: 9, msPerQuery: { mean: 50, p50: 50, p95: 50 }, queriesPerSecond: 20 },
    ],
  });
  const svg = renderCurveSvg([{ title: 'A', curve: curve(0.3) }, { title: 'B', curve: curve(0.05) }, { title: 'C' }]);
  const lines = [...svg.matchAll(/<polyline [^>]*points="([^"]+)"/g)].map((m) => m[1].split(' ').length);
  // beam 25 is below k = 50, so each line has widths 50 and 100, then brute force
  assert.deepEqual(lines, [3, 3]);
  assert.equal((svg.match(/stroke="black"/g) ?? []).length, 3, 'two end squares and the legend square');
});
