/**
 * Stripe's "list all charges" as it behaves: a bearer secret key; `created[gte]`/`created[lt]`
 * (epoch seconds) filter by creation time; charges come newest first; `limit` 1–100 (default
 * 10); `starting_after=<id>` continues after that charge; the answer is a list object
 * `{ object: "list", url, has_more, data }`. An unknown `starting_after` is a 400
 * `invalid_request_error`, a missing or wrong key a 401.
 * https://docs.stripe.com/api/charges/list
 * https://docs.stripe.com/api/pagination
 * https://docs.stripe.com/api/errors
 */

import { startJsonServer, type JsonServer } from '../jsonServer.js';

/** A charge (the fields the tests need). */
export interface Charge {
  readonly id: string;
  readonly object: 'charge';
  readonly amount: number;
  readonly currency: string;
  /** Epoch seconds. */
  readonly created: number;
  readonly paid: boolean;
  readonly status: 'succeeded' | 'failed';
}

/** `count` charges, one every `spacingSeconds` from `from`. */
export function chargesEvery(from: string, spacingSeconds: number, count: number): Charge[] {
  const start = Date.parse(from) / 1000;
  return Array.from({ length: count }, (_, i) => ({
    id: `ch_${(3_000_000 + i).toString(36).padStart(8, '0')}`,
    object: 'charge',
    amount: 500 + ((i * 37) % 9_000),
    currency: i % 4 === 0 ? 'eur' : 'usd',
    created: start + i * spacingSeconds,
    paid: i % 9 !== 0,
    status: i % 9 === 0 ? 'failed' : 'succeeded',
  }));
}

/** Starts the API at `/v1/charges`, answering only `Authorization: Bearer <secretKey>`. */
export async function startStripeApi(options: { charges: readonly Charge[]; secretKey: string }): Promise<JsonServer> {
  const error = (status: number, message: string, param?: string) => ({ status, body: { error: { type: 'invalid_request_error', message, ...(param ? { param } : {}) } } });
  return startJsonServer((request) => {
    if (request.headers.authorization !== `Bearer ${options.secretKey}`) return error(401, 'Invalid API Key provided.');
    if (request.method !== 'GET' || request.url.pathname !== '/v1/charges') return error(404, `Unrecognized request URL (${request.method}: ${request.url.pathname}).`);
    const q = request.url.searchParams;
    const limit = Number(q.get('limit') ?? 10);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) return error(400, 'This value must be between 1 and 100.', 'limit');
    const gte = Number(q.get('created[gte]') ?? -Infinity);
    const lt = Number(q.get('created[lt]') ?? Infinity);
    const selected = options.charges.filter((c) => c.created >= gte && c.created < lt).sort((a, b) => b.created - a.created || b.id.localeCompare(a.id));
    const after = q.get('starting_after');
    let from = 0;
    if (after !== null) {
      const at = selected.findIndex((c) => c.id === after);
      if (at < 0) return error(400, `No such charge: '${after}'`, 'starting_after');
      from = at + 1;
    }
    const data = selected.slice(from, from + limit);
    return { body: { object: 'list', url: '/v1/charges', has_more: from + limit < selected.length, data } };
  });
}
