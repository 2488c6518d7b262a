/**
 * One job per window across a crash: `apilake run` of each job-stream example (Salesforce Bulk
 * API 2.0, Shopify bulk operations, Stripe report runs) is killed with SIGKILL at a stage of the
 * job's life, then run again: the re-run polls or downloads the job the first run created instead
 * of creating another, and lands every record of the window exactly once. The simulations hold the
 * request of the stage unanswered, so the kill lands there, with no timing. Killed after the API
 * created the job and before the run heard of it (no job record yet), the re-run's create carries
 * the same Idempotency-Key, and Stripe answers it with the run it already created.
 */

import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { accountsEvery, startSalesforceBulkApi } from '../support/apis/salesforceBulkApi.js';
import { productsEvery, startShopifyBulkApi } from '../support/apis/shopifyBulkApi.js';
import { balanceRowsEvery, MID_FILE, RUN_CREATED, startStripeReportsApi } from '../support/apis/stripeReportsApi.js';
import { spawnApilake } from '../support/cliProcess.js';
import type { SeenRequest } from '../support/jsonServer.js';
import { listFiles, readCommittedRecords } from '../support/lakeReader.js';

const SF_TOKEN = '00Dkill!sf_token_0123456789';
const SHOP_TOKEN = 'shpat_kill_token_0123456789';
const STRIPE_KEY = 'sk_test_kill_key_0123456789';
const ENV = {
  APILAKE_SECRET_APILAKE_SALESFORCE: JSON.stringify({ token: SF_TOKEN }),
  APILAKE_SECRET_APILAKE_SHOPIFY: JSON.stringify({ api_key: SHOP_TOKEN }),
  APILAKE_SECRET_APILAKE_STRIPE: JSON.stringify({ token: STRIPE_KEY }),
  NO_COLOR: '1',
};

/** A job-stream example over its running simulation, for one window. */
interface Fixture {
  readonly secret: string;
  readonly window: readonly [string, string];
  /** Ids of the records the window holds. */
  readonly expected: readonly string[];
  readonly idOf: (record: unknown) => string;
  /** Jobs the simulation created so far. */
  readonly created: () => number;
  readonly isPoll: (request: SeenRequest) => boolean;
  readonly isDownload: (request: SeenRequest) => boolean;
  /** The request the download is in the middle of, after some of its records arrived (when the example has one). */
  readonly isMidDownload?: (request: SeenRequest) => boolean;
  readonly patch: (doc: Record<string, unknown> & { streams: Record<string, Record<string, Record<string, unknown>>>[] }) => void;
  readonly close: () => Promise<void>;
}

type Hold = (request: SeenRequest) => Promise<void> | undefined;

const EXAMPLES: Record<string, (hold: Hold) => Promise<Fixture>> = {
  salesforce_bulk: async (hold) => {
    const accounts = accountsEvery('2024-03-01T00:00:00Z', 37 * 60_000, 60);
    const api = await startSalesforceBulkApi({ accounts, token: SF_TOKEN, pollsUntilDone: 1, hold });
    return {
      secret: SF_TOKEN,
      window: ['2024-03-01T00:00:00Z', '2024-03-02T00:00:00Z'],
      expected: accounts.filter((a) => a.LastModifiedDate.startsWith('2024-03-01')).map((a) => a.Id),
      idOf: (r) => (r as { Id: string }).Id,
      created: () => api.created.length,
      isPoll: (r) => /\/jobs\/query\/\w+$/.test(r.url.pathname) && r.method === 'GET',
      isDownload: (r) => r.url.pathname.endsWith('/results'),
      // The second set of results: the first set's records arrived.
      isMidDownload: (r) => r.url.pathname.endsWith('/results') && r.url.searchParams.has('locator'),
      patch: (doc) => {
        doc.base_url = api.url;
        doc.streams[0]!.job!.download!.params = { maxRecords: 10 };
      },
      close: api.close,
    };
  },
  shopify_bulk: async (hold) => {
    const products = productsEvery('2024-05-01T00:00:00Z', 7 * 60_000, 20);
    const shop = await startShopifyBulkApi({ products, token: SHOP_TOKEN, pollsUntilDone: 1, hold });
    return {
      secret: SHOP_TOKEN,
      window: ['2024-05-01T00:00:00Z', '2024-05-01T01:00:00Z'],
      expected: products.filter((p) => p.updatedAt < '2024-05-01T01:00:00').map((p) => p.id),
      idOf: (r) => (r as { id: string }).id,
      created: () => shop.created.length,
      isPoll: (r) => r.body.includes('node(id:'),
      isDownload: (r) => r.url.pathname.startsWith('/bulk/'),
      patch: (doc) => {
        doc.base_url = shop.api.url;
        doc.redirects = { allowed_origins: [shop.files.url] };
      },
      close: () => shop.close(),
    };
  },
  stripe_report: async (hold) => {
    const rows = balanceRowsEvery('2024-06-01T00:00:00Z', 47 * 60, 60);
    const stripe = await startStripeReportsApi({ rows, secretKey: STRIPE_KEY, pollsUntilDone: 1, hold });
    return {
      secret: STRIPE_KEY,
      window: ['2024-06-01T00:00:00Z', '2024-06-02T00:00:00Z'],
      expected: rows.filter((r) => r.created_utc < '2024-06-02').map((r) => r.balance_transaction_id),
      idOf: (r) => (r as { balance_transaction_id: string }).balance_transaction_id,
      created: () => stripe.created.length,
      isPoll: (r) => r.method === 'GET' && r.url.pathname.startsWith('/v1/reporting/report_runs/'),
      isDownload: (r) => r.url.pathname.endsWith('/contents'),
      isMidDownload: (r) => r.body === MID_FILE,
      patch: (doc) => {
        doc.base_url = stripe.api.url;
        doc.streams[0]!.job!.download!.base_url = stripe.files.url;
      },
      close: () => stripe.close(),
    };
  },
};

