/**
 * Twilio's Message list as its documentation describes it:
 * - `GET /2010-04-01/Accounts/{AccountSid}/Messages.json`, basic auth with the Account SID and
 *   its Auth Token; another account's SID in the path is 404, wrong credentials 401.
 * - Filters `DateSent>` (sent on or after a date) and `DateSent<` (on or before), dates
 *   `YYYY-MM-DD` in UTC; any other form is 400.
 * - Newest first by `date_sent`; pages of `PageSize` (default 50, at most 1000) chained by
 *   `next_page_uri`, a path relative to the API's host, null on the last page.
 * - Times are RFC 2822 text: `"date_sent": "Fri, 01 Mar 2024 10:00:00 +0000"`.
 * https://www.twilio.com/docs/messaging/api/message-resource#read-multiple-message-resources
 * https://www.twilio.com/docs/usage/twilios-response#response-formats-list-paging-information
 */

import { startJsonServer, type JsonAnswer, type JsonServer } from '../jsonServer.js';

/** A message as the tests hold it. */
export interface TwilioMessage {
  readonly sid: string;
  readonly body: string;
  /** Epoch milliseconds (whole seconds) when it was sent. */
  readonly sentMs: number;
}

/** `count` messages, one every `spacingMs` from `from`. */
export function messagesEvery(from: string, spacingMs: number, count: number): TwilioMessage[] {
  return Array.from({ length: count }, (_, i) => ({ sid: `SM${String(i).padStart(32, '0')}`, body: `message ${i + 1}`, sentMs: Date.parse(from) + i * spacingMs }));
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `Fri, 01 Mar 2024 10:00:00 +0000`, as Twilio writes times. */
export function rfc2822(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${WEEKDAYS[d.getUTCDay()]}, ${two(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
}

/** Starts the Messages list of account `accountSid`. */
export async function startTwilioApi(options: { messages: readonly TwilioMessage[]; accountSid: string; authToken: string }): Promise<JsonServer> {
  const path = `/2010-04-01/Accounts/${options.accountSid}/Messages.json`;
  const auth = `Basic ${Buffer.from(`${options.accountSid}:${options.authToken}`).toString('base64')}`;
  const newestFirst = [...options.messages].sort((a, b) => b.sentMs - a.sentMs || b.sid.localeCompare(a.sid));
  const error = (status: number, code: number, message: string): JsonAnswer => ({ status, body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status } });
  return startJsonServer((request): JsonAnswer => {
    if (request.headers.authorization !== auth) return error(401, 20003, 'Authenticate');
    if (request.url.pathname !== path) return error(404, 20404, `The requested resource ${request.url.pathname} was not found`);
    const q = request.url.searchParams;
    const bounds: { after?: number; before?: number } = {};
    for (const [name, key] of [
      ['DateSent>', 'after'],
      ['DateSent<', 'before'],
    ] as const) {
      const value = q.get(name);
      if (value === null) continue;
      const m = DAY.exec(value);
      if (!m) return error(400, 20001, `Invalid ${name} value: ${value}`);
      const start = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
      bounds[key] = key === 'after' ? start : start + 86_400_000;
    }
    const pageSize = Math.min(1000, Number(q.get('PageSize') ?? 50));
    const page = Number(q.get('Page') ?? 0);
    const matching = newestFirst.filter((m) => (bounds.after === undefined || m.sentMs >= bounds.after) && (bounds.before === undefined || m.sentMs < bounds.before));
    const slice = matching.slice(page * pageSize, (page + 1) * pageSize);
    const next = new URLSearchParams(q);
    next.set('PageSize', String(pageSize));
    next.set('Page', String(page + 1));
    next.set('PageToken', `PA${slice.at(-1)?.sid ?? ''}`);
    return {
      body: {
        messages: slice.map((m) => ({
          sid: m.sid,
          account_sid: options.accountSid,
          body: m.body,
          status: 'delivered',
          direction: 'outbound-api',
          date_created: rfc2822(m.sentMs - 2000),
          date_sent: rfc2822(m.sentMs),
          date_updated: rfc2822(m.sentMs + 1000),
          uri: `${path.replace('.json', '')}/${m.sid}.json`,
        })),
        page,
        page_size: pageSize,
        start: page * pageSize,
        end: page * pageSize + Math.max(slice.length - 1, 0),
        uri: `${path}?${q.toString()}`,
        first_page_uri: `${path}?PageSize=${pageSize}&Page=0`,
        previous_page_uri: page > 0 ? `${path}?PageSize=${pageSize}&Page=${page - 1}` : null,
        next_page_uri: (page + 1) * pageSize < matching.length ? `${path}?${next.toString()}` : null,
      },
    };
  });
}
