/**
 * tfjs backend selection. The native backends, `@tensorflow/tfjs-node-gpu`
 * (TensorFlow with CUDA) and `@tensorflow/tfjs-node` (TensorFlow on the
 * CPU), are optional dependencies: their install downloads libtensorflow, so
 * they are absent on a machine without internet, and the GPU one needs CUDA.
 * `auto` takes the first that loads of node-gpu, node, wasm
 * (`@tensorflow/tfjs-backend-wasm`) and the plain cpu backend; a named
 * backend that does not load is a usage error that says how to install it.
 * `describeBackend()` is the line the CLI prints on stderr: which backend
 * runs and, when the native one is missing, the one command that installs
 * it. Nothing happens on import: call `initBackend()`.
 */
import * as tf from '@tensorflow/tfjs';
import { UsageError } from '../core/errors.js';

import { BACKEND_CHOICES, type BackendChoice } from './backend-choice.js';

export { BACKEND_CHOICES, type BackendChoice } from './backend-choice.js';

/** The package behind each named backend. */
export const BACKEND_PACKAGES: Record<Exclude<BackendChoice, 'auto'>, string> = {
  'node-gpu': '@tensorflow/tfjs-node-gpu',
  node: '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs (its plain JavaScript cpu backend)',
};

/** The command that installs a native backend, run in arbor's folder. */
export function installLine(choice: 'node' | 'node-gpu'): string {
  return `npm install ${BACKEND_PACKAGES[choice]}@${tf.version.tfjs}`;
}

/** What `initBackend` chose, and why the backends before it were passed over. */
export interface BackendInfo {
  /** The backend running: one of the named choices. */
  choice: Exclude<BackendChoice, 'auto'>;
  /** tfjs's name for it ("tensorflow", "wasm" or "cpu"). */
  tfName: string;
  /** Backends tried before it that did not load, with the reason (e.g. "not installed"). */
  skipped: { choice: Exclude<BackendChoice, 'auto'>; reason: string }[];
}

let active: BackendInfo | undefined;

/** Why importing a package failed, in a few words. */
function loadFailure(pkg: string, e: unknown): string {
  const err = e as { code?: string; message?: string };
  const msg = String(err?.message ?? e);
  if ((err?.code === 'ERR_MODULE_NOT_FOUND' || err?.code === 'MODULE_NOT_FOUND') && msg.includes(pkg)) return 'not installed';
  return `installed but failed to load: ${msg.split('\n')[0]}`;
}

/** Tries one backend; returns undefined when it runs, else why not. */
async function tryBackend(choice: Exclude<BackendChoice, 'auto'>): Promise<string | undefined> {
  if (choice === 'cpu') return (await tf.setBackend('cpu')) ? undefined : 'the cpu backend did not start';
  const pkg = BACKEND_PACKAGES[choice];
  try {
    await import(pkg);
  } catch (e) {
    return loadFailure(pkg, e);
  }
  const name = choice === 'wasm' ? 'wasm' : 'tensorflow';
  try {
    if (await tf.setBackend(name)) return undefined;
  } catch (e) {
    return `loaded but its backend did not start: ${(e as Error).message}`;
  }
  return 'loaded but its backend did not start';
}

/**
 * Picks and initialises the fastest available backend (or the one asked for)
 * and returns tfjs's name for it: "tensorflow" (tfjs-node or tfjs-node-gpu),
 * "wasm" or "cpu". Idempotent: later calls return the backend already
 * chosen. Throws a UsageError naming the install command when a named
 * backend does not load.
 */
export async function initBackend(choice: BackendChoice = (process.env.ARBOR_BACKEND as BackendChoice) || 'auto'): Promise<string> {
  if (!BACKEND_CHOICES.includes(choice)) {
    throw new UsageError(`backend must be one of ${BACKEND_CHOICES.join(', ')}; got ${JSON.stringify(choice)}`);
  }
  if (active) return active.tfName;
  tf.enableProdMode();
  const order: Exclude<BackendChoice, 'auto'>[] = choice === 'auto' ? ['node-gpu', 'node', 'wasm', 'cpu'] : [choice];
  const skipped: BackendInfo['skipped'] = [];
  for (const c of order) {
    const reason = await tryBackend(c);
    if (reason === undefined) {
      await tf.ready();
      active = { choice: c, tfName: tf.getBackend(), skipped };
      return active.tfName;
    }
    skipped.push({ choice: c, reason });
  }
  const failed = skipped[skipped.length - 1];
  const install = failed.choice === 'node' || failed.choice === 'node-gpu' ? `; install it with: ${installLine(failed.choice)}${failed.choice === 'node-gpu' ? ' (it needs CUDA and cuDNN)' : ''}` : '';
  throw new UsageError(`backend ${failed.choice} (${BACKEND_PACKAGES[failed.choice]}) is not available: ${failed.reason}${install}`);
}

/** The backend in use (tfjs's name), or undefined before `initBackend()`. */
export function activeBackend(): string | undefined {
  return active?.tfName;
}

/** What `initBackend` chose, or undefined before it ran. */
export function backendInfo(): BackendInfo | undefined {
  return active;
}

/**
 * One line for stderr: the backend that runs, and when it is not a native
 * one, why the native one is not used and the command that installs it.
 * E.g. "tfjs backend wasm (@tensorflow/tfjs-backend-wasm); the native
 * backend @tensorflow/tfjs-node is not installed: npm install
 * @tensorflow/tfjs-node@4.22.0".
 */
export function describeBackend(info: BackendInfo | undefined = active): string {
  if (!info) return 'tfjs backend not started';
  const head = `tfjs backend ${info.tfName} (${BACKEND_PACKAGES[info.choice]}${info.choice === 'node-gpu' ? ', GPU' : ''})`;
  if (info.choice === 'node' || info.choice === 'node-gpu') return head;
  const node = info.skipped.find((s) => s.choice === 'node');
  if (!node) return head;
  if (node.reason === 'not installed') return `${head}; the native backend ${BACKEND_PACKAGES.node} is not installed, install it with: ${installLine('node')}`;
  return `${head}; the native backend ${BACKEND_PACKAGES.node} is ${node.reason}; reinstall it with: ${installLine('node')}`;
}
