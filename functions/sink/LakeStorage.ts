/** How bytes reach the lake: the only thing the filesystem and S3 sinks do differently. */

import type { Readable } from 'node:stream';

/** An object as a listing shows it. */
export interface StoredObject {
  readonly key: string;
  readonly size: number;
  /** When storage last wrote it, by the storage's clock (S3 `LastModified`, file mtime); an invalid date when storage gave none. */
  readonly lastModified: Date;
}

/** A write that started and never finished: an open S3 multipart upload, or a local temp file. */
export interface IncompleteWrite {
  /** The key the write was going to create. */
  readonly key: string;
  /** What identifies it to {@link LakeStorage.abortIncomplete} (upload id or temp file name). */
  readonly id: string;
  /** When it started, by the storage's clock (S3 `Initiated`, temp file mtime); an invalid date when storage gave none. */
  readonly startedAt: Date;
}

/** Bounds a storage call: when the signal aborts, the call fails promptly instead of hanging. */
export interface StorageCallOptions {
  readonly signal?: AbortSignal;
}

/** Bounds of a listing, in key order (S3 lists keys in the binary order of their UTF-8 bytes; lake keys are ASCII). */
export interface ListOptions extends StorageCallOptions {
  /** Only keys after this one (S3 `StartAfter`: storage skips the keys before it, unread). */
  readonly startAfter?: string;
  /** Only keys before this one: the listing stops there rather than read on to the prefix's end. */
  readonly before?: string;
}

/** An object store keyed by lake-relative keys (`raw/source=…`). */
export interface LakeStorage {
  /** Where the lake lives, for messages: a folder path or `s3://bucket/prefix`. */
  readonly location: string;
  /** The key as a reader outside apilake opens it: `s3://bucket/key` or an absolute file path. */
  uri(key: string): string;
  /** Fails with a clear error, before any API call, when the lake cannot be written. */
  checkWritable(options?: StorageCallOptions): Promise<void>;
  /** Streams `body` to `key`. The object becomes visible only once complete; on failure nothing is left. */
  writeStream(key: string, body: Readable, options?: StorageCallOptions): Promise<void>;
  /**
   * Creates `key` only if no object has that key (S3 `If-None-Match: *`; on disk an exclusive
   * link). Atomic: of two concurrent calls at most one returns `created`.
   * @returns `exists` when the key was already taken (by anyone, including an earlier try of this call).
   */
  putIfAbsent(key: string, bytes: string | Uint8Array, options?: StorageCallOptions): Promise<'created' | 'exists'>;
  /** Writes a small object atomically, replacing any object of that key. */
  writeBytes(key: string, bytes: string | Uint8Array, options?: StorageCallOptions): Promise<void>;
  /**
   * The object's bytes, or `undefined` when it does not exist. On S3 a missing key reads as a
   * denial unless the caller may list it, so callers list before reading keys that may be absent.
   */
  read(key: string, options?: StorageCallOptions): Promise<Buffer | undefined>;
  /** Objects whose key starts with `prefix` (and lies within `options`' bounds), sorted by key; unfinished writes are not listed. */
  list(prefix: string, options?: ListOptions): Promise<StoredObject[]>;
  /** Deletes keys; missing keys are not an error. */
  delete(keys: readonly string[], options?: StorageCallOptions): Promise<void>;
  /** Writes under `prefix` that started and never finished. */
  listIncomplete(prefix: string, options?: StorageCallOptions): Promise<IncompleteWrite[]>;
  /** Discards an unfinished write (aborts the upload, removes the temp file). */
  abortIncomplete(write: IncompleteWrite, options?: StorageCallOptions): Promise<void>;
}
