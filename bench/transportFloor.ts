/**
 * Child-process entry: the floor of sequential paging on this machine, now: node:http page after
 * page on a kept-alive connection, the next cursor cut out of the body's tail, nothing parsed or
 * landed. What no client paging one request at a time can beat. Prints `{ms, pages}`.
 */

import { Agent, get } from 'node:http';

const { url } = JSON.parse(process.argv[2]!) as { url: string };
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
for (let path: string | undefined = '/cursor'; path; pages++) {
  const tail: string = (await fetchPage(path)).subarray(-64).toString();
  const cursor: string | undefined = /"next_cursor":"(\d+)"/.exec(tail)?.[1];
  path = cursor ? `/cursor?cursor=${cursor}` : undefined;
}
console.log(JSON.stringify({ ms: performance.now() - started, pages }));
agent.destroy();
