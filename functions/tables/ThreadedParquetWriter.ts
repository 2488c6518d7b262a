/**
 * A window's Parquet file, encoded on the process's encoder thread (encoderThread.ts owns the
 * thread and its protocol). Encoding a row group is synchronous JavaScript
 * (hyparquet-writer): on the main thread it stopped paging for as long as it ran, 150–300 ms at
 * the end of a 6,000-record window, which no concurrency can hide. Here the main thread only
 * copies each page's record bytes into one buffer and hands it over; the thread runs a
 * {@link ParquetFileWriter} and hands the file's bytes back as they come.
 *
 * Memory stays bounded as on one thread: pages not yet taken are capped at `maxPendingBytes`,
 * and a page waits while {@link output} is over its high-water mark (the upload is slower than
 * the encoder). A thread that fails, dies or runs out of memory fails the next call, never leaves
 * it waiting.
 */

import { Readable } from 'node:stream';
import { SinkError } from '../errors.js';
import { ParquetFileGuard } from './ParquetFileGuard.js';
import { EncoderThread, type FromEncoder, type PageSegment, type ToEncoder } from './encoderThread.js';
import { checkPage } from './checkPage.js';
import type { CuratedPage, CuratedTableFile, ParquetFileInfo, ParquetFileWriterOptions, WindowEnvelope } from './ParquetFileWriter.js';
import type { TableSpec } from './tableSpec.js';

export { IDLE_GROUP_ROWS } from './encoderThread.js';

/** Options of a {@link ThreadedParquetWriter}. */
export interface ThreadedParquetWriterOptions extends ParquetFileWriterOptions {
  /**
   * Record bytes handed to the thread and not yet taken, before {@link ThreadedParquetWriter.writePage}
   * waits. A page larger than this is handed over in slices.
   * @default 8 MiB
   */
  readonly maxPendingBytes?: number;
}

const DEFAULT_MAX_PENDING = 8 * 1024 * 1024;
/**
 * Record bytes gathered on this thread before they go to the encoder thread in one message:
 * small pages (a latency-bound API's 20 KB) would otherwise wake both threads once each.
 */
const HAND_OVER_BYTES = 256 * 1024;

/**
 * Writes one Parquet file on an encoder thread; same contract as {@link ParquetFileWriter}.
 * @example
 * ```ts
 * const file = new ThreadedParquetWriter(spec, { windowStart, windowEnd, runId });
 * const upload = storage.writeStream(key, file.output);
 * await file.writePage({ extractedAt, data: recordBytes, values });
 * const info = await file.close();
 * await upload;
 * ```
 */
export class ThreadedParquetWriter implements CuratedTableFile {
  readonly output: Readable;
  private readonly thread: EncoderThread;
  private readonly file: number;
  private readonly maxPending: number;
  /** The table has typed columns: their values go to the thread. Without, nothing is sent per record. */
  private readonly typed: boolean;
  private pending = 0;
  /** {@link output} is over its high-water mark: hand over nothing more until it is read. */
  private outputFull = false;
  private released = false;
  /** Records copied for the thread and not yet handed over. */
  private gathered: Gathered | undefined;
  /**
   * Hand-over buffers the thread has taken and sent back, filled again rather than allocated anew:
   * a new 256 KB buffer per hand-over, freed on the other thread, fragmented the C heap
   * (docs/performance.md, "A large CSV file").
   */
  private readonly spare: ArrayBuffer[] = [];
  private readonly guard: ParquetFileGuard;
  private finished: ParquetFileInfo | undefined;
  /** Whoever waits for progress (an ack, a read, the end, a failure): woken together. */
  private waiters: (() => void)[] = [];

  constructor(
    private readonly spec: TableSpec,
    envelope: WindowEnvelope,
    options: ThreadedParquetWriterOptions = {},
  ) {
    this.guard = new ParquetFileGuard(spec.name, () => this.notify());
    const { maxPendingBytes, ...fileOptions } = options;
    this.maxPending = maxPendingBytes ?? DEFAULT_MAX_PENDING;
    this.typed = spec.columns.length > 0;
    this.output = new Readable({
      highWaterMark: fileOptions.chunkBytes ?? 1024 * 1024,
      read: () => {
        this.outputFull = false;
        this.notify();
      },
      destroy: (error, callback) => {
        if (!this.finished) {
          this.guard.fail(error ?? this.guard.outputDestroyed());
          this.release('abort');
        }
        callback(error);
      },
    });
    // Whoever reads the output may be gone when it is destroyed (an upload that already failed):
    // the error is this writer's failure, never an uncaught exception.
    this.output.on('error', (error) => this.guard.fail(error));
    // A lost thread ends the output too, as a failure it reports does: whoever reads it must not wait.
    const lost = (error: Error) => {
      this.guard.fail(error);
      this.output.destroy(error);
    };
    ({ thread: this.thread, file: this.file } = EncoderThread.open({ receive: (message) => this.receive(message), lost }, spec, envelope, fileOptions));
  }

  writePage(page: CuratedPage): Promise<void> {
    return this.guard.call(async () => {
      // Checked here too: found by the thread, a bad page would fail the whole file, later.
      checkPage(this.spec, page);
      // Slices of at most maxPending bytes (one record at least), so one huge page never sits
      // whole in both threads at once.
      let from = 0;
      while (from < page.data.length) {
        let to = from;
        let bytes = 0;
        for (; to < page.data.length; to++) {
          const size = byteLength(page.data[to]!);
          if (to > from && bytes + size > this.maxPending) break;
          bytes += size;
        }
        if (this.gathered && this.gathered.used + bytes > HAND_OVER_BYTES) await this.handOver();
        this.gather(page, from, to, bytes);
        if (this.gathered!.used >= HAND_OVER_BYTES) await this.handOver();
        from = to;
      }
    }, this.wake);
  }

