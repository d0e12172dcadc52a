/**
 * Reading input files: line streaming, whole-file reads and hashing, with
 * unreadable files reported as ArborErrors naming the path.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { ArborError } from '../core/errors.js';

/** Called for each non-blank line, with its 1-based line number. */
export type LineHandler = (line: string, lineNo: number) => void;

/**
 * Streams `file` line by line. Blank (whitespace-only) lines are skipped, a
 * trailing `\r` is stripped. `onBytes` is told the bytes read so far after
 * each chunk. An error thrown by `onLine` stops the read and is rethrown.
 */
export async function forEachLine(
  file: string,
  encoding: BufferEncoding,
  onLine: LineHandler,
  onBytes?: (bytes: number) => void,
): Promise<void> {
  let lineNo = 0;
  let carry: Buffer | undefined;
  let bytes = 0;
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      const buf = carry ? Buffer.concat([carry, chunk]) : chunk;
      let start = 0;
      for (let nl = buf.indexOf(10, start); nl !== -1; nl = buf.indexOf(10, start)) {
        deliver(buf.toString(encoding, start, nl), ++lineNo, onLine);
        start = nl + 1;
      }
      carry = start < buf.length ? buf.subarray(start) : undefined;
      onBytes?.(bytes);
    }
  } catch (err) {
    throw ioError(file, err);
  }
  if (carry) deliver(carry.toString(encoding), ++lineNo, onLine);
}

/** Calls `onLine` for each line of `text`, with the same rules as {@link forEachLine}. */
export function forEachTextLine(text: string, onLine: LineHandler): void {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) deliver(lines[i], i + 1, onLine);
}

function deliver(line: string, lineNo: number, onLine: LineHandler): void {
  const text = line.endsWith('\r') ? line.slice(0, -1) : line;
  if (text.trim() !== '') onLine(text, lineNo);
}

/** The whole content of `file`. */
export async function readWholeFile(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw ioError(file, err);
  }
}

/** Hex SHA-256 of the bytes of `data`. */
export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Hex SHA-256 of the content of `file`, streamed. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  } catch (err) {
    throw ioError(file, err);
  }
  return hash.digest('hex');
}

/** Wraps a system (I/O) error as an ArborError; anything else, e.g. thrown by a line handler, passes through. */
function ioError(file: string, err: unknown): unknown {
  const syscall = (err as NodeJS.ErrnoException | undefined)?.syscall;
  return typeof syscall === 'string' ? new ArborError(`cannot read ${file}: ${(err as Error).message}`) : err;
}
