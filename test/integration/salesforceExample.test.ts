import { generateKeyPairSync } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSalesforceApi, salesforceAccounts, type SalesforceAccount, type SalesforceApi } from '../support/apis/salesforceApi.js';
import { apilake } from '../support/cli.js';
import { exampleWorkspace, expectNoSecrets } from '../support/exampleWorkspace.js';
import { readCommittedRecords, readCurrentCommits } from '../support/lakeReader.js';

const CONSUMER_KEY = '3MVG9fTLmJ60pJ5L.consumer-key-of-the-connected-app';
const USERNAME = 'integration@acme.example';
const FROM = '2024-03-01T00:00:00Z';
// 450 accounts changed per hour, 200 a batch: 3 requests a window.
const accounts = salesforceAccounts(FROM, 3, 450);

let keys: { publicKey: import('node:crypto').KeyObject; pem: string };
beforeAll(() => {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  keys = { publicKey: pair.publicKey, pem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
});
const env = () => ({ APILAKE_SECRET_APILAKE_SALESFORCE: JSON.stringify({ issuer: CONSUMER_KEY, subject: USERNAME, private_key: keys.pem }) });

let api: SalesforceApi | undefined;
afterEach(() => api?.close());

const patch = (salesforce: SalesforceApi) => (doc: Record<string, unknown>) => {
  const auth = doc.auth as Record<string, unknown>;
  auth.token_url = salesforce.tokenUrl;
  auth.audience = salesforce.login.url;
  doc.headers = { 'Sforce-Query-Options': 'batchSize=200' };
  doc.retry = { max_attempts: 1 };
};

describe('examples/salesforce.yaml against a simulation of Salesforce', () => {
  it('queries the instance the token response names, following nextRecordsUrl, landing each account once in the hour it changed', async () => {
    api = await startSalesforceApi({ consumerKey: CONSUMER_KEY, username: USERNAME, publicKey: keys.publicKey, accounts });
    const work = await exampleWorkspace('salesforce.yaml', patch(api));
    const args = ['--lake', work.lake, '--sources', work.sources];
    const run = await apilake(['backfill', 'salesforce', '--from', FROM, '--to', '2024-03-01T03:00:00Z', ...args], { cwd: work.root, env: env() });
    expect(run.code, run.stderr).toBe(0);

    const lines = await readCommittedRecords(work.lake);
    expect(lines.map((l) => (l.data as SalesforceAccount).Id).sort()).toEqual(accounts.map((a) => a.Id).sort());
    for (const line of lines) {
      const changed = Date.parse((line.data as SalesforceAccount).LastModifiedDate.replace('+0000', 'Z'));
      expect(changed).toBeGreaterThanOrEqual(Date.parse(line._window_start));
      expect(changed).toBeLessThan(Date.parse(line._window_end));
    }
    expect((await readCurrentCommits(work.lake)).map((m) => [m.window.start, m.totals.records, m.pages])).toEqual([
      ['2024-03-01T00:00:00Z', 450, 3],
      ['2024-03-01T01:00:00Z', 450, 3],
      ['2024-03-01T02:00:00Z', 450, 3],
    ]);
    // One token for the run; every query on the instance, none on the login server.
    expect(api.login.requests.map((r) => `${r.method} ${r.url.pathname}`)).toEqual(['POST /services/oauth2/token']);
    expect(api.instance.requests).toHaveLength(3 * 3);
    expect(api.instance.requests.filter((r) => r.url.search !== '').map((r) => r.url.pathname)).toEqual(Array.from({ length: 3 }, () => '/services/data/v59.0/query'));

    const query = await apilake(['query', 'SELECT count(*) AS n, count(last_modified) AS typed FROM salesforce_accounts', '--format', 'csv', ...args], { cwd: work.root });
    expect(query.stdout.trim().split('\n').at(-1)).toBe('1350,1350');
    await expectNoSecrets([...keys.pem.split('\n').filter((l) => l.length > 16 && !l.startsWith('-----')), ...api.issuedTokens], [run.stdout, run.stderr, query.stdout, query.stderr], work.lake);
  });
});
