/**
 * A lake in an S3 bucket (or any S3-compatible endpoint), laid out exactly as on disk. Every call
 * is bounded: an attempt fails after a time without progress (`s3Timeouts.ts`) and the SDK retries
 * it; a call that stalls on every attempt fails with a StorageStallError naming the operation and
 * the key, which the commit protocol resolves by reading back.
 */

import { AbortMultipartUploadCommand, DeleteObjectsCommand, GetObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Readable } from 'node:stream';
import { SinkError, StorageStallError } from '../errors.js';
import { IdleTimeoutHttpHandler } from './IdleTimeoutHttpHandler.js';
import type { IncompleteWrite, LakeStorage, ListOptions, StorageCallOptions, StoredObject } from './LakeStorage.js';
import { S3_IDLE_TIMEOUT_ENV, s3TimeoutsFromEnv } from './s3Timeouts.js';

/** Options of an {@link S3LakeStorage}. */
export interface S3LakeStorageOptions {
  readonly bucket: string;
  /** Prepended to every lake key, e.g. `lake/`. @default '' */
  readonly prefix?: string;
  /** @default a client from the environment (`AWS_ENDPOINT_URL_S3`, `APILAKE_S3_FORCE_PATH_STYLE`, `APILAKE_S3_IDLE_TIMEOUT_MS`) */
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
/** Reads of an object whose body stops arriving: the SDK retries a call only until its response starts. */
const BODY_ATTEMPTS = 3;
/** How long the abort of a multipart upload may take once the caller has stopped waiting for the upload. */
const ABORT_GRACE_MS = 2_000;

/**
 * An S3 client configured from the environment, so one code path serves AWS and local servers.
 * The SDK reads `AWS_ENDPOINT_URL_S3` and `AWS_MAX_ATTEMPTS` itself; path style must be asked for
 * (local servers need it).
 * @throws InputError when `APILAKE_S3_IDLE_TIMEOUT_MS` is invalid
 */
export function s3ClientFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): S3Client {
  return new S3Client({ forcePathStyle: env.APILAKE_S3_FORCE_PATH_STYLE === 'true', requestHandler: new IdleTimeoutHttpHandler(s3TimeoutsFromEnv(env)) });
}

/** Stores lake objects in S3. Parts stream through multipart uploads with bounded memory. */
export class S3LakeStorage implements LakeStorage {
  readonly location: string;
  private readonly client: S3Client;
  private readonly prefix: string;

