/**
 * Counts what happened to each window of a run, so the per-window lines, the progress line and
 * the summary are computed from the same figures and always agree.
 *
 * After a stop signal (Ctrl-C, SIGTERM, SIGHUP) the engine still reports every window it was asked for, as failed. The tally
 * tells them apart: a window that had not started when the run was interrupted is "not
 * started" (one line in the end, never a failure), one that was in flight is "interrupted".
 */

import { AbortedError, type TimeWindow, type WindowResult } from '../../functions/index.js';

/** What became of one window, as the CLI reports it. */
export type WindowOutcome = 'committed' | 'skipped' | 'failed' | 'interrupted' | 'not_started';

/** Figures of every window that ran (committed, failed or interrupted): what the lines show, summed. */
export interface TallyTotals {
  /** Records and compressed bytes landed (committed windows only). */
  readonly records: number;
  readonly bytes: number;
  /** Pages fetched, retries and throttled responses, over every window that ran. */
  readonly pages: number;
  readonly retries: number;
  readonly throttled: number;
}

/** The running count of a run's windows. */
export class WindowTally {
  readonly counts: Record<WindowOutcome, number> = { committed: 0, skipped: 0, failed: 0, interrupted: 0, not_started: 0 };
  private readonly startedBeforeInterrupt = new Set<string>();
  private readonly genuineFailures: WindowResult[] = [];
  private totalsSoFar = { records: 0, bytes: 0, pages: 0, retries: 0, throttled: 0 };

  /** @param interrupt the AbortSignal a stop signal (Ctrl-C, SIGTERM, SIGHUP) aborts, if the run can be interrupted. */
  constructor(private readonly interrupt?: AbortSignal) {}

  /** Notes that a window started; one that starts after a stop signal is "not started" whatever it reports. */
  started(stream: string, window: TimeWindow): void {
    if (!this.interrupt?.aborted) this.startedBeforeInterrupt.add(key(stream, window));
  }

  /** Counts a finished window. @returns how it is reported. */
  add(result: WindowResult): WindowOutcome {
    const outcome = this.classify(result);
    this.counts[outcome]++;
    if (outcome === 'failed') this.genuineFailures.push(result);
    if (outcome === 'committed') {
      this.totalsSoFar.records += result.records;
      this.totalsSoFar.bytes += result.bytes;
    }
    // A window another run committed first did its fetching all the same.
    const fetched = outcome === 'skipped' && result.skipReason === 'concurrent_commit';
    if (outcome === 'committed' || outcome === 'failed' || outcome === 'interrupted' || fetched) {
      this.totalsSoFar.pages += result.pages;
      this.totalsSoFar.retries += result.retries;
      this.totalsSoFar.throttled += result.throttled;
    }
    return outcome;
  }

  /** Windows counted so far. */
  get done(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }

  get totals(): TallyTotals {
    return { ...this.totalsSoFar };
  }

  /** Windows that failed for a reason other than the interrupt, in the order they finished. */
  get failures(): readonly WindowResult[] {
    return this.genuineFailures;
  }

  private classify(result: WindowResult): WindowOutcome {
    if (result.status !== 'failed') return result.status;
    if (!this.interrupt?.aborted) return 'failed';
    if (!this.startedBeforeInterrupt.has(key(result.stream, result.window))) return 'not_started';
    // The rate limiter rejects with the abort reason itself, which the engine wraps in a plain Error.
    const byInterrupt = result.error instanceof AbortedError || result.error?.message === String(this.interrupt.reason);
    return byInterrupt ? 'interrupted' : 'failed';
  }
}

function key(stream: string, window: TimeWindow): string {
  return `${stream} ${window.start.getTime()}`;
}
