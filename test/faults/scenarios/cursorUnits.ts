/**
 * Epoch cursors in a seeded mix of units (s with fractions, ms, µs, ns; JSON numbers and digit
 * strings, ns numbers past 2^53) over a day of hourly windows, with records on every window
 * boundary: each record must land exactly once, in the window its cursor falls in, and a
 * window's `filtered` count must be exactly the served records outside it. Then a cursor outside
 * 1970–2200 in one window: the windows that read it fail, naming it, and the others commit.
 */

import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { FsLakeStorage } from '../../../functions/sink/FsLakeStorage.js';
import { snapshotStream } from '../../../functions/sink/lakeSnapshot.js';
import type { TimeWindow } from '../../../functions/window/TimeWindow.js';
import { startJsonServer, type JsonServer } from '../../support/jsonServer.js';
import { between } from '../../support/seededRandom.js';
import type { Item } from '../../support/testApi.js';
import { auditLake } from '../lakeAudit.js';
import { hours, record, report, runCli, SECRET, workspace, type ScenarioReport } from '../harness.js';

const H = 3_600_000;
const DAY = hours(0, 24);
const FROM = DAY[0]!.start.getTime();
const TO = DAY.at(-1)!.end.getTime();
/** The API serves each window's records and those up to this far either side, which apilake must filter out. */
const SLACK = 30 * 60_000;
const PAGE = 20;
const UNITS = ['s', 'ms', 'us', 'ns'] as const;
type Unit = (typeof UNITS)[number];

/** One record: its instant, and the JSON text the API sends for it. */
interface Served {
  readonly id: number;
  readonly at: number;
  readonly text: string;
}

/** The cursor of instant `at` (ms) plus `nanos` (0–999,999 ns, never a whole millisecond) in `unit`, as JSON number text. */
function epochText(at: number, unit: Unit, nanos: number): string {
  const ms = BigInt(at);
  if (unit === 'ms') return String(ms);
  if (unit === 'us') return String(ms * 1000n + BigInt(Math.floor(nanos / 1000)));
  if (unit === 'ns') return String(ms * 1_000_000n + BigInt(nanos));
  const fraction = `${String(ms % 1000n).padStart(3, '0')}${String(nanos).padStart(6, '0')}`.replace(/0+$/, '');
  return fraction === '' ? String(ms / 1000n) : `${ms / 1000n}.${fraction}`;
}

/** The data set: random instants around the day, plus each boundary's first and last instant, in a random unit and form each. */
function servedRecords(random: () => number, unitOf: () => Unit): Served[] {
  const instants: number[] = [];
  for (let i = 0; i < 24 * 40; i++) instants.push(between(random, FROM - SLACK, TO + SLACK - 1));
  for (let b = FROM; b <= TO; b += H) instants.push(b, b - 1);
  instants.sort((a, b) => a - b);
  return instants.map((at, i) => {
    const unit = unitOf();
    // Digits below the millisecond (the last millisecond of a window stays in it, whatever follows).
    const digits = epochText(at, unit, random() < 0.3 ? 999_999 : between(random, 0, 999_999));
    const cursor = random() < 0.5 ? digits : `"${digits}"`;
    return { id: i + 1, at, text: `{"id":${i + 1},"ts":${cursor},"unit":"${unit}"}` };
  });
}

/** An API over `records` at `/<stream>`: those within SLACK of [since, until), in instant order, PAGE a page. */
function startUnitsApi(streams: Record<string, readonly Served[]>): Promise<JsonServer> {
  return startJsonServer((request) => {
    if (request.headers['x-api-key'] !== SECRET) return { status: 401, body: { error: 'invalid api key' } };
    const records = streams[request.url.pathname.slice(1)];
    if (!records) return { status: 404, body: { error: 'no such stream' } };
    const since = Date.parse(request.url.searchParams.get('since') ?? '');
    const until = Date.parse(request.url.searchParams.get('until') ?? '');
    const after = Number(request.url.searchParams.get('after') ?? 0);
    const selected = servedIn(records, since, until);
    const page = selected.slice(after, after + PAGE);
    return { body: `{"data":[${page.map((r) => r.text).join(',')}],"next":${after + PAGE < selected.length ? after + PAGE : null}}` };
  });
}

function servedIn(records: readonly Served[], since: number, until: number): Served[] {
  return records.filter((r) => r.at >= since - SLACK && r.at < until + SLACK);
}

function sourceYaml(apiUrl: string): string {
  const stream = (name: string, incremental: string) => `  - name: ${name}
    path: /${name}
    params: { since: "{window.start}", until: "{window.end}" }
    records: data
    pagination: { type: cursor, cursor: next, param: after }
    incremental: ${incremental}
    window: 1h
`;
  return `name: faults
schedule: rate(1 hour)
base_url: ${apiUrl}
auth: { type: api_key, secret: apilake/faults, in: header, name: X-API-Key }
retry: { max_attempts: 3, base_delay_ms: 5, max_delay_ms: 1000 }
lake: { part_size_mb: 0.001 }
streams:
${stream('mixed', '{ cursor_field: ts }')}${stream('declared', '{ cursor_field: ts, unit: us }')}${stream('implausible', '{ cursor_field: ts }')}`;
}

