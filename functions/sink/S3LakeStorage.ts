/** A lake in an S3 bucket (or any S3-compatible endpoint), laid out exactly as on disk. */

import {
  AbortMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Readable } from 'node:stream';
import { SinkError } from '../errors.js';
import type { IncompleteWrite, LakeStorage, StorageCallOptions, StoredObject } from './LakeStorage.js';

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
/** A timestamp S3 did not give: an invalid date, which garbage collection reads as "just now", never as old. */
const undated = () => new Date(Number.NaN);
/** A socket that sends or receives nothing for this long fails the call (the SDK default is to wait forever). */
const SOCKET_IDLE_TIMEOUT_MS = 60_000;

/** An S3 client configured from the environment, so one code path serves AWS and local servers. */
export function s3ClientFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): S3Client {
  // The SDK reads AWS_ENDPOINT_URL_S3 itself; path style must be asked for (local servers need it).
  return new S3Client({
    forcePathStyle: env.APILAKE_S3_FORCE_PATH_STYLE === 'true',
    requestHandler: { connectionTimeout: 10_000, requestTimeout: SOCKET_IDLE_TIMEOUT_MS },
  });
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

  uri(key: string): string {
    return `s3://${this.options.bucket}/${this.prefix}${key}`;
  }

  async checkWritable(): Promise<void> {
    // Nothing to create in a bucket. A wrong bucket, region or credential fails the first call of
    // every window (the listing of its commits), which also comes before any API call.
  }

  async writeStream(key: string, body: Readable, options: StorageCallOptions = {}): Promise<void> {
    const abortController = new AbortController();
    const onAbort = () => abortController.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.options.bucket, Key: this.prefix + key, Body: body, ContentType: contentType(key) },
      partSize: this.options.partSizeBytes ?? 8 * 1024 * 1024,
      queueSize: this.options.queueSize ?? 2,
      // On failure or abort lib-storage aborts the multipart upload, so no orphan parts are billed.
      leavePartsOnError: false,
      abortController,
    });
    try {
      if (options.signal?.aborted) onAbort();
      await upload.done();
    } catch (error) {
      throw this.failure('cannot write', key, error);
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  async putIfAbsent(key: string, bytes: string | Uint8Array, options: StorageCallOptions = {}): Promise<'created' | 'exists'> {
    try {
      // If-None-Match: * — S3 answers 412 when the key exists, and 409 ConditionalRequestConflict when a
      // concurrent write to the key is in progress ("on a 409 failure you should retry"):
      // https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html
      await this.client.send(
        new PutObjectCommand({ Bucket: this.options.bucket, Key: this.prefix + key, Body: bytes, ContentType: contentType(key), IfNoneMatch: '*' }),
        { abortSignal: options.signal },
      );
      return 'created';
    } catch (error) {
      if (httpStatus(error) === 412 || errorName(error) === 'PreconditionFailed') return 'exists';
      throw this.failure('cannot write', key, error);
    }
  }

  async writeBytes(key: string, bytes: string | Uint8Array, options: StorageCallOptions = {}): Promise<void> {
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.options.bucket, Key: this.prefix + key, Body: bytes, ContentType: contentType(key) }), {
        abortSignal: options.signal,
      });
    } catch (error) {
      throw this.failure('cannot write', key, error);
    }
  }

  async read(key: string, options: StorageCallOptions = {}): Promise<Buffer | undefined> {
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: this.prefix + key }), { abortSignal: options.signal });
      return Buffer.from(await response.Body!.transformToByteArray());
    } catch (error) {
      // Only a real 404 means absent. A 403 may hide a missing key (no s3:ListBucket for it) or a
      // real denial; either way it is an error, never "not committed".
      if (error instanceof NoSuchKey || errorName(error) === 'NoSuchKey') return undefined;
      throw this.failure('cannot read', key, error);
    }
  }

  async list(prefix: string, options: StorageCallOptions = {}): Promise<StoredObject[]> {
    const objects: StoredObject[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.options.bucket, Prefix: this.prefix + prefix, ContinuationToken: token }),
          { abortSignal: options.signal },
        );
        for (const object of page.Contents ?? []) {
          if (object.Key) objects.push({ key: object.Key.slice(this.prefix.length), size: object.Size ?? 0, lastModified: object.LastModified ?? undated() });
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } catch (error) {
      throw this.failure('cannot list', prefix, error);
    }
    return objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(keys: readonly string[], options: StorageCallOptions = {}): Promise<void> {
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      try {
        const result = await this.client.send(
          new DeleteObjectsCommand({ Bucket: this.options.bucket, Delete: { Objects: batch.map((key) => ({ Key: this.prefix + key })), Quiet: true } }),
          { abortSignal: options.signal },
        );
        if (result.Errors?.length) throw new Error(result.Errors.map((e) => `${e.Key}: ${e.Code}`).join(', '));
      } catch (error) {
        throw this.failure('cannot delete from', batch[0]!, error);
      }
    }
  }

  async listIncomplete(prefix: string, options: StorageCallOptions = {}): Promise<IncompleteWrite[]> {
    const writes: IncompleteWrite[] = [];
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    try {
      do {
        const page = await this.client.send(
          new ListMultipartUploadsCommand({ Bucket: this.options.bucket, Prefix: this.prefix + prefix, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }),
          { abortSignal: options.signal },
        );
        for (const upload of page.Uploads ?? []) {
          if (upload.Key && upload.UploadId) writes.push({ key: upload.Key.slice(this.prefix.length), id: upload.UploadId, startedAt: upload.Initiated ?? undated() });
        }
        keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
        uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
      } while (keyMarker);
    } catch (error) {
      throw this.failure('cannot list the unfinished uploads under', prefix, error);
    }
    return writes;
  }

  async abortIncomplete(write: IncompleteWrite, options: StorageCallOptions = {}): Promise<void> {
    try {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.options.bucket, Key: this.prefix + write.key, UploadId: write.id }), {
        abortSignal: options.signal,
      });
    } catch (error) {
      if (errorName(error) === 'NoSuchUpload') return;
      throw this.failure('cannot abort the upload of', write.key, error);
    }
  }

  private failure(what: string, key: string, error: unknown): SinkError {
    const status = httpStatus(error);
    const name = errorName(error);
    const reason = name === 'AbortError' ? 'stopped before it finished (deadline or interrupt)' : `${name ?? 'error'}${status ? ` (HTTP ${status})` : ''}: ${(error as Error).message}`;
    return new SinkError(`${what} ${this.location}${key}: ${reason}`, { cause: error, context: { key, status, name } });
  }
}

function contentType(key: string): string {
  if (key.endsWith('.gz')) return 'application/gzip';
  if (key.endsWith('.json')) return 'application/json';
  return 'text/plain';
}

function httpStatus(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

function errorName(error: unknown): string | undefined {
  return (error as { name?: string })?.name;
}
