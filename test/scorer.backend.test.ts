/**
 * Backend selection: what stderr says, the errors for a backend that does
 * not load, and the training pass on every backend that loads here (the
 * native ones, @tensorflow/tfjs-node and @tensorflow/tfjs-node-gpu, are
 * optional dependencies: their checks are skipped, saying why, where they
 * are not installed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describeBackend, installLine } from '../src/scorer/backend.js';
import { arbor, ROOT } from './helpers/spawn.js';

interface Probe {
  ok: boolean;
  name?: string;
  description?: string;
  loss?: number;
  mlp?: number[];
  user?: number[];
  nodes?: number[];
  error?: string;
  message?: string;
}

/** Runs the training pass in a fresh process on backend `choice`. */
function probe(choice: string): Probe {
  const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'test', 'helpers', 'backend-probe.js'), choice], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, ARBOR_BACKEND: '' } });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Probe;
}

/** Whether a package can be resolved from arbor's folder (installed), and if not, why. */
function installed(pkg: string): boolean {
  try {
    createRequire(join(ROOT, 'package.json')).resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

function assertClose(a: number[], r: number[], name: string): void {
  assert.equal(a.length, r.length, name);
  const scale = Math.max(1, ...r.map(Math.abs));
  for (let i = 0; i < r.length; i++) assert.ok(Math.abs(a[i] - r[i]) <= 1e-4 * scale, `${name}[${i}]: ${a[i]} vs ${r[i]}`);
}

test('describeBackend says which backend runs and, when the native one is missing, the line that installs it', () => {
  const wasm = describeBackend({ choice: 'wasm', tfName: 'wasm', skipped: [{ choice: 'node-gpu', reason: 'not installed' }, { choice: 'node', reason: 'not installed' }] });
  assert.match(wasm, /^tfjs backend wasm \(@tensorflow\/tfjs-backend-wasm\)/);
  assert.ok(wasm.endsWith(`install it with: ${installLine('node')}`), wasm);
  assert.match(installLine('node'), /^npm install @tensorflow\/tfjs-node@\d+\.\d+\.\d+$/);
  const broken = describeBackend({ choice: 'cpu', tfName: 'cpu', skipped: [{ choice: 'node', reason: 'installed but failed to load: libtensorflow.so.2: cannot open shared object file' }] });
  assert.match(broken, /failed to load: libtensorflow.*reinstall it with: npm install @tensorflow\/tfjs-node@/);
  assert.equal(describeBackend({ choice: 'node', tfName: 'tensorflow', skipped: [{ choice: 'node-gpu', reason: 'not installed' }] }), 'tfjs backend tensorflow (@tensorflow/tfjs-node)');
  assert.equal(describeBackend({ choice: 'node-gpu', tfName: 'tensorflow', skipped: [] }), 'tfjs backend tensorflow (@tensorflow/tfjs-node-gpu, GPU)');
  // asked for by name: nothing was passed over, nothing to install
  assert.equal(describeBackend({ choice: 'wasm', tfName: 'wasm', skipped: [] }), 'tfjs backend wasm (@tensorflow/tfjs-backend-wasm)');
});

test('an unknown backend is a usage error listing the choices', () => {
  const p = probe('gpu');
  assert.equal(p.ok, false);
  assert.equal(p.error, 'UsageError');
  assert.match(p.message!, /backend must be one of auto, node-gpu, node, wasm, cpu; got "gpu"/);
});

test('auto, wasm and cpu: the training pass gives the same loss and gradients', () => {
  const wasm = probe('wasm');
  assert.ok(wasm.ok, wasm.message);
  assert.equal(wasm.name, 'wasm');
  const cpu = probe('cpu');
  assert.ok(cpu.ok, cpu.message);
  assert.equal(cpu.name, 'cpu');
  assert.ok(Math.abs(cpu.loss! - wasm.loss!) <= 1e-4 * Math.abs(wasm.loss!));
  assertClose(cpu.mlp!, wasm.mlp!, 'mlp');
  assertClose(cpu.user!, wasm.user!, 'user');
  assertClose(cpu.nodes!, wasm.nodes!, 'nodes');
  const auto = probe('auto');
  assert.ok(auto.ok, auto.message);
  // auto prefers a native backend that loads; without one it runs wasm and says how to install tfjs-node
  if (auto.name === 'tensorflow') assert.match(auto.description!, /tfjs-node/);
  else {
    assert.equal(auto.name, 'wasm');
    assert.ok(auto.description!.includes(installLine('node')), auto.description);
  }
});

for (const [choice, pkg] of [['node', '@tensorflow/tfjs-node'], ['node-gpu', '@tensorflow/tfjs-node-gpu']] as const) {
  const here = installed(pkg);
  test(`backend ${choice} (${pkg}): the training pass matches wasm`, { skip: here ? false : `${pkg} is not installed here (an optional dependency; ${installLine(choice)})` }, () => {
    const p = probe(choice);
    // installed but not loadable (e.g. no CUDA for the GPU build): the error says so and how to reinstall
    if (!p.ok) {
      assert.equal(p.error, 'UsageError');
      assert.match(p.message!, new RegExp(`backend ${choice} .* is not available: installed but`));
      return;
    }
    assert.equal(p.name, 'tensorflow');
    const wasm = probe('wasm');
    assert.ok(Math.abs(p.loss! - wasm.loss!) <= 1e-4 * Math.abs(wasm.loss!));
    assertClose(p.mlp!, wasm.mlp!, 'mlp');
    assertClose(p.user!, wasm.user!, 'user');
    assertClose(p.nodes!, wasm.nodes!, 'nodes');
  });
  test(`backend ${choice} when ${pkg} is missing: a usage error with the install line, from the library and the CLI`, { skip: here ? `${pkg} is installed here` : false }, () => {
    const p = probe(choice);
    assert.equal(p.ok, false);
    assert.equal(p.error, 'UsageError');
    assert.ok(p.message!.includes(`backend ${choice} (${pkg}) is not available: not installed; install it with: ${installLine(choice)}`), p.message);
    const r = arbor(['train', '--model', join(ROOT, 'no-such-model'), '--backend', choice]);
    assert.notEqual(r.code, 0);
    assert.ok(r.stderr.includes(installLine(choice)), r.stderr);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no JavaScript stack');
  });
}
