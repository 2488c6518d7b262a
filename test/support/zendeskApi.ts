/**
 * Zendesk's cursor-based incremental ticket export as it behaves: `start_time` (epoch seconds) is
 * the only time filter, compared with each ticket's `generated_timestamp`; tickets come in
 * `(generated_timestamp, id)` order (the cursor encodes both); tickets changed within the last
 * minute are left out; a start_time less than a minute old is refused; every page carries
 * `after_url`/`after_cursor`, and `end_of_stream` says when the export has caught up.
 * https://developer.zendesk.com/api-reference/ticketing/ticket-management/incremental_exports/
 */

import { startJsonServer, type JsonServer } from './jsonServer.js';

/** A ticket (the fields the tests need). */
export interface Ticket {
  readonly id: number;
  readonly subject: string;
  readonly updated_at: string;
  /** Epoch seconds of the last change, system changes included. */
  readonly generated_timestamp: number;
}

/** `count` tickets, one every `spacingSeconds` from `from`. */
export function ticketsEvery(from: string, spacingSeconds: number, count: number): Ticket[] {
  const start = Date.parse(from) / 1000;
  return Array.from({ length: count }, (_, i) => {
    const ts = start + i * spacingSeconds;
    return { id: 100 + i, subject: `ticket ${i + 1}`, updated_at: new Date(ts * 1000).toISOString().replace('.000Z', 'Z'), generated_timestamp: ts };
  });
}

const PATH = '/api/v2/incremental/tickets/cursor.json';

/** Starts the export API at `/api/v2/incremental/tickets/cursor.json`. */
export async function startZendeskApi(options: { tickets: readonly Ticket[]; now?: () => number }): Promise<JsonServer> {
  const now = () => Math.floor((options.now ?? Date.now)() / 1000);
  const ordered = [...options.tickets].sort((a, b) => a.generated_timestamp - b.generated_timestamp || a.id - b.id);
  return startJsonServer((request, base) => {
    if (request.url.pathname !== PATH) return { status: 404, body: { error: 'InvalidEndpoint' } };
    const q = request.url.searchParams;
    const perPage = Math.min(1000, Number(q.get('per_page') ?? 1000));
    // Changes of the last minute are not exported yet.
    const visible = ordered.filter((t) => t.generated_timestamp <= now() - 60);
    let after: { ts: number; id: number };
    if (q.has('cursor')) {
      const decoded = /^(\d+)\.0\|\|(\d+)\|$/.exec(Buffer.from(q.get('cursor')!, 'base64').toString());
      if (!decoded) return { status: 400, body: { error: 'InvalidCursor' } };
      after = { ts: Number(decoded[1]), id: Number(decoded[2]) };
    } else if (q.has('start_time')) {
      const start = Number(q.get('start_time'));
      if (!Number.isInteger(start)) return { status: 400, body: { error: 'InvalidValue', description: 'start_time is not an integer' } };
      if (start > now() - 60) return { status: 422, body: { error: 'InvalidValue', description: 'Too recent start_time. Use a start_time older than 1 minute' } };
      after = { ts: start, id: -1 };
    } else {
      return { status: 400, body: { error: 'InvalidValue', description: 'start_time or cursor is required' } };
    }
    const rest = visible.filter((t) => t.generated_timestamp > after.ts || (t.generated_timestamp === after.ts && t.id > after.id));
    const page = rest.slice(0, perPage);
    const last = page.at(-1);
    const cursor = Buffer.from(`${last ? last.generated_timestamp : Math.max(after.ts, 0)}.0||${last ? last.id : after.id < 0 ? 0 : after.id}|`).toString('base64');
    const next = new URL(PATH, base);
    next.searchParams.set('cursor', cursor);
    if (q.has('per_page')) next.searchParams.set('per_page', String(perPage));
    return { body: { tickets: page, after_url: next.href, after_cursor: cursor, before_url: null, before_cursor: null, end_of_stream: rest.length <= perPage } };
  });
}
