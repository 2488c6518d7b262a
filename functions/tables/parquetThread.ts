/**
 * Entry of the Parquet encoder thread (see ThreadedParquetWriter.ts, which starts it and owns the
 * protocol). It runs one {@link ParquetFileWriter} and nothing else: pages arrive as record bytes,
 * the file's bytes go back as they are produced, each buffer transferred, never copied twice.
 *
 * Row groups close at the writer's size limits, and also early when pages stop coming for a
 * moment and the group holds at least {@link IDLE_GROUP_ROWS} records. What is left when the file
 * closes is then encoded while the main thread waits: early groups keep that small when paging is
 * slow (latency-bound), and records arriving fast still fill groups to the size limit.
 */

import { parentPort, workerData } from 'node:worker_threads';
import { ParquetFileWriter } from './ParquetFileWriter.js';
import { IDLE_GROUP_ROWS, type EncoderData, type FromEncoder, type ToEncoder } from './ThreadedParquetWriter.js';

/** No page for this long is "idle". Pages of a CPU-bound window come far faster. */
const IDLE_MS = 5;

const port = parentPort;
if (!port) throw new Error('parquetThread.ts is the entry of a worker thread; ThreadedParquetWriter starts it');

const { spec, envelope, options } = workerData as EncoderData;
const post = (message: FromEncoder, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);
const file = new ParquetFileWriter(spec, envelope, options);
file.output.on('data', (chunk: Buffer) => {
  // A chunk may share its ArrayBuffer (Node's pool): transfer a copy that owns its own.
  const bytes = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength ? new Uint8Array(chunk.buffer) : new Uint8Array(chunk);
  post({ kind: 'chunk', bytes }, [bytes.buffer as ArrayBuffer]);
});

// Work is done strictly in order; the first failure ends it. The main thread terminates this
// thread once it has `closed` or `failed`, every message before it delivered.
let queue: Promise<void> = Promise.resolve();
let failed = false;
let idle: NodeJS.Timeout | undefined;
const run = (work: () => Promise<void>) => {
  queue = queue.then(async () => {
    if (failed) return;
    try {
      await work();
    } catch (error) {
      failed = true;
      clearTimeout(idle);
      const { name, message } = error as Error;
      post({ kind: 'failed', name, message });
    }
  });
};

port.on('message', (message: ToEncoder) => {
  clearTimeout(idle);
  if (message.kind === 'close') return run(async () => post({ kind: 'closed', info: await file.close() }));
  run(async () => {
    const data = new Array<Uint8Array>(message.spans.length >>> 1);
    for (let i = 0; i < data.length; i++) data[i] = message.bytes.subarray(message.spans[2 * i]!, message.spans[2 * i + 1]!);
    await file.writePage({ extractedAt: message.extractedAt, parent: message.parent, data, values: message.values });
    post({ kind: 'ack', bytes: message.bytes.byteLength });
  });
  run(async () => {
    clearTimeout(idle);
    idle = setTimeout(() => run(async () => void (await file.closeGroupIfAtLeast(IDLE_GROUP_ROWS))), IDLE_MS);
  });
});