/** Where the first run is killed: the request it is waiting for an answer to when it dies. */
const STAGES = {
  // The job was created and answered pending once: the run dies polling it again.
  'while the job runs': (f: Fixture, seen: SeenRequest[]) => (r: SeenRequest) => f.isPoll(r) && seen.filter(f.isPoll).length === 2,
  // The job is done: the run dies asking for its results.
  'after the job finished, before its download': (f: Fixture) => (r: SeenRequest) => f.isDownload(r),
  // Part of the results arrived: the run dies in the middle of the download.
  'while it downloads the results': (f: Fixture) => (r: SeenRequest) => f.isMidDownload!(r),
} as const;

/** The stages an example has: a single file sent at once (Shopify's) has no middle to die in. */
const stagesOf = (name: string) => (Object.keys(STAGES) as (keyof typeof STAGES)[]).filter((stage) => stage !== 'while it downloads the results' || name !== 'shopify_bulk');

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function workspace(name: string, fixture: Fixture): Promise<string> {
  const cwd = await mkdtemp(join(tmpdir(), `apilake-job-kill-${name}-`));
  const doc = parse(await readFile(new URL(`../../examples/${name}.yaml`, import.meta.url), 'utf8')) as Parameters<Fixture['patch']>[0];
  fixture.patch(doc);
  // Real time in a child: polls a second apart.
  doc.streams[0]!.job!.poll!.every = '1s';
  await mkdir(join(cwd, 'sources'));
  await writeFile(join(cwd, 'sources', `${name}.yaml`), stringify(doc));
  return cwd;
}

describe.each(Object.keys(EXAMPLES))('examples/%s.yaml killed mid-job and run again', (name) => {
  it.each(stagesOf(name))(
    '%s: one job for the window, every record landed once',
    async (stage) => {
      const seen: SeenRequest[] = [];
      let holding = true;
      let reached!: () => void;
      const atStage = new Promise<void>((resolve) => (reached = resolve));
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      let matches: (r: SeenRequest) => boolean = () => false;
      const fixture = await EXAMPLES[name]!((request) => {
        seen.push(request);
        if (!holding || !matches(request)) return undefined;
        reached();
        return released;
      });
      closers.push(async () => {
        release();
        await fixture.close();
      });
      matches = STAGES[stage](fixture, seen);
      const cwd = await workspace(name, fixture);
      const args = ['run', name, '--from', fixture.window[0], '--to', fixture.window[1]];

      const first = spawnApilake(args, { cwd, env: ENV });
      await atStage;
      first.child.kill('SIGKILL');
      const killed = await first.done();
      expect(killed.code).toBeNull();
      expect(fixture.created()).toBe(1);
      const lake = join(cwd, 'lake');
      expect((await listFiles(lake)).filter((k) => k.startsWith('jobs/'))).toHaveLength(1);
      expect(await readCommittedRecords(lake)).toEqual([]);
      holding = false;
      release();

      const again = await spawnApilake(args, { cwd, env: ENV }).done();
      expect(again.code, again.stderr).toBe(0);
      expect(fixture.created()).toBe(1);
      const ids = (await readCommittedRecords(lake)).map((l) => fixture.idOf(l.data));
      expect(ids.sort()).toEqual([...fixture.expected].sort());
      expect((await listFiles(lake)).filter((k) => k.startsWith('jobs/'))).toEqual([]);
      expect(killed.stdout + killed.stderr + again.stdout + again.stderr).not.toContain(fixture.secret);
    },
    60_000,
  );
});

describe('examples/stripe_report.yaml killed after Stripe created the run, before its answer arrived', () => {
  it('sends the same Idempotency-Key again: one run for the window, every record landed once', async () => {
    let holding = true;
    let reached!: () => void;
    const atStage = new Promise<void>((resolve) => (reached = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const creates: SeenRequest[] = [];
    const fixture = await EXAMPLES.stripe_report!((request) => {
      if (request.method === 'POST' && request.body !== RUN_CREATED) creates.push(request);
      if (!holding || request.body !== RUN_CREATED) return undefined;
      reached();
      return released;
    });
    closers.push(async () => {
      release();
      await fixture.close();
    });
    const cwd = await workspace('stripe_report', fixture);
    const args = ['run', 'stripe_report', '--from', fixture.window[0], '--to', fixture.window[1]];

    const first = spawnApilake(args, { cwd, env: ENV });
    await atStage;
    first.child.kill('SIGKILL');
    const killed = await first.done();
    expect(killed.code).toBeNull();
    expect(fixture.created()).toBe(1);
    const lake = join(cwd, 'lake');
    // Nothing in the lake knows of the run.
    expect((await listFiles(lake)).filter((k) => k.startsWith('jobs/'))).toEqual([]);
    holding = false;
    release();

    const again = await spawnApilake(args, { cwd, env: ENV }).done();
    expect(again.code, again.stderr).toBe(0);
    expect(creates).toHaveLength(2);
    expect(creates[1]!.headers['idempotency-key']).toBe(creates[0]!.headers['idempotency-key']);
    expect(fixture.created()).toBe(1);
    const ids = (await readCommittedRecords(lake)).map((l) => fixture.idOf(l.data));
    expect(ids.sort()).toEqual([...fixture.expected].sort());
    expect(killed.stdout + killed.stderr + again.stdout + again.stderr).not.toContain(fixture.secret);
  }, 60_000);
});
