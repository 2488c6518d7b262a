/**
 * Output to stdout or stderr that fits the terminal: on a terminal every line is wrapped to its
 * width and one status line can be redrawn in place below them; piped, lines go out as they are.
 */

import { truncate, wrapText } from './fitText.js';

/** What the output writes to: `process.stdout`, `process.stderr`, or a test double. */
export interface TerminalStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/** Lines and an optional redrawn status line. */
export class TerminalOutput {
  private shownStatus: string | undefined;

  constructor(private readonly stream: TerminalStream) {}

  /** Whether this is a terminal, where a status line is redrawn instead of printing a line per event. */
  get interactive(): boolean {
    return Boolean(this.stream.isTTY);
  }

  /**
   * Columns a line may take on a terminal, or undefined when piped. One less than the terminal:
   * a line that fills the last column leaves the cursor in the wrap position, and some
   * terminals then wrap on the next character.
   */
  get width(): number | undefined {
    if (!this.interactive) return undefined;
    return Math.max(10, (this.stream.columns || 80) - 1);
  }

  /** Prints a line (wrapped on a terminal), keeping the status line below it. */
  line(text: string, indent = '    '): void {
    const width = this.width;
    this.write(width === undefined ? [text] : wrapText(text, width, indent));
  }

  /** Prints a line that takes one row on a terminal (cut with `…`), for events whose details come later. */
  row(text: string): void {
    const width = this.width;
    this.write([width === undefined ? text : truncate(text, width)]);
  }

  private write(lines: readonly string[]): void {
    const status = this.shownStatus;
    if (status !== undefined) this.stream.write('\r\x1b[K');
    this.stream.write(`${lines.join('\n')}\n`);
    if (status !== undefined) this.stream.write(status);
  }

  /**
   * Columns the status line may take: two fewer than a line, because the terminal echoes `^C`
   * after it when the user interrupts, and that must not wrap either.
   */
  get statusWidth(): number | undefined {
    const width = this.width;
    return width === undefined ? undefined : width - 2;
  }

  /** Redraws the status line in place (a terminal only; ignored when piped). */
  status(text: string): void {
    const width = this.statusWidth;
    if (width === undefined) return;
    this.shownStatus = truncate(text, width);
    this.stream.write(`\r\x1b[K${this.shownStatus}`);
  }

  /** Leaves the status line on screen as a finished line. */
  endStatus(): void {
    if (this.shownStatus === undefined) return;
    this.stream.write('\n');
    this.shownStatus = undefined;
  }
}
