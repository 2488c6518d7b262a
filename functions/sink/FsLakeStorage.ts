/**
 * A lake in a local folder, laid out exactly as in S3. Every object is written to a hidden temp
 * file, flushed, then renamed (or, for a conditional create, hard-linked) into place, so readers
 * see a whole object or none, even after kill -9.
 */

import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { link, lstat, mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InputError, SinkError } from '../errors.js';
import type { IncompleteWrite, LakeStorage, ListOptions, StorageCallOptions, StoredObject } from './LakeStorage.js';

/** `.part-00000.jsonl.gz.3fa9c2d4b1e0.tmp` → the hidden temp file of `part-00000.jsonl.gz`. */
const TEMP_FILE = /^\.(.+)\.[0-9a-f]{12}\.tmp$/;

/** Stores lake objects as files under a root folder. */
export class FsLakeStorage implements LakeStorage {
  readonly location: string;
  /** Folders known to exist, so the hot path does not stat them again for every part. */
  private readonly madeDirs = new Set<string>();

  constructor(root: string) {
    this.location = resolve(root);
  }

  uri(key: string): string {
    return this.pathOf(key);
  }

  /** @throws InputError: the `--lake` given cannot hold a lake, which no retry fixes. */
  async checkWritable(): Promise<void> {
    const probe = join(this.location, `.apilake-probe-${randomBytes(6).toString('hex')}.tmp`);
    try {
      await this.ensureDir(this.location);
      await writeFile(probe, '');
    } catch (error) {
      const why = error instanceof SinkError ? error.message : this.failure('cannot write to', this.location, error).message;
      throw new InputError(`the lake folder cannot be used: ${why}`, { cause: error });
    } finally {
      await rm(probe, { force: true }).catch(() => undefined);
    }
  }

  async writeStream(key: string, body: Readable, options: StorageCallOptions = {}): Promise<void> {
    const target = this.pathOf(key);
    const temp = tempPathFor(target);
    try {
      await this.ensureDir(dirname(target));
      await pipeline(body, createWriteStream(temp), { signal: options.signal });
      await syncFile(temp);
      // rename is atomic within a folder: readers see the whole part or none of it.
      await rename(temp, target);
      await syncDir(dirname(target));
    } catch (error) {
      await rm(temp, { force: true });
      throw this.failure('cannot write', target, error, key);
    }
  }

  async putIfAbsent(key: string, bytes: string | Uint8Array, options: StorageCallOptions = {}): Promise<'created' | 'exists'> {
    // link() fails with EEXIST when the target exists: an atomic create-if-absent, unlike rename.
    return this.placeSmall(key, bytes, options, link);
  }

  async writeBytes(key: string, bytes: string | Uint8Array, options: StorageCallOptions = {}): Promise<void> {
    await this.placeSmall(key, bytes, options, rename);
  }

  /** Writes a flushed temp file, then puts it at `key` with `place` (link: only if absent; rename: replacing). */
  private async placeSmall(key: string, bytes: string | Uint8Array, options: StorageCallOptions, place: (from: string, to: string) => Promise<void>): Promise<'created' | 'exists'> {
    const target = this.pathOf(key);
    const temp = tempPathFor(target);
    try {
      options.signal?.throwIfAborted();
      await this.ensureDir(dirname(target));
      await writeFile(temp, bytes, { flush: true });
      await place(temp, target);
      await syncDir(dirname(target));
      return 'created';
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return 'exists';
      throw this.failure('cannot write', target, error, key);
    } finally {
      await rm(temp, { force: true }).catch(() => undefined);
    }
  }

  async read(key: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.pathOf(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw this.failure('cannot read', this.pathOf(key), error, key);
    }
  }