export async function cursorUnits(random: () => number): Promise<ScenarioReport> {
  const row = report('epoch cursors: s/ms/µs/ns mixed, declared, implausible');
  const mixed = servedRecords(random, () => UNITS[between(random, 0, 3)]!);
  const declared = servedRecords(random, () => 'us');
  // One record of a random window gets a cursor no window can hold (seconds past 2200, or a zero date).
  const bad = mixed.filter((r) => r.at >= FROM && r.at < TO)[between(random, 0, 24 * 30)]!;
  const badCursor = random() < 0.5 ? '9000000000' : '"0001-01-01T00:00:00Z"';
  const implausible = mixed.map((r) => (r === bad ? { ...r, text: `{"id":${r.id},"ts":${badCursor},"unit":"bad"}` } : r));
  const api = await startUnitsApi({ mixed, declared, implausible });
  try {
    const ws = await workspace(api.url);
    await mkdir(join(ws.dir, 'units'));
    await writeFile(join(ws.dir, 'units', 'faults.yaml'), sourceYaml(api.url));
    const sources = join(ws.dir, 'units');
    const storage = new FsLakeStorage(ws.lake);
    const expected = (records: readonly Served[]) => (window: TimeWindow) =>
      records.filter((r) => r.at >= window.start.getTime() && r.at < window.end.getTime()).map((r) => JSON.parse(r.text) as Item);

    for (const [stream, records] of [
      ['mixed', mixed],
      ['declared', declared],
    ] as const) {
      const result = await runCli(ws, sources, 0, 24, ['--stream', stream]).done();
      row.trials++;
      if (result.code !== 0) row.violations.push(`${stream}: exit ${result.code}, expected 0: ${(result.stdout + result.stderr).slice(-400)}`);
      const audit = await auditLake(storage, {
        source: 'faults',
        stream,
        windows: DAY,
        expected: expected(records),
        mustCommit: true,
        secrets: [SECRET],
        outputs: [result.stdout, result.stderr],
        maxAttempts: 3,
      });
      record(row, audit, stream);
      row.committed += audit.committed;
      row.asExpected += audit.committed;
      row.violations.push(...(await filteredCounts(storage, stream, records)));
    }

    // The implausible cursor fails every window that reads it (its own, and a neighbour within SLACK); the others commit.
    const result = await runCli(ws, sources, 0, 24, ['--stream', 'implausible']).done();
    row.trials++;
    row.faults++;
    const failing = DAY.filter((w) => servedIn([bad], w.start.getTime(), w.end.getTime()).length > 0);
    const committed = DAY.filter((w) => !failing.includes(w));
    if (result.code !== 1) row.violations.push(`implausible: exit ${result.code}, expected 1 (a window failed)`);
    const shown =
      badCursor === '9000000000'
        ? 'is 9000000000, read as epoch seconds by its magnitude 2255-03-14T16:00:00.000Z, outside 1970–2200'
        : 'is "0001-01-01T00:00:00Z", read as ISO 8601 0001-01-01T00:00:00.000Z, outside 1970–2200';
    const named = (result.stdout + result.stderr).split('\n').filter((l) => l.includes(`incremental.cursor_field "ts" ${shown}`) && /page \d+, record \d+:/.test(l));
    if (named.length !== failing.length) row.violations.push(`implausible: ${named.length} failure lines name the cursor, expected ${failing.length}: ${(result.stdout + result.stderr).slice(-600)}`);
    const audit = await auditLake(storage, {
      source: 'faults',
      stream: 'implausible',
      windows: committed,
      expected: expected(implausible),
      mustCommit: true,
      secrets: [SECRET],
      outputs: [result.stdout, result.stderr],
    });
    record(row, audit, 'implausible');
    const snapshot = await snapshotStream(storage, 'faults', 'implausible');
    const wrongly = failing.filter((w) => snapshot.committed.some((c) => c.ref.window.start.getTime() === w.start.getTime()));
    if (wrongly.length > 0) row.violations.push(`implausible: windows that read the bad cursor were committed: ${wrongly.map((w) => w.start.toISOString()).join(', ')}`);
    row.committed += audit.committed;
    row.failed += failing.length;
    row.asExpected += audit.committed + failing.length - wrongly.length;
    row.violations.push(...(await filteredCounts(storage, 'implausible', implausible)));
  } finally {
    await api.close();
  }
  return row;
}

/** Every committed window's `filtered` must be exactly the served records outside it: none counted wrongly. */
async function filteredCounts(storage: FsLakeStorage, stream: string, records: readonly Served[]): Promise<string[]> {
  const snapshot = await snapshotStream(storage, 'faults', stream);
  return snapshot.committed.flatMap((c) => {
    const { start, end } = { start: c.ref.window.start.getTime(), end: c.ref.window.end.getTime() };
    const served = servedIn(records, start, end);
    const outside = served.filter((r) => r.at < start || r.at >= end).length;
    return c.manifest.filtered === outside
      ? []
      : [`${stream} ${c.ref.window.start.toISOString()}: filtered ${c.manifest.filtered}, but ${outside} of the ${served.length} served records lie outside the window`];
  });
}
