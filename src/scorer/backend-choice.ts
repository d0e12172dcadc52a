/** The tfjs backends a user can name, without loading tfjs (the CLI's option table lists them). */

/** Every accepted `--backend` value (`ARBOR_BACKEND`), `auto` first. */
export const BACKEND_CHOICES = ['auto', 'node-gpu', 'node', 'wasm', 'cpu'] as const;

/** Backends a user can ask for. */
export type BackendChoice = (typeof BACKEND_CHOICES)[number];
