/**
 * Memory of a large CSV download: a server streams one CSV file of `--mib` MiB (default 2048),
 * generated as it is sent, and a child process lands it as one window with the engine, as
 * `apilake run` does; the child reports its peak RSS. The target (docs/performance.md): a file of
 * any size lands with memory bounded by the part size, under 300 MiB for 2 GiB. The child starts
 * with the deployed function's process environment (FUNCTION_PROCESS_ENVIRONMENT), or, with
 * `--plain`, with this process's alone.
 *
 *   npx tsx bench/csvMemory.ts [--mib 2048] [--gzip] [--no-parquet] [--plain]
 */

import { createServer } from 'node:http';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { createGzip } from 'node:zlib';
import { buildBench } from './buildBench.js';
import { runJson } from './children.js';
import { FUNCTION_PROCESS_ENVIRONMENT } from '../functions/index.js';
import type { Landing } from './landWindow.js';

const args = process.argv.slice(2);
const mib = Number(args[args.indexOf('--mib') + 1] || 2048) || 2048;
const gzip = args.includes('--gzip');
const parquet = !args.includes('--no-parquet');
const plain = args.includes('--plain');

const HEADER = 'Id,Name,AnnualRevenue,LastModifiedDate,Description\r\n';
/** A row of about 200 bytes: quoted fields with commas, doubled quotes and a line break. */
const row = (i: number) =>
  `001${String(i).padStart(15, '0')},"Account ${i}, ""Ltd.""",${i % 97}000.50,2024-01-01T00:${String(i % 60).padStart(2, '0')}:00.000+0000,"Line one\r\nline two of a description padded to length ${'x'.repeat(60)}"\r\n`;
const rowBytes = Buffer.byteLength(row(1));
const rows = Math.floor((mib * 1024 * 1024) / rowBytes);

const server = createServer((request, response) => {
  response.writeHead(200, { 'content-type': gzip ? 'application/gzip' : 'text/csv' });
  const out = gzip ? createGzip({ level: 1 }) : response;
  if (gzip) out.pipe(response);
  let i = 0;
  const write = () => {
    while (i < rows) {
      // 256 rows a write: few enough syscalls that the server keeps up with the landing.
      const chunk = Array.from({ length: Math.min(256, rows - i) }, () => row(++i)).join('');
      if (!out.write(i === 256 || i === Math.min(256, rows) ? HEADER + chunk : chunk)) return void out.once('drain', write);
    }
    out.end();
  };
  write();
  request.resume();
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as { port: number };

const children = await buildBench();
const landing = await runJson<Landing>(
  process.execPath,
  [children.landWindow, JSON.stringify({ url: `http://127.0.0.1:${port}`, stream: { path: '/accounts.csv', format: 'csv', max_page_mb: 1 }, concurrency: 1, parquet })],
  { env: plain ? process.env : { ...process.env, ...FUNCTION_PROCESS_ENVIRONMENT } },
);
server.close();
const result = { mib, gzip, parquet, environment: plain ? 'plain' : FUNCTION_PROCESS_ENVIRONMENT, rows, ...landing, mibPerSecond: mib / (landing.ms / 1000) };
if (result.records !== rows) throw new Error(`landed ${result.records} records, expected ${rows}`);
console.log(JSON.stringify(result, null, 2));
await writeFile(fileURLToPath(new URL('./csv-memory-results.json', import.meta.url)), `${JSON.stringify(result, null, 2)}\n`);
