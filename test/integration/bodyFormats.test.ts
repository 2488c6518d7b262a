/**
 * Streams whose pages are CSV, JSON Lines or XML, plain or inside gzip or zip, land through the
 * engine like JSON pages: every record once per window, committed, typed columns converting
 * CSV's strings, and a page that is not what its format says fails the window without a commit.
 */

import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SourceDefinition } from '../../functions/config/sourceSchema.js';
import { createSourceClient } from '../../functions/engine/createSourceClient.js';
import { runSource } from '../../functions/engine/runSource.js';
import type { WindowSelection } from '../../functions/engine/windowSelection.js';
import { EnvSecretProvider } from '../../functions/secrets/SecretProvider.js';
import { FsLakeStorage } from '../../functions/sink/FsLakeStorage.js';
import { tableSpec } from '../../functions/tables/tableSpec.js';
import { runLocalQuery } from '../../cli/query/runLocalQuery.js';
import { startJsonServer, type JsonServer, type SeenRequest } from '../support/jsonServer.js';
import { listFiles, readCommittedRecords } from '../support/lakeReader.js';
import { testSource } from '../support/sources.js';
import { zipArchive } from '../support/zipArchive.js';

const TWO_HOURS: WindowSelection = { kind: 'range', from: new Date('2024-01-01T00:00:00Z'), to: new Date('2024-01-01T02:00:00Z') };
const PER_HOUR = 45;
const PAGE = 20;

/** The items of the window the request asks for (since/until), 45 an hour, one every 80 seconds. */
function itemsOf(request: SeenRequest): { id: number; ts: string; amount: string; name: string }[] {
  const since = Date.parse(request.url.searchParams.get('since')!);
  const until = Date.parse(request.url.searchParams.get('until')!);
  const out = [];
  for (let t = since, i = 0; t < until; t += 80_000, i++) {
    const id = Math.round(t / 80_000) - 21_300_000;
    out.push({ id, ts: new Date(t).toISOString(), amount: `${id}.25`, name: `item ${id}, "the ${i}th"\n(multi-line)` });
  }
  return out;
}

