/**
 * Entry of the Parquet encoder thread (encoderThread.ts starts it and owns the protocol). It runs
 * one {@link ParquetFileWriter} per open file and nothing else: pages arrive as record bytes, each
 * file's bytes go back as they are produced, every buffer transferred, never copied twice.
 *
 * Row groups close at the writer's size limits, and also early when a file's pages stop coming
 * for a moment and its group holds at least {@link IDLE_GROUP_ROWS} records. What is left when a
 * file closes is encoded while the window waits to commit: early groups keep that small when
 * paging is slow (latency-bound), and records arriving fast still fill groups to the size limit.
 */

import { parentPort } from 'node:worker_threads';
import { IDLE_GROUP_ROWS, type FromEncoder, type ToEncoder } from './encoderThread.js';
import { ParquetFileWriter } from './ParquetFileWriter.js';

/** The typed values of a record of a table without typed columns. */
const NO_VALUES: readonly unknown[] = Object.freeze([]);

/** No page for this long is "idle". Pages of a CPU-bound window come far faster. */
const IDLE_MS = 5;

const port = parentPort;
if (!port) throw new Error('parquetThread.ts is the entry of a worker thread; encoderThread.ts starts it');

/** One file being written: its work runs strictly in order; its first failure ends it. */
interface OpenFile {
  readonly writer: ParquetFileWriter;
  queue: Promise<void>;
  idle?: NodeJS.Timeout;
}

const files = new Map<number, OpenFile>();
const post = (message: FromEncoder, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

function run(id: number, work: (file: OpenFile) => Promise<void> | void): void {
  const file = files.get(id);
  if (!file) return; // failed or aborted: its remaining messages mean nothing
  file.queue = file.queue.then(async () => {
    if (files.get(id) !== file) return;
    try {
      await work(file);
    } catch (error) {
      drop(id);
      const { name, message } = error as Error;
      post({ kind: 'failed', file: id, name, message });
    }
  });
}

function drop(id: number): void {
  const file = files.get(id);
  if (!file) return;
  clearTimeout(file.idle);
  files.delete(id);
}

port.on('message', (message: ToEncoder) => {
  const id = message.file;
  clearTimeout(files.get(id)?.idle);
  switch (message.kind) {
    case 'open': {
      let writer: ParquetFileWriter;
      try {
        writer = new ParquetFileWriter(message.spec, message.envelope, message.options);
      } catch (error) {
        // Thrown here, it would end the thread and every other file open on it.
        const { name, message: text } = error as Error;
        post({ kind: 'failed', file: id, name, message: text });
        return;
      }
      writer.output.on('data', (chunk: Buffer) => {
        // A chunk may share its ArrayBuffer (Node's pool): transfer a copy that owns its own.
        const bytes = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength ? new Uint8Array(chunk.buffer) : new Uint8Array(chunk);
        post({ kind: 'chunk', file: id, bytes }, [bytes.buffer as ArrayBuffer]);
      });
      files.set(id, { writer, queue: Promise.resolve() });
      return;
    }
    case 'pages':
      run(id, async ({ writer }) => {
        let at = 0;
        for (const { extractedAt, parent, records } of message.pages) {
          const data = new Array<Uint8Array>(records);
          for (let i = 0; i < records; i++) data[i] = message.bytes.subarray(message.spans[2 * (at + i)], message.spans[2 * (at + i) + 1]);
          // A table without typed columns gets no values: each record's row of them is empty.
          const values = message.values.length === 0 ? new Array<readonly unknown[]>(records).fill(NO_VALUES) : message.values.slice(at, at + records);
          await writer.writePage({ extractedAt, parent, data, values });
          at += records;
        }
        // The writer copied every record it keeps: the buffer goes back to be filled again.
        const { buffer } = message.bytes;
        post({ kind: 'ack', file: id, bytes: message.bytes.byteLength, buffer: buffer as ArrayBuffer }, [buffer as ArrayBuffer]);
      });
      run(id, (file) => {
        clearTimeout(file.idle);
        file.idle = setTimeout(() => run(id, async ({ writer }) => void (await writer.closeGroupIfAtLeast(IDLE_GROUP_ROWS))), IDLE_MS);
      });
      return;
    case 'close':
      run(id, async ({ writer }) => {
        const info = await writer.close();
        drop(id);
        post({ kind: 'closed', file: id, info });
      });
      return;
    case 'abort': {
      const file = files.get(id);
      drop(id);
      file?.writer.abort(new Error('aborted by its window'));
      return;
    }
  }
});
