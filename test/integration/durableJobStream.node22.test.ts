/**
 * A job stream (a bulk export: create the job, poll it, download its results) through the
 * deployed durable function, on the durable execution SDK's local runner with moto's S3 and
 * dynalite's idempotency table: the window lands in one slice, its job record beside it until the
 * commit, exactly as `apilake run` lands it.
 */

import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EnvSecretProvider } from '../../functions/secrets/SecretProvider.js';
import { snapshotStream } from '../../functions/sink/lakeSnapshot.js';
import { accountsEvery, startSalesforceBulkApi, type SalesforceBulkApi } from '../support/apis/salesforceBulkApi.js';
import { durableDeps, durableRunner, useDurableTestbed } from '../support/durableTestbed.js';
import { exampleSource } from '../support/exampleSource.js';
import { ManualClock } from '../support/manualClock.js';

const TOKEN = '00Dtest!sf_token_0123456789';
const bed = useDurableTestbed();
let api: SalesforceBulkApi;
const accounts = accountsEvery('2024-03-01T00:00:00Z', 37 * 60_000, 100);
beforeAll(async () => {
  api = await startSalesforceBulkApi({ accounts, token: TOKEN, pollsUntilDone: 1 });
});
afterAll(async () => api.close());

it('lands a Salesforce Bulk API 2.0 window as the durable function: one job, its records once, nothing left over', async () => {
  const source = await exampleSource('salesforce_bulk.yaml', (doc) => {
    doc.base_url = api.url;
  });
  const { deps, storage } = await durableDeps(bed, source, {
    secrets: new EnvSecretProvider({ APILAKE_SECRET_APILAKE_SALESFORCE: JSON.stringify({ token: TOKEN }) }),
    // The job's polls wait on this clock: no real sleeping.
    clock: new ManualClock(Date.parse('2025-01-01T00:00:00Z')),
    logger: new Logger({ serviceName: 'apilake', logLevel: 'ERROR' }),
  });
  const window = { start: '2024-03-01T00:00:00Z', end: '2024-03-02T00:00:00Z' };
  const execution = await durableRunner(deps).run({ payload: { source: 'salesforce_bulk', window } });
  expect(execution.getStatus()).toBe('SUCCEEDED');
  const day = accounts.filter((a) => a.LastModifiedDate.startsWith('2024-03-01'));
  const [stream] = execution.getResult()!.streams;
  expect(stream).toMatchObject({ stream: 'accounts', status: 'committed', records: day.length });
  expect(api.created).toHaveLength(1);
  const snapshot = await snapshotStream(storage, 'salesforce_bulk', 'accounts', { audit: true });
  expect(snapshot.committed).toHaveLength(1);
  expect(snapshot.committed[0]!.manifest.totals.records).toBe(day.length);
  expect(snapshot.orphanParts).toEqual([]);
  expect(JSON.stringify(execution.getResult())).not.toContain(TOKEN);
}, 120_000);
