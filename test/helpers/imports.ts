/**
 * The repository's module graph, read from the sources with the TypeScript
 * pre-processor (static imports and re-exports, type-only ones included,
 * dynamic `import()` and worker URLs), and the layer rules it is checked
 * against (docs/LAYERS.md).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, sep } from 'node:path';
import ts from 'typescript';

/** File → the repository files it imports (paths relative to the root, `/`-separated, `.ts`). */
export type ImportGraph = Map<string, string[]>;

/** Every `.ts` file under `dirs` (relative to `root`). */
function tsFiles(root: string, dirs: string[]): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(join(root, d))) {
      const p = join(d, e);
      if (statSync(join(root, p)).isDirectory()) walk(p);
      else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p.split(sep).join('/'));
    }
  };
  for (const d of dirs) if (existsSync(join(root, d))) walk(d);
  return out.sort();
}

/** Resolves a relative specifier of `from` to a repository `.ts` file, or undefined for a package. */
function resolveSpecifier(root: string, from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const base = normalize(join(dirname(from), spec)).split(sep).join('/');
  for (const cand of [base.replace(/\.js$/, '.ts'), base + '.ts', base + '/index.ts']) {
    if (existsSync(join(root, cand)) && statSync(join(root, cand)).isFile()) return cand;
  }
  throw new Error(`${from}: cannot resolve import ${JSON.stringify(spec)}`);
}

/** The import graph of the `.ts` files under `dirs`. */
export function importGraph(root: string, dirs: string[]): ImportGraph {
  const g: ImportGraph = new Map();
  for (const file of tsFiles(root, dirs)) {
    const text = readFileSync(join(root, file), 'utf8');
    const specs = ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
    // worker entry points: new URL('./worker.js', import.meta.url)
    for (const m of text.matchAll(/new URL\(\s*['"](\.[^'"]+)['"]\s*,\s*import\.meta\.url\s*\)/g)) specs.push(m[1]);
    const deps = new Set<string>();
    for (const s of specs) {
      const t = resolveSpecifier(root, file, s);
      if (t !== undefined && t !== file) deps.add(t);
    }
    g.set(file, [...deps].sort());
  }
  return g;
}

/** The file cycles of a graph (strongly connected components of more than one file), each sorted. */
export function fileCycles(g: ImportGraph): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of g.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const c: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        c.push(w);
      } while (w !== v);
      if (c.length > 1) out.push(c.sort());
    }
  };
  for (const v of g.keys()) if (!index.has(v)) visit(v);
  return out;
}

/**
 * The layer of a file: the index of the longest prefix in `layers` (each
 * entry a list of folders or files, lowest layer first) it falls under;
 * -1 for none.
 */
export function layerOf(file: string, layers: string[][]): { layer: number; unit: string } {
  let best = { layer: -1, unit: '' };
  layers.forEach((units, i) => {
    for (const u of units) {
      if ((file === u || file.startsWith(u + '/')) && u.length > best.unit.length) best = { layer: i, unit: u };
    }
  });
  return best;
}

/**
 * Imports that break the layering: from a file to a file of a higher layer,
 * or between two different units of the same layer; and files outside every
 * layer. Each as one readable line.
 */
export function layerViolations(g: ImportGraph, layers: string[][]): string[] {
  const out: string[] = [];
  for (const [file, deps] of g) {
    const a = layerOf(file, layers);
    if (a.layer < 0) {
      out.push(`${file} is in no layer`);
      continue;
    }
    for (const d of deps) {
      const b = layerOf(d, layers);
      if (b.layer < 0) out.push(`${file} imports ${d}, which is in no layer`);
      else if (b.layer > a.layer) out.push(`${file} (${a.unit}) imports ${d} (${b.unit}): an edge back up the layers`);
      else if (b.layer === a.layer && b.unit !== a.unit) out.push(`${file} (${a.unit}) imports ${d} (${b.unit}): two units of one layer`);
    }
  }
  return out.sort();
}

/** Folder-level edges (`a -> b` for files of folder a importing files of folder b), sorted. */
export function folderEdges(g: ImportGraph): string[] {
  const set = new Set<string>();
  for (const [file, deps] of g) for (const d of deps) if (dirname(file) !== dirname(d)) set.add(`${dirname(file)} -> ${dirname(d)}`);
  return [...set].sort();
}
