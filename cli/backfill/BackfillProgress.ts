/** Progress of a backfill: one redrawn line on a terminal, a line per window otherwise. */

import type { WindowResult } from '../../functions/engine/runWindow.js';
import { formatWindowLine } from '../format.js';

/** Where and how progress is shown. */
export interface ProgressOptions {
  readonly total: number;
  /** Redraw one status line (a terminal) instead of printing a line per window. */
  readonly tty: boolean;
  readonly write: (text: string) => void;
  readonly redact?: (text: string) => string;
  /** @default Date.now */
  readonly now?: () => number;
}

const BAR_WIDTH = 24;

/** Counts windows as they finish and renders the progress. */
export class BackfillProgress {
  private committed = 0;
  private skipped = 0;
  private failed = 0;
  private records = 0;
  private readonly startedAt: number;
  private readonly now: () => number;

  constructor(private readonly options: ProgressOptions) {
    this.now = options.now ?? Date.now;
    this.startedAt = this.now();
  }

  /** Records a finished window and updates the display. */
  windowDone(result: WindowResult): void {
    if (result.status === 'committed') this.committed++;
    else if (result.status === 'skipped') this.skipped++;
    else this.failed++;
    if (result.status === 'committed') this.records += result.records;
    if (this.options.tty) {
      // Failures are worth a permanent line even on a terminal.
      if (result.status === 'failed') this.options.write(`\r\x1b[K${formatWindowLine(result, this.options.redact)}\n`);
      this.options.write(`\r\x1b[K${this.statusLine()}`);
    } else {
      this.options.write(`${formatWindowLine(result, this.options.redact)}\n`);
    }
  }

  /** Ends the redrawn line. */
  finish(): void {
    if (this.options.tty) this.options.write(`\r\x1b[K${this.statusLine()}\n`);
  }

  /** `[=========>      ] 12/30 windows · 9 committed · 2 skipped · 1 failed · 1,234 records · ETA 0:42` */
  statusLine(): string {
    const done = this.committed + this.skipped + this.failed;
    const { total } = this.options;
    const filled = total === 0 ? BAR_WIDTH : Math.round((done / total) * BAR_WIDTH);
    const bar = `[${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? (done === total ? '=' : '>') : ''}${' '.repeat(BAR_WIDTH - filled)}]`;
    const elapsed = this.now() - this.startedAt;
    const eta = done === 0 || done === total ? '' : ` · ETA ${formatClock((elapsed / done) * (total - done))}`;
    return `${bar} ${done}/${total} windows · ${this.committed} committed · ${this.skipped} skipped · ${this.failed} failed · ${this.records.toLocaleString('en')} records${eta}`;
  }
}

/** `83_000` → `1:23`; hours when needed. */
export function formatClock(ms: number): string {
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}
