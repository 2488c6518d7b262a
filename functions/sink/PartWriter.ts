/** Streams lines into one gzip part, measuring what the manifest needs on the way out. */

import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { PassThrough, Transform, pipeline, type TransformCallback } from 'node:stream';
import { createGzip } from 'node:zlib';
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
 * gzip level: 6, zlib's default. Level 1 would cost less CPU per record but lands files about a
 * third larger, and Athena bills the compressed bytes every query scans, forever.
 */
const GZIP_LEVEL = 6;
/**
 * Bytes handed to gzip at once. Each write to a zlib stream is a job on libuv's thread pool and a
 * callback on the main thread; measured per page (~100 KB), those round trips cost the main thread
 * more than the compression they hand off. Chunks are gathered to this size first.
 */
export const GZIP_INPUT_BYTES = 1024 * 1024;
/** zlib's output buffer: large enough that one job compresses a whole input chunk. */
const GZIP_OUTPUT_BYTES = 256 * 1024;

/** One part being written. Memory stays bounded by stream buffers whatever the part's size. */
export class PartWriter {
  /** Uncompressed bytes written so far. */
  uncompressedBytes = 0;
  records = 0;
  private readonly input = new PassThrough({ highWaterMark: GZIP_INPUT_BYTES });
  /** Chunks not yet handed to gzip, and their size. */
  private gathered: Buffer[] = [];
  private gatheredBytes = 0;
  private readonly meter = new Meter();
  private readonly upload: Promise<void>;
  private failure: Error | undefined;
  /** Rejects as soon as any stage fails, so a writer waiting for 'drain' does not hang. */
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
    pipeline(this.input, createGzip({ level: GZIP_LEVEL, chunkSize: GZIP_OUTPUT_BYTES }), this.meter, (error) => {
      if (error) this.fail(error);
    });
    this.upload = storage.writeStream(key, this.meter, options);
    this.upload.catch((error: unknown) => {
      const failure = asError(error);
      this.fail(failure);
      this.input.destroy(failure);
    });
  }

  /** Writes a chunk of complete lines (`bytes` long), waiting when the consumer is slower. */
  async write(chunk: string | Buffer, lineCount: number, bytes: number): Promise<void> {
    if (this.failure) throw this.failure;
    this.uncompressedBytes += bytes;
    this.records += lineCount;
    this.gathered.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    this.gatheredBytes += bytes;
    if (this.gatheredBytes >= GZIP_INPUT_BYTES) await this.handOver();
  }

  /** Ends the part and waits until storage holds it completely. */
  async close(): Promise<PartInfo> {
    if (this.gatheredBytes > 0 && !this.failure) this.input.write(this.takeGathered());
    this.input.end();
    await this.upload;
    if (this.failure) throw this.failure;
    return { key: this.key, records: this.records, bytes: this.meter.bytes, sha256: this.meter.hash.digest('hex') };
  }

  private async handOver(): Promise<void> {
    if (!this.input.write(this.takeGathered())) await Promise.race([once(this.input, 'drain'), this.failed]);
  }

  private takeGathered(): Buffer {
    const chunk = this.gathered.length === 1 ? this.gathered[0]! : Buffer.concat(this.gathered, this.gatheredBytes);
    this.gathered = [];
    this.gatheredBytes = 0;
    return chunk;
  }

  /** Stops the part; storage discards what it had (temp file removed, multipart aborted). */
  async abort(reason: Error): Promise<void> {
    this.fail(reason);
    this.input.destroy(reason);
    await this.upload.catch(() => undefined);
  }
}
