/**
 * The module graph's rules (docs/LAYERS.md): no import cycle between files,
 * no import from a lower layer to a higher one, and every src folder's
 * index.ts opens with a one-line purpose. A scratch tree with a bad import
 * shows each check can fail.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fileCycles, folderEdges, importGraph, layerViolations } from './helpers/imports.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The layers, lowest first (docs/LAYERS.md says why): a file may import files of its own unit and of lower layers only. */
export const LAYERS: string[][] = [
  ['src/core'],
  ['src/data'],
  ['src/tree'],
  ['src/scorer'],
  ['src/beam'],
  ['src/trainer'],
  ['src/model'],
  ['src/eval'],
  ['src/runtime'],
  ['src/pipeline'],
  ['src/api'],
  ['src/serve'],
  ['src/index.ts'],
  ['cli'],
  ['bench', 'tools'],
];

const SOURCES = ['src', 'cli', 'bench', 'tools'];

describe('module layers', () => {
  const graph = importGraph(root, SOURCES);

  it('reads the whole source tree', () => {
    assert.ok(graph.size > 100, `only ${graph.size} files found under ${SOURCES.join(', ')}`);
    assert.ok(graph.get('cli/main.ts')!.length > 0);
  });

  it('has no import cycle between files', () => {
    assert.deepEqual(fileCycles(graph), []);
  });

  it('has no import back up the layers', () => {
    assert.deepEqual(layerViolations(graph, LAYERS), []);
  });

  it('opens every src folder index.ts with a one-line purpose', () => {
    for (const d of readdirSync(join(root, 'src'))) {
      if (!statSync(join(root, 'src', d)).isDirectory()) continue;
      const file = join(root, 'src', d, 'index.ts');
      let first = '';
      try {
        first = readFileSync(file, 'utf8').split('\n')[0];
      } catch {
        assert.fail(`src/${d} has no index.ts`);
      }
      assert.match(first, /^\/\*\* \S.*\*\/$/, `src/${d}/index.ts must open with a one-line /** purpose */ comment, found ${JSON.stringify(first)}`);
    }
  });

  it('catches a cycle and a back edge in a scratch tree', () => {
    const dir = mkdtempSync(join(tmpdir(), 'arbor-layers-'));
    try {
      const put = (f: string, text: string) => {
        mkdirSync(dirname(join(dir, f)), { recursive: true });
        writeFileSync(join(dir, f), text);
      };
      put('src/core/a.ts', "import type { B } from './b.js';\nexport type A = B;\n");
      put('src/core/b.ts', "import { type A } from './a.js';\nexport type B = A | number;\n");
      put('src/beam/search.ts', "export const search = 1;\n");
      put('src/beam/worker.ts', "export const url = new URL('./search.js', import.meta.url);\n");
      // the library's bottom layer reaching up to the search
      put('src/core/c.ts', "export async function f() {\n  return import('../beam/search.js');\n}\n");
      const g = importGraph(dir, ['src']);
      assert.deepEqual(fileCycles(g), [['src/core/a.ts', 'src/core/b.ts']]);
      assert.deepEqual(layerViolations(g, LAYERS), ['src/core/c.ts (src/core) imports src/beam/search.ts (src/beam): an edge back up the layers']);
      assert.deepEqual(g.get('src/beam/worker.ts'), ['src/beam/search.ts']);
      assert.deepEqual(folderEdges(g), ['src/core -> src/beam']);
      put('src/extra/x.ts', "import { search } from '../beam/search.js';\nexport const x = search;\n");
      assert.deepEqual(layerViolations(importGraph(dir, ['src']), LAYERS), [
        'src/core/c.ts (src/core) imports src/beam/search.ts (src/beam): an edge back up the layers',
        'src/extra/x.ts is in no layer',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
