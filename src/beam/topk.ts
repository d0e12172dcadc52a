/**
 * Top-k selection over a score array: a bounded min-heap, O(n log k).
 * Ties go to the lower position, so results are deterministic.
 */

/** Positions of the k largest scores, best first. */
export function topK(scores: Float32Array | Float64Array, k: number): Int32Array {
  const n = scores.length;
  const m = Math.min(k, n);
  const heap = new Int32Array(m); // positions; heap[0] is the worst kept
  let size = 0;
  // a is "worse" than b: lower score, or equal score and later position
  const worse = (a: number, b: number) => scores[a] < scores[b] || (scores[a] === scores[b] && a > b);
  const siftDown = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let w = i;
      if (l < size && worse(heap[l], heap[w])) w = l;
      if (r < size && worse(heap[r], heap[w])) w = r;
      if (w === i) return;
      const t = heap[i];
      heap[i] = heap[w];
      heap[w] = t;
      i = w;
    }
  };
  for (let p = 0; p < n; p++) {
    if (size < m) {
      let i = size++;
      heap[i] = p;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!worse(heap[i], heap[parent])) break;
        const t = heap[i];
        heap[i] = heap[parent];
        heap[parent] = t;
        i = parent;
      }
    } else if (m > 0 && worse(heap[0], p)) {
      heap[0] = p;
      siftDown(0);
    }
  }
  const out = heap.slice(0, size);
  out.sort((a, b) => (scores[b] - scores[a]) || a - b);
  return out;
}

/** The logistic function, for turning logits into probabilities. */
export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** log σ(x), accurate for large |x|. */
export function logSigmoid(x: number): number {
  return x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x));
}
