/** Streams lines into one gzip part, measuring what the manifest needs on the way out. */

import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { PassThrough, Transform, pipeline, type TransformCallback } from 'node:stream';
import { createGzip } from 'node:zlib';
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

/** One part being written. Memory stays bounded by stream buffers whatever the part's size. */
export class PartWriter {
  /** Uncompressed bytes written so far. */
  uncompressedBytes = 0;
  records = 0;
  private readonly input = new PassThrough();
  private readonly meter = new Meter();
  private readonly upload: Promise<void>;
  private failure: unknown;
  /** Rejects as soon as any stage fails, so a writer waiting for 'drain' does not hang. */
  private readonly failed: Promise<never>;
  private fail!: (error: unknown) => void;

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
    pipeline(this.input, createGzip({ level: 6 }), this.meter, (error) => {
      if (error) this.fail(error);
    });
    this.upload = storage.writeStream(key, this.meter, options);
    this.upload.catch((error) => {
      this.fail(error);
      this.input.destroy(error as Error);
    });
  }

  /** Writes a chunk of complete lines (`bytes` long), waiting when the consumer is slower. */
  async write(chunk: string | Buffer, lineCount: number, bytes: number): Promise<void> {
    if (this.failure) throw this.failure;
    this.uncompressedBytes += bytes;
    this.records += lineCount;
    if (!this.input.write(chunk)) await Promise.race([once(this.input, 'drain'), this.failed]);
  }

  /** Ends the part and waits until storage holds it completely. */
  async close(): Promise<PartInfo> {
    this.input.end();
    await this.upload;
    if (this.failure) throw this.failure;
    return { key: this.key, records: this.records, bytes: this.meter.bytes, sha256: this.meter.hash.digest('hex') };
  }

  /** Stops the part; storage discards what it had (temp file removed, multipart aborted). */
  async abort(reason: Error): Promise<void> {
    this.fail(reason);
    this.input.destroy(reason);
    await this.upload.catch(() => undefined);
  }
}
