import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSourceClient } from '../../functions/engine/createSourceClient.js';
import { runSource } from '../../functions/engine/runSource.js';
import { PaginationError } from '../../functions/errors.js';
import { EnvSecretProvider } from '../../functions/secrets/SecretProvider.js';
import { FsLakeStorage } from '../../functions/sink/FsLakeStorage.js';
import { startCursorCycleApi } from '../support/cursorCycleApi.js';
import { listFiles } from '../support/lakeReader.js';
import { testSource } from '../support/sources.js';

const WINDOW = { start: new Date('2024-01-01T00:00:00Z'), end: new Date('2024-01-01T01:00:00Z') };

describe('a cursor that goes round in a cycle', () => {
  it.each([
    ['A', ['A'], 'page 3 would repeat the request of page 2 (the cursor did not advance)', 2],
    ['A→B', ['A', 'B'], 'page 4 would repeat the request of page 2 (the cursor went round in a cycle of 2 pages)', 3],
    ['A→B→C', ['A', 'B', 'C'], 'page 5 would repeat the request of page 2 (the cursor went round in a cycle of 3 pages)', 4],
    ['500 cursors', Array.from({ length: 500 }, (_, i) => `c${i}`), 'page 502 would repeat the request of page 2 (the cursor went round in a cycle of 500 pages)', 501],
  ])('fails the window at the first repeat of a cycle of %s, long before max_pages, landing nothing', async (_name, cycle, message, requests) => {
    const api = await startCursorCycleApi(cycle);
    try {
      const lake = await mkdtemp(join(tmpdir(), 'apilake-cycle-'));
      const source = testSource(api.url, { path: '/items', records: 'data', pagination: { type: 'cursor', cursor: 'next', param: 'cursor' } });
      const client = await createSourceClient(source, new EnvSecretProvider({}));
      const [result] = await runSource({ source, selection: { kind: 'windows', windows: [WINDOW] }, client, storage: new FsLakeStorage(lake) });
      expect(result!.status).toBe('failed');
      expect(result!.error).toBeInstanceOf(PaginationError);
      expect(result!.error!.message).toMatch(new RegExp(`^${message.replace(/[()]/g, '\\$&')} \\(GET http://127\\.0\\.0\\.1:\\d+/items\\?since=.*&cursor=${cycle[0]}\\)$`));
      expect(api.requests()).toBe(requests);
      expect(await listFiles(lake)).toEqual([]);
    } finally {
      await api.close();
    }
  });
});
