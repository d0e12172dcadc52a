/**
 * Run as a script by test/scorer.backend.test.ts, one process per backend:
 * `node dist/test/helpers/backend-probe.js CHOICE` starts the tfjs backend
 * CHOICE and runs the pooling scorer's training pass on a fixed batch,
 * printing one JSON line: the backend's description, the loss and every
 * gradient (so the test compares backends), or the error a user would see.
 */
import { initBackend, describeBackend, type BackendChoice } from '../../src/scorer/backend.js';
import { PoolingBackprop } from '../../src/scorer/backprop.js';
import { ScorerNetwork } from '../../src/scorer/network.js';
import { Rng } from '../../src/core/rng.js';

const choice = process.argv[2] as BackendChoice;
try {
  const name = await initBackend(choice);
  const net = ScorerNetwork.init({ kind: 'pooling', embDim: 6, hidden: [10, 7], windows: [1, 2] }, 20, 30, new Rng(9));
  const groups = [{ users: 3, m: 2 }, { users: 3, m: 4 }];
  const slots = 6;
  const pairs = 18;
  const rng = new Rng(5);
  const user = Float32Array.from({ length: slots * net.userDim }, () => rng.normal());
  const nodes = Float32Array.from({ length: pairs * 6 }, () => rng.normal());
  const labels = Float32Array.from({ length: pairs }, (_, i) => (i % 3 === 0 ? 1 : 0));
  const mlpSize = net.variables().reduce((s, [, v]) => s + v.size, 0);
  const out = { mlp: new Float32Array(mlpSize), user: new Float32Array(slots * net.userDim), nodes: new Float32Array(pairs * 6) };
  const loss = new PoolingBackprop(net, 8).run({ groups, user, nodes, labels }, out);
  process.stdout.write(JSON.stringify({ ok: true, name, description: describeBackend(), loss, mlp: [...out.mlp], user: [...out.user], nodes: [...out.nodes] }) + '\n');
} catch (e) {
  process.stdout.write(JSON.stringify({ ok: false, error: (e as Error).name, message: (e as Error).message }) + '\n');
}
