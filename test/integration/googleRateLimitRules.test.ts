import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSourceClient } from '../../functions/engine/createSourceClient.js';
import { runWindowSlice } from '../../functions/engine/runWindowSlice.js';
import { EnvSecretProvider } from '../../functions/secrets/SecretProvider.js';
import { FsLakeStorage } from '../../functions/sink/FsLakeStorage.js';
import { activitiesEvery, startGoogleReportsApi, type Activity, type GoogleApi } from '../support/apis/googleApi.js';
import { exampleSource } from '../support/exampleSource.js';
import { landRange } from '../support/landRange.js';
import { listFiles, readCommittedRecords, readCurrentCommits } from '../support/lakeReader.js';
import { ManualClock } from '../support/manualClock.js';

const CLIENT_EMAIL = 'apilake@acme-reports.iam.gserviceaccount.com';
let keys: { publicKey: KeyObject; pem: string; env: Record<string, string> };
beforeAll(() => {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  keys = { publicKey: pair.publicKey, pem, env: { APILAKE_SECRET_APILAKE_GOOGLE: JSON.stringify({ client_email: CLIENT_EMAIL, private_key: pem, subject: 'admin@example.com' }) } };
});

let lake: string;
let api: GoogleApi | undefined;
beforeEach(async () => {
  lake = await mkdtemp(join(tmpdir(), 'apilake-google-'));
});
afterEach(async () => {
  await api?.close();
  api = undefined;
});

/** examples/google_reports.yaml pointed at the simulation, 50 activities a page. */
const source = (patch: { user?: string; scope?: string } = {}) =>
  exampleSource('google_reports.yaml', (doc) => {
    doc.base_url = api!.url;
    const auth = doc.auth as Record<string, unknown>;
    auth.token_url = `${api!.url}/token`;
    if (patch.scope) auth.scope = patch.scope;
    if (patch.user) doc.vars = { user: patch.user };
    const stream = doc.streams[0]!;
    stream.params = { ...(stream.params as object), maxResults: 50 };
  });

describe('examples/google_reports.yaml against the Admin SDK Reports API', () => {
  const activities = activitiesEvery('2024-03-01T00:00:00Z', 14_000, 250);
  const range = () => ({ from: '2024-03-01T00:00:00Z', to: '2024-03-01T01:00:00Z', env: keys.env, random: () => 0.5 });
  const clock = () => new ManualClock(Date.parse('2024-03-02T00:00:00Z'));

  it('retries 403 userRateLimitExceeded with backoff and lands every activity once', async () => {
    const time = clock();
    api = await startGoogleReportsApi({ activities, serviceAccount: { clientEmail: CLIENT_EMAIL, publicKey: keys.publicKey }, clock: time, perSecond: 2 });
    const [result] = await landRange(await source(), lake, { ...range(), clock: time });
    const limited = api.statuses.filter((s) => s === 403).length;
    expect(limited).toBeGreaterThan(0);
    expect(api.statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(result).toMatchObject({ status: 'committed', records: 250, pages: 5, retries: limited, throttled: limited });
    const ids = (await readCommittedRecords(lake)).map((l) => (l.data as Activity).id.uniqueQualifier);
    expect(new Set(ids).size).toBe(250);
    expect([...ids].sort()).toEqual(activities.map((a) => a.id.uniqueQualifier).sort());
    // Each retry waited its backoff on the clock.
    expect(time.sleeps.length).toBeGreaterThanOrEqual(limited);
    const secrets = [keys.pem.split('\n')[1]!, ...api.issued.keys()];
    for (const file of await listFiles(lake)) {
      const text = await readFile(join(lake, file), 'utf8');
      for (const secret of secrets) expect(text).not.toContain(secret);
    }
  });

  it('fails at once on a 403 that is not a rate limit, quoting Google’s message', async () => {
    const time = clock();
    api = await startGoogleReportsApi({ activities, serviceAccount: { clientEmail: CLIENT_EMAIL, publicKey: keys.publicKey }, clock: time, perSecond: 2 });
    const [result] = await landRange(await source({ scope: 'https://www.googleapis.com/auth/admin.directory.user.readonly' }), lake, { ...range(), clock: time });
    expect(result!.status).toBe('failed');
    expect(result!.error?.message).toMatch(/HTTP 403.*Request had insufficient authentication scopes/);
    expect(api.statuses).toEqual([403]);
    for (const token of api.issued.keys()) expect(result!.error?.message).not.toContain(token);
  });

  it('commits a window whose answer a rule ignores (an unknown user) as empty, counted in the manifest', async () => {
    const time = clock();
    api = await startGoogleReportsApi({ activities, serviceAccount: { clientEmail: CLIENT_EMAIL, publicKey: keys.publicKey }, clock: time, perSecond: 10 });
    const [result] = await landRange(await source({ user: 'gone@example.com' }), lake, { ...range(), clock: time });
    expect(result).toMatchObject({ status: 'committed', records: 0, pages: 1 });
    expect(api.statuses).toEqual([404]);
    const [manifest] = await readCurrentCommits(lake);
    expect(manifest!.ignored_pages).toBe(1);
  });

  it('counts the ignored page in the manifest of a window landed by a durable slice too', async () => {
    const time = clock();
    api = await startGoogleReportsApi({ activities, serviceAccount: { clientEmail: CLIENT_EMAIL, publicKey: keys.publicKey }, clock: time, perSecond: 10 });
    const src = await source({ user: 'gone@example.com' });
    const client = await createSourceClient(src, new EnvSecretProvider(keys.env), { clock: time, random: () => 0.5 });
    const window = { start: new Date(range().from), end: new Date(range().to) };
    const outcome = await runWindowSlice({ source: src, stream: src.streams[0]!, window, client, storage: new FsLakeStorage(lake), clock: time, stopWhen: () => true });
    expect(outcome).toMatchObject({ kind: 'done', result: { status: 'committed', records: 0, pages: 1 } });
    const [manifest] = await readCurrentCommits(lake);
    expect(manifest!.ignored_pages).toBe(1);
  });
});
