/**
 * Probe cases for the model folder: missing, damaged and edited files
 * (with and without fixing their checksums, so only content checks can
 * catch them), leftovers of interrupted writes, output paths that are not
 * model folders, and read-only folders.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Packr } from 'msgpackr';
import { arbor, copy, describe, folderFingerprint, judgeError, judgeOk, leftovers } from './harness.js';
import type { Probe } from './probe.js';

const packr = new Packr({ moreTypes: true, useRecords: false });

/** Rewrites a file of a model folder and puts its new sha256 in the manifest. */
function tamper(dir: string, name: string, data: Buffer | string): void {
  writeFileSync(join(dir, name), data);
  const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  m.files[name] = createHash('sha256').update(data).digest('hex');
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));
}

function editJson(dir: string, name: string, edit: (doc: any) => void): void {
  const doc = JSON.parse(readFileSync(join(dir, name), 'utf8'));
  edit(doc);
  if (name === 'manifest.json') writeFileSync(join(dir, name), JSON.stringify(doc));
  else tamper(dir, name, JSON.stringify(doc));
}

function editTree(dir: string, edit: (doc: any) => void): void {
  const doc = packr.unpack(readFileSync(join(dir, 'tree.msgpack'))) as any;
  edit(doc);
  tamper(dir, 'tree.msgpack', packr.pack(doc));
}

function editWeights(dir: string, edit: (f: Float32Array) => void): void {
  const b = readFileSync(join(dir, 'scorer/weights.bin'));
  const f = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  edit(f);
  tamper(dir, 'scorer/weights.bin', Buffer.from(f.buffer));
}

/** A process id that no process has (a child that has exited). */
function deadPid(): number {
  return spawnSync('true').pid!;
}

