/**
 * What the report says in its "fixed by" column: the probe cases that
 * found a defect (what the probe, or the same command run by hand while
 * probing, observed before the fix, and the fixing commit), and the cases
 * that exercise one of the twelve defects listed at the top of
 * docs/HOSTILE-INPUT.md.
 */

/** A defect the probe found. */
export interface Found {
  /** The defect it showed, in a few words (cases showing the same defect share it). */
  defect: string;
  /** What happened before the fix. */
  before: string;
  commit: string;
}

const COMMANDER: Found = { defect: 'commander usage errors', before: "two lines from commander, `error: …` then `(run with --help for usage)`, without the `arbor:` prefix", commit: '8888e50' };
const STDOUT_LINK: Found = { defect: 'synth replaced links and FIFOs', before: 'the rename of the temporary file replaced the link or FIFO by a regular file (seen replacing /dev/stdout; introduced by fb850c4, which wrote through a temporary file)', commit: '8888e50' };
const EROFS: Found = { defect: 'EROFS reported as ENOENT', before: 'exit 1 but "its folder does not exist (ENOENT)" instead of the read-only file system (a recursive mkdir reports ENOENT)', commit: '8888e50' };
const EPIPE: Found = { defect: 'EPIPE stack', before: 'Error: write EPIPE with a JavaScript stack (unhandled error event on standard output)', commit: '8888e50' };

/** Case id → the defect it found. */
export const FOUND: Record<string, Found> = {
  F24: { defect: 'control characters in ids', before: 'exit 0: the NUL byte was stored inside the item id', commit: '8888e50' },
  F60: { defect: 'an items JSON key twice', before: 'exit 0: JSON.parse kept the second "a" and dropped the first silently', commit: '8888e50' },
  H44: { defect: 'oversized headers', before: "431 in fastify's own shape, without Connection: close; the client's next request on that connection failed (the probe saw the server stop answering)", commit: '8888e50' },
  H47: { defect: 'locked store behind user lookups', before: '500 "internal error (see the server log)"', commit: '8888e50' },
  H59: COMMANDER,
  O09: COMMANDER,
  O11: COMMANDER,
  O12: COMMANDER,
  O19: { defect: 'train --workers 1000', before: 'started worker threads for 1000 workers; still running after 180 s (stopped by the probe\'s time limit)', commit: '8888e50' },
  O28: { defect: 'retrieve --input not UTF-8', before: 'exit 0: the byte became U+FFFD and the id was skipped as unknown', commit: '8888e50' },
  O30: { defect: 'retrieve --input missing', before: 'exit 1: "cannot read none.jsonl: ENOENT", nothing on what to do', commit: '8888e50' },
  O37: EPIPE,
  O38: { defect: 'standard output on a full disk', before: 'Error: ENOSPC: no space left on device, write, with a JavaScript stack', commit: '8888e50' },
  O39: EPIPE,
  O40: STDOUT_LINK,
  O41: STDOUT_LINK,
  O24: { defect: 'absurd --emb-dim', before: 'exit 1 after loading the data: "out of memory (Invalid typed array length: 808000000000): the input is too large …", advice that named the input, not the option', commit: '066e2fb' },
  S32: { defect: 'eval with a foreign store', before: 'exit 0 and 0.00 % for every method, no warning (every truth item unknown to the model counted as a miss)', commit: 'a6e02b4' },
  D06: { defect: 'synth short writes', before: 'exit 0 and a truncated s.csv: writeSync wrote part of a chunk when the disk filled and the rest was dropped', commit: '8888e50' },
  R05: EROFS,
  R06: EROFS,
};

/** Case id → the number of the defect (in the table at the top of docs/HOSTILE-INPUT.md) it exercises, and its commit. */
export const COVERS: Record<string, { defect: number; commit: string }> = {
  S29: { defect: 1, commit: 'fb850c4' },
  S27: { defect: 1, commit: 'fb850c4' },
  F18: { defect: 2, commit: 'fb850c4' },
  F39: { defect: 2, commit: 'fb850c4' },
  F55: { defect: 2, commit: 'fb850c4' },
  M38: { defect: 3, commit: 'd3e32a7' },
  K09: { defect: 3, commit: 'd3e32a7' },
  K10: { defect: 3, commit: 'd3e32a7' },
  H36: { defect: 4, commit: 'b577c90' },
  H48: { defect: 4, commit: 'b577c90' },
  H57: { defect: 5, commit: 'b577c90' },
  S12: { defect: 6, commit: 'fb850c4' },
  L01: { defect: 6, commit: 'fb850c4' },
  D01: { defect: 6, commit: 'fb850c4' },
  R01: { defect: 6, commit: 'fb850c4' },
  F58: { defect: 6, commit: 'fb850c4' },
  M27: { defect: 7, commit: 'd3e32a7' },
  M31: { defect: 7, commit: 'd3e32a7' },
  M33: { defect: 7, commit: 'd3e32a7' },
  M10: { defect: 8, commit: 'd3e32a7' },
  H03: { defect: 9, commit: 'b577c90' },
  S30: { defect: 10, commit: 'fb850c4' },
  H08: { defect: 12, commit: 'b577c90' },
  H15: { defect: 12, commit: 'b577c90' },
};
