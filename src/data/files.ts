/**
 * Reading input files: line streaming (from files, pipes or standard input),
 * whole-file reads, strict UTF-8 decoding and hashing, with unreadable files
 * reported as FileErrors naming the path.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { isUtf8 } from 'node:buffer';
import { InputError } from '../core/errors.js';
import { fileError, isSystemError } from '../core/fs-errors.js';

/** Called for each non-blank line, with its 1-based line number. */
export type LineHandler = (line: string, lineNo: number) => void;

/** The name that stands for standard input. */
export const STDIN = '-';

/** Longest line a data file may have (a longer one is an InputError, so memory stays bounded). */
export const MAX_LINE_BYTES = 64 << 20;

/** A data source: a regular file (can be read twice) or a stream such as a pipe or standard input (read once). */
export interface InputSource {
  /** The path as given (`-` for standard input). */
  name: string;
  /** True for a regular file: it can be hashed before it is read. */
  regular: boolean;
  /** Size in bytes of a regular file (0 for streams). */
  size: number;
  /** Read from this process's standard input (`-`, or /dev/stdin when it is not a file). */
  stdin?: boolean;
  /** Read these chunks instead of opening `name` (which then only names them in errors). */
  chunks?: AsyncIterable<Buffer>;
}

/** Paths that name this process's standard input. */
const STDIN_PATHS = new Set(['/dev/stdin', '/dev/fd/0', '/proc/self/fd/0']);

