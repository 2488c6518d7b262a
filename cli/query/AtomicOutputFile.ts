/**
 * A file written whole or not at all: the content goes to a temporary file in the target's
 * folder (`.<name>.<random>.apilake-tmp`), which is flushed to disk and then moved to the target
 * in one step. A crash or a kill never leaves a half file under the target's name; the temporary
 * file is removed when the write fails, and when the process exits before the move (a stop
 * signal stops the command cleanly, cli/interrupt.ts, and a second one exits at once). Only
 * SIGKILL (or a power loss) can leave it behind.
 */

import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { link, lstat, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { InputError } from '../../functions/index.js';
import { streamSink, type TextSink } from './textSink.js';

/** Errors of link(2) on a filesystem without hard links. */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/** An output file being written; {@link commit} or {@link discard} ends it. */
export class AtomicOutputFile {
  private handle: FileHandle | undefined;
  private textStream: ReturnType<FileHandle['createWriteStream']> | undefined;
  private finished = false;
  private readonly removeNow = () => {
    try {
      unlinkSync(this.tempPath);
    } catch {
      // already gone
    }
  };

  private constructor(
    /** The path the content ends at. */
    readonly target: string,
    /** The temporary file the content is written to, beside the target. */
    readonly tempPath: string,
    handle: FileHandle,
  ) {
    this.handle = handle;
    process.on('exit', this.removeNow);
  }

  /** Creates the temporary file beside `target` (which is not touched until {@link commit}). */
  static async create(target: string): Promise<AtomicOutputFile> {
    const tempPath = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.apilake-tmp`);
    // `wx`: the name is this process's alone, even if another one raced for it.
    return new AtomicOutputFile(target, tempPath, await open(tempPath, 'wx'));
  }

  /** A sink writing text to the temporary file, with back-pressure. */
  textSink(): TextSink {
    // The stream owns the handle from here: it closes it when it ends.
    this.textStream ??= this.handle!.createWriteStream();
    return streamSink(this.textStream);
  }

  /** Closes the temporary file, so another writer (DuckDB's COPY) may write it by its path. */
  async release(): Promise<void> {
    await this.closeHandle();
  }

  /**
   * Flushes the content to disk and moves it to the target: with `force` replacing whatever file
   * is there, else only if no file appeared there meanwhile (link(2), which fails if the name is
   * taken).
   * @throws InputError when the target exists and `force` is not set; the temporary file is then removed
   */
  async commit(options: { force: boolean }): Promise<void> {
    await this.closeHandle();
    const flushed = await open(this.tempPath, 'r');
    try {
      await flushed.sync();
    } finally {
      await flushed.close();
    }
    try {
      if (options.force) await rename(this.tempPath, this.target);
      else await this.moveIfAbsent();
    } catch (error) {
      await this.discard();
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new InputError(`--out ${this.target} exists (it appeared while the query ran); add --force to replace it`, { cause: error });
      throw error;
    }
    this.finished = true;
    this.unhook();
    await syncFolder(dirname(this.target));
  }

  /** Removes the temporary file. */
  async discard(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    await this.closeHandle().catch(() => undefined);
    await unlink(this.tempPath).catch(() => undefined);
    this.unhook();
  }

  private async moveIfAbsent(): Promise<void> {
    try {
      await link(this.tempPath, this.target);
    } catch (error) {
      if (!NO_HARD_LINKS.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
      // No hard links here: check, then rename (a file created in between would be replaced).
      if (
        await lstat(this.target).then(
          () => true,
          () => false,
        )
      )
        throw Object.assign(new Error(`${this.target} exists`), { code: 'EEXIST' });
      await rename(this.tempPath, this.target);
      return;
    }
    await unlink(this.tempPath);
  }

  private async closeHandle(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    const stream = this.textStream;
    this.textStream = undefined;
    if (!stream) return handle?.close();
    if (stream.destroyed) return;
    const closed = once(stream, 'close');
    stream.end();
    await closed;
  }

  private unhook(): void {
    process.off('exit', this.removeNow);
  }
}

/** Makes the rename durable where the platform allows a folder to be flushed. */
async function syncFolder(folder: string): Promise<void> {
  try {
    const handle = await open(folder, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Not every platform or filesystem can flush a folder; the rename itself is done.
  }
}
