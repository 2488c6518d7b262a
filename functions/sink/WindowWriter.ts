/**
 * Writes one window into the lake: records stream into parts rolled at a size limit, then the
 * commit removes parts of earlier attempts and writes the manifest last.
 */

import { SinkError } from '../errors.js';
import type { LakeStorage } from './LakeStorage.js';
import { manifestKey, partKey, partPrefix, type WindowRef } from './lakeLayout.js';
import type { Manifest, PartInfo } from './manifest.js';
import { PartWriter } from './PartWriter.js';

/** Options of a {@link WindowWriter}. */
export interface WindowWriterOptions {
  /** Uncompressed size at which a part rolls over. */
  readonly partSizeBytes: number;
}

/** The parts of one window being written, and its commit. */
export class WindowWriter {
  private readonly parts: PartInfo[] = [];
  private current: PartWriter | undefined;

  constructor(
    private readonly storage: LakeStorage,
    private readonly ref: WindowRef,
    private readonly options: WindowWriterOptions,
  ) {}

  /**
   * Appends one page of envelope lines (each ending in "\n"). A page goes whole into one part:
   * the part rolls before a page that would take it past the size limit, so a part exceeds the
   * limit only when a single page does; measuring once per page, not per record, keeps the hot
   * path cheap.
   */
  async writeLines(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return;
    const chunk = lines.join('');
    const size = Buffer.byteLength(chunk);
    if (this.current && this.current.uncompressedBytes > 0 && this.current.uncompressedBytes + size > this.options.partSizeBytes) await this.closeCurrent();
    this.current ??= new PartWriter(partKey(this.ref, this.parts.length), this.storage);
    await this.current.write(chunk, lines.length, size);
  }

  /** Finishes the last part, deletes parts an earlier attempt left behind, then writes the manifest. */
  async commit(build: (parts: readonly PartInfo[]) => Manifest): Promise<Manifest> {
    if (this.current) await this.closeCurrent();
    const produced = new Set(this.parts.map((p) => p.key));
    const stale = (await this.storage.list(partPrefix(this.ref))).filter((key) => !produced.has(key));
    if (stale.length > 0) await this.storage.delete(stale);
    const manifest = build(this.parts);
    await this.storage.writeBytes(manifestKey(this.ref), `${JSON.stringify(manifest, null, 2)}\n`);
    return manifest;
  }

  /**
   * Abandons the window: the part in progress is discarded and every part of the window is
   * removed, so an uncommitted window shows nothing to queries. Best effort: a crash before
   * this runs leaves parts that the next successful attempt of the window replaces.
   */
  async abort(reason: Error): Promise<void> {
    await this.current?.abort(reason);
    this.current = undefined;
    try {
      await this.storage.delete(await this.storage.list(partPrefix(this.ref)));
    } catch (error) {
      throw new SinkError(`could not remove the parts of a failed window under ${partPrefix(this.ref)}: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Parts closed so far. */
  get closedParts(): readonly PartInfo[] {
    return this.parts;
  }

  private async closeCurrent(): Promise<void> {
    const part = this.current;
    this.current = undefined;
    if (part) this.parts.push(await part.close());
  }
}
