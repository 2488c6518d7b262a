/**
 * examples/stripe_report.yaml against a simulation of Stripe report runs: one run a day created
 * with a form-encoded POST, polled until succeeded, its CSV file downloaded from the file host
 * with the same secret key (and from nowhere else); records exactly once per window, polling
 * bounded by poll.timeout on an injected clock, no secret in any output.
 */

import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SourceDefinition } from '../../functions/config/sourceSchema.js';
import { createSourceClient } from '../../functions/engine/createSourceClient.js';
import { runSource } from '../../functions/engine/runSource.js';
import type { WindowResult } from '../../functions/engine/runWindow.js';
import { EnvSecretProvider } from '../../functions/secrets/SecretProvider.js';
import { FsLakeStorage } from '../../functions/sink/FsLakeStorage.js';
import { tableSpec } from '../../functions/tables/tableSpec.js';
import { runLocalQuery } from '../../cli/query/runLocalQuery.js';
import { balanceRowsEvery, RUN_CREATED, startStripeReportsApi, type StripeReportsApi, type StripeReportsOptions } from '../support/apis/stripeReportsApi.js';
import { exampleSource } from '../support/exampleSource.js';
import { startJsonServer, type SeenRequest } from '../support/jsonServer.js';
import { startTcpFaultProxy } from '../support/tcpFaultProxy.js';
import { JOB_KEY_PATTERN } from '../../functions/engine/jobKey.js';
import { listFiles, readCommittedRecords } from '../support/lakeReader.js';
import { ManualClock } from '../support/manualClock.js';

const KEY = 'sk_test_stripe_report_key_0123456789';
const ENV = { APILAKE_SECRET_APILAKE_STRIPE: JSON.stringify({ token: KEY }) };
const rows = balanceRowsEvery('2024-06-01T00:00:00Z', 47 * 60, 120); // about 30 a day over 4 days
const range = { from: '2024-06-01T00:00:00Z', to: '2024-06-03T00:00:00Z' };
const oneDay = { from: range.from, to: '2024-06-02T00:00:00Z' };
const inDays = (days: number) => rows.filter((r) => r.created_utc < `2024-06-0${days + 1}`);

let lake: string;
const closers: (() => Promise<void>)[] = [];
beforeEach(async () => {
  lake = await mkdtemp(join(tmpdir(), 'apilake-stripe-report-'));
});
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function start(extra: Partial<StripeReportsOptions> = {}): Promise<StripeReportsApi> {
  const stripe = await startStripeReportsApi({ rows, secretKey: KEY, ...extra });
  closers.push(() => stripe.close());
  return stripe;
}

function source(stripe: StripeReportsApi, patch: (job: Record<string, Record<string, unknown>>) => void = () => undefined): Promise<SourceDefinition> {
  return exampleSource('stripe_report.yaml', (doc) => {
    doc.base_url = stripe.api.url;
    const job = doc.streams[0]!.job as Record<string, Record<string, unknown>>;
    job.download!.base_url = stripe.files.url;
    patch(job);
  });
}

async function land(src: SourceDefinition, window: { from: string; to: string }, clock = new ManualClock(Date.parse('2025-01-01T00:00:00Z')), force = false): Promise<WindowResult[]> {
  const client = await createSourceClient(src, new EnvSecretProvider(ENV), { clock, random: () => 0 });
  return runSource({ source: src, selection: { kind: 'range', from: new Date(window.from), to: new Date(window.to) }, client, storage: new FsLakeStorage(lake), clock, force });
}

const keyOf = (request: SeenRequest) => request.headers['idempotency-key'];
const createsOf = (stripe: StripeReportsApi) => stripe.api.requests.filter((r) => r.method === 'POST');

/** Every output a run could show, for secrets. */
function everyText(results: readonly WindowResult[]): string {
  return JSON.stringify(results.map((r) => ({ ...r, error: r.error?.message, warnings: r.warnings })));
}

const byId = (a: unknown, b: unknown) => ((a as { balance_transaction_id: string }).balance_transaction_id < (b as { balance_transaction_id: string }).balance_transaction_id ? -1 : 1);

