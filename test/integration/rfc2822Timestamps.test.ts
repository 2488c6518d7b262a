/**
 * RFC 2822 timestamps (Twilio's `Fri, 01 Mar 2024 10:00:00 +0000`) as an incremental cursor and
 * as typed `timestamp` columns, against a simulation of Twilio's Message list that filters by
 * whole days only.
 */

import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseSource } from '../../functions/config/loadSources.js';
import { tableSpec } from '../../functions/tables/tableSpec.js';
import { runLocalQuery } from '../../cli/query/runLocalQuery.js';
import { messagesEvery, rfc2822, startTwilioApi, type TwilioMessage } from '../support/apis/twilioApi.js';
import type { JsonServer } from '../support/jsonServer.js';
import { landRange } from '../support/landRange.js';
import { readCommittedRecords, readCurrentCommits } from '../support/lakeReader.js';

const H = 3_600_000;
const ACCOUNT = 'AC0123456789abcdef0123456789abcdef';
const TOKEN = 'twilio-auth-token-0123456789';
const ENV = { APILAKE_SECRET_APILAKE_TWILIO: JSON.stringify({ username: ACCOUNT, password: TOKEN }) };
const PAGE = 20;

let lake: string;
let api: JsonServer | undefined;
beforeEach(async () => {
  lake = await mkdtemp(join(tmpdir(), 'apilake-twilio-'));
});
afterEach(async () => {
  await api?.close();
  api = undefined;
});

/** Hourly windows over a day filter: the day of the window's start and of its last second, then the hour by `date_sent`. */
const twilioSource = (url: string) =>
  parseSource(
    JSON.stringify({
      name: 'twilio',
      schedule: 'rate(1 hour)',
      base_url: url,
      auth: { type: 'basic', secret: 'apilake/twilio' },
      vars: { account: ACCOUNT },
      streams: [
        {
          name: 'messages',
          path: '/2010-04-01/Accounts/{account}/Messages.json',
          params: { 'DateSent>': '{window.start:date}', 'DateSent<': '{window.end-1s:date}', PageSize: PAGE },
          records: 'messages',
          pagination: { type: 'next_url', next: 'next_page_uri' },
          incremental: { cursor_field: 'date_sent', order: 'desc' },
          window: '1h',
          primary_key: ['sid'],
          columns: [
            { name: 'sid', path: 'sid', type: 'string' },
            { name: 'date_sent', path: 'date_sent', type: 'timestamp' },
            { name: 'date_created', path: 'date_created', type: 'timestamp' },
            { name: 'date_updated', path: 'date_updated', type: 'timestamp', format: 'EEE, dd MMM yyyy HH:mm:ss xx' },
            { name: 'sent_day', path: 'date_sent', type: 'date' },
          ],
        },
      ],
    }),
    'sources/twilio.yaml',
  );

describe('RFC 2822 timestamps (Twilio messages)', () => {
  // A message every 4 minutes for two days, newest first from the API.
  const messages = messagesEvery('2024-02-29T20:00:00Z', 4 * 60_000, 720);
  const range = { from: '2024-03-01T22:00:00Z', to: '2024-03-02T01:00:00Z' };
  const starts = [0, 1, 2].map((h) => Date.parse(range.from) + h * H);
  const inHour = (start: number) => messages.filter((m) => m.sentMs >= start && m.sentMs < start + H);

  it('lands each message once in the hour it was sent, reading date_sent as the cursor, and stops at the first message before the hour', async () => {
    const server = (api = await startTwilioApi({ messages, accountSid: ACCOUNT, authToken: TOKEN }));
    const source = twilioSource(server.url);
    const results = await landRange(source, lake, { ...range, env: ENV });
    expect(results.map((r) => [r.status, r.records])).toEqual(starts.map((s) => ['committed', inHour(s).length]));
    expect(starts.map((s) => inHour(s).length)).toEqual([15, 15, 15]);

    const lines = await readCommittedRecords(lake);
    const sids = lines.map((l) => (l.data as { sid: string }).sid);
    expect(new Set(sids).size).toBe(sids.length);
    expect([...sids].sort()).toEqual(messages.filter((m) => m.sentMs >= starts[0]! && m.sentMs < starts[2]! + H).map((m) => m.sid));
    for (const line of lines) {
      const sent = messages.find((m) => m.sid === (line.data as { sid: string }).sid)!.sentMs;
      expect(sent).toBeGreaterThanOrEqual(Date.parse(line._window_start));
      expect(sent).toBeLessThan(Date.parse(line._window_end));
    }

    // Each hour asks for its day; newest first, paging stops on the page holding the first message before the hour.
    const sameDay = (start: number) => messages.filter((m: TwilioMessage) => new Date(m.sentMs).toISOString().slice(0, 10) === new Date(start).toISOString().slice(0, 10));
    const pages = starts.map((s) => Math.min(Math.floor(sameDay(s).filter((m) => m.sentMs >= s).length / PAGE) + 1, Math.ceil(sameDay(s).length / PAGE)));
    expect(pages).toEqual([2, 1, 15]); // the first hour of a day pages down from the newest message of its day, to its end
    const days = server.requests.map((r) => [r.url.searchParams.get('DateSent>'), r.url.searchParams.get('DateSent<')]);
    expect(days.filter((_, i) => !server.requests[i]!.url.searchParams.has('Page'))).toEqual([
      ['2024-03-01', '2024-03-01'],
      ['2024-03-01', '2024-03-01'],
      ['2024-03-02', '2024-03-02'],
    ]);
    expect(server.requests).toHaveLength(pages.reduce((a, b) => a + b, 0));
    // Filtered: what the pages held outside the hour (newer first, then the older rest of the last page).
    const fetched = starts.map((s, i) => Math.min(pages[i]! * PAGE, sameDay(s).length));
    expect((await readCurrentCommits(lake)).map((m) => [m.filtered, m.type_errors])).toEqual(starts.map((s, i) => [fetched[i]! - inHour(s).length, undefined]));
    expect(fetched.map((n, i) => n - inHour(starts[i]!).length)).toEqual([25, 5, 285]);

    const { rows } = await runLocalQuery(
      `SELECT sid, CAST(date_sent AS VARCHAR), CAST(date_created AS VARCHAR), CAST(date_updated AS VARCHAR), CAST(sent_day AS VARCHAR) FROM twilio_messages ORDER BY date_sent LIMIT 1`,
      lake,
      { specs: source.streams.map((s) => tableSpec(source, s)) },
    );
    const first = inHour(starts[0]!)[0]!;
    expect(rfc2822(first.sentMs)).toBe('Fri, 01 Mar 2024 22:00:00 +0000');
    expect(rows).toEqual([[first.sid, '2024-03-01 22:00:00', '2024-03-01 21:59:58', '2024-03-01 22:00:01', '2024-03-01']]);
  });
});
