/**
 * Child-process entry: the floor of paging on this machine, now, with node:http on kept-alive
 * connections and nothing parsed or landed. What no client can beat here. Prints `{ms, pages}`.
 * - `cursor` (T1): page after page, the next cursor cut out of the body's tail.
 * - `pages` (T2): page 1 alone (its total cut out of the body's tail), then the rest with
 *   `concurrency` requests always in flight, each next page requested as soon as any response
 *   has ended, in no order.
 */

import { Agent, get } from 'node:http';

const { url, mode = 'cursor', concurrency = 1 } = JSON.parse(process.argv[2]!) as { url: string; mode?: 'cursor' | 'pages'; concurrency?: number };
const agent = new Agent({ keepAlive: true });
const fetchPage = (path: string) =>
  new Promise<Buffer>((resolve, reject) => {
    get(`${url}${path}`, { agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks)));
      res.on('error', reject);
    }).on('error', reject);
  });
const started = performance.now();
let pages = 0;
if (mode === 'cursor') {
  for (let path: string | undefined = '/cursor'; path; pages++) {
    const tail: string = (await fetchPage(path)).subarray(-64).toString();
    const cursor: string | undefined = /"next_cursor":"(\d+)"/.exec(tail)?.[1];
    path = cursor ? `/cursor?cursor=${cursor}` : undefined;
  }
} else {
  const total = Number(/"total_pages":(\d+)/.exec((await fetchPage('/pages?page=1')).subarray(-64).toString())?.[1]);
  pages = 1;
  let next = 2;
  const lane = async () => {
    while (next <= total) {
      await fetchPage(`/pages?page=${next++}`);
      pages++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
}
console.log(JSON.stringify({ ms: performance.now() - started, pages }));
agent.destroy();
