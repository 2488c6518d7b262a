/**
 * Peer: a plain Node loop, as one would write it by hand: fetch page after page (`/pages?page=N`
 * or `/cursor?cursor=…`), JSON.parse, one gzip JSON-lines file for the window. Prints `{ms, records}`.
 */

import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { createGzip } from 'node:zlib';

const { url, route } = JSON.parse(process.argv[2]!) as { url: string; route: 'pages' | 'cursor' };
const dir = await mkdtemp(join(tmpdir(), 'peer-fetch-'));
const gzip = createGzip();
const done = once(gzip.pipe(createWriteStream(join(dir, 'items.jsonl.gz'))), 'finish');
const started = performance.now();
let records = 0;
let next: string | null = route === 'pages' ? `${url}/pages?page=1` : `${url}/cursor`;
for (let page = 1; next; page++) {
  const response = await fetch(next);
  const body = (await response.json()) as { data: unknown[]; meta: { next_cursor?: string | null } };
  if (body.data.length === 0) break;
  let lines = '';
  for (const record of body.data) lines += `${JSON.stringify(record)}\n`;
  records += body.data.length;
  if (!gzip.write(lines)) await once(gzip, 'drain');
  next = route === 'pages' ? `${url}/pages?page=${page + 1}` : body.meta.next_cursor ? `${url}/cursor?cursor=${body.meta.next_cursor}` : null;
}
gzip.end();
await done;
const ms = performance.now() - started;
await rm(dir, { recursive: true, force: true });
console.log(JSON.stringify({ ms, records }));