  /** Resolves once the thread has taken every page written so far (it may still be encoding them). */
  async taken(): Promise<void> {
    await this.until(() => !this.guard.busy);
    if (this.gathered) await this.guard.call(() => this.handOver(), this.wake);
    await this.until(() => this.pending === 0);
  }

  close(): Promise<ParquetFileInfo> {
    return this.guard.call(async () => {
      if (this.gathered) await this.handOver();
      this.thread.post({ kind: 'close', file: this.file });
      await this.until(() => this.finished !== undefined);
      this.guard.close();
      return this.finished!;
    }, this.wake);
  }

  abort(reason: Error): void {
    this.guard.abort(reason);
    this.output.destroy(reason);
  }

  /** Copies records `from`…`to` of a page (`bytes` long) into the buffer gathered for the thread. */
  private gather(page: CuratedPage, from: number, to: number, bytes: number): void {
    // Copied, never kept as views: the page's body may be far larger than its records, or reused.
    const gathered = (this.gathered ??= { bytes: this.handOverBuffer(bytes), used: 0, spans: [], values: [], pages: [] });
    const { bytes: out } = gathered;
    let at = gathered.used;
    for (let i = from; i < to; i++) {
      const record = page.data[i]!;
      gathered.spans.push(at);
      at += typeof record === 'string' ? Buffer.from(out.buffer, out.byteOffset + at).write(record, 'utf8') : (out.set(record, at), record.byteLength);
      gathered.spans.push(at);
      if (this.typed) gathered.values.push(page.values[i]!);
    }
    gathered.used = at;
    const parent = page.parent ?? null;
    const last = gathered.pages.at(-1);
    // Consecutive slices of one page share a segment.
    if (last && last.extractedAt === page.extractedAt && last.parent === parent) gathered.pages[gathered.pages.length - 1] = { ...last, records: last.records + (to - from) };
    else gathered.pages.push({ extractedAt: page.extractedAt, parent, records: to - from });
  }

  /** A buffer for a hand-over of at least `bytes`: a spare one when it is large enough. */
  private handOverBuffer(bytes: number): Uint8Array {
    const spare = bytes <= HAND_OVER_BYTES ? this.spare.pop() : undefined;
    return spare ? new Uint8Array(spare) : new Uint8Array(Math.max(HAND_OVER_BYTES, bytes));
  }

  /** Hands what was gathered to the thread, once it has room (pending bytes) and the output too. */
  private async handOver(): Promise<void> {
    const gathered = this.gathered!;
    this.gathered = undefined;
    await this.until(() => this.pending + gathered.used <= this.maxPending || this.pending === 0);
    await this.until(() => !this.outputFull);
    const { bytes, used, spans, values, pages } = gathered;
    const message: ToEncoder = { kind: 'pages', file: this.file, pages, bytes: bytes.subarray(0, used), spans: Uint32Array.from(spans), values };
    this.pending += used;
    this.thread.post(message, [bytes.buffer as ArrayBuffer, message.spans.buffer as ArrayBuffer]);
  }

  private receive(message: FromEncoder): void {
    if (message.kind === 'chunk') {
      if (!this.output.destroyed && !this.output.push(Buffer.from(message.bytes.buffer, message.bytes.byteOffset, message.bytes.byteLength))) this.outputFull = true;
    } else if (message.kind === 'ack') {
      this.pending -= message.bytes;
      // At most what may be pending is kept; a buffer of a page larger than a hand-over is not.
      if (message.buffer.byteLength === HAND_OVER_BYTES && this.spare.length * HAND_OVER_BYTES < this.maxPending) this.spare.push(message.buffer);
    } else if (message.kind === 'closed') {
      this.finished = message.info;
      this.release();
      this.output.push(null);
    } else {
      this.release();
      // The writer's own errors already name the table; anything else is named here.
      const error = new SinkError(message.name === 'SinkError' ? message.message : `cannot encode the Parquet file of ${this.spec.name}: ${message.name}: ${message.message}`);
      this.guard.fail(error);
      this.output.destroy(error);
    }
    this.notify();
  }

  /** Waits until `ready()` holds; rejects with the failure as soon as there is one. */
  private async until(ready: () => boolean): Promise<void> {
    for (;;) {
      this.guard.check();
      if (ready()) return;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Wakes whoever waits: each call's end frees the file for a waiting {@link taken}. */
  private readonly wake = () => this.notify();

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Done with the thread: on an abort, it drops the file too. */
  private release(tell?: 'abort'): void {
    if (this.released) return;
    this.released = true;
    if (tell) this.thread.post({ kind: 'abort', file: this.file });
    this.thread.release(this.file);
  }
}

/** Records gathered for one `pages` message. */
interface Gathered {
  readonly bytes: Uint8Array;
  used: number;
  readonly spans: number[];
  readonly values: (readonly unknown[])[];
  readonly pages: PageSegment[];
}

const byteLength = (record: string | Uint8Array) => (typeof record === 'string' ? Buffer.byteLength(record, 'utf8') : record.byteLength);
