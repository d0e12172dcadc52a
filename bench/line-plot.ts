/**
 * A small SVG line plot (hand-written SVG, no plotting dependency) for the
 * benchmark pages: one line per series through its points in order, an
 * optional end point per series drawn as a square (brute force), log or
 * linear axes, and a legend sized from its labels so that it always fits:
 * inside the plot area in a corner that hides no point, else below the plot.
 */

/** One point of a series. */
export interface PlotPoint {
  x: number;
  y: number;
  /** Short text beside the point (e.g. the beam width). */
  tag?: string;
  /** Hover text. */
  title?: string;
}

/** One line. */
export interface PlotSeries {
  label: string;
  points: PlotPoint[];
  /** The line's end point, drawn as a square and joined to the line (e.g. brute force). */
  end?: PlotPoint;
}

/** The whole plot. */
export interface PlotSpec {
  title: string;
  /** A second, smaller line under the title. */
  subtitle?: string;
  xLabel: string;
  yLabel: string;
  xLog: boolean;
  yLog: boolean;
  /** Lower end of a linear y axis (default: 0, or the lowest value when below 0). */
  yFrom?: number;
  /** Formats a y tick value (default: the number). */
  yFormat?: (y: number) => string;
  series: PlotSeries[];
  /** Legend entry of the square end points (e.g. "brute force"). */
  endLabel?: string;
  /** Legend line on the point tags (e.g. "numbers: beam width"). */
  tagNote?: string;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];
const CHAR_W = 6.4; // average glyph width of 11 px sans-serif

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Splits `text` at spaces into lines of at most `width` characters (a longer word gets a line of its own). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

/** Tick values for an axis over [lo, hi]: powers of ten times 1, 2, 5 on a log axis, round steps on a linear one. */
export function ticks(lo: number, hi: number, log: boolean): number[] {
  if (log) {
    const at = (ms: number[]) => {
      const out: number[] = [];
      for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
        for (const m of ms) {
          const v = Number((m * 10 ** e).toPrecision(6));
          if (v >= lo * 0.999 && v <= hi * 1.001) out.push(v);
        }
      }
      return out;
    };
    // within less than a decade, 1-2-5 leaves too few ticks
    const coarse = at([1, 2, 5]);
    return coarse.length >= 4 ? coarse : at([1, 1.5, 2, 3, 4, 5, 6, 8]);
  }
  const out: number[] = [];
  const span = hi - lo || 1;
  const raw = span / 6;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** The axis range covering `values` (log: whole 1-2-5 steps; linear: from 0 or a round value). */
function range(values: number[], log: boolean, from?: number): [number, number] {
  const pos = log ? values.filter((v) => v > 0) : values;
  let lo = Math.min(...pos);
  let hi = Math.max(...pos);
  if (!Number.isFinite(lo)) return log ? [1, 10] : [0, 1];
  if (log) {
    const down = (v: number) => {
      const e = 10 ** Math.floor(Math.log10(v));
      return [5, 2, 1].map((m) => m * e).find((s) => s <= v)!;
    };
    const up = (v: number) => {
      const e = 10 ** Math.floor(Math.log10(v));
      return [1, 2, 5, 10].map((m) => m * e).find((s) => s >= v)!;
    };
    lo = down(lo);
    hi = up(hi);
    if (hi <= lo) hi = lo * 10;
    return [lo, hi];
  }
  const bottom = Math.min(from ?? 0, lo);
  const t = ticks(bottom, hi, false);
  return [bottom, Math.max(hi, t[t.length - 1])];
}

