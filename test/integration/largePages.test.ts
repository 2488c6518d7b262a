import { afterEach, describe, expect, it } from 'vitest';
import { createSourceClient } from '../../functions/engine/createSourceClient.js';
import { runWindow } from '../../functions/engine/runWindow.js';
import { EARLY_LANDING_BYTES } from '../../functions/body/readPageBody.js';
import { EnvSecretProvider } from '../../functions/secrets/SecretProvider.js';
import { startBigPageApi } from '../support/bigPageApi.js';
import { startJsonServer } from '../support/jsonServer.js';
import { listFiles, readCommittedRecords } from '../support/lakeReader.js';
import { megabyteLake } from '../support/megabyteLake.js';
import { testSource } from '../support/sources.js';

const WINDOW = { start: new Date('2024-01-01T00:00:00Z'), end: new Date('2024-01-01T01:00:00Z') };
const STREAM = { path: '/big', params: {}, records: 'data', max_page_mb: 64, pagination: { type: 'cursor', cursor: 'next', param: 'cursor' } };
/** Records of ~1 KB: this many make a page several times the early-landing threshold. */
const BIG = Math.ceil((3 * EARLY_LANDING_BYTES) / 1000);
/** The timeout covers a page's whole body: a 12 MB page takes seconds of a loaded machine, more than the usual 2 s. */
const SLOW_PAGES = { timeout_ms: 20_000 };

let closeApi: (() => Promise<void>) | undefined;
afterEach(() => closeApi?.());

describe('a page larger than the early-landing threshold', () => {
  it('lands its records while its body still arrives, every record once and in order', async () => {
    // The API holds back the last record of page 1 until a megabyte of records has been stored:
    // a client that lands a page only once its body ended would wait for it until it timed out.
    let stored!: () => void;
    const until = new Promise<void>((resolve) => (stored = resolve));
    const api = await startBigPageApi({ pages: [3, BIG, 5], hold: { page: 1, until } });
    closeApi = api.close;
    const events: string[] = [];
    const storage = await megabyteLake(events, stored);
    const source = testSource(api.url, STREAM, SLOW_PAGES);
    const client = await createSourceClient(source, new EnvSecretProvider({}));
    const result = await runWindow({ source, stream: source.streams[0]!, window: WINDOW, client, storage });
    expect(result.status).toBe('committed');
    expect(result.records).toBe(BIG + 8);
    expect(events).toEqual(['1 MB stored']);
    expect(api.requests).toEqual([1, 1, 1]); // page 1 was never asked again after a timeout
    const lines = await readCommittedRecords(storage.root);
    const seen = lines.map((l) => l.data as { page: number; id: number });
    const expected = [...[0, 1, 2].map((id) => ({ page: 0, id })), ...Array.from({ length: BIG }, (_, id) => ({ page: 1, id })), ...[0, 1, 2, 3, 4].map((id) => ({ page: 2, id }))];
    expect(seen.map(({ page, id }) => ({ page, id }))).toEqual(expected);
  });

  it('fails the window when its connection breaks after records landed and the page sent again differs; the next run lands it whole', async () => {
    // The API draws its records' text anew on each request: the page read again is another page.
    const api = await startBigPageApi({ pages: [2, BIG], cut: { page: 1, afterRecords: BIG - 10 } });
    closeApi = api.close;
    const storage = await megabyteLake([]);
    const source = testSource(api.url, STREAM, SLOW_PAGES);
    const client = await createSourceClient(source, new EnvSecretProvider({}));
    const failed = await runWindow({ source, stream: source.streams[0]!, window: WINDOW, client, storage });
    expect(failed.status).toBe('failed');
    expect(failed.error?.message).toMatch(/^the body changed while it was read again after a broken connection at byte \d+: its first \d+ bytes differ from the ones already read; .*\(page 2, GET /);
    expect(api.requests).toEqual([1, 2]); // asked once more, to continue the page, and no more
    expect((await listFiles(storage.root)).filter((k) => k.startsWith('raw/'))).toEqual([]); // nothing of it left

    const retried = await runWindow({ source, stream: source.streams[0]!, window: WINDOW, client, storage });
    expect(retried.status).toBe('committed');
    expect(retried.records).toBe(BIG + 2);
    expect((await readCommittedRecords(storage.root)).length).toBe(BIG + 2);
  });

  it('keeps a large page of an incremental stream whole: only its records inside the window land', async () => {
    // Ascending by ts: a third before the window, a third in it, a third after; ~1 KB each, so the
    // page is several times the early-landing threshold. Landing it early would skip the filter.
    const third = Math.ceil(BIG / 3);
    const at = (i: number) => new Date(WINDOW.start.getTime() - 3_600_000 + Math.floor((i * 3 * 3_600_000) / (3 * third))).toISOString();
    const records = Array.from({ length: 3 * third }, (_, i) => ({ id: i, ts: at(i), text: 'x'.repeat(1000) }));
    const inside = records.filter((r) => r.ts >= WINDOW.start.toISOString() && r.ts < WINDOW.end.toISOString());
    const api = await startJsonServer(() => ({ body: { data: records, next: null } }));
    closeApi = api.close;
    const storage = await megabyteLake([]);
    const source = testSource(api.url, { ...STREAM, incremental: { cursor_field: 'ts', order: 'asc' } }, SLOW_PAGES);
    const client = await createSourceClient(source, new EnvSecretProvider({}));
    const result = await runWindow({ source, stream: source.streams[0]!, window: WINDOW, client, storage });
    expect(result.status).toBe('committed');
    expect(inside.length).toBeGreaterThan(1000);
    expect(result.records).toBe(inside.length);
    const landed = (await readCommittedRecords(storage.root)).map((l) => (l.data as { id: number }).id);
    expect(landed).toEqual(inside.map((r) => r.id));
  });
});
