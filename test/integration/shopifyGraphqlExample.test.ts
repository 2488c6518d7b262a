import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ordersEvery, startShopifyGraphqlApi, type ShopifyGraphqlApi, type ShopifyOrder } from '../support/apis/shopifyGraphqlApi.js';
import { exampleSource, type SourceDocument } from '../support/exampleSource.js';
import { landRange } from '../support/landRange.js';
import { listFiles, readCommittedRecords, readCurrentCommits } from '../support/lakeReader.js';
import { ManualClock } from '../support/manualClock.js';

const TOKEN = 'shpat_0123456789abcdef0123456789abcdef';
const ENV = { APILAKE_SECRET_APILAKE_SHOPIFY: JSON.stringify({ api_key: TOKEN }) };
const PAGE = 100;
/** A page of `first: 100` asks for 102 points (one per node, two for the connection). */
const REQUESTED = PAGE + 2;

let lake: string;
let api: ShopifyGraphqlApi | undefined;
beforeEach(async () => {
  lake = await mkdtemp(join(tmpdir(), 'apilake-shopify-'));
});
afterEach(async () => {
  await api?.close();
  api = undefined;
});

const source = (patch: (doc: SourceDocument) => void = () => {}) =>
  exampleSource('shopify_graphql.yaml', (doc) => {
    doc.base_url = api!.url;
    patch(doc);
  });

/** Every order once, each in the window of its creation. */
async function expectEachOnce(orders: readonly ShopifyOrder[]) {
  const lines = await readCommittedRecords(lake);
  const ids = lines.map((l) => (l.data as ShopifyOrder).id);
  expect(new Set(ids).size).toBe(ids.length);
  expect([...ids].sort()).toEqual(orders.map((o) => o.id).sort());
  for (const line of lines) {
    const order = line.data as ShopifyOrder;
    expect(Date.parse(order.createdAt)).toBeGreaterThanOrEqual(Date.parse(line._window_start));
    expect(Date.parse(order.createdAt)).toBeLessThan(Date.parse(line._window_end));
    expect(order).toEqual(orders.find((o) => o.id === order.id));
  }
  for (const file of await listFiles(lake)) expect(await readFile(join(lake, file), 'utf8')).not.toContain(TOKEN);
}

describe('examples/shopify_graphql.yaml against Shopify’s GraphQL Admin API', () => {
  const range = { from: '2024-03-01T00:00:00Z', to: '2024-03-01T03:00:00Z', env: ENV };
  // 150 orders in the first hour, 2,000 in the second, none in the third: 2 + 20 + 1 pages.
  const orders = [...ordersEvery('2024-03-01T00:10:00Z', 20_000, 150), ...ordersEvery('2024-03-01T01:00:00Z', 1_800, 2_000).map((o, i) => ({ ...o, id: `${o.id}-b${i}` }))];

  it('lands every order once, paced by the budget Shopify reports, with no query throttled', async () => {
    const clock = new ManualClock(Date.parse('2024-03-02T00:00:00Z'));
    api = await startShopifyGraphqlApi({ orders, token: TOKEN, clock });
    const results = await landRange(await source(), lake, { ...range, clock });
    expect(results.map((r) => [r.status, r.records, r.throttled])).toEqual([
      ['committed', 150, 0],
      ['committed', 2_000, 0],
      ['committed', 0, 0],
    ]);
    await expectEachOnce(orders);
    expect(api.answers.filter((a) => a.throttled)).toEqual([]);
    expect(api.requests).toHaveLength(2 + 20 + 1);
    expect((await readCurrentCommits(lake)).map((m) => m.pages)).toEqual([2, 20, 1]);

    // The bucket starts at 1,000 points and refills at 50 a second, and a query runs only when it
    // holds the query's 102 points: the last query cannot start before (what the others cost +
    // 102 − 1,000) ÷ 50 s. Pacing by the reported budget takes at most 10 % more than that.
    const before = api.answers.slice(0, -1).reduce((sum, a) => sum + a.cost, 0);
    const leastMs = ((before + REQUESTED - 1_000) / 50) * 1_000;
    const tookMs = api.answers.at(-1)!.atMs - api.answers[0]!.atMs;
    expect(leastMs).toBe(25_920);
    expect(tookMs).toBeLessThanOrEqual(leastMs * 1.1);
  });

  it('retries a query answered THROTTLED in a 200 body once the bucket holds its cost again', async () => {
    const clock = new ManualClock(Date.parse('2024-03-02T00:00:00Z'));
    // An earlier run left 10 points: the first query (102 points) is throttled.
    api = await startShopifyGraphqlApi({ orders, token: TOKEN, clock, currentlyAvailable: 10 });
    const results = await landRange(await source(), lake, { ...range, to: '2024-03-01T01:00:00Z', clock });
    expect(results.map((r) => [r.status, r.records, r.requests, r.retries, r.throttled])).toEqual([['committed', 150, 3, 1, 1]]);
    await expectEachOnce(orders.slice(0, 150));

    const [throttled, retried] = api.answers;
    expect(throttled).toMatchObject({ throttled: true, available: 10 });
    // (102 − 10) ÷ 50 points a second = 1.84 s: not sooner (it would be throttled again), not much later.
    expect(retried!.throttled).toBe(false);
    expect(retried!.atMs - throttled!.atMs).toBeGreaterThanOrEqual(1_840);
    expect(retried!.atMs - throttled!.atMs).toBeLessThan(1_840 + 100);
    expect(clock.sleeps).toContain(1_840);
  });

  it("fails a window on any other GraphQL error, quoting Shopify's own message", async () => {
    const clock = new ManualClock(Date.parse('2024-03-02T00:00:00Z'));
    api = await startShopifyGraphqlApi({ orders, token: TOKEN, clock });
    const tooMany = await source((doc) => {
      (doc.streams[0]!.body as { variables: Record<string, unknown> }).variables.first = 300;
    });
    const [result] = await landRange(tooMany, lake, { ...range, to: '2024-03-01T01:00:00Z', clock });
    expect(result!.status).toBe('failed');
    expect(result!.error?.message).toMatch(/HTTP 200, response_rules\[1\] of the source: "The first argument must be between 1 and 250"/);
    expect(api.requests).toHaveLength(1);
  });
});