/** Renders the plot as a standalone SVG document. */
export function renderLinePlot(spec: PlotSpec): string {
  const W = 820;
  const H = 520;
  const L = 78;
  const R = 24;
  const sub = spec.subtitle ? wrap(spec.subtitle, Math.floor((W - L - R) / (CHAR_W * 0.95))) : [];
  const T = 40 + 15 * sub.length;
  const B = 58;
  const all = spec.series.flatMap((s) => [...s.points, ...(s.end ? [s.end] : [])]);
  const [x0, x1] = range(all.map((p) => p.x), spec.xLog);
  const [y0, y1] = range(all.map((p) => p.y), spec.yLog, spec.yFrom);
  const tx = (v: number) => (spec.xLog ? Math.log10(v) : v);
  const ty = (v: number) => (spec.yLog ? Math.log10(v) : v);
  // on a log axis a value <= 0 sits on the axis's floor
  const X = (v: number) => L + ((tx(spec.xLog && v <= 0 ? x0 : v) - tx(x0)) / (tx(x1) - tx(x0))) * (W - L - R);
  const Y = (v: number) => T + (1 - (ty(spec.yLog && v <= 0 ? y0 : v) - ty(y0)) / (ty(y1) - ty(y0))) * (H - T - B);
  const yFmt = spec.yFormat ?? ((v: number) => String(v));
  // the legend: sized from its labels, in an inside corner that hides no point, else below the plot
  const rows = [...spec.series.map((s) => s.label), ...(spec.endLabel ? [spec.endLabel] : []), ...(spec.tagNote ? [spec.tagNote] : [])];
  const lw = Math.min(W - L - R - 8, 44 + CHAR_W * Math.max(...rows.map((r) => r.length)));
  const lh = 10 + 18 * rows.length;
  const corners = [
    [W - R - lw - 6, T + 6],
    [L + 6, T + 6],
    [W - R - lw - 6, H - B - lh - 6],
    [L + 6, H - B - lh - 6],
  ];
  const hidden = ([cx, cy]: number[]) => all.filter((p) => X(p.x) >= cx - 6 && X(p.x) <= cx + lw + 6 && Y(p.y) >= cy - 6 && Y(p.y) <= cy + lh + 6).length;
  const free = corners.find((c) => hidden(c) === 0);
  const [lx, ly] = free ?? [L, H - 8];
  const Htotal = free ? H : H + lh + 8;
  const o: string[] = [];
  o.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${Htotal}" viewBox="0 0 ${W} ${Htotal}" font-family="sans-serif" font-size="12">`);
  o.push(`<rect width="${W}" height="${Htotal}" fill="white"/>`);
  o.push(`<text x="${L}" y="22" font-size="14" font-weight="bold">${esc(spec.title)}</text>`);
  sub.forEach((line, i) => o.push(`<text x="${L}" y="${38 + 15 * i}" font-size="11" fill="#444">${esc(line)}</text>`));
  for (const v of ticks(x0, x1, spec.xLog)) {
    const gx = X(v).toFixed(1);
    o.push(`<line x1="${gx}" y1="${T}" x2="${gx}" y2="${H - B}" stroke="#e3e3e3"/>`);
    o.push(`<text x="${gx}" y="${H - B + 16}" text-anchor="middle">${v.toLocaleString('en-US')}</text>`);
  }
  for (const v of ticks(y0, y1, spec.yLog)) {
    const gy = Y(v).toFixed(1);
    o.push(`<line x1="${L}" y1="${gy}" x2="${W - R}" y2="${gy}" stroke="#e3e3e3"/>`);
    o.push(`<text x="${L - 6}" y="${(Y(v) + 4).toFixed(1)}" text-anchor="end">${esc(yFmt(v))}</text>`);
  }
  o.push(`<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="none" stroke="#333"/>`);
  o.push(`<text x="${(L + W - R) / 2}" y="${H - 18}" text-anchor="middle">${esc(spec.xLabel)}</text>`);
  o.push(`<text transform="translate(18 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle">${esc(spec.yLabel)}</text>`);
  spec.series.forEach((s, i) => {
    const col = COLORS[i % COLORS.length];
    const line = [...s.points, ...(s.end ? [s.end] : [])];
    o.push(`<polyline fill="none" stroke="${col}" stroke-width="2" points="${line.map((p) => `${X(p.x).toFixed(1)},${Y(p.y).toFixed(1)}`).join(' ')}"/>`);
    for (const p of s.points) {
      o.push(`<circle cx="${X(p.x).toFixed(1)}" cy="${Y(p.y).toFixed(1)}" r="3.5" fill="${col}">${p.title ? `<title>${esc(p.title)}</title>` : ''}</circle>`);
      if (p.tag) o.push(`<text x="${(X(p.x) + 5).toFixed(1)}" y="${(Y(p.y) - 6).toFixed(1)}" font-size="9" fill="${col}">${esc(p.tag)}</text>`);
    }
    if (s.end) {
      o.push(`<rect x="${(X(s.end.x) - 4.5).toFixed(1)}" y="${(Y(s.end.y) - 4.5).toFixed(1)}" width="9" height="9" fill="${col}" stroke="black" stroke-width="0.8">${s.end.title ? `<title>${esc(s.end.title)}</title>` : ''}</rect>`);
    }
  });
  o.push(`<rect x="${lx}" y="${ly}" width="${lw.toFixed(0)}" height="${lh}" fill="white" fill-opacity="0.92" stroke="#999"/>`);
  let row = ly + 18;
  spec.series.forEach((s, i) => {
    const col = COLORS[i % COLORS.length];
    o.push(`<line x1="${lx + 8}" y1="${row - 4}" x2="${lx + 34}" y2="${row - 4}" stroke="${col}" stroke-width="2"/><circle cx="${lx + 21}" cy="${row - 4}" r="3" fill="${col}"/>`);
    o.push(`<text x="${lx + 40}" y="${row}" font-size="11">${esc(s.label)}</text>`);
    row += 18;
  });
  if (spec.endLabel) {
    o.push(`<rect x="${lx + 16.5}" y="${row - 8.5}" width="9" height="9" fill="#777" stroke="black" stroke-width="0.8"/><text x="${lx + 40}" y="${row}" font-size="11">${esc(spec.endLabel)}</text>`);
    row += 18;
  }
  if (spec.tagNote) o.push(`<text x="${lx + 8}" y="${row}" font-size="10" fill="#444">${esc(spec.tagNote)}</text>`);
  o.push('</svg>');
  return o.join('\n') + '\n';
}
