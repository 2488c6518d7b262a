/**
 * A window whose step fails for good (here the source's secret cannot be read, so the slice cannot
 * start) is a failed window like any other: the claim is released and the task waiting for it is
 * answered, so the next delivery lands the window instead of reporting it landed.
 */
import { expect, it } from 'vitest';
import { CLAIM_TTL_SECONDS, DURABLE_EXECUTION_TIMEOUT_SECONDS } from '../../functions/ingest/durableLimits.js';
import { EnvSecretProvider } from '../../functions/secrets/SecretProvider.js';
import { snapshotStream } from '../../functions/sink/lakeSnapshot.js';
import { DAY, dailyCursorSource, durableDeps, durableRunner, useDurableTestbed } from '../support/durableTestbed.js';

const bed = useDurableTestbed({ api: { count: 20, spacingMs: 3_600_000 }, tasks: true });

it('releases the claim of a window whose step failed for good and answers its task, so the next delivery lands it', async () => {
  const { deps: base, storage, claims } = await durableDeps(bed, dailyCursorSource(bed.api.url, 5, { auth: { type: 'api_key', secret: 'apilake/t', in: 'query', name: 'api_key' } }));
  // First execution: the secret cannot be read (Secrets Manager outage): createSourceClient throws inside the slice step.
  const first = bed.tasks.wait();
  const e1 = await durableRunner({ ...base, secrets: new EnvSecretProvider({}) }).run({ payload: { source: 'testapi', stream: 'items', window: DAY, force: false, taskToken: first } });
  // The map owns the failure: the execution ends, the task hears it.
  expect(e1.getStatus()).toBe('SUCCEEDED');
  expect(e1.getResult()?.streams[0]).toMatchObject({ status: 'failed' });
  expect(bed.tasks.answers.filter((a) => a.taskToken === first).map((a) => a.operation)).toEqual(['SendTaskFailure']);
  // Second execution (the map's item run again, or a re-run of the range, or a redrive): the secret is back.
  const second = bed.tasks.wait();
  const e2 = await durableRunner({ ...base, secrets: new EnvSecretProvider({ APILAKE_SECRET_APILAKE_T: JSON.stringify({ api_key: 'key-0123456789' }) }) }).run({
    payload: { source: 'testapi', stream: 'items', window: DAY, force: false, taskToken: second },
  });
  expect(e2.getStatus()).toBe('SUCCEEDED');
  expect(e2.getResult()?.streams[0]).toMatchObject({ status: 'committed', records: 20 });
  expect(bed.tasks.answers.filter((a) => a.taskToken === second).map((a) => a.operation)).toEqual(['SendTaskSuccess']);
  expect((await snapshotStream(storage, 'testapi', 'items')).committed).toHaveLength(1);
  // The claim lasts an hour past the longest execution, not a day: one that ends without freeing it holds the window briefly.
  const [claim, ...others] = await claims();
  expect(others).toEqual([]);
  const lastsSeconds = Number(claim!.expiration) - Date.now() / 1000;
  expect(CLAIM_TTL_SECONDS).toBe(DURABLE_EXECUTION_TIMEOUT_SECONDS + 3600);
  expect(lastsSeconds).toBeGreaterThan(CLAIM_TTL_SECONDS - 300);
  // Powertools rounds the expiry to the nearest second (BasePersistenceLayer.getExpiryTimestamp: Math.round).
  expect(lastsSeconds).toBeLessThanOrEqual(CLAIM_TTL_SECONDS + 0.5);
}, 120_000);
