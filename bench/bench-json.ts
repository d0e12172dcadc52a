/**
 * Where each benchmark's raw figures go: OUT/bench/<name>.json, pretty
 * printed, from which the BENCHMARKS.md page is rebuilt.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Writes `data` to `outDir`/bench/`name`.json (the folder made if missing). */
export function writeBenchJson(outDir: string, name: string, data: unknown): void {
  mkdirSync(join(outDir, 'bench'), { recursive: true });
  writeFileSync(join(outDir, 'bench', `${name}.json`), JSON.stringify(data, null, 2) + '\n');
}