  constructor(private readonly options: S3LakeStorageOptions) {
    this.client = options.client ?? s3ClientFromEnv();
    nameOperationsInErrors(this.client);
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
    const signal = options.signal;
    const upload = new Upload({
      client: signal ? sendingWith(this.client, signal) : this.client,
      params: { Bucket: this.options.bucket, Key: this.prefix + key, Body: body, ContentType: contentType(key) },
      partSize: this.options.partSizeBytes ?? 8 * 1024 * 1024,
      queueSize: this.options.queueSize ?? 2,
      // On any failure, a stall included, lib-storage aborts the multipart upload before done()
      // settles, so no orphan parts are billed.
      leavePartsOnError: false,
    });
    // Stopping: the calls in flight end at once (sendingWith) and so does the body, so the upload
    // fails through that same path, aborting its multipart upload.
    const onAbort = () => body.destroy(new Error(`stopped: ${String(signal?.reason)}`));
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      if (signal?.aborted) onAbort();
      await upload.done();
    } catch (error) {
      throw this.failure('cannot write', key, error, signal);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async putIfAbsent(key: string, bytes: string | Uint8Array, options: StorageCallOptions = {}): Promise<'created' | 'exists'> {
    try {
      // If-None-Match: * — S3 answers 412 when the key exists, and 409 ConditionalRequestConflict when a
      // concurrent write to the key is in progress ("on a 409 failure you should retry"):
      // https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html
      await this.client.send(new PutObjectCommand({ Bucket: this.options.bucket, Key: this.prefix + key, Body: bytes, ContentType: contentType(key), IfNoneMatch: '*' }), {
        abortSignal: options.signal,
      });
      return 'created';
    } catch (error) {
      if (httpStatus(error) === 412 || errorName(error) === 'PreconditionFailed') return 'exists';
      throw this.failure('cannot write', key, error, options.signal);
    }
  }

  async writeBytes(key: string, bytes: string | Uint8Array, options: StorageCallOptions = {}): Promise<void> {
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.options.bucket, Key: this.prefix + key, Body: bytes, ContentType: contentType(key) }), {
        abortSignal: options.signal,
      });
    } catch (error) {
      throw this.failure('cannot write', key, error, options.signal);
    }
  }

  async read(key: string, options: StorageCallOptions = {}): Promise<Buffer | undefined> {
    for (let attempt = 1; ; attempt++) {
      let body;
      try {
        body = (await this.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: this.prefix + key }), { abortSignal: options.signal })).Body!;
      } catch (error) {
        // Only a real 404 means absent. A 403 may hide a missing key (no s3:ListBucket for it) or a
        // real denial; either way it is an error, never "not committed".
        if (error instanceof NoSuchKey || errorName(error) === 'NoSuchKey') return undefined;
        throw this.failure('cannot read', key, error, options.signal);
      }
      try {
        return Buffer.from(await body.transformToByteArray());
      } catch (error) {
        if (attempt < BODY_ATTEMPTS && !options.signal?.aborted) continue;
        throw this.failure('cannot read', key, Object.assign(error as Error, { $operation: 'GetObject', $metadata: { attempts: attempt } }), options.signal);
      }
    }
  }

  async list(prefix: string, options: ListOptions = {}): Promise<StoredObject[]> {
    const objects: StoredObject[] = [];
    const startAfter = options.startAfter === undefined ? {} : { StartAfter: this.prefix + options.startAfter };
    let token: string | undefined;
    try {
      do {
        const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.options.bucket, Prefix: this.prefix + prefix, ContinuationToken: token, ...startAfter }), {
          abortSignal: options.signal,
        });
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
        for (const object of page.Contents ?? []) {
          if (!object.Key) continue;
          const key = object.Key.slice(this.prefix.length);
          if (options.before !== undefined && key >= options.before) {
            token = undefined; // keys come in order: the rest lie past the bound too
            break;
          }
          objects.push({ key, size: object.Size ?? 0, lastModified: object.LastModified ?? undated() });
        }
      } while (token);
    } catch (error) {
      throw this.failure('cannot list', prefix, error, options.signal);
    }
    return objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(keys: readonly string[], options: StorageCallOptions = {}): Promise<void> {
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      try {
        const result = await this.client.send(new DeleteObjectsCommand({ Bucket: this.options.bucket, Delete: { Objects: batch.map((key) => ({ Key: this.prefix + key })), Quiet: true } }), {
          abortSignal: options.signal,
        });
        if (result.Errors?.length) throw new Error(result.Errors.map((e) => `${e.Key}: ${e.Code}`).join(', '));
      } catch (error) {
        throw this.failure('cannot delete from', batch[0]!, error, options.signal);
      }
    }
  }

  async listIncomplete(prefix: string, options: StorageCallOptions = {}): Promise<IncompleteWrite[]> {
    const writes: IncompleteWrite[] = [];
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    try {
      do {
        const page = await this.client.send(new ListMultipartUploadsCommand({ Bucket: this.options.bucket, Prefix: this.prefix + prefix, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }), {
          abortSignal: options.signal,
        });
        for (const upload of page.Uploads ?? []) {
          if (upload.Key && upload.UploadId) writes.push({ key: upload.Key.slice(this.prefix.length), id: upload.UploadId, startedAt: upload.Initiated ?? undated() });
        }
        keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
        uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
      } while (keyMarker);
    } catch (error) {
      throw this.failure('cannot list the unfinished uploads under', prefix, error, options.signal);
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
      throw this.failure('cannot abort the upload of', write.key, error, options.signal);
    }
  }

  private failure(what: string, key: string, error: unknown, signal?: AbortSignal): SinkError {
    const status = httpStatus(error);
    const name = errorName(error);
    const operation = (error as { $operation?: string })?.$operation;
    const attempts = (error as { $metadata?: { attempts?: number } })?.$metadata?.attempts ?? 1;
    const context = { key, status, name, operation, attempts };
    if (signal?.aborted || name === 'AbortError') {
      return new SinkError(`${what} ${this.location}${key}: stopped before it finished (deadline or interrupt)`, { cause: error, context });
    }
    if (name === 'TimeoutError') {
      const handler = this.client.config.requestHandler;
      const timeouts = handler instanceof IdleTimeoutHttpHandler ? handler.timeouts : undefined;
      const problem = /without establishing a connection/.test((error as Error).message)
        ? `could not connect${timeouts ? ` within ${timeouts.connectMs / 1000} s` : ''}`
        : `stalled: no byte sent or received ${timeouts ? `for ${timeouts.idleMs / 1000} s` : 'within its timeout'}`;
      const tries = attempts === 1 ? 'on its only attempt' : `on each of ${attempts} attempts`;
      return new StorageStallError(`S3 ${operation ?? 'call'} ${this.location}${key} ${problem}, ${tries} (${S3_IDLE_TIMEOUT_ENV} sets the timeout, AWS_MAX_ATTEMPTS the attempts)`, {
        cause: error,
        context,
      });
    }
    return new SinkError(`${what} ${this.location}${key}: ${name ?? 'error'}${status ? ` (HTTP ${status})` : ''}: ${(error as Error).message}`, { cause: error, context });
  }
}

/**
 * Marks every error the client throws with the operation that failed (`PutObject`,
 * `UploadPart`…), after the SDK's retries: lib-storage's errors do not say which of its calls failed.
 */
function nameOperationsInErrors(client: S3Client): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        if (error instanceof Error && !('$operation' in error)) Object.assign(error, { $operation: context.commandName?.replace(/Command$/, '') });
        throw error;
      }
    },
    { step: 'initialize', name: 'apilakeOperationInErrors', override: true },
  );
}

/**
 * The client as an upload uses it: every call stops at once when `signal` aborts, except the
 * abort of the multipart upload, which must still reach S3, within a short grace.
 */
function sendingWith(client: S3Client, signal: AbortSignal): S3Client {
  const send = (command: Parameters<S3Client['send']>[0], options?: { abortSignal?: AbortSignal }) => {
    const abortSignal = command instanceof AbortMultipartUploadCommand ? (signal.aborted ? AbortSignal.timeout(ABORT_GRACE_MS) : undefined) : signal;
    return client.send(command, { ...options, abortSignal });
  };
  return new Proxy(client, { get: (target, property, receiver) => (property === 'send' ? send : (Reflect.get(target, property, receiver) as unknown)) });
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
