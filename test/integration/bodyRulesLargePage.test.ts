import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EARLY_LANDING_BYTES } from '../../functions/body/readPageBody.js';
import { createSourceClient } from '../../functions/engine/createSourceClient.js';
import { runWindow } from '../../functions/engine/runWindow.js';
import { EnvSecretProvider } from '../../functions/secrets/SecretProvider.js';
import { FsLakeStorage } from '../../functions/sink/FsLakeStorage.js';
import { startJsonServer, type JsonServer } from '../support/jsonServer.js';
import { listFiles, readCommittedRecords } from '../support/lakeReader.js';
import { ManualClock } from '../support/manualClock.js';
import { testSource } from '../support/sources.js';

const WINDOW = { start: new Date('2024-01-01T00:00:00Z'), end: new Date('2024-01-01T01:00:00Z') };
/** Records of ~1 KB, enough for a page twice the early-landing threshold. */
const BIG = Math.ceil((2 * EARLY_LANDING_BYTES) / 1000);

let api: JsonServer | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

describe('a response rule on a page whose records landed while it arrived', () => {
  it.each(['retry', 'ignore'] as const)('fails the window rather than %s a page some of whose records already landed; the next run lands it whole', async (action) => {
    // The records come first, the error after them: only the body's end says the page is a throttled one.
    let throttled = true;
    const records = Array.from({ length: BIG }, (_, id) => ({ id, pad: 'x'.repeat(980) }));
    api = await startJsonServer(() => ({ body: { data: records, ...(throttled ? { errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED' } }] } : {}) } }));
    const source = testSource(
      api.url,
      { path: '/big', params: {}, records: 'data' },
      { timeout_ms: 20_000, response_rules: [{ when: { status: 200, body: "errors[?extensions.code=='THROTTLED']" }, action }] },
    );
    const client = await createSourceClient(source, new EnvSecretProvider({}), { clock: new ManualClock(), random: () => 0.5 });
    const root = await mkdtemp(join(tmpdir(), 'apilake-rules-big-'));
    const storage = new FsLakeStorage(root);

    const failed = await runWindow({ source, stream: source.streams[0]!, window: WINDOW, client, storage });
    expect(failed.status).toBe('failed');
    const asks = action === 'retry' ? 'asks for the page again' : 'ignores the page';
    expect(failed.error?.message).toMatch(new RegExp(`response_rules\\[0\\] of the source: ${asks} after \\d+ of its records had landed`));
    expect(api.requests).toHaveLength(1); // not asked again within the run
    expect((await listFiles(root)).filter((k) => k.startsWith('raw/'))).toEqual([]);

    throttled = false;
    const retried = await runWindow({ source, stream: source.streams[0]!, window: WINDOW, client, storage });
    expect(retried).toMatchObject({ status: 'committed', records: BIG });
    const ids = (await readCommittedRecords(root)).map((l) => (l.data as { id: number }).id);
    expect(ids).toEqual(records.map((r) => r.id));
  });
});
