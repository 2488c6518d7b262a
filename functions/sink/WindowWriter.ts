/**
 * Writes the parts of one run of one window: records stream into gzip parts rolled at a size
 * limit, each under a key only this run uses. It decides nothing about commits: the runner hands
 * the finished parts to the commit protocol (`commitProtocol.ts`).
 */

import { SinkError } from '../errors.js';
import type { LakeStorage, StorageCallOptions } from './LakeStorage.js';
import { partKey, type WindowRef } from './lakeLayout.js';
import { deleteParts } from './commitProtocol.js';
import type { PartInfo } from './manifest.js';
import { PartWriter } from './PartWriter.js';

/** Options of a {@link WindowWriter}. */
export interface WindowWriterOptions extends StorageCallOptions {
  /** The run (attempt) writing; every part key carries it. */
  readonly runId: string;
  /** Uncompressed size at which a part rolls over. */
  readonly partSizeBytes: number;
}

/** The parts of one run of a window. */
export class WindowWriter {
  private readonly parts: PartInfo[] = [];
  /** Every key this run started, finished or not, so a discard can remove exactly its own. */
  private readonly started: string[] = [];
  private current: PartWriter | undefined;

  constructor(
    private readonly storage: LakeStorage,
    private readonly ref: WindowRef,
    private readonly options: WindowWriterOptions,
  ) {}

  /**
   * Appends complete envelope lines (`lines` of them, each ending in "\n"). A chunk goes whole
   * into one part: the part rolls before a chunk that would take it past the size limit, so a part
   * exceeds the limit only when a single chunk does; measuring once per chunk, not per record,
   * keeps the hot path cheap.
   */
  async writeChunk(chunk: Buffer, lines: number): Promise<void> {
    if (lines === 0) return;
    const size = chunk.length;
    if (this.current && this.current.uncompressedBytes > 0 && this.current.uncompressedBytes + size > this.options.partSizeBytes) await this.closeCurrent();
    if (!this.current) {
      const key = partKey(this.ref, this.options.runId, this.started.length);
      this.started.push(key);
      this.current = new PartWriter(key, this.storage, { signal: this.options.signal });
    }
    await this.current.write(chunk, lines, size);
  }

  /** Finishes the last part; every part is then complete in storage, listed in order. */
  async finish(): Promise<readonly PartInfo[]> {
    await this.closeCurrent();
    return this.parts;
  }

  /**
   * Removes everything this run wrote. Call only when this run's commit does not exist and never
   * will (commitProtocol I5 a): before a commit was tried, or after another run won it.
   */
  async discard(reason: Error): Promise<void> {
    const part = this.current;
    this.current = undefined;
    await part?.abort(reason);
    try {
      await deleteParts(this.storage, this.ref, this.started);
    } catch (error) {
      throw new SinkError(`could not remove this run's parts (${this.started.length}); gc removes them later: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Keys of every part this run started. */
  get keys(): readonly string[] {
    return this.started;
  }

  private async closeCurrent(): Promise<void> {
    const part = this.current;
    this.current = undefined;
    if (part) this.parts.push(await part.close());
  }
}
