/**
 * The process measurement the ingest and scale benches rest on: exit code,
 * output, standard input through a pipe, and the child's peak RSS.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { measureProcess, median } from '../bench/measure-process.js';

describe('measureProcess', () => {
  it('reports the exit code and output, and pipes a file into standard input', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'arbor-measure-'));
    try {
      const file = join(dir, 'in.txt');
      const text = 'line\n'.repeat(100_000);
      writeFileSync(file, text);
      const echo = await measureProcess(process.execPath, ['-e', 'process.stdin.pipe(process.stdout)'], { inputFile: file });
      assert.equal(echo.code, 0);
      assert.equal(echo.stdout, text);
      const failed = await measureProcess(process.execPath, ['-e', 'process.stderr.write("no"); process.exit(3)']);
      assert.deepEqual([failed.code, failed.stderr], [3, 'no']);
      assert.ok(failed.seconds > 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('sees a child that holds 300 MiB for a moment', { skip: !existsSync('/proc/self/status') && 'no /proc' }, async () => {
    const r = await measureProcess(process.execPath, ['-e', 'const b = Buffer.alloc(300 * 2 ** 20, 1); setTimeout(() => console.log(b[5]), 200)']);
    assert.equal(r.stdout.trim(), '1');
    assert.ok(r.peakRssMiB >= 300 && r.peakRssMiB < 1000, `peak RSS ${r.peakRssMiB} MiB`);
  });
});

describe('median', () => {
  it('of odd and even counts, unsorted input', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.ok(Number.isNaN(median([])));
  });
});
