import { afterEach, describe, expect, it } from 'vitest';
import { createSourceClient } from '../../functions/engine/createSourceClient.js';
import { EnvSecretProvider } from '../../functions/secrets/SecretProvider.js';
import { startJsonServer, type JsonAnswer, type JsonServer } from '../support/jsonServer.js';
import { ManualClock } from '../support/manualClock.js';
import { testSource } from '../support/sources.js';

/** The API's quota: LIMIT requests in each fixed window of WINDOW_S seconds; past it, 429 with Retry-After. */
const LIMIT = 10;
const WINDOW_S = 10;
const REQUESTS = 45;

/** How each style of header reports what is left (draft-ietf-httpapi-ratelimit-headers, and the X- form GitHub and others send). */
const STYLES = {
  'X-RateLimit-* with an epoch reset': (remaining: number, resetAt: number, _inS: number) => ({
    'x-ratelimit-limit': String(LIMIT),
    'x-ratelimit-remaining': String(remaining),
    'x-ratelimit-reset': String(resetAt),
  }),
  'RateLimit-Remaining/-Reset in seconds': (remaining: number, _resetAt: number, inS: number) => ({
    'ratelimit-limit': String(LIMIT),
    'ratelimit-remaining': String(remaining),
    'ratelimit-reset': String(inS),
  }),
  'the structured RateLimit field with its policy': (remaining: number, _resetAt: number, inS: number) => ({
    ratelimit: `"default";r=${remaining};t=${inS}`,
    'ratelimit-policy': `"default";q=${LIMIT};w=${WINDOW_S}`,
  }),
} as const;

let api: JsonServer | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

/** A quota'd API on `clock`: what it answered, and when. */
async function startQuotaApi(clock: ManualClock, style: keyof typeof STYLES) {
  const used = new Map<number, number>();
  const answers: { atMs: number; status: number }[] = [];
  const server = await startJsonServer((): JsonAnswer => {
    const now = clock.now();
    const window = Math.floor(now / 1000 / WINDOW_S);
    const resetAt = (window + 1) * WINDOW_S;
    const inS = Math.ceil(resetAt - now / 1000);
    const count = (used.get(window) ?? 0) + 1;
    used.set(window, count);
    const status = count > LIMIT ? 429 : 200;
    answers.push({ atMs: now, status });
    const headers = STYLES[style](Math.max(0, LIMIT - count), resetAt, inS);
    return status === 429 ? { status, headers: { ...headers, 'retry-after': String(inS) }, body: { message: 'Too Many Requests' } } : { headers, body: [{ id: count }] };
  });
  return { server, answers };
}

describe('pacing by the budget an API reports in its headers', () => {
  it.each(Object.keys(STYLES) as (keyof typeof STYLES)[])('sends no request past the budget (%s), within a tenth more than the least time it allows', async (style) => {
    const clock = new ManualClock(Date.parse('2025-01-01T00:00:00Z'));
    const { server, answers } = await startQuotaApi(clock, style);
    api = server;
    const client = await createSourceClient(testSource(server.url, { path: '/items' }), new EnvSecretProvider({}), { clock, random: () => 0.5 });
    for (let i = 0; i < REQUESTS; i++) await client.requestJson({ method: 'GET', url: new URL('/items', server.url) });

    expect(answers.filter((a) => a.status === 429)).toEqual([]);
    expect(answers).toHaveLength(REQUESTS);
    // 45 requests at 10 a window: the last can go out at the start of the fifth window, 40 s in.
    const leastMs = Math.floor((REQUESTS - 1) / LIMIT) * WINDOW_S * 1000;
    const tookMs = answers.at(-1)!.atMs - answers[0]!.atMs;
    expect(tookMs).toBeGreaterThanOrEqual(leastMs);
    expect(tookMs).toBeLessThanOrEqual(leastMs * 1.1);
  });

  it('sends no request past the budget with 4 requests in flight, counting those the API has not answered yet', async () => {
    const clock = new ManualClock(Date.parse('2025-01-01T00:00:00Z'));
    const { server, answers } = await startQuotaApi(clock, 'X-RateLimit-* with an epoch reset');
    api = server;
    const client = await createSourceClient(testSource(server.url, { path: '/items' }, { rate_limit: { concurrency: 4 } }), new EnvSecretProvider({}), { clock, random: () => 0.5 });
    let next = 0;
    const worker = async () => {
      while (next++ < REQUESTS) await client.requestJson({ method: 'GET', url: new URL('/items', server.url) });
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    // (The manual clock moves on for each sleeper, so its time says nothing here; the count does.)
    expect(answers.filter((a) => a.status === 429)).toEqual([]);
    expect(answers).toHaveLength(REQUESTS);
  });
});
