/**
 * Peer: got's pagination API (`got.paginate`), landing one gzip JSON-lines file for the window.
 * Prints `{ms, records}`.
 */

import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { createGzip } from 'node:zlib';
import got from 'got';

const { url, route } = JSON.parse(process.argv[2]!) as { url: string; route: 'pages' | 'cursor' };
type Body = { data: unknown[]; meta: { next_cursor?: string | null } };
const dir = await mkdtemp(join(tmpdir(), 'peer-got-'));
const gzip = createGzip();
const done = once(gzip.pipe(createWriteStream(join(dir, 'items.jsonl.gz'))), 'finish');
const started = performance.now();
let records = 0;
const items = got.paginate<unknown, Body>(route === 'pages' ? `${url}/pages?page=1` : `${url}/cursor`, {
  responseType: 'json',
  pagination: {
    transform: (response) => response.body.data,
    paginate: ({ response, currentItems }) => {
      if (currentItems.length === 0) return false;
      if (route === 'pages') {
        const page = Number(new URL(response.url).searchParams.get('page'));
        return { searchParams: { page: page + 1 } };
      }
      const cursor = response.body.meta.next_cursor;
      return cursor ? { searchParams: { cursor } } : false;
    },
    countLimit: Number.POSITIVE_INFINITY,
    requestLimit: 1_000_000,
  },
});
for await (const record of items) {
  records++;
  if (!gzip.write(`${JSON.stringify(record)}\n`)) await once(gzip, 'drain');
}
gzip.end();
await done;
const ms = performance.now() - started;
await rm(dir, { recursive: true, force: true });
console.log(JSON.stringify({ ms, records }));
