/** A lake in a local folder, laid out exactly as in S3. */

import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SinkError } from '../errors.js';
import type { LakeStorage } from './LakeStorage.js';

/** Stores lake objects as files under a root folder. */
export class FsLakeStorage implements LakeStorage {
  readonly location: string;

  constructor(root: string) {
    this.location = resolve(root);
  }

  async writeStream(key: string, body: Readable): Promise<void> {
    const target = this.pathOf(key);
    const temp = tempPathFor(target);
    try {
      await mkdir(dirname(target), { recursive: true });
      await pipeline(body, createWriteStream(temp));
      // rename is atomic within a folder: readers see the whole part or none of it.
      await rename(temp, target);
    } catch (error) {
      await rm(temp, { force: true });
      throw new SinkError(`cannot write ${target}: ${(error as Error).message}`, { cause: error, context: { key } });
    }
  }

  async writeBytes(key: string, bytes: string | Uint8Array): Promise<void> {
    const target = this.pathOf(key);
    const temp = tempPathFor(target);
    try {
      await mkdir(dirname(target), { recursive: true });
      await writeFile(temp, bytes);
      await rename(temp, target);
    } catch (error) {
      await rm(temp, { force: true });
      throw new SinkError(`cannot write ${target}: ${(error as Error).message}`, { cause: error, context: { key } });
    }
  }

  async read(key: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.pathOf(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new SinkError(`cannot read ${this.pathOf(key)}: ${(error as Error).message}`, { cause: error, context: { key } });
    }
  }

  async list(prefix: string): Promise<string[]> {
    const dir = prefix.endsWith('/') ? prefix.slice(0, -1) : dirname(prefix);
    const keys: string[] = [];
    await this.walk(dir === '.' ? '' : dir, keys);
    return keys.filter((key) => key.startsWith(prefix)).sort();
  }

  async delete(keys: readonly string[]): Promise<void> {
    await Promise.all(keys.map((key) => rm(this.pathOf(key), { force: true })));
  }

  private async walk(dir: string, into: string[]): Promise<void> {
    let entries;
    try {
      entries = await readdir(join(this.location, dir), { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new SinkError(`cannot list ${join(this.location, dir)}: ${(error as Error).message}`, { cause: error });
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue; // in-progress temp files
      const key = dir ? `${dir}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await this.walk(key, into);
      else if (entry.isFile()) into.push(key);
    }
  }

  private pathOf(key: string): string {
    const path = resolve(this.location, key);
    if (!path.startsWith(this.location + sep)) throw new SinkError(`key escapes the lake: ${key}`);
    return path;
  }
}

/** A hidden sibling, so globs over `*.jsonl.gz` never see a part being written. */
function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
}
