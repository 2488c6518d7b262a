/**
 * Writes the data files of one run of one window from the same records, in one pass: raw gzip
 * JSON-lines parts rolled at a size limit, and one typed Parquet file (`curated/`). Every key
 * carries this run's id. It decides nothing about commits: the runner hands the finished files to
 * the commit protocol (`commitProtocol.ts`).
 */

import { envelopeBytes, envelopePrefix, writeEnvelopeLines } from './envelopeChunk.js';
import type { RecordBatch } from '../body/RecordBatch.js';
import { ColumnExtractor } from '../tables/ColumnExtractor.js';
import type { CuratedTableFile } from '../tables/ParquetFileWriter.js';
import { ThreadedParquetWriter, type ThreadedParquetWriterOptions } from '../tables/ThreadedParquetWriter.js';
import type { TableSpec } from '../tables/tableSpec.js';
import { isoSeconds } from '../window/TimeWindow.js';
import type { LakeStorage, StorageCallOptions } from './LakeStorage.js';
import { partKey, type WindowRef } from './lakeLayout.js';
import type { PartInfo } from './manifest.js';
import { PartWriter, type LineFiller } from './PartWriter.js';

/** The typed values of every record of a table without typed columns. */
const NO_VALUES: readonly unknown[] = Object.freeze([]);

/** Options of a {@link WindowWriter}. */
export interface WindowWriterOptions extends StorageCallOptions {
  /** The run (attempt) writing; every key carries it. */
  readonly runId: string;
  /** Uncompressed size at which a raw part rolls over. */
  readonly partSizeBytes: number;
  /** The stream's typed table: with it, the records also land as Parquet. @default no Parquet */
  readonly table?: TableSpec;
  /** Row groups, codec. @default CuratedFileOptions' */
  readonly parquet?: CuratedFileOptions;
  /** The records hold only text (CSV, XML): an empty text is NULL in a typed column (ColumnExtractor's `textRecords`). @default false */
  readonly textRecords?: boolean;
  /**
   * The run id in this writer's keys when it differs from `runId` (the one in every envelope):
   * a window landed in slices writes each slice's files under a slice id of its own, so two
   * invocations taking up the same checkpoint never write the same key. @default runId
   */
  readonly fileRunId?: string;
  /** Number of the first raw part: a slice numbers its parts after those of the slices before. @default 0 */
  readonly firstPart?: number;
  /**
   * Roll raw parts only before a page's first records (see {@link WindowWriter.beginPage}), so every
   * part ends at a page's end and a window can stop at a part boundary and go on from the next
   * page. A part then exceeds the size limit by less than one page. @default false
   */
  readonly pageAligned?: boolean;
}

/**
 * How a window's Parquet file is written: always on the process's encoder thread, so paging never
 * waits for it, and the encoder (hyparquet-writer) ships in that thread's script only, not in the
 * function's main bundle (docs/performance.md, T6).
 */
export type CuratedFileOptions = ThreadedParquetWriterOptions;

/** What a page's records share. */
export interface RecordsMeta {
  readonly extractedAt: Date;
  /** JSON text of the parent record's key (child streams). */
  readonly parent?: string;
}

/** What a finished run wrote. */
export interface WrittenFiles {
  readonly parts: readonly PartInfo[];
  /** Present when the stream has a typed table and records arrived. */
  readonly curated?: readonly PartInfo[];
  readonly typeErrors?: Readonly<Record<string, number>>;
}

/** One Parquet file being written and uploaded at once. */
export class CuratedFile {
  readonly file: CuratedTableFile;
  private readonly upload: Promise<void>;

  constructor(
    readonly key: string,
    spec: TableSpec,
    ref: WindowRef,
    runId: string,
    storage: LakeStorage,
    options: StorageCallOptions & { parquet?: CuratedFileOptions },
  ) {
    const envelope = { windowStart: isoSeconds(ref.window.start), windowEnd: isoSeconds(ref.window.end), runId };
    this.file = new ThreadedParquetWriter(spec, envelope, options.parquet ?? {});
    this.upload = storage.writeStream(key, this.file.output, options);
    // A failed upload destroys nothing by itself: stop the writer so the next page sees it.
    this.upload.catch((error) => this.file.abort(error as Error));
  }

  async close(): Promise<PartInfo> {
    let info;
    try {
      info = await this.file.close();
    } catch (error) {
      // The caller no longer holds this file to discard it: stop the upload here, or it waits for good.
      await this.abort(error as Error);
      throw error;
    }
    await this.upload;
    return { key: this.key, records: info.rows, bytes: info.bytes, sha256: info.sha256 };
  }

  async abort(reason: Error): Promise<void> {
    this.file.abort(reason);
    await this.upload.catch(() => undefined);
  }
}

/** The data files of one run of a window. */
export class WindowWriter {
  private readonly parts: PartInfo[] = [];
  /** Every key this run started, finished or not, so a discard can remove exactly its own. */
  private readonly started: string[] = [];
  private current: PartWriter | undefined;
  private curated: CuratedFile | undefined;
  private readonly extractor: ColumnExtractor | undefined;
  private prefix: { key: string; bytes: Buffer } | undefined;
  /** The next chunk is a page's first (pageAligned). */
  private pageStart = true;
  /** Stop at the next part boundary instead of rolling (pageAligned). */
  private stopAsked = false;
  private stopped = false;

  constructor(
    private readonly storage: LakeStorage,
    private readonly ref: WindowRef,
    private readonly options: WindowWriterOptions,
  ) {
    // Typed values need each record parsed; a table without typed columns needs only its text.
    this.extractor = options.table && options.table.columns.length > 0 ? new ColumnExtractor(options.table.columns, { textRecords: options.textRecords === true }) : undefined;
  }

