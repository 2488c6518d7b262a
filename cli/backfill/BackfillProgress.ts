/**
 * Progress of a backfill: on a terminal, one status line redrawn in place and fitted to the
 * terminal's width (failures get a permanent line above it); piped, a line per window.
 */

import type { TimeWindow, WindowResult } from '../../functions/index.js';
import { formatWindowLine } from '../format.js';
import { WindowTally } from '../progress/WindowTally.js';
import type { TerminalOutput } from '../terminal/TerminalOutput.js';
import { visibleWidth } from '../terminal/fitText.js';

/** Where and how progress is shown. */
export interface ProgressOptions {
  readonly total: number;
  readonly output: TerminalOutput;
  readonly redact?: (text: string) => string;
  /** The AbortSignal a stop signal (Ctrl-C, SIGTERM, SIGHUP) aborts: windows that start after it are "not started", not failures. */
  readonly interrupt?: AbortSignal;
  /** @default Date.now */
  readonly now?: () => number;
}

/** The bar's width in columns, brackets excluded: full when there is room, shrunk before any field is dropped. */
const BAR = { max: 24, min: 8 } as const;

/** Counts windows as they finish and renders the progress. */
export class BackfillProgress {
  /** Every figure shown comes from here, so the lines and the summary agree. */
  readonly tally: WindowTally;
  private readonly startedAt: number;
  private readonly now: () => number;

  constructor(private readonly options: ProgressOptions) {
    this.now = options.now ?? Date.now;
    this.startedAt = this.now();
    this.tally = new WindowTally(options.interrupt);
  }

  /** Records that a window started (windows starting after a stop signal are reported as not started). */
  windowStarted(stream: string, window: TimeWindow): void {
    this.tally.started(stream, window);
  }

  /** Records a finished window and updates the display. */
  windowDone(result: WindowResult): void {
    const outcome = this.tally.add(result);
    const { output } = this.options;
    // On a terminal only failures get a row (the reasons in full come in the final list);
    // piped, every window gets its line. Windows never started get one line at the end.
    const worthALine = output.interactive ? outcome === 'failed' || outcome === 'interrupted' : outcome !== 'not_started';
    if (worthALine) output.row(formatWindowLine(result, this.options.redact, outcome));
    output.status(this.statusLine(output.statusWidth));
  }

  /** Leaves the final status line on screen. */
  finish(): void {
    this.options.output.status(this.statusLine(this.options.output.statusWidth));
    this.options.output.endStatus();
  }

  /**
   * `[=========>      ] 12/30 windows · 9 committed · 2 skipped · 1 failed · 1,234 records · ETA 0:42`,
   * fitted to `width`: the bar shrinks first, then the least useful fields go (skipped, records,
   * committed, then the bar); the count, failures and ETA stay longest.
   */
  statusLine(width = Number.POSITIVE_INFINITY): string {
    const { counts } = this.tally;
    // Windows that never started are not done: after a stop signal the bar stops where the run stopped.
    const done = this.tally.done - counts.not_started;
    const { total } = this.options;
    const elapsed = this.now() - this.startedAt;
    const stopped = this.options.interrupt?.aborted ?? false;
    const eta = done === 0 || done >= total || stopped ? undefined : `ETA ${formatClock((elapsed / done) * (total - done))}`;
    // Lower rank = dropped earlier.
    const fields: { rank: number; text: string }[] = [
      { rank: 9, text: `${done}/${total} windows` },
      { rank: 4, text: `${counts.committed} committed` },
      { rank: 1, text: `${counts.skipped} skipped` },
      { rank: 8, text: `${counts.failed} failed` },
      ...(counts.interrupted > 0 ? [{ rank: 7, text: `${counts.interrupted} interrupted` }] : []),
      { rank: 2, text: `${this.tally.totals.records.toLocaleString('en')} records` },
      ...(eta ? [{ rank: 6, text: eta }] : []),
    ];
    let barWidth: number | undefined = BAR.max;
    const render = () => {
      const text = fields.map((f) => f.text).join(' · ');
      return barWidth === undefined ? text : `${bar(done, total, barWidth)} ${text}`;
    };
    while (visibleWidth(render()) > width) {
      if (barWidth !== undefined && barWidth > BAR.min) {
        barWidth = Math.max(BAR.min, barWidth - (visibleWidth(render()) - width));
        continue;
      }
      const lowest = fields.reduce((min, f) => (f.rank < min.rank ? f : min));
      // The bar goes after committed (rank 4) and before the ETA (rank 6).
      if (barWidth !== undefined && lowest.rank > 5) {
        barWidth = undefined;
        continue;
      }
      if (fields.length === 1) break; // the output truncates what still does not fit
      fields.splice(fields.indexOf(lowest), 1);
    }
    return render();
  }
}

function bar(done: number, total: number, width: number): string {
  const filled = total === 0 ? width : Math.min(width, Math.round((done / total) * width));
  const head = filled === 0 ? '' : done >= total ? '=' : '>';
  return `[${'='.repeat(Math.max(0, filled - 1))}${head}${' '.repeat(width - filled)}]`;
}

/** `83_000` → `1:23`; hours when needed. */
export function formatClock(ms: number): string {
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}
