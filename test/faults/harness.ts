/** What every fault scenario shares: the fake API, source files, the CLI as a process, and the report row. */

import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TimeWindow } from '../../functions/window/TimeWindow.js';
import { spawnApilake, type CliProcess } from '../support/cliProcess.js';
import { startTestApi, type Item, type TestApi } from '../support/testApi.js';
import type { AuditResult, Expectation } from './lakeAudit.js';

/** The API key every scenario's API demands; it must appear in no output and no lake byte. */
export const SECRET = 'sk-fault-7d1c9a2e4b6f8031';
export const SECRET_ENV = { APILAKE_SECRET_APILAKE_FAULTS: JSON.stringify({ api_key: SECRET }) };

/** One row of the suite's table. */
export interface ScenarioReport {
  readonly name: string;
  trials: number;
  faults: number;
  committed: number;
  failed: number;
  /** Windows that ended as the scenario expected (committed, or failed and invisible). */
  asExpected: number;
  records: number;
  samples: number;
  violations: string[];
}

/** A fresh report row. */
export function report(name: string): ScenarioReport {
  return { name, trials: 0, faults: 0, committed: 0, failed: 0, asExpected: 0, records: 0, samples: 0, violations: [] };
}

/** Adds an audit to a row; `expectCommitted` says whether every window had to be committed. */
export function record(row: ScenarioReport, audit: AuditResult, context: string): void {
  row.records += audit.records;
  row.violations.push(...audit.violations.map((v) => `${context}: ${v}`));
}

/** The hourly windows of 2024-01-01 from `fromHour` (inclusive) to `toHour` (exclusive). */
export function hours(fromHour: number, toHour: number): TimeWindow[] {
  return Array.from({ length: toHour - fromHour }, (_, i) => ({ start: new Date(Date.UTC(2024, 0, 1, fromHour + i)), end: new Date(Date.UTC(2024, 0, 1, fromHour + i + 1)) }));
}

/** An API that demands the key, with latency so runs overlap and can be killed mid-window. */
export function startFaultApi(latencyMs = 15): Promise<TestApi> {
  return startTestApi({ count: 250, apiKey: SECRET, latencyMs });
}

/** The items of a window, as the API serves them. */
export function itemsOf(api: TestApi): (window: TimeWindow) => readonly Item[] {
  return (window) => api.items.filter((i) => Date.parse(i.ts) >= window.start.getTime() && Date.parse(i.ts) < window.end.getTime());
}

/** The expectation of the `faults.items` stream. */
export function expectation(api: TestApi, windows: readonly TimeWindow[], extra: Partial<Expectation> = {}): Expectation {
  return { source: 'faults', stream: 'items', windows, expected: itemsOf(api), secrets: [SECRET], maxAttempts: 3, ...extra };
}

/** Source YAML of the `faults` source: cursor paging, 5 records a page, tiny parts so windows span several. */
export function sourceYaml(apiUrl: string, params: Record<string, string> = {}): string {
  const extra = Object.entries(params)
    .map(([k, v]) => `, ${k}: "${v}"`)
    .join('');
  return `name: faults
schedule: rate(1 hour)
base_url: ${apiUrl}
auth: { type: api_key, secret: apilake/faults, in: header, name: X-API-Key }
retry: { max_attempts: 3, base_delay_ms: 5, max_delay_ms: 1000, circuit_breaker_failures: 1000 }
lake: { part_size_mb: 0.001 }
streams:
  - name: items
    path: /cursor
    params: { since: "{window.start}", until: "{window.end}", limit: 5${extra} }
    records: data
    pagination: { type: cursor, cursor: meta.next_cursor, param: cursor }
    window: 1h
`;
}

/** A folder with `sources/faults.yaml` (and a variant folder with extra params), and a lake path. */
export async function workspace(apiUrl: string, variantParams?: Record<string, string>): Promise<{ dir: string; sources: string; variant: string; lake: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'apilake-faults-'));
  const sources = join(dir, 'sources');
  const variant = join(dir, 'sources-variant');
  await mkdir(sources);
  await mkdir(variant);
  await writeFile(join(sources, 'faults.yaml'), sourceYaml(apiUrl));
  await writeFile(join(variant, 'faults.yaml'), sourceYaml(apiUrl, variantParams ?? { run: 'b' }));
  return { dir, sources, variant, lake: join(dir, 'lake') };
}

/** `apilake run faults` over hours [from, to) of 2024-01-01, as a process that can be killed. */
export function runCli(ws: { dir: string; lake: string }, sources: string, fromHour: number, toHour: number, extra: string[] = []): CliProcess {
  const at = (h: number) => new Date(Date.UTC(2024, 0, 1, h)).toISOString();
  return spawnApilake(['run', 'faults', '--from', at(fromHour), '--to', at(toHour), '--lake', ws.lake, '--sources', sources, ...extra], { cwd: ws.dir, env: { ...SECRET_ENV, NO_COLOR: '1' } });
}

/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