describe('Stripe report runs (examples/stripe_report.yaml)', () => {
  it('creates one form-encoded report run a day, polls it every 30 s until succeeded and lands its CSV once', async () => {
    const stripe = await start({ pollsUntilDone: 2 });
    const clock = new ManualClock(Date.parse('2025-01-01T00:00:00Z'));
    const results = await land(await source(stripe), range, clock);
    expect(results.map((r) => r.status)).toEqual(['committed', 'committed']);
    expect(stripe.created.map((c) => Object.fromEntries(c.form))).toEqual([
      { report_type: 'balance_change_from_activity.itemized.1', 'parameters[interval_start]': '1717200000', 'parameters[interval_end]': '1717286400' },
      { report_type: 'balance_change_from_activity.itemized.1', 'parameters[interval_start]': '1717286400', 'parameters[interval_end]': '1717372800' },
    ]);
    expect(clock.sleeps).toEqual(Array(4).fill(30_000));
    const landed = (await readCommittedRecords(lake)).map((l) => l.data);
    expect(landed.sort(byId)).toEqual(inDays(2));
    expect(stripe.files.requests.map((r) => r.url.pathname)).toEqual(['/v1/files/file_00000000000001/contents', '/v1/files/file_00000000000002/contents']);
    expect((await listFiles(lake)).filter((k) => k.startsWith('jobs/'))).toEqual([]);
  });

  it('sends the key to the API and the file host in the Authorization header only, and prints it nowhere', async () => {
    const stripe = await start();
    const results = await land(await source(stripe), range);
    const seen = [...stripe.api.requests, ...stripe.files.requests];
    // A day: create, two polls (pending, succeeded), the file.
    expect(seen).toHaveLength(2 * 4);
    for (const request of seen) {
      expect(request.headers.authorization).toBe(`Bearer ${KEY}`);
      expect(request.url.href + request.body + JSON.stringify({ ...request.headers, authorization: undefined })).not.toContain(KEY);
    }
    expect(everyText(results)).not.toContain(KEY);
    for (const file of await listFiles(lake)) expect(file).not.toContain(KEY);
  });

  it('fails to load if a form-encoded body holds a value that is not a string, number or boolean, before anything is sent', async () => {
    const stripe = await start();
    await expect(source(stripe, (job) => ((job.create!.body as Record<string, unknown>)['parameters[columns]'] = ['gross', 'fee']))).rejects.toThrow(
      'streams[0].job.create.body.parameters[columns]: a form-encoded body (content-type application/x-www-form-urlencoded) holds strings, numbers and booleans, not ["gross","fee"]',
    );
    expect(stripe.api.requests).toHaveLength(0);
  });

  it('never sends the key on when the file host redirects to another origin', async () => {
    const storage = await startJsonServer((request) => {
      const id = /file_(\d+)/.exec(request.url.pathname)![1]!;
      return { headers: { 'content-type': 'text/csv' }, body: stripe.csvOf(`frr_${id}`) };
    });
    closers.push(storage.close);
    const stripe = await start({ redirectFilesTo: storage.url });
    const src = await exampleSource('stripe_report.yaml', (doc) => {
      doc.base_url = stripe.api.url;
      doc.redirects = { allowed_origins: [storage.url] };
      (doc.streams[0]!.job as { download: Record<string, unknown> }).download.base_url = stripe.files.url;
    });
    const results = await land(src, oneDay);
    expect(results.map((r) => r.status)).toEqual(['committed']);
    expect(stripe.files.requests[0]!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(storage.requests).toHaveLength(1);
    expect(storage.requests[0]!.headers.authorization).toBeUndefined();
    expect(JSON.stringify(storage.requests[0]!.headers) + storage.requests[0]!.url.href).not.toContain(KEY);
    expect((await readCommittedRecords(lake)).map((l) => l.data).sort(byId)).toEqual(inDays(1));
  });

  it('converts the CSV strings to typed columns', async () => {
    const stripe = await start();
    const src = await source(stripe);
    await land(src, range);
    const { rows: got } = await runLocalQuery('SELECT count(*), typeof(min(gross)), typeof(min(created)), min(created), sum(net) = sum(gross) - sum(fee) FROM stripe_report_balance_activity', lake, {
      specs: [tableSpec(src, src.streams[0]!)],
    });
    expect(got).toEqual([[String(inDays(2).length), 'DECIMAL(18,2)', 'TIMESTAMP', '2024-06-01 00:00:00', true]]);
  });

  it("fails the window quoting the run's error, and creates a new run next time", async () => {
    const stripe = await start({ failWith: 'The report could not be generated: data is not yet available for this interval.' });
    const [result] = await land(await source(stripe), oneDay);
    expect(result!.status).toBe('failed');
    expect(result!.error?.message).toMatch(/^job frr_00000000000001 failed \(status == 'failed'\): The report could not be generated/);
    expect(stripe.files.requests).toHaveLength(0);
    await land(await source(stripe), oneDay);
    expect(stripe.created).toHaveLength(2);
    // The failed run's key would be answered with the failed run: the next run has its own.
    expect(stripe.created[1]!.key).not.toBe(stripe.created[0]!.key);
    expect(stripe.replayed()).toBe(0);
  });

  it('fails the window once the run outlives poll.timeout, after a bounded number of polls', async () => {
    const stripe = await start({ pollsUntilDone: 1_000 });
    const clock = new ManualClock(Date.parse('2025-01-01T00:00:00Z'));
    const [result] = await land(await source(stripe, (job) => (job.poll!.timeout = '5m')), oneDay, clock);
    expect(result!.status).toBe('failed');
    expect(result!.error?.message).toMatch(/^job frr_00000000000001 is not done 5m \(poll.timeout\) after it was created, at 2025-01-01T00:00:00.000Z; its last state: \{"id":"frr_00000000000001"/);
    // 30 s apart until the 5 minutes are up: 11 polls, 10 waits.
    expect(clock.sleeps).toEqual(Array(10).fill(30_000));
    expect(stripe.api.count('/v1/reporting/report_runs/')).toBe(11);
    expect(everyText([result!])).not.toContain(KEY);
  });

  it('downloads a file again whose connection broke before any of its records landed, within the attempt', async () => {
    const stripe = await start({ breakFileAfter: 700 });
    const results = await land(await source(stripe), oneDay);
    expect(results.map((r) => r.status)).toEqual(['committed']);
    expect(stripe.created).toHaveLength(1);
    expect(stripe.files.requests).toHaveLength(2);
    const landed = (await readCommittedRecords(lake)).map((l) => l.data);
    expect(landed.sort(byId)).toEqual(inDays(1));
  });

  it('continues a file that breaks after records of it landed, within the attempt, landing each record once', async () => {
    // About 6 MiB of CSV in a day: past the 4 MiB after which a file's records land as it arrives.
    const many = balanceRowsEvery('2024-06-01T00:00:00Z', 1, 80_000).filter((r) => r.created_utc < '2024-06-02');
    const stripe = await start({ rows: many, breakFileAfter: 5 * 1024 * 1024 });
    const results = await land(await source(stripe), oneDay);
    expect(results.map((r) => r.status)).toEqual(['committed']);
    expect(stripe.created).toHaveLength(1);
    // The file has no validator to resume from: it is read again, its first 5 MiB compared and skipped.
    expect(stripe.files.requests).toHaveLength(2);
    expect(stripe.files.requests[1]!.headers.range).toBeUndefined();
    const ids = (await readCommittedRecords(lake)).map((l) => (l.data as { balance_transaction_id: string }).balance_transaction_id);
    expect(ids).toHaveLength(many.length);
    expect(new Set(ids).size).toBe(many.length);
  }, 60_000);

  describe('one report run per window when an answer is lost', () => {
    it('creates one run when the answer to the create is lost after Stripe made it: the retried POST carries the same Idempotency-Key and gets that run', async () => {
      const stripe = await start();
      const proxy = await startTcpFaultProxy(stripe.api.url);
      closers.push(() => proxy.close());
      const src = await exampleSource('stripe_report.yaml', (doc) => {
        doc.base_url = proxy.endpoint;
        (doc.streams[0]!.job as { download: Record<string, unknown> }).download.base_url = stripe.files.url;
      });
      proxy.dropResponses(1);
      const results = await land(src, oneDay);
      expect(results.map((r) => r.status)).toEqual(['committed']);
      expect(proxy.dropped()).toBe(1);
      const creates = createsOf(stripe);
      expect(creates).toHaveLength(2);
      expect(keyOf(creates[0]!)).toMatch(JOB_KEY_PATTERN);
      expect(keyOf(creates[1]!)).toBe(keyOf(creates[0]!));
      expect(stripe.created).toHaveLength(1);
      expect(stripe.replayed()).toBe(1);
      expect((await readCommittedRecords(lake)).map((l) => l.data).sort(byId)).toEqual(inDays(1));
    });

    it('sends the same key for a window every time until it commits, and a new one for each window', async () => {
      const stripe = await start();
      const src = await source(stripe);
      await land(src, range);
      const keys = createsOf(stripe).map(keyOf);
      expect(keys).toHaveLength(2);
      expect(new Set(keys).size).toBe(2);
      expect(stripe.created.map((c) => c.key)).toEqual(keys);
    });

    it('sends the next key again after an abandoned run, when the attempt that created the next run was stopped before it heard of it', async () => {
      let holdNext = false;
      let reached!: () => void;
      const atCreated = new Promise<void>((resolve) => (reached = resolve));
      let release: () => void = () => undefined;
      const stripe = await start({
        failWith: 'Data is not yet available for this interval.',
        hold: (request) => {
          if (!holdNext || request.body !== RUN_CREATED) return undefined;
          holdNext = false;
          reached();
          return new Promise<void>((resolve) => (release = resolve));
        },
      });
      const src = await source(stripe);
      // Attempt 1: run 1 fails; its record stays, abandoned.
      expect((await land(src, oneDay))[0]!.status).toBe('failed');
      // Attempt 2 creates run 2 and is stopped before the answer arrives: nothing records run 2.
      holdNext = true;
      const stop = new AbortController();
      const clock = new ManualClock(Date.parse('2025-01-01T00:00:00Z'));
      const client = await createSourceClient(src, new EnvSecretProvider(ENV), { clock, random: () => 0 });
      const second = runSource({
        source: src,
        selection: { kind: 'range', from: new Date(oneDay.from), to: new Date(oneDay.to) },
        client,
        storage: new FsLakeStorage(lake),
        clock,
        signal: stop.signal,
      });
      await atCreated;
      stop.abort(new Error('stopped'));
      expect((await second)[0]!.status).toBe('failed');
      release();
      // Attempt 3 sends attempt 2's key and is answered with run 2.
      await land(src, oneDay);
      const keys = createsOf(stripe).map(keyOf);
      expect(keys).toHaveLength(3);
      expect(keys[1]).not.toBe(keys[0]);
      expect(keys[2]).toBe(keys[1]);
      expect(stripe.created).toHaveLength(2);
      expect(stripe.replayed()).toBe(1);
    });

    it('creates a new run under a new key when --force lands the window again', async () => {
      const stripe = await start();
      const src = await source(stripe);
      expect((await land(src, oneDay)).map((r) => r.status)).toEqual(['committed']);
      expect((await land(src, oneDay, undefined, true)).map((r) => r.status)).toEqual(['committed']);
      expect(stripe.created).toHaveLength(2);
      expect(stripe.created[1]!.key).not.toBe(stripe.created[0]!.key);
      expect(stripe.replayed()).toBe(0);
      expect((await readCommittedRecords(lake)).map((l) => l.data).sort(byId)).toEqual(inDays(1));
    });

    it('is simulated as Stripe documents it: the same key and form replay the first answer, the same key with another form is a 400 idempotency_error', async () => {
      const stripe = await start();
      const post = (key: string, end: number) =>
        fetch(`${stripe.api.url}/v1/reporting/report_runs`, {
          method: 'POST',
          headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/x-www-form-urlencoded', 'idempotency-key': key },
          body: new URLSearchParams({ report_type: 'balance.summary.1', 'parameters[interval_start]': '1717200000', 'parameters[interval_end]': String(end) }),
        });
      const first = await post('k1', 1717286400);
      const again = await post('k1', 1717286400);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(await again.json()).toEqual(await first.json());
      const other = await post('k1', 1717372800);
      expect(other.status).toBe(400);
      expect(((await other.json()) as { error: { type: string } }).error.type).toBe('idempotency_error');
      expect((await post('x'.repeat(256), 1717286400)).status).toBe(400);
      expect(stripe.created).toHaveLength(1);
    });
  });
});
