/**
 * An API whose pages are large and generated as they are sent (cursor paging, `next` in the
 * body after the records), for tests of pages that land while they arrive. It can cut the
 * connection partway through a page's body, once or every time.
 */

import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { listenOnLoopback } from './listenOnLoopback.js';

/** Options of {@link startBigPageApi}. */
export interface BigPageApiOptions {
  /** Records per page, one list per page. */
  readonly pages: readonly number[];
  /** Bytes of filler text in each record. @default 1000 */
  readonly recordBytes?: number;
  /** Cut the connection of this page (0-based) after this many records were sent, on its first request only. */
  readonly cut?: { readonly page: number; readonly afterRecords: number };
  /** Send the last record of this page only once `until` resolves. */
  readonly hold?: { readonly page: number; readonly until: Promise<void> };
}

/** Record `id` of page `page` as the API sends it: random text, so gzip cannot shrink it to nothing. */
export function bigRecord(page: number, id: number, recordBytes = 1000): string {
  return JSON.stringify({ page, id, text: randomBytes(Math.ceil((recordBytes * 3) / 4)).toString('base64') });
}

/** Starts the API; `requests` counts the requests of each page. */
export async function startBigPageApi(options: BigPageApiOptions) {
  const requests: number[] = options.pages.map(() => 0);
  const server = createServer((req, res) => {
    const page = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('cursor') ?? 0);
    requests[page] = (requests[page] ?? 0) + 1;
    const count = options.pages[page] ?? 0;
    res.writeHead(200, { 'content-type': 'application/json' });
    let id = 0;
    const cut = options.cut?.page === page && requests[page] === 1 ? options.cut.afterRecords : Number.POSITIVE_INFINITY;
    res.write('{"data":[');
    let held = options.hold?.page === page;
    const pump = () => {
      // Writes until the socket pushes back, then waits for it to drain: generated as it is read.
      while (id < count) {
        if (id >= cut) return void res.socket?.destroy();
        if (held && id === count - 1) {
          held = false;
          return void options.hold!.until.then(pump);
        }
        const more = res.write(`${id > 0 ? ',' : ''}${bigRecord(page, id, options.recordBytes)}`);
        id++;
        if (!more) return void res.once('drain', pump);
      }
      res.end(`],"next":${page + 1 < options.pages.length ? page + 1 : null}}`);
    };
    pump();
  });
  const { port, close } = await listenOnLoopback(server);
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close,
  };
}