/** Looks at `file` (`-`: standard input) without reading it. */
export async function inputSource(file: string): Promise<InputSource> {
  if (file === STDIN) return { name: file, regular: false, size: 0, stdin: true };
  try {
    const s = await stat(file);
    if (s.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    // standard input that is not a file (a pipe, or a socket, which cannot be opened by path) is read from the descriptor itself
    return { name: file, regular: s.isFile(), size: s.isFile() ? s.size : 0, stdin: !s.isFile() && STDIN_PATHS.has(file) };
  } catch (err) {
    throw fileError('read', file, err);
  }
}

function open(source: InputSource): AsyncIterable<Buffer> {
  if (source.chunks) return source.chunks;
  return source.stdin ? (process.stdin as AsyncIterable<Buffer>) : (createReadStream(source.name, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>);
}

/** Options of {@link forEachLine}. */
export interface LineOptions {
  /** Told the bytes read so far after each chunk. */
  onBytes?: (bytes: number) => void;
  /** Fed every byte read (to hash a stream while it is read). */
  hash?: Hash;
}

/**
 * Receives whole lines as bytes: `buf[start, end)` holds one or more lines,
 * each ended by `\n` except possibly the input's last one, the first being
 * line `firstLineNo` (1-based, blank lines counted). Returns how many lines
 * it held.
 */
export type LineRunHandler = (buf: Buffer, start: number, end: number, firstLineNo: number) => number;

/** Receives one line as bytes (without its `\n`), with its 1-based number. */
export type ByteLineHandler = (line: Buffer, lineNo: number) => void;

/**
 * Streams `source` as runs of whole lines, in bounded memory: each chunk
 * read (1 MiB from a file) is handed over in place, as at most three runs
 * (the line it completes, its whole lines, and at the end of the input
 * the last line when it has no `\n`). A UTF-8 byte order mark at the start
 * is skipped when `encoding` is utf8. A line longer than MAX_LINE_BYTES is
 * an InputError; an error thrown by `onRun` stops the read and is
 * rethrown; a read failure is a FileError naming the file.
 */
export async function forEachLineRun(source: InputSource | string, encoding: BufferEncoding, onRun: LineRunHandler, opts: LineOptions = {}): Promise<void> {
  const src = typeof source === 'string' ? { name: source, regular: true, size: 0 } : source;
  const file = src.name;
  let lineNo = 0;
  let parts: Buffer[] = [];
  let carried = 0;
  let bytes = 0;
  const run = (buf: Buffer, start: number, end: number) => {
    // a byte order mark is skipped once the first line is whole (it may come in pieces from a pipe)
    if (lineNo === 0 && encoding === 'utf8' && end - start >= 3 && buf[start] === 0xef && buf[start + 1] === 0xbb && buf[start + 2] === 0xbf) start += 3;
    lineNo += onRun(buf, start, end, lineNo + 1);
  };
  const carry = (piece: Buffer) => {
    parts.push(piece);
    carried += piece.length;
    if (carried > MAX_LINE_BYTES) {
      const head = Buffer.concat(parts).subarray(0, 200).toString(encoding);
      throw new InputError(file, lineNo + 1, `line longer than ${MAX_LINE_BYTES >> 20} MiB (is this a text file of the given format?)`, head);
    }
  };
  try {
    for await (let chunk of open(src)) {
      bytes += chunk.length;
      opts.hash?.update(chunk);
      let start = 0;
      if (carried > 0) {
        const nl = chunk.indexOf(10);
        if (nl === -1) {
          carry(chunk);
          opts.onBytes?.(bytes);
          continue;
        }
        parts.push(chunk.subarray(0, nl + 1));
        const line = Buffer.concat(parts);
        parts = [];
        carried = 0;
        run(line, 0, line.length);
        start = nl + 1;
      }
      const last = chunk.lastIndexOf(10);
      if (last >= start) {
        run(chunk, start, last + 1);
        start = last + 1;
      }
      if (start < chunk.length) carry(chunk.subarray(start));
      opts.onBytes?.(bytes);
    }
  } catch (err) {
    throw isSystemError(err) ? fileError('read', file, err) : err;
  }
  if (carried > 0) {
    const line = Buffer.concat(parts);
    run(line, 0, line.length);
  }
}

/** Hands each line of the run `buf[start, end)` (see {@link LineRunHandler}) to `onLine`; returns how many there were. */
export function eachLineOfRun(buf: Buffer, start: number, end: number, firstLineNo: number, onLine: ByteLineHandler): number {
  let n = 0;
  for (let s = start; s < end; n++) {
    let nl = buf.indexOf(10, s);
    if (nl === -1 || nl >= end) nl = end;
    onLine(buf.subarray(s, nl), firstLineNo + n);
    s = nl + 1;
  }
  return n;
}

/**
 * A handler of lines as bytes that decodes each one and hands it to
 * `onLine` under the rules of {@link forEachLine}: UTF-8 checked when
 * `encoding` is utf8, a trailing `\r` stripped, blank lines skipped.
 */
export function decodingLines(file: string, encoding: BufferEncoding, onLine: LineHandler): ByteLineHandler {
  return (line, lineNo) => deliver(decodeLine(file, line, encoding, lineNo), lineNo, onLine);
}

/**
 * Streams `source` line by line, in bounded memory. A UTF-8 byte order mark
 * at the start is skipped, blank (whitespace-only) lines are skipped, a
 * trailing `\r` is stripped. Each line must be valid UTF-8 when `encoding`
 * is utf8 (else an InputError naming the line and the first bad byte) and
 * at most MAX_LINE_BYTES long. An error thrown by `onLine` stops the read
 * and is rethrown.
 */
export async function forEachLine(source: InputSource | string, encoding: BufferEncoding, onLine: LineHandler, opts: LineOptions = {}): Promise<void> {
  const file = typeof source === 'string' ? source : source.name;
  const line = decodingLines(file, encoding, onLine);
  await forEachLineRun(source, encoding, (buf, start, end, firstLineNo) => eachLineOfRun(buf, start, end, firstLineNo, line), opts);
}

/** Calls `onLine` for each line of `text`, with the same rules as {@link forEachLine}. */
export function forEachTextLine(text: string, onLine: LineHandler): void {
  const lines = (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).split('\n');
  for (let i = 0; i < lines.length; i++) deliver(lines[i], i + 1, onLine);
}

function deliver(line: string, lineNo: number, onLine: LineHandler): void {
  const text = line.endsWith('\r') ? line.slice(0, -1) : line;
  if (text.trim() !== '') onLine(text, lineNo);
}

function decodeLine(file: string, buf: Buffer, encoding: BufferEncoding, lineNo: number): string {
  if (encoding === 'utf8' && !isUtf8(buf)) throw invalidUtf8(file, buf, lineNo);
  return buf.toString(encoding);
}

/** Offset of the first byte of `buf` that is not part of a valid UTF-8 sequence, or -1. */
export function firstInvalidUtf8(buf: Uint8Array): number {
  let i = 0;
  while (i < buf.length) {
    const b = buf[i];
    let n: number;
    let min: number;
    if (b < 0x80) {
      i++;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) [n, min] = [1, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [n, min] = [2, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [n, min] = [3, 0x10000];
    else return i;
    if (i + n >= buf.length) return i;
    let cp = b & (0x3f >> n);
    for (let j = 1; j <= n; j++) {
      const c = buf[i + j];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return -1;
}

/** The InputError for line `lineNo` of `file` (its bytes `line`), which is not valid UTF-8. */
function invalidUtf8(file: string, line: Buffer, lineNo: number): InputError {
  const at = firstInvalidUtf8(line);
  const column = line.subarray(0, Math.max(at, 0)).toString('utf8').length + 1;
  const byte = at >= 0 ? line[at].toString(16).padStart(2, '0') : '??';
  return new InputError(
    file,
    lineNo,
    `not valid UTF-8 (byte 0x${byte} at column ${column}; ids are compared as text, so two ids differing only in such bytes would merge): convert the file to UTF-8 first, e.g. iconv -f latin1 -t utf-8`,
    line.toString('utf8'),
  );
}

/**
 * `bytes` as UTF-8 text; an InputError naming the line of the first invalid
 * byte when they are not valid UTF-8. A leading byte order mark is dropped.
 */
export function decodeUtf8(file: string, bytes: Buffer): string {
  if (!isUtf8(bytes)) {
    const at = firstInvalidUtf8(bytes);
    let lineNo = 1;
    let lineStart = 0;
    for (let i = bytes.indexOf(10); i !== -1 && i < at; i = bytes.indexOf(10, i + 1)) {
      lineNo++;
      lineStart = i + 1;
    }
    const end = bytes.indexOf(10, lineStart);
    throw invalidUtf8(file, bytes.subarray(lineStart, end === -1 ? bytes.length : end), lineNo);
  }
  const text = bytes.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** The whole content of `file`. */
export async function readWholeFile(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw fileError('read', file, err);
  }
}

/** Hex SHA-256 of the bytes of `data`. */
export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Hex SHA-256 of the content of a regular file, streamed. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  } catch (err) {
    throw fileError('read', file, err);
  }
  return hash.digest('hex');
}
