/** How bytes reach the lake: the only thing the filesystem and S3 sinks do differently. */

import type { Readable } from 'node:stream';

/** An object store keyed by lake-relative keys (`raw/source=…`). */
export interface LakeStorage {
  /** Where the lake lives, for messages: a folder path or `s3://bucket/prefix`. */
  readonly location: string;
  /** Streams `body` to `key`. The object becomes visible only once complete; on failure nothing is left. */
  writeStream(key: string, body: Readable): Promise<void>;
  /** Writes a small object atomically. */
  writeBytes(key: string, bytes: string | Uint8Array): Promise<void>;
  /** The object's bytes, or `undefined` when it does not exist. */
  read(key: string): Promise<Buffer | undefined>;
  /** Keys that start with `prefix`, sorted. */
  list(prefix: string): Promise<string[]>;
  /** Deletes keys; missing keys are not an error. */
  delete(keys: readonly string[]): Promise<void>;
}
