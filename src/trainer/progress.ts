/**
 * The fields a training epoch's progress line shows: the mean loss so far,
 * samples/s and the time left, for the epoch and at most for the run (the
 * remaining epochs at the same rate; early stopping and validation are not
 * counted). Rates come from the steps this process ran, so a resumed run
 * shows an ETA from its first update, not one skewed by the steps it skipped.
 */
import type { Progress } from '../core/log.js';

/** "42s", "3m05s", "2h07m". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  return `${h}h${String(m % 60).padStart(2, '0')}m`;
}

/** One epoch's progress display with its rate and ETA. */
export class EpochProgress {
  private readonly t0 = process.hrtime.bigint();

  /**
   * `bar` shows samples 0..count of epoch `epoch` of `epochs`; the epoch
   * starts at sample `from` (a resumed epoch), `from` 0 otherwise.
   */
  constructor(
    private readonly bar: Progress,
    private readonly epoch: number,
    private readonly epochs: number,
    private readonly count: number,
    private readonly from: number,
  ) {
    if (from > 0) bar.update(from, { resumed: `at sample ${from}` });
  }

  /** `done` samples of the epoch are trained, with mean loss `loss` over them. */
  update(done: number, loss: number): void {
    const seconds = Math.max(Number(process.hrtime.bigint() - this.t0) / 1e9, 1e-9);
    const rate = (done - this.from) / seconds;
    const left = this.count - done;
    const fields: Record<string, string | number> = { loss, 'samples/s': Math.round(rate) };
    if (rate > 0) {
      fields.eta = formatDuration(left / rate);
      if (this.epoch < this.epochs) fields['run-eta'] = `≤${formatDuration((left + (this.epochs - this.epoch) * this.count) / rate)}`;
    }
    this.bar.update(done, fields);
  }

  /** Ends the display. */
  stop(): void {
    this.bar.stop();
  }
}
