/**
 * An API whose cursor goes round in a cycle, as a buggy or hostile API does: `?cursor=<c>` answers
 * one record and `next` = the cursor after `c` in `cycle` (wrapping around). The first request
 * (no cursor) answers `next` = `cycle[0]`. Counts every request it served.
 */

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A running cycling API. */
export interface CursorCycleApi {
  readonly url: string;
  requests(): number;
  close(): Promise<void>;
}

/** Starts the API on 127.0.0.1 with a free port. */
export async function startCursorCycleApi(cycle: readonly string[]): Promise<CursorCycleApi> {
  let served = 0;
  const server = createServer((req, res) => {
    served++;
    const cursor = new URL(req.url ?? '/', 'http://local').searchParams.get('cursor');
    const next = cursor === null ? cycle[0] : cycle[(cycle.indexOf(cursor) + 1) % cycle.length];
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ data: [{ id: served, cursor }], next }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => served,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
