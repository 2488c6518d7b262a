import { afterEach, describe, expect, it } from 'vitest';
import { klaviyoEvents, startKlaviyoApi, type KlaviyoApi, type KlaviyoEvent } from '../support/apis/klaviyoApi.js';
import { apilake } from '../support/cli.js';
import { exampleWorkspace, expectNoSecrets } from '../support/exampleWorkspace.js';
import { readCommittedRecords, readCurrentCommits } from '../support/lakeReader.js';

const KEY = 'pk_1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e';
const env = (apiKey: string) => ({ APILAKE_SECRET_APILAKE_KLAVIYO: JSON.stringify({ api_key: apiKey }) });
const FROM = '2024-03-01T00:00:00Z';
// 25 events an hour, 10 a page: 3 pages a window.
const events = klaviyoEvents(FROM, 2, 25);

let api: KlaviyoApi | undefined;
afterEach(() => api?.close());

const patch = (url: string) => (doc: Record<string, unknown>) => {
  doc.base_url = url;
  doc.retry = { max_attempts: 1 };
};

describe('examples/klaviyo.yaml against a simulation of the Klaviyo API', () => {
  it('sends the bare key from the secret as Klaviyo-API-Key <key>, landing each event once in its hour, the key masked everywhere', async () => {
    api = await startKlaviyoApi({ apiKey: KEY, events, pageSize: 10 });
    const work = await exampleWorkspace('klaviyo.yaml', patch(api.url));
    const args = ['--lake', work.lake, '--sources', work.sources];
    const run = await apilake(['backfill', 'klaviyo', '--from', FROM, '--to', '2024-03-01T02:00:00Z', ...args], { cwd: work.root, env: env(KEY) });
    expect(run.code, run.stderr).toBe(0);

    const lines = await readCommittedRecords(work.lake);
    expect(lines.map((l) => (l.data as KlaviyoEvent).id)).toEqual(events.map((e) => e.id));
    for (const line of lines) {
      const at = Date.parse((line.data as KlaviyoEvent).attributes.datetime);
      expect(at).toBeGreaterThanOrEqual(Date.parse(line._window_start));
      expect(at).toBeLessThan(Date.parse(line._window_end));
    }
    expect((await readCurrentCommits(work.lake)).map((m) => [m.window.start, m.totals.records, m.pages])).toEqual([
      ['2024-03-01T00:00:00Z', 25, 3],
      ['2024-03-01T01:00:00Z', 25, 3],
    ]);
    expect(api.requests).toHaveLength(2 * 3);
    expect(new Set(api.requests.map((r) => r.headers.authorization))).toEqual(new Set([`Klaviyo-API-Key ${KEY}`]));
    await expectNoSecrets([KEY], [run.stdout, run.stderr], work.lake);
  });

  it('fails if the secret already holds the prefix, before any request, without printing the key', async () => {
    api = await startKlaviyoApi({ apiKey: KEY, events, pageSize: 10 });
    const work = await exampleWorkspace('klaviyo.yaml', patch(api.url));
    const run = await apilake(['run', 'klaviyo', '--from', FROM, '--to', '2024-03-01T01:00:00Z', '--lake', work.lake, '--sources', work.sources], {
      cwd: work.root,
      env: env(`Klaviyo-API-Key ${KEY}`),
    });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('secret "apilake/klaviyo" key "api_key" already starts with "Klaviyo-API-Key", which auth.prefix adds: store the bare api_key in the secret');
    expect(api.requests).toHaveLength(0);
    expect(`${run.stdout}${run.stderr}`).not.toContain(KEY);
  });
});