const csvField = (text: string) => (/[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text);
const csvOf = (items: ReturnType<typeof itemsOf>) => ['id,ts,amount,name', ...items.map((i) => [String(i.id), i.ts, i.amount, i.name].map(csvField).join(','))].join('\r\n') + '\r\n';
const jsonlOf = (items: ReturnType<typeof itemsOf>) => items.map((i) => JSON.stringify(i)).join('\n') + '\n';

let server: JsonServer;
let lake: string;
let broken = false;
/** Every tenth row's amount is an empty field (and its XML element empty). */
let blankAmounts = false;
beforeEach(async () => {
  broken = false;
  blankAmounts = false;
  server = await startJsonServer((request, base) => {
    const items = itemsOf(request).map((item) => (blankAmounts && item.id % 10 === 0 ? { ...item, amount: '' } : item));
    const page = Number(request.url.searchParams.get('page') ?? 1);
    const slice = items.slice((page - 1) * PAGE, page * PAGE);
    switch (request.url.pathname) {
      case '/export.csv.gz': {
        const csv = csvOf(slice);
        // A row one field short, in the second page of the first window.
        const body = broken && page === 2 ? csv.replace(/\r\n(\d+),[^,]+,/, '\r\n$1,') : csv;
        return { headers: { 'content-type': 'application/gzip' }, body: gzipSync(body) };
      }
      case '/export.zip': {
        // Each page a zip of two JSON Lines files; the Link header names the next page while records remain.
        const half = Math.ceil(slice.length / 2);
        const body = zipArchive([
          { name: `page-${page}-a.jsonl`, data: jsonlOf(slice.slice(0, half)) },
          { name: `page-${page}-b.jsonl`, data: jsonlOf(slice.slice(half)) },
        ]);
        const next = new URL(request.url.pathname + request.url.search, base);
        next.searchParams.set('page', String(page + 1));
        return { headers: { 'content-type': 'application/zip', link: page * PAGE < items.length ? `<${next.href}>; rel="next"` : undefined }, body };
      }
      case '/feed.xml': {
        const entries = items.map((i) => `<entry id="${i.id}"><ts>${i.ts}</ts><amount currency="EUR">${i.amount}</amount><name><![CDATA[${i.name}]]></name></entry>`);
        return { headers: { 'content-type': 'application/xml' }, body: `<?xml version="1.0" encoding="UTF-8"?>\n<feed><title>items</title>${entries.join('\n')}</feed>` };
      }
      default:
        return { status: 404, body: { error: 'no such path' } };
    }
  });
  lake = await mkdtemp(join(tmpdir(), 'apilake-formats-'));
});
afterEach(() => server.close());

async function land(source: SourceDefinition) {
  const client = await createSourceClient(source, new EnvSecretProvider({}));
  return runSource({ source, selection: TWO_HOURS, client, storage: new FsLakeStorage(lake) });
}

const COLUMNS = [
  { name: 'id', path: 'id', type: 'bigint' },
  { name: 'ts', path: 'ts', type: 'timestamp' },
  { name: 'amount', path: 'amount', type: 'decimal(12,2)' },
  { name: 'name', path: 'name', type: 'string' },
];

/** Every record of the two windows landed exactly once, as the server sent them. */
async function expectEveryItemOnce(toItem: (data: Record<string, unknown>) => unknown = (d) => d): Promise<void> {
  const landed = await readCommittedRecords(lake);
  const expected = [0, 1].flatMap((h) => {
    const start = new Date(Date.UTC(2024, 0, 1, h)).toISOString();
    const end = new Date(Date.UTC(2024, 0, 1, h + 1)).toISOString();
    return itemsOf({ url: new URL(`http://x/?since=${start}&until=${end}`) } as SeenRequest);
  });
  expect(landed).toHaveLength(2 * PER_HOUR);
  expect(landed.map((line) => toItem(line.data as Record<string, unknown>)).sort((a, b) => (a as { id: number }).id - (b as { id: number }).id)).toEqual(expected);
}

describe('format: csv', () => {
  const csvSource = () =>
    testSource(server.url, { path: '/export.csv.gz', format: 'csv', pagination: { type: 'page_number', param: 'page' }, primary_key: ['id'], columns: COLUMNS }, { lake: { parquet: true } });

  it('lands gzip CSV pages once per window, rows as JSON objects of strings in header order', async () => {
    const results = await land(csvSource());
    expect(results.map((r) => r.status)).toEqual(['committed', 'committed']);
    // 45 rows a window: pages of 20, 20, 5, then the page with no row ends paging.
    expect(server.count('/export.csv.gz')).toBe(2 * 4);
    const landed = await readCommittedRecords(lake);
    expect(Object.keys(landed[0]!.data as object)).toEqual(['id', 'ts', 'amount', 'name']);
    await expectEveryItemOnce((d) => ({ ...d, id: Number(d.id) }));
  });

  it('converts the strings of CSV rows to typed columns', async () => {
    const source = csvSource();
    await land(source);
    const { rows } = await runLocalQuery(`SELECT count(*), count(DISTINCT id), typeof(min(id)), typeof(min(ts)), typeof(min(amount)), min(ts), sum(amount) FROM testapi_items`, lake, {
      specs: [tableSpec(source, source.streams[0]!)],
    });
    const ids = Array.from({ length: 90 }, (_, i) => Math.round((Date.UTC(2024, 0, 1) + i * 80_000) / 80_000) - 21_300_000);
    const sum = ids.reduce((a, b) => a + b, 0) + 90 * 0.25;
    expect(rows).toEqual([['90', '90', 'BIGINT', 'TIMESTAMP', 'DECIMAL(12,2)', '2024-01-01 00:00:00', sum.toFixed(2)]]);
  });

  it('reads an empty field as NULL in a typed column, not as a type error', async () => {
    blankAmounts = true;
    const source = csvSource();
    const results = await land(source);
    expect(results.map((r) => [r.status, r.typeErrors ?? {}])).toEqual([
      ['committed', {}],
      ['committed', {}],
    ]);
    const { rows } = await runLocalQuery(`SELECT count(*), count(amount), count(*) FILTER (WHERE id % 10 = 0) FROM testapi_items`, lake, { specs: [tableSpec(source, source.streams[0]!)] });
    const [[all, amounts, blanks]] = rows as [[string, string, string]];
    expect(Number(blanks)).toBeGreaterThan(0);
    expect(Number(amounts)).toBe(Number(all) - Number(blanks));
  });

  it('fails the window of a page with a row of the wrong width, committing nothing of it', async () => {
    broken = true;
    const results = await land(csvSource());
    expect(results.map((r) => r.status)).toEqual(['failed', 'failed']);
    expect(results[0]!.error?.message).toMatch(/page 2: response body is not valid CSV: row \d+ has 3 fields, the header 4/);
    expect((await listFiles(lake)).filter((k) => k.startsWith('manifests/'))).toEqual([]);
  });
});

describe('format: jsonl', () => {
  it('lands zip archives of JSON Lines files, paged by the Link header, each line as its bytes', async () => {
    const results = await land(testSource(server.url, { path: '/export.zip', format: 'jsonl', pagination: { type: 'link_header' } }));
    expect(results.map((r) => r.status)).toEqual(['committed', 'committed']);
    expect(server.count('/export.zip')).toBe(2 * 3);
    await expectEveryItemOnce();
  });
});

describe('format: xml', () => {
  it('lands the elements at the record path as JSON objects', async () => {
    const results = await land(testSource(server.url, { path: '/feed.xml', format: { type: 'xml', records: 'feed/entry' } }));
    expect(results.map((r) => r.status)).toEqual(['committed', 'committed']);
    const landed = await readCommittedRecords(lake);
    expect(landed[0]!.data).toEqual({ '@id': '840', ts: '2024-01-01T00:00:00.000Z', amount: { '@currency': 'EUR', '#text': '840.25' }, name: 'item 840, "the 0th"\n(multi-line)' });
    await expectEveryItemOnce((d) => ({ id: Number(d['@id']), ts: d.ts, amount: (d.amount as Record<string, string>)['#text'], name: d.name }));
  });
});
