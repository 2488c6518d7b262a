/** Streams lines into one gzip part, measuring what the manifest needs on the way out. */

import { createHash } from 'node:crypto';
import { Transform, pipeline, type TransformCallback } from 'node:stream';
import { createGzip, type Gzip } from 'node:zlib';
import { asError } from '../errors.js';
import type { LakeStorage, StorageCallOptions } from './LakeStorage.js';
import type { PartInfo } from './manifest.js';

/** Counts and hashes the compressed bytes that reach storage. */
class Meter extends Transform {
  readonly hash = createHash('sha256');
  bytes = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    done(null, chunk);
  }
}

/**
 * gzip level: 6, zlib's default. Level 1 would take half the CPU but lands files about a fifth
 * larger (docs/performance.md, T4-parquet), and Athena bills the compressed bytes every query of
 * the raw table scans, and S3 the bytes it stores, for good.
 */
const GZIP_LEVEL = 6;
/**
 * Bytes handed to gzip at once. Each write to a zlib stream is a job on libuv's thread pool and a
 * callback on the main thread; measured per page (~100 KB), those round trips cost the main thread
 * more than the compression they hand off. Lines are gathered to this size first.
 */
export const GZIP_INPUT_BYTES = 1024 * 1024;
/** zlib's output buffer: large enough that one job compresses a whole input chunk. */
const GZIP_OUTPUT_BYTES = 256 * 1024;
/**
 * Input buffers handed to gzip and not yet compressed: one compressing, one queued, so gzip never
 * waits for the next while lines are written into a third.
 */
const GZIP_INPUT_IN_FLIGHT = 2;

/** Writes the lines of one call into `out` from `at`; returns the offset after them. */
export type LineFiller = (out: Buffer, at: number) => number;

/**
 * One part being written. Memory stays bounded by stream buffers whatever the part's size.
 *
 * Lines are written straight into gzip's input buffers, which are reused once gzip has compressed
 * them (at most {@link GZIP_INPUT_IN_FLIGHT} + 1 per part), rather than into a buffer per batch
 * concatenated per megabyte: at a few bytes of short-lived buffers per byte landed, the C heap
 * fragmented into far more resident memory than the buffers ever held at once
 * (docs/performance.md, "A large CSV file").
 */
export class PartWriter {
  /** Uncompressed bytes written so far. */
  uncompressedBytes = 0;
  records = 0;
  private readonly gzip: Gzip;
  /** The input buffer being filled, and how much of it is. */
  private staging: Buffer | undefined;
  private staged = 0;
  /** Input buffers gzip has finished with. */
  private readonly spare: Buffer[] = [];
  private inFlight = 0;
  private compressed: (() => void)[] = [];
  private readonly meter = new Meter();
  private readonly upload: Promise<void>;
  private failure: Error | undefined;
  /** Rejects as soon as any stage fails, so a writer waiting for gzip does not hang. */
  private readonly failed: Promise<never>;
  private fail!: (error: Error) => void;

  constructor(
    readonly key: string,
    storage: LakeStorage,
    options: StorageCallOptions = {},
  ) {
    this.failed = new Promise<never>((_, reject) => {
      this.fail = (error) => {
        this.failure ??= error;
        reject(this.failure);
      };
    });
    this.failed.catch(() => undefined);
    this.gzip = createGzip({ level: GZIP_LEVEL, chunkSize: GZIP_OUTPUT_BYTES });
    pipeline(this.gzip, this.meter, (error) => {
      if (error) this.fail(error);
    });
    this.upload = storage.writeStream(key, this.meter, options);
    this.upload.catch((error: unknown) => {
      const failure = asError(error);
      this.fail(failure);
      this.gzip.destroy(failure);
    });
  }

  /** Writes a chunk of complete lines (`lineCount` of them), waiting when the consumer is slower. */
  write(chunk: Buffer, lineCount: number): Promise<void> {
    return this.writeLines(chunk.length, lineCount, (out, at) => at + chunk.copy(out, at));
  }

  /**
   * Writes `lineCount` complete lines, `bytes` long, which `fill` writes into the part's input
   * buffer; waits when the consumer is slower. The lines go whole into one gzip input.
   */
  async writeLines(bytes: number, lineCount: number, fill: LineFiller): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.staged > 0 && this.staged + bytes > GZIP_INPUT_BYTES) await this.handOver();
    this.uncompressedBytes += bytes;
    this.records += lineCount;
    if (bytes > GZIP_INPUT_BYTES) {
      // Larger than an input buffer: a buffer of its own, not kept.
      const out = Buffer.allocUnsafe(bytes);
      await this.send(out.subarray(0, fill(out, 0)));
      return;
    }
    this.staging ??= this.spare.pop() ?? Buffer.allocUnsafe(GZIP_INPUT_BYTES);
    this.staged = fill(this.staging, this.staged);
    if (this.staged >= GZIP_INPUT_BYTES) await this.handOver();
  }

  /** Ends the part and waits until storage holds it completely. */
  async close(): Promise<PartInfo> {
    if (this.staged > 0 && !this.failure) this.gzip.write(this.takeStaged());
    this.gzip.end();
    await this.upload;
    if (this.failure) throw this.failure;
    return { key: this.key, records: this.records, bytes: this.meter.bytes, sha256: this.meter.hash.digest('hex') };
  }

  private handOver(): Promise<void> {
    const staging = this.staging!;
    return this.send(this.takeStaged(), staging);
  }

  private takeStaged(): Buffer {
    const chunk = this.staging!.subarray(0, this.staged);
    this.staging = undefined;
    this.staged = 0;
    return chunk;
  }

  /** Hands `chunk` to gzip; `reuse`, its buffer, becomes spare once gzip has compressed it. */
  private async send(chunk: Buffer, reuse?: Buffer): Promise<void> {
    this.inFlight++;
    // zlib reads a chunk until its write callback: only then may the buffer be written again.
    this.gzip.write(chunk, (error) => {
      this.inFlight--;
      if (!error && reuse) this.spare.push(reuse);
      const waiting = this.compressed;
      this.compressed = [];
      for (const wake of waiting) wake();
    });
    while (this.inFlight >= GZIP_INPUT_IN_FLIGHT) await Promise.race([new Promise<void>((resolve) => this.compressed.push(resolve)), this.failed]);
  }

  /** Stops the part; storage discards what it had (temp file removed, multipart aborted). */
  async abort(reason: Error): Promise<void> {
    this.fail(reason);
    this.gzip.destroy(reason);
    await this.upload.catch(() => undefined);
  }
}
