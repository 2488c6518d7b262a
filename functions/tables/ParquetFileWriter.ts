/**
 * Streams one Parquet file of a window's curated table: pages of records go in, compressed bytes
 * come out of {@link ParquetFileWriter.output} as they are produced, so the caller can pipe them
 * to a file or an S3 multipart upload. Memory is bounded by one row group (rolled at
 * `rowGroupRows` records or `rowGroupBytes` of `data` text, whichever comes first), whatever the
 * window's size: the file is never held whole.
 *
 * Encoding is hyparquet-writer's (pure JavaScript, about 100 KB bundled, no WebAssembly): chosen
 * by measurement against parquet-wasm and @dsnp/parquetjs, see bench/parquet.ts.
 */

import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { PassThrough, type Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import { SinkError } from '../errors.js';
import { checkPage } from './checkPage.js';
import { ParquetFileGuard } from './ParquetFileGuard.js';
import { parquetSchema } from './parquetSchema.js';
import { curatedColumns, ENVELOPE_COLUMNS, type TableSpec } from './tableSpec.js';

/** Compression of the data pages. Athena and DuckDB read all four. */
export const PARQUET_CODECS = ['SNAPPY', 'ZSTD', 'GZIP', 'UNCOMPRESSED'] as const;
/** A compression codec of {@link PARQUET_CODECS}. */
export type ParquetCodec = (typeof PARQUET_CODECS)[number];

/** Options of a {@link ParquetFileWriter}. */
export interface ParquetFileWriterOptions {
  /**
   * A row group closes at this many records.
   * @default 100_000
   */
  readonly rowGroupRows?: number;
  /**
   * A row group closes once its records' `data` texts reach this many UTF-8 bytes: the bound on
   * memory. Peak RSS grows by roughly 10× this whatever the window's size (encoding garbage
   * included; bench/parquet.ts measures it), e.g. about 165 MiB at the default.
   * @default 16 MiB
   */
  readonly rowGroupBytes?: number;
  /**
   * Page compression. ZSTD needs Node ≥ 22.15 (zlib's native zstd, as on Lambda's nodejs22.x):
   * there it is both faster than hyparquet-writer's JavaScript snappy and about a third smaller
   * (bench/parquet.ts). Without it GZIP (zlib, native, at {@link GZIP_LEVEL}): on Node 20 the
   * encoder thread closed a 2,000-row group of ~1 KB records in 50–59 ms at level 6 against 92–107 ms
   * with the JavaScript snappy, which the thread compiles cold, and the file was 38 % smaller
   * (docs/performance.md, T1).
   * @default 'ZSTD' where the runtime has it, else 'GZIP'
   */
  readonly codec?: ParquetCodec;
  /**
   * Bytes buffered before a chunk is written to {@link ParquetFileWriter.output}.
   * @default 1 MiB
   */
  readonly chunkBytes?: number;
}

/** What every record of the window shares. */
export interface WindowEnvelope {
  /** Window start, ISO 8601 UTC as in the JSON envelope (`2024-01-01T00:00:00Z`). */
  readonly windowStart: string;
  readonly windowEnd: string;
  readonly runId: string;
}

/** One page of records, as the engine has it after extraction. */
export interface CuratedPage {
  /** When the page was received, ISO 8601 UTC. */
  readonly extractedAt: string;
  /** JSON text of the parent record's key, for child streams. @default null */
  readonly parent?: string | null;
  /** The exact JSON of each record: text, or its UTF-8 bytes (copied: views into a page body are fine). */
  readonly data: readonly (string | Uint8Array)[];
  /** Each record's typed values, from {@link ColumnExtractor.extract}, in the same order as `data`. */
  readonly values: readonly (readonly unknown[])[];
}

/** The finished file, as a manifest lists it. */
export interface ParquetFileInfo {
  readonly rows: number;
  readonly rowGroups: number;
  /** Size of the file in bytes. */
  readonly bytes: number;
  /** Hex SHA-256 of the file's bytes. */
  readonly sha256: string;
}

// zlib gained zstd in Node 22.15 / 23.8 (nodejs.org/api/zlib.html, zlib.zstdCompressSync).
const zstdCompressSync = (zlib as unknown as { zstdCompressSync?: (input: Uint8Array, options: { params: Record<number, number> }) => Buffer }).zstdCompressSync;
const ZSTD_C_COMPRESSION_LEVEL = (zlib.constants as unknown as { ZSTD_c_compressionLevel?: number }).ZSTD_c_compressionLevel;

/**
 * The zstd level of ZSTD pages. On pages of ~1 MiB, level 1 took 55–60 % of the CPU of zstd's
 * default 3 and wrote files no larger: 1.3 against 2.4 µs a KB for ~1 KB event records (16.6× against
 * 16.3×), 1.5 against 2.7 for records carrying random tokens (3.6× both), 2.9 against 7.1 for
 * arrays of decimals (2.3× against 2.2×) (Node 22.23, best of 6 interleaved runs, 2026-12-07).
 */
export const ZSTD_LEVEL = 1;

/**
 * The deflate level of GZIP pages. On ~1 KB JSON records level 2 took half the encoder thread's CPU
 * of zlib's default 6 (4.4–4.9 against 9.3–9.8 µs a record, all of the encoding included) for files
 * 12 % larger (94 against 84 bytes a record): compression was most of the thread's work.
 */
export const GZIP_LEVEL = 2;

/**
 * The uncompressed size a data page closes at: just under 1 MiB. hyparquet-writer builds each page
 * in a buffer that starts at 1 KiB and doubles as it fills, so a page that ends a little past a
 * power of two doubles once more: pages of its default 1 MiB, which end a record past it, grew to
 * 2 MiB, allocating 4 MiB and copying 2 MiB for every 1 MiB of records. A page 64 KiB short of it
 * stops at 1 MiB (2 MiB allocated, 1 MiB copied) unless its last record is over 64 KiB.
 */
export const DATA_PAGE_BYTES = 1024 * 1024 - 64 * 1024;

/** The `data` texts of a row group are copied into slabs of this size (one larger for a larger record). */
const DATA_SLAB_BYTES = 1024 * 1024;

/** The codec used when none is asked for: ZSTD where the runtime has it, else GZIP (both native zlib). */
export const DEFAULT_CODEC: ParquetCodec = zstdCompressSync ? 'ZSTD' : 'GZIP';

const DEFAULTS: Required<ParquetFileWriterOptions> = { rowGroupRows: 100_000, rowGroupBytes: 16 * 1024 * 1024, codec: DEFAULT_CODEC, chunkBytes: 1024 * 1024 };

/**
 * What writes a window's Parquet file, on this thread ({@link ParquetFileWriter}) or on an encoder
 * thread (`ThreadedParquetWriter`): pages in, the file's bytes out of {@link output}.
 */
export interface CuratedTableFile {
  /** The file's bytes, in order; ends when {@link close} has written the footer. */
  readonly output: Readable;
  /** Appends one page; call one at a time, awaiting each. */
  writePage(page: CuratedPage): Promise<void>;
  /** Writes the rest and the footer, ends {@link output}, and describes the file. */
  close(): Promise<ParquetFileInfo>;
  /** Stops the file: {@link output} is destroyed with `reason`, so an upload reading it aborts. */
  abort(reason: Error): void;
}

/**
 * Writes one Parquet file on the calling thread.
 * @example
 * ```ts
 * const file = new ParquetFileWriter(spec, { windowStart, windowEnd, runId });
 * const upload = storage.writeStream(key, file.output);
 * await file.writePage({ extractedAt, data: texts, values: records.map((r) => extractor.extract(r)) });
 * const info = await file.close();
 * await upload;
 * ```
 */
export class ParquetFileWriter implements CuratedTableFile {
  /** The file's bytes, in order; ends when {@link close} has written the footer. */
  readonly output: Readable;
  private readonly sink = new PassThrough({ highWaterMark: DEFAULTS.chunkBytes });
  private readonly writer: ParquetWriter;
  private readonly bytes: StreamByteWriter;
  private readonly hash = createHash('sha256');
  private readonly options: Required<ParquetFileWriterOptions>;
  private readonly typedCount: number;
  private group: GroupBuffer;
  /** Slabs of row groups already written, filled again by the next: their memory is not faulted in anew. */
  private readonly spareSlabs: Buffer[] = [];
  private rows = 0;
  private rowGroups = 0;
  private readonly guard: ParquetFileGuard;
  /** Rejects as soon as the output fails, so a writer waiting for 'drain' does not hang. */
  private readonly failed: Promise<never>;

  constructor(
    private readonly spec: TableSpec,
    private readonly envelope: WindowEnvelope,
    options: ParquetFileWriterOptions = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
    let rejectFailed!: (failure: Error) => void;
    this.failed = new Promise<never>((_, reject) => {
      rejectFailed = reject;
    });
    this.failed.catch(() => undefined);
    this.guard = new ParquetFileGuard(spec.name, rejectFailed);
    this.output = this.sink;
    this.typedCount = spec.columns.length;
    this.group = new GroupBuffer(this.typedCount, this.spareSlabs);
    this.sink.on('error', (error) => this.guard.fail(error));
    this.sink.on('close', () => {
      if (!this.sink.writableFinished) this.guard.fail(new SinkError(`the output of the Parquet file of ${spec.name} closed before the file was finished`));
    });
    this.bytes = new StreamByteWriter(this.options.chunkBytes, (chunk) => {
      this.hash.update(chunk);
      this.sink.write(chunk);
    });
    this.writer = new ParquetWriter({
      writer: this.bytes,
      schema: parquetSchema(curatedColumns(spec)),
      codec: this.options.codec,
      compressors: compressorsFor(this.options.codec),
      createdBy: 'apilake (hyparquet-writer)',
      kvMetadata: [{ key: 'apilake.columns', value: JSON.stringify(spec.columns.map((c) => ({ name: c.name, path: c.path, type: c.type }))) }],
    });
  }

  /**
   * Appends one page. Resolves once the page is buffered, or, when it closed a row group, once
   * the row group's bytes were accepted by the output (backpressure). Call one at a time.
   * @throws SinkError when the output failed or the writer was closed
   */
  writePage(page: CuratedPage): Promise<void> {
    return this.guard.call(async () => {
      this.check();
      checkPage(this.spec, page);
      const parent = page.parent ?? null;
      for (let i = 0; i < page.data.length; i++) {
        this.group.add(page.extractedAt, parent, page.data[i]!, page.values[i]!);
        if (this.group.rows >= this.options.rowGroupRows || this.group.bytes >= this.options.rowGroupBytes) await this.flushGroup();
      }
    });
  }

  /**
   * Writes the row group being filled now, if it holds at least `minRows` records: an encoder
   * with nothing else to do closes a group early, so less is left to encode when the file closes.
   * @returns whether a row group was written
   */
  closeGroupIfAtLeast(minRows: number): Promise<boolean> {
    return this.guard.call(async () => {
      this.check();
      if (this.group.rows === 0 || this.group.rows < minRows) return false;
      await this.flushGroup();
      return true;
    });
  }

  /** Writes the last row group and the footer, ends {@link output}, and describes the file. */
  close(): Promise<ParquetFileInfo> {
    return this.guard.call(async () => {
      this.check();
      if (this.group.rows > 0) await this.flushGroup();
      await this.writer.finish();
      this.guard.close();
      this.sink.end();
      if (!this.sink.writableFinished) await Promise.race([once(this.sink, 'finish'), this.failed]);
      this.check();
      return { rows: this.rows, rowGroups: this.rowGroups, bytes: this.bytes.offset, sha256: this.hash.digest('hex') };
    });
  }

  /** Stops the file: the output is destroyed with `reason`, so an upload reading it aborts. */
  abort(reason: Error): void {
    this.guard.abort(reason);
    this.sink.destroy(reason);
  }

  private async flushGroup(): Promise<void> {
    const group = this.group;
    this.group = new GroupBuffer(this.typedCount, this.spareSlabs);
    const constant = (value: string) => new Array<string>(group.rows).fill(value);
    const envelope: unknown[][] = [
      constant(this.spec.source),
      constant(this.spec.stream),
      constant(this.envelope.windowStart),
      constant(this.envelope.windowEnd),
      group.extractedAt,
      constant(this.envelope.runId),
      group.parent,
      group.data,
    ];
    const columnData = [
      ...ENVELOPE_COLUMNS.map((c, i) =>
        // `data` is unique per record: a dictionary cannot pay and min/max of JSON text helps no query.
        c.name === 'data' ? { name: c.name, data: envelope[i]!, encoding: 'PLAIN' as const, statistics: false } : { name: c.name, data: envelope[i]! },
      ),
      ...this.spec.columns.map((c, j) => ({ name: c.name, data: group.typed[j]! })),
    ];
    try {
      await this.writer.write({ columnData, rowGroupSize: group.rows, pageSize: DATA_PAGE_BYTES });
    } catch (error) {
      // A row group half written leaves the file unusable: refuse every later call.
      throw this.guard.fail(new SinkError(`cannot encode a row group of ${this.spec.name}: ${(error as Error).message}`, { cause: error }));
    }
    // The group's pages are encoded into buffers of their own: its slabs hold nothing still read.
    this.spareSlabs.push(...group.slabs());
    await this.drain();
    this.rows += group.rows;
    this.rowGroups++;
  }

  private async drain(): Promise<void> {
    this.bytes.emitBuffered();
    this.check();
    if (this.sink.writableNeedDrain) await Promise.race([once(this.sink, 'drain'), this.failed]);
    this.check();
  }

  private check(): void {
    // A destroyed output reports its error on the next tick; do not write on until then.
    if (this.sink.destroyed && !this.guard.isClosed) this.guard.fail(this.sink.errored ?? this.guard.outputDestroyed());
    this.guard.check();
  }
}

/** The rows of the row group being filled, column by column. */
class GroupBuffer {
  rows = 0;
  /** UTF-8 bytes of `data` so far. */
  bytes = 0;
  readonly extractedAt: string[] = [];
  readonly parent: (string | null)[] = [];
  /** UTF-8 bytes of each record, views into {@link slab}s that this group owns. */
  readonly data: Uint8Array[] = [];
  readonly typed: unknown[][];
  private slab: Buffer = Buffer.alloc(0);
  private slabUsed = 0;
  private readonly filled: Buffer[] = [];

  /** @param spare slabs to fill before allocating new ones (each {@link DATA_SLAB_BYTES}) */
  constructor(
    typedCount: number,
    private readonly spare: Buffer[],
  ) {
    this.typed = Array.from({ length: typedCount }, () => []);
  }

  /** The slabs of {@link DATA_SLAB_BYTES} this group filled, to be filled again once it is written. */
  slabs(): Buffer[] {
    return this.filled.filter((slab) => slab.length === DATA_SLAB_BYTES);
  }

  add(extractedAt: string, parent: string | null, data: string | Uint8Array, values: readonly unknown[]): void {
    this.extractedAt.push(extractedAt);
    this.parent.push(parent);
    const bytes = typeof data === 'string' ? this.copyText(data) : this.copyBytes(data);
    this.data.push(bytes);
    for (let j = 0; j < values.length; j++) this.typed[j]!.push(values[j]);
    this.rows++;
    this.bytes += bytes.length;
  }

  // Copies, not views: a view would keep its whole page body alive until the group is written,
  // and the encoder thread's hand-over buffers go back to be filled again. Into slabs rather than
  // a buffer each: one allocation per MiB of records instead of one per record.
  private copyBytes(data: Uint8Array): Uint8Array {
    const at = this.reserve(data.length);
    this.slab.set(data, at);
    return this.slab.subarray(at, at + data.length);
  }

  private copyText(text: string): Uint8Array {
    const at = this.reserve(Buffer.byteLength(text, 'utf8'));
    const length = this.slab.write(text, at, 'utf8');
    return this.slab.subarray(at, at + length);
  }

  /** Room for `length` bytes in the current slab, a new one if it is full; returns where they go. */
  private reserve(length: number): number {
    if (this.slabUsed + length > this.slab.length) {
      // Not zero-filled: every byte handed out is written first.
      this.slab = (length <= DATA_SLAB_BYTES ? this.spare.pop() : undefined) ?? Buffer.allocUnsafeSlow(Math.max(DATA_SLAB_BYTES, length));
      this.filled.push(this.slab);
      this.slabUsed = 0;
    }
    const at = this.slabUsed;
    this.slabUsed += length;
    return at;
  }
}

/** hyparquet-writer's byte sink, emitting a chunk each time `chunkBytes` have accumulated. */
class StreamByteWriter extends ByteWriter {
  constructor(
    private readonly chunkBytes: number,
    private readonly emit: (chunk: Buffer) => void,
  ) {
    super(chunkBytes + 64 * 1024);
  }

  override ensure(size: number): void {
    if (this.index >= this.chunkBytes) this.emitBuffered();
    super.ensure(size);
  }

  /** Hands everything buffered to the output. */
  emitBuffered(): void {
    if (this.index === 0) return;
    this.emit(Buffer.from(this.buffer.slice(0, this.index)));
    this.index = 0;
  }

  override finish(): void {
    this.emitBuffered();
  }
}

/** The page compressor hyparquet-writer is given for `codec` (none for SNAPPY, its own, and UNCOMPRESSED). */
export function compressorsFor(codec: ParquetCodec): Partial<Record<ParquetCodec, (input: Uint8Array) => Uint8Array>> {
  if (codec === 'GZIP') return { GZIP: (input) => zlib.gzipSync(input, { level: GZIP_LEVEL }) };
  if (codec === 'ZSTD') {
    const zstd = zstdCompressSync;
    const level = ZSTD_C_COMPRESSION_LEVEL;
    if (!zstd || level === undefined) throw new SinkError(`Parquet codec ZSTD needs Node ≥ 22.15 (this is ${process.version}); use SNAPPY or GZIP`);
    const params = { [level]: ZSTD_LEVEL };
    return { ZSTD: (input) => zstd(input, { params }) };
  }
  return {};
}
