/** The calls a Parquet file writer accepts, and how it fails: the same whichever thread encodes. */

import { SinkError } from '../errors.js';

/**
 * Lets one call at a time into a Parquet file writer, refuses every call once the file has failed
 * or closed, and keeps the file's first failure: a row group half written leaves the file
 * unusable, so later calls get that failure, never a second, misleading one.
 * @example
 * ```ts
 * private readonly guard = new ParquetFileGuard(spec.name, () => this.wakeWaiters());
 * writePage(page: CuratedPage): Promise<void> {
 *   return this.guard.call(async () => { ... });
 * }
 * ```
 */
export class ParquetFileGuard {
  private calling = false;
  private closed = false;
  private firstFailure: Error | undefined;

  /**
   * @param table the table the file belongs to, as errors name it
   * @param onFail told of the first failure, once, to wake whoever waits on the file
   */
  constructor(
    private readonly table: string,
    private readonly onFail: (failure: Error) => void,
  ) {}

  /** The file's first failure, if it has failed. */
  get failure(): Error | undefined {
    return this.firstFailure;
  }

  /** Whether a call is running now. */
  get busy(): boolean {
    return this.calling;
  }

  /** Whether the file was closed or aborted. */
  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Runs one call of the writer; `after` runs once it has returned or thrown.
   * @throws the file's failure once it has failed
   * @throws SinkError when the file is closed, or while another call runs
   */
  async call<T>(body: () => Promise<T>, after?: () => void): Promise<T> {
    if (this.firstFailure) throw this.firstFailure;
    if (this.closed) throw new SinkError(`the Parquet file of ${this.table} is already closed`);
    if (this.calling) throw new SinkError(`concurrent call on the Parquet file of ${this.table}: await each writePage before the next`);
    this.calling = true;
    try {
      return await body();
    } finally {
      this.calling = false;
      after?.();
    }
  }

  /** Records `error` as the file's failure, unless it has failed already; returns the failure kept. */
  fail(error: Error): Error {
    if (!this.firstFailure) {
      this.firstFailure = error;
      this.onFail(error);
    }
    return this.firstFailure;
  }

  /** @throws the file's failure once it has failed */
  check(): void {
    if (this.firstFailure) throw this.firstFailure;
  }

  /** Accepts no call from now on. */
  close(): void {
    this.closed = true;
  }

  /** Fails the file with `reason` and accepts no call from now on: what `abort(reason)` of either writer does before destroying its output. */
  abort(reason: Error): void {
    this.fail(reason);
    this.closed = true;
  }

  /** The failure of a file whose output was destroyed before the file was finished. */
  outputDestroyed(): SinkError {
    return new SinkError(`the output of the Parquet file of ${this.table} was destroyed before the file was finished`);
  }
}
