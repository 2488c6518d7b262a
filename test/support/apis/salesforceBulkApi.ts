/**
 * Salesforce Bulk API 2.0 query jobs on loopback, as documented:
 * https://developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/query_create_job.htm
 * https://developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/query_get_one_job.htm
 * https://developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/query_get_job_results.htm
 *
 * - `POST /services/data/v62.0/jobs/query` with `{"operation":"query","query":"SELECT …"}` creates a
 *   job and answers it (`id`, `state: "UploadComplete"`); the SOQL's `LastModifiedDate >= … AND
 *   LastModifiedDate < …` picks the accounts.
 * - `GET …/jobs/query/<id>` answers the job: `InProgress` for the first `pollsUntilDone` polls, then
 *   `JobComplete` (or `Failed` with `errorMessage`).
 * - `GET …/jobs/query/<id>/results?locator=&maxRecords=` answers a set of results as CSV (header
 *   row, every field quoted, LF line endings) with `Sforce-Locator` (the next set's locator, or the
 *   text `null` after the last) and `Sforce-NumberOfRecords`; before `JobComplete` it is a 400.
 * Every request needs `Authorization: Bearer <token>` (401 `INVALID_SESSION_ID` otherwise).
 */

import { startJsonServer, type JsonServer, type SeenRequest } from '../jsonServer.js';

const VERSION = '/services/data/v62.0';

/** An account as the simulation holds it. */
export interface Account {
  readonly Id: string;
  readonly Name: string;
  readonly AnnualRevenue: string;
  readonly LastModifiedDate: string;
}

/** One account every `stepMs` from `from`; names hold commas, quotes and line breaks as CSV must carry them. */
export function accountsEvery(from: string, stepMs: number, count: number): Account[] {
  return Array.from({ length: count }, (_, i) => ({
    Id: `001${String(i + 1).padStart(15, '0')}`,
    Name: i % 3 === 0 ? `Acme ${i}, "Inc."\nEMEA` : `Account ${i}`,
    AnnualRevenue: i % 4 === 0 ? '' : `${i * 1000}.5`,
    LastModifiedDate: new Date(Date.parse(from) + i * stepMs).toISOString().replace('Z', '+0000'),
  }));
}

/** Options of {@link startSalesforceBulkApi}. */
export interface SalesforceBulkOptions {
  readonly accounts: readonly Account[];
  readonly token: string;
  /** Polls answered `InProgress` before `JobComplete`. @default 2 */
  readonly pollsUntilDone?: number;
  /** The job fails with this `errorMessage` instead of completing. */
  readonly failWith?: string;
  /** Records per set of results when the request names no maxRecords. @default 7 */
  readonly maxRecords?: number;
  /** Answers nothing until the promise it returns settles (a test hook, to kill a client mid-request). */
  readonly hold?: (request: SeenRequest) => Promise<void> | undefined;
  /** Applies the request, then keeps its answer until the promise it returns settles (to kill a client that never hears it). */
  readonly holdAnswer?: (request: SeenRequest) => Promise<void> | undefined;
}

/** A running simulation. */
export interface SalesforceBulkApi extends JsonServer {
  /** Query jobs created, in order. */
  readonly created: readonly { readonly id: string; readonly query: string }[];
}

interface Job {
  readonly id: string;
  readonly query: string;
  readonly accounts: readonly Account[];
  polls: number;
}

/** Starts the simulation on a free loopback port. */
export async function startSalesforceBulkApi(options: SalesforceBulkOptions): Promise<SalesforceBulkApi> {
  const holdOption = { ...(options.hold ? { hold: options.hold } : {}), ...(options.holdAnswer ? { holdAnswer: options.holdAnswer } : {}) };
  const jobs = new Map<string, Job>();
  const created: { id: string; query: string }[] = [];
  const pollsUntilDone = options.pollsUntilDone ?? 2;
  const stateOf = (job: Job) => (job.polls <= pollsUntilDone ? 'InProgress' : options.failWith !== undefined ? 'Failed' : 'JobComplete');
  const info = (job: Job) => ({
    id: job.id,
    operation: 'query',
    object: 'Account',
    createdById: '005000000000001AAA',
    createdDate: '2024-01-01T00:00:00.000+0000',
    state: job.polls === 0 ? 'UploadComplete' : stateOf(job),
    concurrencyMode: 'Parallel',
    contentType: 'CSV',
    apiVersion: 62.0,
    lineEnding: 'LF',
    columnDelimiter: 'COMMA',
    ...(job.polls > pollsUntilDone && options.failWith !== undefined ? { errorMessage: options.failWith } : {}),
    ...(stateOf(job) === 'JobComplete' && job.polls > 0 ? { numberRecordsProcessed: job.accounts.length } : {}),
  });
  const server = await startJsonServer((request) => {
    if (request.headers.authorization !== `Bearer ${options.token}`) return { status: 401, body: [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }] };
    const path = request.url.pathname;
    if (request.method === 'POST' && path === `${VERSION}/jobs/query`) {
      const body = JSON.parse(request.body) as { operation?: string; query?: string };
      const range = /LastModifiedDate >= (\S+) AND LastModifiedDate < (\S+)/.exec(body.query ?? '');
      if (body.operation !== 'query' || !range) return { status: 400, body: [{ errorCode: 'API_ERROR', message: 'invalid query' }] };
      const [from, to] = [Date.parse(range[1]!), Date.parse(range[2]!)];
      const id = `750R0000000${String(created.length + 1).padStart(4, '0')}AAA`;
      const accounts = options.accounts.filter((a) => Date.parse(a.LastModifiedDate.replace('+0000', 'Z')) >= from && Date.parse(a.LastModifiedDate.replace('+0000', 'Z')) < to);
      const job: Job = { id, query: body.query!, accounts, polls: 0 };
      jobs.set(id, job);
      created.push({ id, query: job.query });
      return { body: info(job) };
    }
    const match = new RegExp(`^${VERSION}/jobs/query/([^/]+)(/results)?$`).exec(path);
    const job = match && jobs.get(match[1]!);
    if (!job || request.method !== 'GET') return { status: 404, body: [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }] };
    if (!match[2]) {
      job.polls++;
      return { body: info(job) };
    }
    if (job.polls === 0 || stateOf(job) !== 'JobComplete') return { status: 400, body: [{ errorCode: 'API_ERROR', message: 'The job is not complete' }] };
    const size = Number(request.url.searchParams.get('maxRecords') ?? options.maxRecords ?? 7);
    const from = Number(request.url.searchParams.get('locator') ?? 0);
    const slice = job.accounts.slice(from, from + size);
    const quoted = (text: string) => `"${text.replaceAll('"', '""')}"`;
    const csv = ['"Id","Name","AnnualRevenue","LastModifiedDate"', ...slice.map((a) => [a.Id, a.Name, a.AnnualRevenue, a.LastModifiedDate].map(quoted).join(','))].join('\n') + '\n';
    const next = from + size < job.accounts.length ? String(from + size) : 'null';
    return { headers: { 'content-type': 'text/csv', 'sforce-locator': next, 'sforce-numberofrecords': String(slice.length) }, body: csv };
  }, holdOption);
  return Object.assign(server, { created });
}
