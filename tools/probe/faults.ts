/**
 * Probe cases for faults of the environment: kill -9 at chosen points of
 * ingest, split, build-tree and train (timed, and injected at a chosen
 * system call with strace), a full disk (a small tmpfs in a private mount
 * namespace), read-only stores and model folders (a read-only bind mount),
 * and a store locked by a running ingest. After each, the store and the
 * model must hold their last committed content, and the command, run
 * again, must succeed.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { arbor, canMount, copy, describe, folderFingerprint, hasStrace, judgeError, killAfter, leftovers, sh, storeFingerprint, type Run } from './harness.js';
import type { Probe } from './probe.js';

const sqliteCount = (db: string, table = 'events') => `sqlite3 '${db}' 'SELECT count(*) FROM ${table}'`;

/** Runs the fault cases. */
export async function faultCases(p: Probe): Promise<void> {
  const area = 'fault';
  const d = p.dir('K');
  // a larger log so that kills land inside the ingest
  sh(`awk 'BEGIN { for (i = 0; i < 600000; i++) printf "k%d,j%d,c%d,pv,%d\\n", i % 20000, (i * 7) % 30000, i % 50, 1600000000 + i }' > big.csv`, d);
  const mount = canMount();
  const strace = hasStrace();

  // kill -9 during ingest, at several moments, into a store with earlier content
  for (const [i, ms] of [[1, 400], [2, 1200], [3, 2500], [4, 4000]] as const) {
    const id = `K0${i}`;
    await p.run(id, area, `kill -9 ${ms} ms into an ingest of 600k rows (store holding earlier rows)`, `arbor ingest big.csv --db s.db & sleep ${ms / 1000}; kill -9 $!; arbor ingest big.csv --db s.db`, 'the store holds exactly its earlier rows after the kill; the repeated ingest then stores all 600k', async () => {
      const c = join(d, `k${i}`);
      sh(`mkdir -p ${c} && cp '${p.store}' ${c}/s.db`, d);
      const before = storeFingerprint(join(c, 's.db'));
      const r = await killAfter(['ingest', join(d, 'big.csv'), '--format', 'userbehavior', '--db', 's.db'], c, ms);
      const after = storeFingerprint(join(c, 's.db'));
      const again = arbor(['ingest', join(d, 'big.csv'), '--format', 'userbehavior', '--db', 's.db'], { cwd: c });
      const inserted = again.code === 0 ? JSON.parse(again.stdout).eventsInserted : -1;
      const killed = r.signal === 'SIGKILL';
      return [
        `${killed ? 'killed' : `finished first (exit ${r.code})`}; store ${after === before ? 'unchanged' : 'CHANGED'}; repeated ingest ${describe(again)} (${inserted} events inserted)`,
        (killed ? after === before : true) && inserted === (killed ? 600_000 : 0) ? '' : 'unexpected',
      ];
    });
  }
  if (strace) {
    for (const [i, when] of [[5, 3], [6, 40], [7, 400]] as const) {
      const id = `K0${i}`;
      await p.run(id, area, `SIGKILL at write ${when} to the store during an ingest (strace)`, `strace -e inject=pwrite64:signal=KILL:when=${when} arbor ingest big.csv --db s.db`, 'store unchanged; the ingest run again succeeds', () => {
        const c = join(d, `k${i}`);
        sh(`mkdir -p ${c} && cp '${p.store}' ${c}/s.db`, d);
        const before = storeFingerprint(join(c, 's.db'));
        const r = sh(`strace -f -qq -o /dev/null -e trace=pwrite64 -e inject=pwrite64:signal=KILL:when=${when} $ARBOR ingest ../big.csv --format userbehavior --db s.db`, c);
        const after = storeFingerprint(join(c, 's.db'));
        const again = arbor(['ingest', join(d, 'big.csv'), '--format', 'userbehavior', '--db', 's.db'], { cwd: c });
        return [`${describe(r)}; store ${after === before ? 'unchanged' : 'CHANGED'}; again: ${describe(again)}`, r.code !== 0 && after === before && again.code === 0 ? '' : 'unexpected'];
      });
    }
    await p.run('K08', area, 'SIGKILL at the 3rd write to the store during a split (strace)', 'strace -e inject=pwrite64:signal=KILL:when=3 arbor split --db s.db --test-users 30', 'store unchanged (the old split); split again succeeds', () => {
      const c = join(d, 'k8');
      sh(`mkdir -p ${c} && cp '${p.store}' ${c}/s.db`, d);
      const before = storeFingerprint(join(c, 's.db'));
      const r = sh('strace -f -qq -o /dev/null -e trace=pwrite64 -e inject=pwrite64:signal=KILL:when=3 $ARBOR split --db s.db --test-users 30 --seed 9', c);
      const after = storeFingerprint(join(c, 's.db'));
      const again = arbor(['split', '--db', 's.db', '--test-users', '30', '--seed', '9'], { cwd: c });
      return [`${describe(r)}; store ${after === before ? 'unchanged' : 'CHANGED'}; again: ${describe(again)}`, r.code !== 0 && after === before && again.code === 0 ? '' : 'unexpected'];
    });
    // kill -9 at each rename of a train's folder swap, and at the removal of the old folder
    // (the first rename is the epoch-end checkpoint's, written into m/checkpoint before the model)
    const swapCases: [string, string, string][] = [
      ['K09', 'rename', '2'],
      ['K10', 'rename', '3'],
      ['K11', 'unlink', '1'],
    ];
    for (const [id, call, when] of swapCases) {
      const what = call === 'rename' ? (when === '2' ? 'the rename of the old folder aside' : 'the rename of the new folder into place') : 'the first file removal after the swap (the old folder)';
      await p.run(id, area, `train killed at ${what} (strace)`, `strace -e inject=${call}:signal=KILL:when=${when} arbor train --db s.db --model m ...`, call === 'rename' ? 'the next retrieve finds the previous model (moved back), no leftovers' : 'the next retrieve finds the new model, no leftovers', () => {
        const c = join(d, id);
        sh(`mkdir -p ${c}`, d);
        copy(p.model, join(c, 'm'));
        const before = folderFingerprint(join(c, 'm'));
        const calls = call === 'rename' ? 'rename,renameat,renameat2' : 'unlink,unlinkat';
        const r = sh(`strace -f -qq -o /dev/null -e trace=${calls} -e inject=${calls}:signal=KILL:when=${when} $ARBOR train --db '${p.store}' --model m --epochs 1 --max-samples 500 --emb-dim 8 --workers 0 --seed 3`, c);
        const next = arbor(['retrieve', '--model', 'm', '--history', 'i1,i2', '-k', '3'], { cwd: c });
        const now = folderFingerprint(join(c, 'm'));
        const left = leftovers(c);
        const restored = now === before;
        const good = call === 'rename' ? restored : !restored;
        return [`train exit ${r.code ?? r.signal}; then retrieve ${describe(next)}; model ${restored ? 'the previous one' : 'the new one'}; leftovers: ${left.join(', ') || 'none'}`, r.code !== 0 && next.code === 0 && good && left.length === 0 ? '' : 'unexpected'];
      });
    }
  } else {
    for (const id of ['K05', 'K06', 'K07', 'K08', 'K09', 'K10', 'K11']) p.skip(id, area, 'a SIGKILL injected at a system call', 'strace -e inject=…', 'store or model unchanged', 'strace is not installed');
  }
  for (const [id, ms] of [['K12', 1500], ['K13', 3500]] as const) {
    await p.run(id, area, `kill -9 ${ms} ms into a train`, `arbor train ... & sleep ${ms / 1000}; kill -9 $!`, 'the model folder unchanged, no leftovers after the next retrieve', async () => {
      const c = join(d, id);
      sh(`mkdir -p ${c}`, d);
      copy(p.model, join(c, 'm'));
      const before = folderFingerprint(join(c, 'm'));
      const r = await killAfter(['train', '--db', p.store, '--model', 'm', '--epochs', '3', '--emb-dim', '8', '--workers', '0'], c, ms);
      const next = arbor(['retrieve', '--model', 'm', '--history', 'i1', '-k', '2'], { cwd: c });
      const unchanged = folderFingerprint(join(c, 'm')) === before;
      return [`${r.signal === 'SIGKILL' ? 'killed' : `finished (exit ${r.code})`}; model ${unchanged ? 'unchanged' : 'changed'}; retrieve ${describe(next)}; leftovers ${leftovers(c).length}`, (r.signal !== 'SIGKILL' || unchanged) && next.code === 0 && leftovers(c).length === 0 ? '' : 'unexpected'];
    });
  }
  await p.run('K14', area, 'SIGTERM during an ingest', 'arbor ingest big.csv & sleep 1; kill -TERM $!', 'store unchanged; ingest again succeeds', async () => {
    const c = join(d, 'k14');
    sh(`mkdir -p ${c} && cp '${p.store}' ${c}/s.db`, d);
    const before = storeFingerprint(join(c, 's.db'));
    const r = sh(`$ARBOR ingest ../big.csv --format userbehavior --db s.db & sleep 1; kill -TERM $!; wait $!; echo "exit $?"`, c);
    const after = storeFingerprint(join(c, 's.db'));
    const again = arbor(['ingest', join(d, 'big.csv'), '--format', 'userbehavior', '--db', 's.db'], { cwd: c });
    return [`${r.stdout.trim().split('\n').pop()}; store ${after === before ? 'unchanged' : 'CHANGED'}; again ${describe(again)}`, after === before && again.code === 0 ? '' : 'unexpected'];
  });

  // a store locked by a running ingest
  await p.run('L01', area, 'a second ingest while a large one runs', 'arbor ingest big.csv --db s.db & arbor ingest other.csv --db s.db', 'the second exits 1 after waiting 2 s: "store s.db is locked by another process …: wait … then retry"; the first completes', () => {
    const c = join(d, 'l1');
    sh(`mkdir -p ${c}`, d);
    writeFileSync(join(c, 'other.csv'), 'o1,i1,c1,pv,1\n');
    const r = sh(`$ARBOR ingest ../big.csv --format userbehavior --db s.db > first.out 2>&1 & sleep 1.5; $ARBOR ingest other.csv --format userbehavior --db s.db; echo "second $?"; wait $!; echo "first $?"`, c);
    const lines = r.stdout.trim().split('\n');
    const second: Run = { code: Number(/second (\d+)/.exec(r.stdout)?.[1]), signal: null, stdout: '', stderr: r.stderr, ms: 0 };
    return [`${lines.slice(-2).join(', ')}; ${describe(second)}`, /first 0/.test(r.stdout) ? judgeError(second, 1, /store s\.db is locked by another process .*: wait until/) : 'the first ingest failed'];
  });
  await p.run('L02', area, 'split while a large ingest runs', 'arbor ingest big.csv --db s.db & arbor split --db s.db', 'exit 1, "store s.db is locked …" (or exit 0 if the ingest had not locked it yet)', () => {
    const c = join(d, 'l2');
    sh(`mkdir -p ${c} && cp '${p.store}' ${c}/s.db`, d);
    const r = sh(`$ARBOR ingest ../big.csv --format userbehavior --db s.db > first.out 2>&1 & sleep 1.5; $ARBOR split --db s.db --test-users 3; echo "second $?"; wait $!`, c);
    const code = Number(/second (\d+)/.exec(r.stdout)?.[1]);
    const run: Run = { code, signal: null, stdout: '', stderr: r.stderr, ms: 0 };
    return [describe(run), code === 0 ? '' : judgeError(run, 1, /is locked by another process/)];
  });
  await p.run('L03', area, 'eval reading a store while a large ingest writes it', 'arbor ingest big.csv --db s.db & arbor eval --db s.db ...', 'exit 0, or exit 1 "store … is locked" (a writer committing holds an exclusive lock)', () => {
    const c = join(d, 'l3');
    sh(`mkdir -p ${c} && cp '${p.store}' ${c}/s.db`, d);
    const r = sh(`$ARBOR ingest ../big.csv --format userbehavior --db s.db > first.out 2>&1 & sleep 1.5; $ARBOR eval --db s.db --model '${p.model}' -k 5 --no-oracle --baselines ''; echo "second $?"; wait $!`, c);
    const code = Number(/second (\d+)/.exec(r.stdout)?.[1]);
    const run: Run = { code, signal: null, stdout: '', stderr: r.stderr, ms: 0 };
    return [describe(run), code === 0 ? '' : judgeError(run, 1, /is locked by another process/)];
  });

  // a full disk: a small tmpfs in a private mount namespace
  const inTmpfs = (size: string, script: string, cwd: string) => sh(`unshare -m bash -c 'mount -t tmpfs -o size=${size} tmpfs mnt && cd mnt && ${script.replace(/'/g, `'\\''`)}'`, cwd);
  const fullCases: [string, string, string, string, (r: Run) => [string, string]][] = [
    ['D01', 'ingest into a new store on a full disk', 'tmpfs of 256 kB; arbor ingest big.csv --db s.db', 'exit 1, "store s.db: the disk is full …: free space …", no store file left', (r) => [describe(r), judgeError(r, 1, /store s\.db: the disk is full .*free space on its file system/) || (/STORE-LEFT/.test(r.stdout) ? 'a store file was left' : '')]],
    ['D02', 'ingest into an existing store when the disk fills', 'a store copied to a tmpfs of 1 MB; arbor ingest big.csv', 'exit 1, disk full; the store keeps its rows', (r) => [describe(r) + ` (events before and after: ${/ROWS (\d+ \d+)/.exec(r.stdout)?.[1]})`, judgeError(r, 1, /disk is full/) || (/ROWS-SAME/.test(r.stdout) ? '' : 'the store changed')]],
    ['D03', 'split on a full disk', 'the store on a tmpfs filled up with a file; arbor split', 'exit 1, disk full; the store unchanged; after freeing space split succeeds', (r) => [describe(r), judgeError(r, 1, /disk is full|I\/O error|cannot be written/) || (/AGAIN 0/.test(r.stdout) ? '' : 'split failed after freeing space')]],
    ['D04', 'build-tree --out on a full disk', 'tmpfs filled up; arbor build-tree --out m', 'exit 1, "cannot write model folder m: the disk is full (ENOSPC)", no leftovers', (r) => [describe(r), judgeError(r, 1, /cannot write model folder m: the disk is full \(ENOSPC\)/) || (/LEFT\s*$/.test(r.stdout) ? '' : `leftovers: ${r.stdout}`)]],
    ['D05', 'train into a model on a full disk', 'the model on a tmpfs filled up; arbor train --model m', 'exit 1, disk full, the model unchanged, no leftovers', (r) => [describe(r), judgeError(r, 1, /the disk is full \(ENOSPC\)/) || (/SAME/.test(r.stdout) ? '' : 'the model changed')]],
    ['D06', 'synth --out on a full disk', 'tmpfs of 64 kB; arbor synth --out s.csv', 'exit 1, disk full, no partial file', (r) => [describe(r), judgeError(r, 1, /cannot write s\.csv: the disk is full/) || (/NOFILE/.test(r.stdout) ? '' : 'a partial file was left')]],
    ['D07', 'retrieve --json > a file on a full disk', 'tmpfs filled up; arbor retrieve --input q.jsonl --json > out.json', 'exit 1, one line naming standard output and the full disk', (r) => [describe(r), judgeError(r, 1, /standard output.*disk is full/)]],
  ];
  const bin = p.base;
  for (const [id, what, shown, expected, judge] of fullCases) {
    if (!mount) {
      p.skip(id, area, what, shown, expected, 'needs root and unshare for a private tmpfs');
      continue;
    }
    await p.run(id, area, what, shown, expected, () => {
      const c = join(d, id);
      sh(`mkdir -p ${c}/mnt`, d);
      const fill = 'dd if=/dev/zero of=fill bs=4k >/dev/null 2>&1; true';
      const scripts: Record<string, [string, string]> = {
        D01: ['256k', `$ARBOR ingest '${d}/big.csv' --format userbehavior --db s.db; e=$?; ls s.db* >/dev/null 2>&1 && echo STORE-LEFT; exit $e`],
        D02: ['1m', `cp '${bin}/store.db' s.db; n=$(${sqliteCount('s.db')}); $ARBOR ingest '${d}/big.csv' --format userbehavior --db s.db; e=$?; m=$(${sqliteCount('s.db')}); echo "ROWS $n $m"; [ "$n" = "$m" ] && echo ROWS-SAME; exit $e`],
        D03: ['8m', `cp '${bin}/store.db' s.db; ${fill}; $ARBOR split --db s.db --test-users 40 --seed 3; e=$?; rm fill; $ARBOR split --db s.db --test-users 40 --seed 3 >/dev/null 2>&1; echo "AGAIN $?"; exit $e`],
        D04: ['8m', `${fill}; $ARBOR build-tree --db '${bin}/store.db' --out m; e=$?; echo "LEFT $(ls -A | grep -v fill)"; exit $e`],
        D05: ['8m', `cp -r '${bin}/model' m; a=$(cat m/manifest.json | sha256sum); ${fill}; $ARBOR train --db '${bin}/store.db' --model m --epochs 1 --max-samples 300 --emb-dim 8 --workers 0; e=$?; b=$(cat m/manifest.json | sha256sum); [ "$a" = "$b" ] && [ -z "$(ls -A | grep -v -e fill -e '^m$')" ] && echo SAME; exit $e`],
        D06: ['64k', `$ARBOR synth --out s.csv --items 2000 --users 500; e=$?; ls -A | grep -q . || echo NOFILE; exit $e`],
        D07: ['8m', `printf '{"history": ["i1"]}\\n%.0s' $(seq 1 3000) > q.jsonl; ${fill}; $ARBOR retrieve --model '${bin}/model' --input q.jsonl -k 50 --json --workers 0 > out.json`],
      };
      const [size, script] = scripts[id];
      return judge(inTmpfs(size, script, c));
    });
  }

  // read-only: a read-only bind mount of a folder holding a store and a model
  const ro = join(d, 'ro-src');
  sh(`mkdir -p ${ro} && cp '${p.store}' ${ro}/s.db && cp -r '${p.model}' ${ro}/m && printf 'n1,i1,c1,pv,1\n' > ${ro}/new.csv`, d);
  const roCases: [string, string, string, string, 0 | 1, RegExp | undefined][] = [
    ['R01', 'ingest into a store on a read-only file system', '$ARBOR ingest new.csv --format userbehavior --db s.db', 'exit 1, "store s.db cannot be written (…): … read-only …"', 1, /store s\.db cannot be written .*read-only/],
    ['R02', 'split a store on a read-only file system', '$ARBOR split --db s.db --test-users 3', 'exit 1, read-only', 1, /cannot be written .*read-only/],
    ['R03', 'eval with the store and model on a read-only file system', '$ARBOR eval --db s.db --model m -k 5 --no-oracle', 'exit 0 (reading needs no write access)', 0, undefined],
    ['R04', 'retrieve --user with everything read-only', '$ARBOR retrieve --db s.db --model m --user u3 -k 3', 'exit 0', 0, undefined],
    ['R05', 'train a model on a read-only file system', '$ARBOR train --db s.db --model m --epochs 1 --max-samples 300 --workers 0', 'exit 1, "cannot write model folder m: the file system is read-only (EROFS)"', 1, /cannot write model folder m: the file system is read-only \(EROFS\)/],
    ['R06', 'build-tree --out onto a read-only file system', '$ARBOR build-tree --db s.db --out m2', 'exit 1, read-only (EROFS)', 1, /read-only \(EROFS\)/],
    ['R07', 'serve --db with the store read-only; a user request', `$ARBOR serve --db s.db --model m --port 0 --workers 0 --log-level warn > /tmp/arbor-probe-url-$$ & for i in $(seq 60); do grep -q url /tmp/arbor-probe-url-$$ && break; sleep 0.5; done; u=$(sed 's/.*"url":"\\([^"]*\\)".*/\\1/' /tmp/arbor-probe-url-$$); curl -s -H content-type:application/json -d '{"user":"u3","k":2}' $u/v1/retrieve; kill $!; rm -f /tmp/arbor-probe-url-$$`, 'a 200 answer with items', 0, undefined],
  ];
  for (const [id, what, script, expected, code, says] of roCases) {
    if (!mount) {
      p.skip(id, area, what, script, expected, 'needs root and unshare for a read-only bind mount');
      continue;
    }
    await p.run(id, area, what, script.replace(/\$ARBOR/g, 'arbor'), expected, () => {
      const c = join(d, id);
      sh(`mkdir -p ${c}/mnt`, d);
      const r = sh(`unshare -m bash -c 'mount --bind ${ro} mnt && mount -o remount,ro,bind mnt && cd mnt && ${script.replace(/'/g, `'\\''`)}'`, c);
      if (id === 'R07') return [clip200(r.stdout), /"items":\[\{"item"/.test(r.stdout) ? '' : 'no answer'];
      return [describe(r), code === 0 ? (r.code === 0 ? '' : `exit ${r.code}`) : judgeError(r, 1, says)];
    });
  }
}

function clip200(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}
