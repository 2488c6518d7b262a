/** A lake in an S3 bucket (or any S3-compatible endpoint), laid out exactly as on disk. */

import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Readable } from 'node:stream';
import { SinkError } from '../errors.js';
import type { LakeStorage } from './LakeStorage.js';

/** Options of an {@link S3LakeStorage}. */
export interface S3LakeStorageOptions {
  readonly bucket: string;
  /** Prepended to every lake key, e.g. `lake/`. @default '' */
  readonly prefix?: string;
  /** @default a client from the environment (`AWS_ENDPOINT_URL_S3`, `APILAKE_S3_FORCE_PATH_STYLE`) */
  readonly client?: S3Client;
  /**
   * Size of each multipart chunk. Memory held by an upload is about `queueSize × partSizeBytes`.
   * @default 8 MiB
   */
  readonly partSizeBytes?: number;
  /** Chunks uploaded in parallel. @default 2 */
  readonly queueSize?: number;
}

const DELETE_BATCH = 1000;

/** An S3 client configured from the environment, so one code path serves AWS and local servers. */
function s3ClientFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): S3Client {
  // The SDK reads AWS_ENDPOINT_URL_S3 itself; path style must be asked for (local servers need it).
  return new S3Client({ forcePathStyle: env.APILAKE_S3_FORCE_PATH_STYLE === 'true' });
}

/** Stores lake objects in S3. Parts stream through multipart uploads with bounded memory. */
export class S3LakeStorage implements LakeStorage {
  readonly location: string;
  private readonly client: S3Client;
  private readonly prefix: string;

  constructor(private readonly options: S3LakeStorageOptions) {
    this.client = options.client ?? s3ClientFromEnv();
    this.prefix = options.prefix ?? '';
    this.location = `s3://${options.bucket}/${this.prefix}`;
  }

  async writeStream(key: string, body: Readable): Promise<void> {
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.options.bucket, Key: this.prefix + key, Body: body, ContentType: 'application/gzip' },
      partSize: this.options.partSizeBytes ?? 8 * 1024 * 1024,
      queueSize: this.options.queueSize ?? 2,
      // On failure lib-storage aborts the multipart upload, so no orphan parts are billed.
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (error) {
      throw new SinkError(`cannot write ${this.location}${key}: ${(error as Error).message}`, { cause: error, context: { key } });
    }
  }

  async writeBytes(key: string, bytes: string | Uint8Array): Promise<void> {
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.options.bucket, Key: this.prefix + key, Body: bytes, ContentType: 'application/json' }));
    } catch (error) {
      throw new SinkError(`cannot write ${this.location}${key}: ${(error as Error).message}`, { cause: error, context: { key } });
    }
  }

  async read(key: string): Promise<Buffer | undefined> {
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: this.prefix + key }));
      return Buffer.from(await response.Body!.transformToByteArray());
    } catch (error) {
      if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') return undefined;
      throw new SinkError(`cannot read ${this.location}${key}: ${(error as Error).message}`, { cause: error, context: { key } });
    }
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.options.bucket, Prefix: this.prefix + prefix, ContinuationToken: token }),
        );
        for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key.slice(this.prefix.length));
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } catch (error) {
      throw new SinkError(`cannot list ${this.location}${prefix}: ${(error as Error).message}`, { cause: error });
    }
    return keys.sort();
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      try {
        const result = await this.client.send(
          new DeleteObjectsCommand({ Bucket: this.options.bucket, Delete: { Objects: batch.map((key) => ({ Key: this.prefix + key })), Quiet: true } }),
        );
        if (result.Errors?.length) throw new Error(result.Errors.map((e) => `${e.Key}: ${e.Code}`).join(', '));
      } catch (error) {
        throw new SinkError(`cannot delete from ${this.location}: ${(error as Error).message}`, { cause: error });
      }
    }
  }
}
