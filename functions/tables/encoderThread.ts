/**
 * The process's Parquet encoder thread, shared by every file being written (ThreadedParquetWriter).
 * One thread, started on first use and kept: its start (about 90 ms of CPU) and the encoder's
 * compiled code are paid once per process, not once per window; a backfill of small windows
 * measured 60 % slower with a thread per file. It does not keep the process alive while no file
 * is open.
 *
 * Protocol (one port, messages in order both ways, each naming its file):
 * - main → thread: `open` (table, envelope, options), `pages` (the records of one or more pages
 *   gathered to about 256 KB: bytes and spans transferred, typed values cloned, none at all for a
 *   table without typed columns), then `close` or `abort`;
 * - thread → main: `chunk`s (file bytes, transferred) as produced, an `ack` per `pages` message
 *   taken (its bytes' buffer transferred back, for the next hand-over), then `closed` (rows,
 *   bytes, sha256) or `failed`.
 * A thread that crashes or runs out of memory fails every open file, and the next file starts a
 * new one.
 */

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { SinkError } from '../errors.js';
import type { ParquetFileInfo, ParquetFileWriterOptions, WindowEnvelope } from './ParquetFileWriter.js';
import type { TableSpec } from './tableSpec.js';

/** Main thread → encoder. */
export type ToEncoder =
  | { readonly kind: 'open'; readonly file: number; readonly spec: TableSpec; readonly envelope: WindowEnvelope; readonly options: ParquetFileWriterOptions }
  | { readonly kind: 'pages'; readonly file: number; readonly pages: readonly PageSegment[]; readonly bytes: Uint8Array; readonly spans: Uint32Array; readonly values: readonly (readonly unknown[])[] }
  | { readonly kind: 'close' | 'abort'; readonly file: number };

/** Consecutive records of one page within a `pages` message: what they share. */
export interface PageSegment {
  readonly extractedAt: string;
  readonly parent: string | null;
  readonly records: number;
}

/** Encoder → main thread. */
export type FromEncoder =
  | { readonly kind: 'chunk'; readonly file: number; readonly bytes: Uint8Array }
  | { readonly kind: 'ack'; readonly file: number; readonly bytes: number; readonly buffer: ArrayBuffer }
  | { readonly kind: 'closed'; readonly file: number; readonly info: ParquetFileInfo }
  | { readonly kind: 'failed'; readonly file: number; readonly name: string; readonly message: string };

/** What a file being written on the thread hears from it. */
export interface EncoderClient {
  receive(message: FromEncoder): void;
  /** The thread is gone (crashed, out of memory): the file cannot be finished. */
  lost(error: Error): void;
}

/**
 * The smallest row group the thread closes early, when a file's pages pause: DuckDB's vector
 * size, the least it recommends per group (duckdb.org/docs/stable/data/parquet/tips, "Selecting a
 * ROW_GROUP_SIZE").
 */
export const IDLE_GROUP_ROWS = 2048;

/** The encoder thread and the files open on it. */
export class EncoderThread {
  private readonly worker: Worker;
  private readonly files = new Map<number, EncoderClient>();
  private nextFile = 1;
  private gone: Error | undefined;

  private constructor() {
    this.worker = startWorker();
    this.worker.unref();
    this.worker.on('message', (message: FromEncoder) => this.files.get(message.file)?.receive(message));
    this.worker.on('error', (error) => this.lose(new SinkError(`the Parquet encoder thread failed: ${error.message}`, { cause: error })));
    this.worker.on('exit', (code) => this.lose(new SinkError(`the Parquet encoder thread exited (code ${code})`)));
  }

  /** Opens a file on the process's thread (started on first use, or again after one was lost). */
  static open(client: EncoderClient, spec: TableSpec, envelope: WindowEnvelope, options: ParquetFileWriterOptions): { thread: EncoderThread; file: number } {
    if (!shared || shared.gone) shared = new EncoderThread();
    const thread = shared;
    const file = thread.nextFile++;
    thread.files.set(file, client);
    // Open files keep the process alive: their owners await the thread's answers.
    if (thread.files.size === 1) thread.worker.ref();
    thread.post({ kind: 'open', file, spec, envelope, options });
    return { thread, file };
  }

  post(message: ToEncoder, transfer: ArrayBuffer[] = []): void {
    if (!this.gone) this.worker.postMessage(message, transfer);
  }

  /** The file is done (closed, failed or aborted): its messages are no longer routed. */
  release(file: number): void {
    if (this.files.delete(file) && this.files.size === 0) this.worker.unref();
  }

  private lose(error: Error): void {
    if (this.gone) return;
    this.gone = error;
    const files = [...this.files.values()];
    this.files.clear();
    for (const client of files) client.lost(error);
  }
}

let shared: EncoderThread | undefined;

/**
 * The encoder thread's V8 young generation, in MiB. Left to V8 it grows to 48 MiB (two 16 MiB
 * semi-spaces committed, a third for large objects) though little of it is live, and the
 * hyparquet-writer page buffers of a row group, dead once it is written, are freed only when a
 * collection finds them, which a smaller young generation runs sooner (docs/performance.md, "A
 * large CSV file"). 8 MiB, measured together with smaller row groups, cost about a quarter more
 * CPU; 16 MiB did not measurably.
 */
export const ENCODER_YOUNG_GENERATION_MB = 16;
const ENCODER_WORKER_OPTIONS: WorkerOptions = { resourceLimits: { maxYoungGenerationSizeMb: ENCODER_YOUNG_GENERATION_MB } };

/**
 * Starts the thread from wherever this module runs: a bundle (the function, the CLI, the
 * benchmark) ships `parquetThread.mjs` beside the file this code was bundled into; the TypeScript
 * sources (tests) load `parquetThread.ts` through tsx.
 */
function startWorker(): Worker {
  const bundled = new URL('./parquetThread.mjs', import.meta.url);
  if (existsSync(fileURLToPath(bundled))) return new Worker(bundled, ENCODER_WORKER_OPTIONS);
  const source = new URL('./parquetThread.ts', import.meta.url);
  if (!existsSync(fileURLToPath(source)))
    throw new SinkError(`the Parquet encoder thread's script is missing: neither ${fileURLToPath(bundled)} nor ${fileURLToPath(source)} exists (a bundle must ship parquetThread.mjs beside its code)`);
  return new Worker(`import('tsx/esm/api').then(({ tsImport }) => tsImport(${JSON.stringify(source.href)}, ${JSON.stringify(import.meta.url)}))`, { ...ENCODER_WORKER_OPTIONS, eval: true });
}