/** Runs the model-folder cases. */
export async function modelCases(p: Probe): Promise<void> {
  const area = 'model';
  const retrieve = (dir: string) => ['retrieve', '--model', dir, '--history', 'i1,i2', '-k', '3'];
  const bad = async (id: string, what: string, setup: (dir: string) => void, file: RegExp, says: RegExp) => {
    const d = p.dir(id);
    const m = join(d, 'm');
    copy(p.model, m);
    setup(m);
    await p.cli(id, area, what, retrieve('m'), { code: 1, pattern: new RegExp(`${file.source}.*${says.source}`), text: `exit 1 naming ${file.source.replace(/\\/g, '')}: ${says.source.replace(/\\/g, '')}` }, { cwd: d });
  };

  let d = p.dir('M01');
  await p.cli('M01', area, 'a model folder that does not exist', retrieve('nope'), { code: 1, pattern: /nope\/manifest\.json: model folder does not exist/, text: 'exit 1, "model folder does not exist"' }, { cwd: d });
  mkdirSync(join(d, 'empty'));
  await p.cli('M02', area, 'an empty folder as the model', retrieve('empty'), { code: 1, pattern: /missing: not an arbor model folder/, text: 'exit 1, "not an arbor model folder"' }, { cwd: d });
  writeFileSync(join(d, 'file'), 'x');
  await p.cli('M03', area, 'a file as the model', retrieve('file'), { code: 1, pattern: /file\/manifest\.json/, text: 'exit 1 naming the path' }, { cwd: d });

  await bad('M04', 'manifest.json is not JSON', (m) => writeFileSync(join(m, 'manifest.json'), '{"format": '), /manifest\.json/, /not valid JSON/);
  await bad('M05', 'manifest.json is JSON null', (m) => writeFileSync(join(m, 'manifest.json'), 'null'), /manifest\.json/, /expected a JSON object/);
  await bad('M06', 'manifest.json of another format', (m) => editJson(m, 'manifest.json', (x) => (x.format = 'onnx')), /manifest\.json/, /not an arbor model/);
  await bad('M07', 'manifest.json version 2', (m) => editJson(m, 'manifest.json', (x) => (x.version = 2)), /manifest\.json/, /version 2 is not supported/);
  await bad('M08', 'manifest.json lists no checksum for the tree', (m) => editJson(m, 'manifest.json', (x) => delete x.files['tree.msgpack']), /manifest\.json/, /lists no checksum for tree\.msgpack/);
  await bad('M09', 'manifest.json files is a string', (m) => editJson(m, 'manifest.json', (x) => (x.files = 'all')), /manifest\.json/, /files must map each file/);
  await bad('M10', 'manifest tree.numItems edited', (m) => editJson(m, 'manifest.json', (x) => (x.tree.numItems += 1)), /manifest\.json/, /tree\.numItems is \d+ but tree\.msgpack holds/);
  await bad('M11', 'manifest tree.init edited', (m) => editJson(m, 'manifest.json', (x) => (x.tree.init = 'kmeans')), /manifest\.json/, /tree\.init is "kmeans"/);
  await bad('M12', 'tree.msgpack missing', (m) => renameSync(join(m, 'tree.msgpack'), join(m, 'gone')), /tree\.msgpack/, /missing/);
  await bad('M13', 'tree.msgpack with one byte flipped', (m) => {
    const b = readFileSync(join(m, 'tree.msgpack'));
    b[b.length >> 1] ^= 0xff;
    writeFileSync(join(m, 'tree.msgpack'), b);
  }, /tree\.msgpack/, /checksum mismatch/);
  await bad('M14', 'tree.msgpack truncated', (m) => writeFileSync(join(m, 'tree.msgpack'), readFileSync(join(m, 'tree.msgpack')).subarray(0, 100)), /tree\.msgpack/, /checksum mismatch/);
  await bad('M15', 'tree.msgpack garbage, checksum fixed', (m) => tamper(m, 'tree.msgpack', Buffer.from([0xc1, 0xc1, 0xc1, 0x00])), /tree\.msgpack/, /not (a readable|an arbor) tree file/);
  await bad('M16', 'tree header branching 1, checksum fixed', (m) => editTree(m, (t) => (t.header.branching = 1)), /tree\.msgpack/, /inconsistent tree: branching must be an integer >= 2/);
  await bad('M17', 'tree header depth 30 (a huge layout), checksum fixed', (m) => editTree(m, (t) => (t.header.depth = 30)), /tree\.msgpack/, /inconsistent tree: depth 30, but \d+ items/);
  await bad('M18', 'tree header numItems unlike the arrays, checksum fixed', (m) => editTree(m, (t) => (t.header.numItems += 3)), /tree\.msgpack/, /itemLeaf must be \d+ int32 values/);
  await bad('M19', 'two items in one leaf, checksum fixed', (m) => editTree(m, (t) => (t.itemLeaf[1] = t.itemLeaf[0])), /tree\.msgpack/, /share leaf slot/);
  await bad('M20', 'a leaf slot out of range, checksum fixed', (m) => editTree(m, (t) => (t.itemLeaf[0] = 1 << 30)), /tree\.msgpack/, /outside/);
  await bad('M21', 'the same item id twice, checksum fixed', (m) => editTree(m, (t) => (t.itemIds[1] = t.itemIds[0])), /tree\.msgpack/, /itemIds\[1\] repeats the id/);
  await bad('M22', 'an item id that is a number, checksum fixed', (m) => editTree(m, (t) => (t.itemIds[0] = 5)), /tree\.msgpack/, /itemIds\[0\] must be a string/);
  await bad('M23', 'a category index out of range, checksum fixed', (m) => editTree(m, (t) => (t.itemCategory[0] = 9999)), /tree\.msgpack/, /item category 9999 outside/);
  await bad('M24', 'tree init "bogus", checksum fixed', (m) => editTree(m, (t) => (t.header.init = 'bogus')), /tree\.msgpack/, /init must be one of/);
  await bad('M25', 'scorer/model.json missing', (m) => renameSync(join(m, 'scorer/model.json'), join(m, 'gone')), /scorer\/model\.json/, /missing/);
  await bad('M26', 'weights.bin cut short, checksum fixed', (m) => tamper(m, 'scorer/weights.bin', readFileSync(join(m, 'scorer/weights.bin')).subarray(8)), /weights\.bin/, /holds \d+ bytes, the manifest needs \d+/);
  await bad('M27', 'a weight declared int32, checksum fixed', (m) => editJson(m, 'scorer/model.json', (x) => (x.weightsManifest[0].weights[0].dtype = 'int32')), /model\.json/, /dtype "int32"/);
  await bad('M28', 'a weight declared quantised, checksum fixed', (m) => editJson(m, 'scorer/model.json', (x) => (x.weightsManifest[0].weights[0].quantization = { dtype: 'uint8', scale: 1, min: 0 })), /model\.json/, /quantised/);
  await bad('M29', 'weights read from another file, checksum fixed', (m) => editJson(m, 'scorer/model.json', (x) => (x.weightsManifest[0].paths = ['../../etc/passwd'])), /model\.json/, /must read exactly \["weights\.bin"\]/);
  await bad('M30', 'a weight with a negative shape, checksum fixed', (m) => editJson(m, 'scorer/model.json', (x) => (x.weightsManifest[0].weights[0].shape = [-1, 8])), /model\.json/, /shape \[-1,8\]/);
  await bad('M31', 'all weights NaN, checksum fixed', (m) => editWeights(m, (f) => f.fill(NaN)), /weights\.bin/, /holds NaN/);
  await bad('M32', 'one weight Infinity, checksum fixed', (m) => editWeights(m, (f) => (f[f.length - 1] = Infinity)), /weights\.bin/, /holds Infinity/);
  await bad('M33', 'scorer windows [0, -1], checksum fixed', (m) => editJson(m, 'scorer/model.json', (x) => (x.modelTopology.config.windows = [0, -1])), /model\.json/, /modelTopology\.config: windows must be/);
  await bad('M34', 'scorer hidden [], checksum fixed', (m) => editJson(m, 'scorer/model.json', (x) => (x.modelTopology.config.hidden = [])), /model\.json/, /modelTopology\.config: hidden must be/);
  await bad('M35', 'scorer kind "transformer", checksum fixed', (m) => editJson(m, 'scorer/model.json', (x) => (x.modelTopology.config.kind = 'transformer')), /model\.json/, /scorer kind must be/);
  await bad('M36', 'scorer numItems unlike the tree, checksum fixed', (m) => editJson(m, 'scorer/model.json', (x) => (x.modelTopology.numItems += 1)), /weights\.bin|model\.json/, /embedding must hold|scorer is for/);
  await p.run('M37', area, 'weights of 1e30 (finite, but the logits overflow)', 'retrieve on a model whose weights are all 1e30', 'no "score": null; exit 1 naming the weights, or finite scores', () => {
    const dd = p.dir('M37');
    copy(p.model, join(dd, 'm'));
    editWeights(join(dd, 'm'), (f) => f.fill(1e30));
    const r = arbor([...retrieve('m'), '--json'], { cwd: dd });
    const nullScore = /"score":null/.test(r.stdout);
    return [describe(r), nullScore ? 'a null score' : r.code === 0 ? '' : judgeError(r, 1, /weights\.bin/)];
  });

  // leftovers of interrupted writes
  const dead = deadPid();
  d = p.dir('M38');
  copy(p.model, join(d, '.m.old-' + dead + '-1'));
  mkdirSync(join(d, '.m.tmp-' + dead + '-1'));
  await p.cli('M38', area, 'killed between the swap\'s renames: no folder, .m.old-… and .m.tmp-… beside it', retrieve('m'), { code: 0, text: 'exit 0: the old folder is moved back, the unfinished new one removed', after: () => (leftovers(d).length === 0 ? '' : `left: ${leftovers(d)}`) }, { cwd: d });
  d = p.dir('M39');
  copy(p.model, join(d, 'm'));
  copy(p.model, join(d, '.m.old-' + dead + '-2'));
  mkdirSync(join(d, '.m.tmp-' + dead + '-3'));
  await p.cli('M39', area, 'a folder with a dead writer\'s leftovers beside it', retrieve('m'), { code: 0, text: 'exit 0, leftovers removed', after: () => (leftovers(d).length === 0 ? '' : `left: ${leftovers(d)}`) }, { cwd: d });
  d = p.dir('M40');
  copy(p.model, join(d, '.m.old-' + dead + '-1'));
  chmodSync(d, 0o555);
  await p.cli('M40', area, 'no folder, the old one beside it, the parent read-only', retrieve('m'), { code: 1, pattern: /the previous model is in .*\.m\.old-\d+-1 but could not be moved back .*: rename it to/, text: 'exit 1 saying where the previous model is and to rename it' }, { cwd: d, unprivileged: true });
  chmodSync(d, 0o755);

  // where a model is written
  d = p.dir('M41');
  writeFileSync(join(d, 'data.csv'), 'precious');
  mkdirSync(join(d, 'project'));
  writeFileSync(join(d, 'project', 'notes.txt'), 'precious');
  await p.cli('M41', area, 'build-tree --out an existing file', ['build-tree', '--db', p.store, '--out', 'data.csv'], { code: 1, pattern: /it exists and is a file, not a model folder/, text: 'exit 1, the file untouched', after: () => (readFileSync(join(d, 'data.csv'), 'utf8') === 'precious' ? '' : 'the file was replaced') }, { cwd: d });
  await p.cli('M42', area, 'build-tree --out a folder that is not a model', ['build-tree', '--db', p.store, '--out', 'project'], { code: 1, pattern: /is not an arbor model folder/, text: 'exit 1, the folder untouched', after: () => (readFileSync(join(d, 'project', 'notes.txt'), 'utf8') === 'precious' ? '' : 'the folder was replaced') }, { cwd: d });
  await p.cli('M43', area, 'build-tree --out ~ (the home folder)', ['build-tree', '--db', p.store, '--out', d], { code: 1, pattern: /is not an arbor model folder/, text: 'exit 1, nothing replaced' }, { cwd: d });
  mkdirSync(join(d, 'empty'));
  await p.cli('M44', area, 'build-tree --out an empty folder', ['build-tree', '--db', p.store, '--out', 'empty'], { code: 0, text: 'exit 0, the model written into it' }, { cwd: d });
  copy(p.model, join(d, 'real'));
  symlinkSync('real', join(d, 'link'));
  const realBefore = folderFingerprint(join(d, 'real'));
  await p.cli('M45', area, 'build-tree --out a symbolic link to a model folder', ['build-tree', '--db', p.store, '--out', 'link'], { code: 0, text: 'exit 0; the folder the link pointed to is not deleted', after: () => (folderFingerprint(join(d, 'real')) === 'absent' ? 'the linked folder was deleted' : '') }, { cwd: d });
  void realBefore;
  await p.cli('M46', area, 'build-tree --out a path with spaces and non-ASCII letters', ['build-tree', '--db', p.store, '--out', 'mödel dir/ä b'], { code: 0, text: 'exit 0' }, { cwd: d });
  await p.cli('M47', area, 'build-tree --init kmeans --from a model without a scorer', ['build-tree', '--db', p.store, '--out', 'km', '--init', 'kmeans', '--from', 'empty'], { code: 1, pattern: /no trained scorer/, text: 'exit 1, "no trained scorer: run arbor train first"' }, { cwd: d });
  await p.cli('M48', area, 'retrieve with a model that has no scorer yet', retrieve('empty'), { code: 1, pattern: /no trained scorer in this model folder: run `arbor train` first/, text: 'exit 1, "run arbor train first"' }, { cwd: d });

  // read-only model folders
  d = p.dir('M49');
  copy(p.model, join(d, 'm'));
  chmodSync(d, 0o755);
  for (const f of ['m', 'm/scorer']) chmodSync(join(d, f), 0o555);
  const before = folderFingerprint(join(d, 'm'));
  await p.cli('M49', area, 'retrieve from a read-only model folder', retrieve('m'), { code: 0, text: 'exit 0 (reading needs no write access)' }, { cwd: d, unprivileged: true });
  await p.cli('M50', area, 'train into a read-only model folder (and parent)', ['train', '--db', p.store, '--model', 'm', '--epochs', '1', '--max-samples', '200', '--workers', '0'], { code: 1, pattern: /cannot (write|create).* m.*(permission denied|read-only|not permitted)/, text: 'exit 1, "cannot write model folder m: permission denied …", the model unchanged', after: () => (folderFingerprint(join(d, 'm')) === before ? '' : 'the model changed') }, { cwd: d, unprivileged: true });
  for (const f of ['m', 'm/scorer']) chmodSync(join(d, f), 0o755);
  void judgeOk;
}