  async list(prefix: string, options: ListOptions = {}): Promise<StoredObject[]> {
    const entries = await this.walkPrefix(prefix);
    const objects: StoredObject[] = [];
    for (const { key, name, path } of entries) {
      if (name.startsWith('.')) continue; // writes in progress and probes
      if ((options.startAfter !== undefined && key <= options.startAfter) || (options.before !== undefined && key >= options.before)) continue;
      try {
        const info = await stat(path);
        objects.push({ key, size: info.size, lastModified: info.mtime });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw this.failure('cannot list', path, error);
      }
    }
    return objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(keys: readonly string[]): Promise<void> {
    await Promise.all(
      keys.map(async (key) => {
        try {
          await rm(this.pathOf(key), { force: true });
        } catch (error) {
          throw this.failure('cannot delete', this.pathOf(key), error, key);
        }
      }),
    );
  }

  async listIncomplete(prefix: string): Promise<IncompleteWrite[]> {
    const writes: IncompleteWrite[] = [];
    for (const { key, name, path } of await this.walkPrefix(prefix, true)) {
      const target = TEMP_FILE.exec(name)?.[1];
      if (!target) continue;
      try {
        const info = await lstat(path);
        writes.push({ key: join(dirname(key), target).split(sep).join('/'), id: key, startedAt: info.mtime });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw this.failure('cannot list', path, error);
      }
    }
    return writes;
  }

  async abortIncomplete(write: IncompleteWrite): Promise<void> {
    if (!TEMP_FILE.test(basename(write.id))) throw new SinkError(`not a temp file of the lake: ${write.id}`);
    await rm(this.pathOf(write.id), { force: true });
  }

  /** Files under the folder of `prefix` whose key starts with it; temp files too when asked. */
  private async walkPrefix(prefix: string, hidden = false): Promise<{ key: string; name: string; path: string }[]> {
    const dir = prefix.endsWith('/') ? prefix.slice(0, -1) : dirname(prefix);
    const out: { key: string; name: string; path: string }[] = [];
    await this.walk(dir === '.' ? '' : dir, out);
    return out.filter((e) => {
      if (e.name.startsWith('.')) {
        const target = hidden ? TEMP_FILE.exec(e.name)?.[1] : undefined;
        return target !== undefined && join(dirname(e.key), target).split(sep).join('/').startsWith(prefix);
      }
      return e.key.startsWith(prefix);
    });
  }

  private async walk(dir: string, into: { key: string; name: string; path: string }[]): Promise<void> {
    const path = join(this.location, dir);
    let entries;
    try {
      entries = await readdir(path, { withFileTypes: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw this.failure('cannot list', path, error);
    }
    for (const entry of entries) {
      const key = dir ? `${dir}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await this.walk(key, into);
      else if (entry.isFile()) into.push({ key, name: entry.name, path: join(path, entry.name) });
    }
  }

  /**
   * Creates a folder and its missing parents one level at a time. Node's recursive mkdir loops
   * forever on some paths (it spins at full CPU on `/proc/x`); this fails at the first level the
   * file system refuses, with that level named.
   */
  private async ensureDir(dir: string): Promise<void> {
    if (this.madeDirs.has(dir)) return;
    const missing: string[] = [];
    for (let at = dir; ; at = dirname(at)) {
      try {
        const info = await stat(at);
        if (!info.isDirectory()) throw new SinkError(`cannot create the lake folder ${dir}: ${at} exists and is not a folder`);
        break;
      } catch (error) {
        if (error instanceof SinkError) throw error;
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOTDIR') throw new SinkError(`cannot create the lake folder ${dir}: a parent of ${at} is a file, not a folder`, { cause: error });
        if (code !== 'ENOENT') throw this.failure('cannot create the lake folder', at, error);
        if (dirname(at) === at) throw new SinkError(`cannot create the lake folder ${dir}: no existing parent folder`, { cause: error });
        missing.push(at);
      }
    }
    for (const level of missing.reverse()) {
      try {
        await mkdir(level);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') continue; // another run made it first
        if (code === 'ENOENT') throw new SinkError(`cannot create the lake folder ${level}: the file system does not allow folders there`, { cause: error });
        throw this.failure('cannot create the lake folder', level, error);
      }
    }
    this.madeDirs.add(dir);
  }

  private pathOf(key: string): string {
    const path = resolve(this.location, key);
    if (!path.startsWith(this.location + sep)) throw new SinkError(`key escapes the lake: ${key}`);
    return path;
  }

  /** A SinkError that names the real cause in words, not only an errno. */
  private failure(what: string, path: string, error: unknown, key?: string): SinkError {
    if (error instanceof SinkError) return error;
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'EROFS'
        ? `the lake ${this.location} is on a read-only file system`
        : code === 'EACCES' || code === 'EPERM'
          ? `permission denied (the lake ${this.location} is not writable by this user)`
          : code === 'ENOSPC'
            ? `no space left on the device that holds ${this.location}`
            : code === 'EDQUOT'
              ? `disk quota exceeded on the device that holds ${this.location}`
              : code === 'EFBIG'
                ? 'file too large for this file system or process limit (ulimit -f)'
                : code === 'ABORT_ERR'
                  ? 'stopped before it finished'
                  : (error as Error).message;
    return new SinkError(`${what} ${path}: ${reason}`, { cause: error, context: { key, code } });
  }
}

/** A hidden sibling, so nothing that lists the folder sees a part being written. */
function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Flushes a file's data to the device, so a manifest never outlives the parts it lists after a power loss. */
async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Flushes a folder's entries (a rename or link is durable only once its folder is). */
async function syncDir(path: string): Promise<void> {
  let handle;
  try {
    handle = await open(path, 'r');
    await handle.sync();
  } catch {
    // Some file systems cannot fsync a folder; the rename itself is still atomic.
  } finally {
    await handle?.close();
  }
}
