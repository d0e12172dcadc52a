/**
 * tfjs backend selection: `@tensorflow/tfjs-node` when it loads (an optional
 * dependency; its install needs internet), else the wasm backend, else the
 * plain cpu backend. Nothing happens on import: call `initBackend()`.
 */
import * as tf from '@tensorflow/tfjs';
import { UsageError } from '../core/errors.js';

/** Backends a user can ask for (`ARBOR_BACKEND` or `--backend`). */
export type BackendChoice = 'auto' | 'node' | 'wasm' | 'cpu';

let active: string | undefined;

/**
 * Picks and initialises the fastest available backend (or the one asked for)
 * and returns its name: "tensorflow" (tfjs-node), "wasm" or "cpu".
 * Idempotent: later calls return the backend already chosen.
 */
export async function initBackend(choice: BackendChoice = (process.env.ARBOR_BACKEND as BackendChoice) || 'auto'): Promise<string> {
  if (active) return active;
  if (!['auto', 'node', 'wasm', 'cpu'].includes(choice)) {
    throw new UsageError(`backend must be one of auto, node, wasm, cpu; got ${JSON.stringify(choice)}`);
  }
  tf.enableProdMode();
  const tryNode = async () => {
    try {
      await import('@tensorflow/tfjs-node' as string);
      return await tf.setBackend('tensorflow');
    } catch {
      return false;
    }
  };
  const tryWasm = async () => {
    try {
      await import('@tensorflow/tfjs-backend-wasm');
      return await tf.setBackend('wasm');
    } catch {
      return false;
    }
  };
  let ok = false;
  if (choice === 'node' || choice === 'auto') ok = await tryNode();
  if (!ok && (choice === 'wasm' || choice === 'auto')) ok = await tryWasm();
  if (!ok && choice !== 'auto' && choice !== 'cpu') {
    throw new UsageError(`backend ${choice} is not available on this machine`);
  }
  if (!ok) ok = await tf.setBackend('cpu');
  await tf.ready();
  active = tf.getBackend();
  return active;
}

/** The backend in use, or undefined before `initBackend()`. */
export function activeBackend(): string | undefined {
  return active;
}
