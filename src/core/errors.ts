/**
 * Typed errors. The library throws these; only `cli/` turns them into
 * messages and exit codes (see docs/CLI.md: 0 ok, 1 runtime error, 2 usage error).
 */

/** Base class of every error arbor throws on purpose. */
export class ArborError extends Error {
  /** Process exit code the CLI uses for this error. */
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** A bad argument or option value: exit code 2. */
export class UsageError extends ArborError {
  constructor(message: string) {
    super(message, 2);
  }
}

/** A query names something the model or its store does not hold (an unknown user): exit code 1. */
export class NotFoundError extends ArborError {
  constructor(message: string) {
    super(message);
  }
}

/** A malformed input file: names the file, the line and the offending value. */
export class InputError extends ArborError {
  readonly file: string;
  readonly line: number;
  readonly value: string;
  constructor(file: string, line: number, what: string, value: string) {
    super(`${file}:${line}: ${what}: ${JSON.stringify(value.length > 200 ? value.slice(0, 200) + '…' : value)}`);
    this.file = file;
    this.line = line;
    this.value = value;
  }
}

/** A model folder or artefact file that is missing, corrupt or of the wrong version. */
export class ModelFormatError extends ArborError {
  readonly file: string;
  constructor(file: string, what: string) {
    super(`${file}: ${what}`);
    this.file = file;
  }
}

/** Throws a UsageError unless `value` is a positive integer. */
export function assertPositiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value <= 0) {
    throw new UsageError(`${name} must be a positive integer, got ${JSON.stringify(value)}`);
  }
}

/** Throws a UsageError unless `value` is a non-negative integer. */
export function assertNonNegativeInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0) {
    throw new UsageError(`${name} must be a non-negative integer, got ${JSON.stringify(value)}`);
  }
}

/** Why a store operation failed (see {@link StoreError}). */
export type StoreFault = 'locked' | 'full' | 'read-only' | 'corrupt' | 'io' | 'cannot-open' | 'not-a-store';

/** The SQLite store could not be read or written: locked, disk full, read-only, corrupt, or an I/O error. */
export class StoreError extends ArborError {
  readonly file: string;
  readonly fault: StoreFault;
  constructor(file: string, fault: StoreFault, message: string) {
    super(message);
    this.file = file;
    this.fault = fault;
  }
}

/** A file or folder could not be read or written (disk full, read-only, missing, permissions); names the path. */
export class FileError extends ArborError {
  readonly file: string;
  /** The system error code (ENOSPC, EROFS, ...), when there is one. */
  readonly code: string | undefined;
  constructor(file: string, code: string | undefined, message: string) {
    super(message);
    this.file = file;
    this.code = code;
  }
}

/** Why a training checkpoint cannot be used (see {@link CheckpointError}). */
export type CheckpointFault = 'missing' | 'mismatch' | 'corrupt' | 'exists';

/**
 * A training checkpoint that is missing (train --resume without one), from
 * another run (store data, tree, options, seed, workers or backend differ),
 * corrupt, or in the way of a fresh run. Names the folder; exit code 2
 * except for a corrupt checkpoint (1).
 */
export class CheckpointError extends ArborError {
  readonly folder: string;
  readonly fault: CheckpointFault;
  constructor(folder: string, fault: CheckpointFault, message: string) {
    super(message, fault === 'corrupt' ? 1 : 2);
    this.folder = folder;
    this.fault = fault;
  }
}