  /** The next records begin a page: with `pageAligned`, only they may roll the part. */
  beginPage(): void {
    this.pageStart = true;
  }

  /**
   * With `pageAligned`: at the next part boundary (before a page that would roll the part), finish
   * every file instead of rolling, and take no more records. The files then hold whole pages only.
   */
  stopAtNextPart(): void {
    this.stopAsked = true;
  }

  /** Raw parts finished so far: one more after each part boundary. */
  get finishedParts(): number {
    return this.parts.length;
  }

  /** The writer stopped at a part boundary ({@link stopAtNextPart}); its files are finished. */
  get hasStopped(): boolean {
    return this.stopped;
  }

  /**
   * Writes a batch of records to the raw part (as the API's bytes) and to the Parquet file.
   * @returns false when the writer stopped at a part boundary before this batch: none of it was written
   */
  async writeRecords(batch: RecordBatch, meta: RecordsMeta): Promise<boolean> {
    if (this.stopped) return false;
    if (batch.count === 0) return true;
    const prefix = this.envelopeFor(meta);
    const size = envelopeBytes(prefix, batch);
    if (this.stopAsked && this.rollsBefore(size)) {
      // Nothing of this page went anywhere: finish() completes the files as they are.
      this.stopped = true;
      return false;
    }
    await this.writeLines(size, batch.count, (out, at) => writeEnvelopeLines(prefix, batch, out, at));
    if (!this.options.table) return true;
    this.curated ??= this.startCurated();
    // Views into the page: the writer copies what it keeps.
    const data = new Array<Uint8Array>(batch.count);
    const values = new Array<readonly unknown[]>(batch.count);
    for (let i = 0; i < batch.count; i++) {
      data[i] = batch.bytes(i);
      values[i] = this.extractor ? this.extractor.extract(batch.value(i)) : NO_VALUES;
    }
    await this.curated.file.writePage({ extractedAt: meta.extractedAt.toISOString(), parent: meta.parent ?? null, data, values });
    return true;
  }

  /** Whether a chunk of this size would roll the current part. */
  private rollsBefore(size: number): boolean {
    if (this.options.pageAligned && !this.pageStart) return false;
    return this.current !== undefined && this.current.uncompressedBytes > 0 && this.current.uncompressedBytes + size > this.options.partSizeBytes;
  }

  /**
   * Appends complete envelope lines (`lines` of them, `size` bytes, each ending in "\n"), which
   * `fill` writes straight into the part's gzip input. A batch goes whole into one part: the part
   * rolls before a batch that would take it past the size limit, so a part exceeds the limit only
   * when a single batch does; measuring once per batch, not per record, keeps the hot path cheap.
   */
  private async writeLines(size: number, lines: number, fill: LineFiller): Promise<void> {
    if (lines === 0) return;
    if (this.rollsBefore(size)) await this.closeCurrent();
    this.pageStart = false;
    if (!this.current) {
      const key = partKey(this.ref, this.fileRunId, (this.options.firstPart ?? 0) + this.parts.length);
      this.started.push(key);
      this.current = new PartWriter(key, this.storage, { signal: this.options.signal });
    }
    await this.current.writeLines(size, lines, fill);
  }

  /** Finishes every file; each is then complete in storage. */
  async finish(): Promise<WrittenFiles> {
    await this.closeCurrent();
    await this.closeCurated();
    if (!this.curatedInfo) return { parts: this.parts, ...(this.options.table ? { curated: [] } : {}) };
    return { parts: this.parts, curated: [this.curatedInfo], ...(this.extractor ? { typeErrors: this.extractor.typeErrors } : {}) };
  }

  private curatedInfo: PartInfo | undefined;

  private async closeCurated(): Promise<void> {
    const curated = this.curated;
    this.curated = undefined;
    if (curated) this.curatedInfo = await curated.close();
  }

  private get fileRunId(): string {
    return this.options.fileRunId ?? this.options.runId;
  }

  /**
   * Stops every write in flight (an unfinished part's upload, the Parquet file). Whether the files
   * it started ({@link keys}) are then deleted is the commit protocol's decision.
   */
  async abort(reason: Error): Promise<void> {
    const part = this.current;
    this.current = undefined;
    const curated = this.curated;
    this.curated = undefined;
    await Promise.all([part?.abort(reason), curated?.abort(reason)]);
  }

  /** Keys of every file this run started. */
  get keys(): readonly string[] {
    return this.started;
  }

  private startCurated(): CuratedFile {
    const key = partKey(this.ref, this.fileRunId, 0, 'curated');
    this.started.push(key);
    return new CuratedFile(key, this.options.table!, this.ref, this.options.runId, this.storage, { signal: this.options.signal, parquet: this.options.parquet });
  }

  /** The envelope prefix of a page, built once per page (it holds the extraction time). */
  private envelopeFor(meta: RecordsMeta): Buffer {
    const key = `${meta.extractedAt.getTime()}\n${meta.parent ?? ''}`;
    if (this.prefix?.key !== key)
      this.prefix = { key, bytes: envelopePrefix(this.ref, { runId: this.options.runId, extractedAt: meta.extractedAt, ...(meta.parent !== undefined ? { parent: meta.parent } : {}) }) };
    return this.prefix.bytes;
  }

  private async closeCurrent(): Promise<void> {
    const part = this.current;
    this.current = undefined;
    if (part) this.parts.push(await part.close());
  }
}
