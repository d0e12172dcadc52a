/** The shape of docs/bench/retrieval.json (written by bench/retrieval.ts). */

/** One method at one setting on one catalogue. */
export interface MethodPoint {
  method: 'beam' | 'brute-force';
  beam?: number;
  k: number;
  /** Queries timed on one thread. */
  queries: number;
  pairsPerQuery: number;
  p50ms: number;
  p95ms: number;
  /** Queries per second on the worker pool (all workers). */
  qps: number;
  /** Mean share of brute force's top k that this method returns (on the brute-force queries). */
  recallVsBrute: number;
  /** Mean truth recall@k on the brute-force queries. */
  truthRecall: number;
  /** Brute force's truth recall@k on the same queries. */
  bruteTruthRecall: number;
  /**
   * The same two figures at one k for every point (the smallest beam, so
   * that every width reaches it), from the first k items of each result:
   * the plot compares points along a line at this k.
   */
  atFixedK?: { k: number; recallVsBrute: number; truthRecall: number };
}

/** All figures of one catalogue. */
export interface CatalogueResult {
  name: string;
  title: string;
  items: number;
  depth: number;
  testUsers: number;
  training: string;
  /** When this catalogue was measured, and the 1-minute load average then (catalogues can be re-run separately). */
  measuredAt?: string;
  loadAvg?: number;
  points: MethodPoint[];
}

/** The whole file. */
export interface RetrievalBench {
  date: string;
  cpu: string;
  cores: number;
  workers: number;
  node: string;
  backend: string;
  command: string;
  /** 1-minute load average at the start and at the end (the machine is shared). */
  loadAvg?: [number, number];
  catalogues: CatalogueResult[];
  memory?: {
    queries: number;
    seconds: number;
    before: { numTensors: number; numBytes: number; rssMB: number };
    after: { numTensors: number; numBytes: number; rssMB: number };
  };
}
