/**
 * Stripe report runs on loopback, as documented:
 * https://docs.stripe.com/reports/api (run a report: interval_start inclusive, interval_end exclusive,
 *   as Unix timestamps; poll the run until `succeeded`; download `result.url` with the API key)
 * https://docs.stripe.com/api/reporting/report_run (the Report Run object: `status` pending |
 *   succeeded | failed, `error`, `result` a File)
 * https://docs.stripe.com/api/files/retrieve (the File object; `url` on https://files.stripe.com)
 * https://docs.stripe.com/api/authentication (HTTP Basic with the key as user name and no
 *   password, or `Authorization: Bearer <key>`)
 * https://docs.stripe.com/api/errors (401 `invalid_request_error`, 404 `resource_missing`)
 * https://docs.stripe.com/api/idempotent_requests (an `Idempotency-Key` header of up to 255
 *   characters: the status and body of the first request with a key are saved once the endpoint
 *   began executing, and a request with the same key and the same parameters gets them again;
 *   the same key with other parameters is refused (400 `idempotency_error`); a request that fails
 *   validation saves nothing)
 *
 * Two origins, as in production: the API (`api.stripe.com`) and the file host (`files.stripe.com`),
 * which needs the same secret key: unlike a signed URL, a File's `url` carries no authorisation.
 * - `POST /v1/reporting/report_runs`, form-encoded `report_type` and `parameters[interval_start]`,
 *   `parameters[interval_end]` (epoch seconds), creates a run (`frr_…`, status `pending`).
 * - `GET /v1/reporting/report_runs/<id>` answers it: `pending` for the first `pollsUntilDone`
 *   polls, then `succeeded` with `result` (a File of purpose `finance_report_run`, type `csv`),
 *   or `failed` with `error`.
 * - `GET /v1/files/<file id>/contents` on the file host answers the CSV: a header row, one
 *   balance transaction a row created in the interval, CRLF line endings, `Accept-Ranges: bytes`.
 * - `POST /v1/reporting/report_runs` with an `Idempotency-Key` it saw with the same form answers
 *   the run it created then (`Idempotent-Replayed: true`), and creates nothing.
 * Test hooks (not Stripe behaviour): `hold` delays an answer until the test lets it go (to kill a
 * client mid-way; a file's answer is held again after half of it, its request's body {@link MID_FILE};
 * a create's answer is held again after the run was created, its request's body {@link RUN_CREATED}), `breakFileAfter` cuts the file's connection after that many bytes once.
 */

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { startJsonServer, type JsonServer, type SeenRequest } from '../jsonServer.js';
import { asyncListener, listenOnLoopback } from '../listenOnLoopback.js';

/** A balance transaction as the report's CSV has it (amounts in major units, as text). */
export interface BalanceRow {
  readonly balance_transaction_id: string;
  readonly created_utc: string;
  readonly currency: string;
  readonly gross: string;
  readonly fee: string;
  readonly net: string;
  readonly reporting_category: string;
  readonly description: string;
}

/** One balance transaction every `stepSeconds` from `from`; descriptions hold commas, quotes and line breaks. */
export function balanceRowsEvery(from: string, stepSeconds: number, count: number): BalanceRow[] {
  return Array.from({ length: count }, (_, i) => {
    const gross = 10 + ((i * 37) % 900);
    const fee = Math.round(gross * 2.9 + 30) / 100;
    return {
      balance_transaction_id: `txn_${(5_000_000 + i).toString(36).padStart(10, '0')}`,
      created_utc: new Date(Date.parse(from) + i * stepSeconds * 1000).toISOString().slice(0, 19).replace('T', ' '),
      currency: i % 5 === 0 ? 'eur' : 'usd',
      gross: gross.toFixed(2),
      fee: fee.toFixed(2),
      net: (gross - fee).toFixed(2),
      reporting_category: i % 7 === 0 ? 'refund' : 'charge',
      description: i % 4 === 0 ? `Order ${i}, "gift"\nwrapped` : `Order ${i}`,
    };
  });
}

/** The body of the request `hold` is called with again once half of a file was sent. */
export const MID_FILE = '<half of the file sent>';

/** The body of the request `hold` is called with again once a create made its run, before it is answered. */
export const RUN_CREATED = '<the run was created>';

/** Stripe's longest idempotency key. */
const MAX_KEY_LENGTH = 255;

const COLUMNS = ['balance_transaction_id', 'created_utc', 'currency', 'gross', 'fee', 'net', 'reporting_category', 'description'] as const;

/** Options of {@link startStripeReportsApi}. */
export interface StripeReportsOptions {
  readonly rows: readonly BalanceRow[];
  readonly secretKey: string;
  /** Polls answered `pending` before the run ends. @default 1 */
  readonly pollsUntilDone?: number;
  /** The run fails with this `error`. */
  readonly failWith?: string;
  /** Answers nothing until the promise it returns settles (a test hook, to kill a client mid-request). */
  readonly hold?: (request: SeenRequest) => Promise<void> | undefined;
  /** The file host answers 302 to this origin, same path (a test hook: a host that hands the file to storage). */
  readonly redirectFilesTo?: string;
  /** The file's first answer sends this many bytes and then drops the connection (a test hook). */
  readonly breakFileAfter?: number;
}

/** A running simulation: the API and the file host. */
export interface StripeReportsApi {
  readonly api: JsonServer;
  readonly files: { readonly url: string; readonly requests: SeenRequest[]; readonly close: () => Promise<void> };
  /** Report runs created, in order, with the parameters they were created with and their Idempotency-Key. */
  readonly created: readonly { readonly id: string; readonly form: URLSearchParams; readonly key?: string }[];
  /** Creates answered with a saved response instead of a new run. */
  readonly replayed: () => number;
  /** The CSV the run `id` produces. */
  csvOf(id: string): string;
  close(): Promise<void>;
}

interface Run {
  readonly id: string;
  readonly created: number;
  readonly reportType: string;
  readonly start: number;
  readonly end: number;
  polls: number;
}

const unauthorised = { status: 401, body: { error: { type: 'invalid_request_error', message: 'Invalid API Key provided: sk_test_****' } } };

/** Whether `authorization` carries `key` the two ways Stripe accepts. */
function authorised(authorization: string | undefined, key: string): boolean {
  return authorization === `Bearer ${key}` || authorization === `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
}

/** Starts both servers on free loopback ports. */
export async function startStripeReportsApi(options: StripeReportsOptions): Promise<StripeReportsApi> {
  const runs = new Map<string, Run>();
  const created: { id: string; form: URLSearchParams; key?: string }[] = [];
  // What a key was first used with, and the answer then.
  const saved = new Map<string, { readonly request: string; readonly answer: { status?: number; body: unknown } }>();
  let replayed = 0;
  const pollsUntilDone = options.pollsUntilDone ?? 1;
  const csvOf = (id: string): string => {
    const run = runs.get(id)!;
    const picked = options.rows.filter((r) => {
      const at = Date.parse(`${r.created_utc.replace(' ', 'T')}Z`) / 1000;
      return at >= run.start && at < run.end;
    });
    const cell = (text: string) => (/[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text);
    return [COLUMNS.join(','), ...picked.map((r) => COLUMNS.map((c) => cell(r[c])).join(','))].map((line) => `${line}\r\n`).join('');
  };

  const fileRequests: SeenRequest[] = [];
  let broken = false;
  const fileServer = createServer(
    asyncListener(async (req: IncomingMessage, res: ServerResponse) => {
      const seen: SeenRequest = { method: req.method ?? 'GET', url: new URL(req.url ?? '/', 'http://local'), headers: req.headers, body: '' };
      fileRequests.push(seen);
      await options.hold?.(seen);
      const id = /^\/v1\/files\/file_(\w+)\/contents$/.exec(seen.url.pathname)?.[1];
      const run = id === undefined ? undefined : runs.get(`frr_${id}`);
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (!authorised(req.headers.authorization, options.secretKey)) return json(unauthorised.status, unauthorised.body);
      if (!run || run.polls <= pollsUntilDone || options.failWith !== undefined) {
        return json(404, { error: { type: 'invalid_request_error', code: 'resource_missing', message: `No such file: 'file_${id ?? ''}'` } });
      }
      if (options.redirectFilesTo !== undefined) {
        res.writeHead(302, { location: `${options.redirectFilesTo}${seen.url.pathname}` });
        res.end();
        return;
      }
      const bytes = Buffer.from(csvOf(run.id));
      const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      const from = range ? Math.min(Number(range[1]), bytes.length) : 0;
      const headers = { 'content-type': 'text/csv', 'accept-ranges': 'bytes', 'content-length': String(bytes.length - from) };
      if (range) res.writeHead(206, { ...headers, 'content-range': `bytes ${from}-${bytes.length - 1}/${bytes.length}` });
      else res.writeHead(200, headers);
      if (options.breakFileAfter !== undefined && !broken) {
        broken = true;
        // The connection drops mid-body once the first bytes have left.
        res.write(bytes.subarray(from, from + options.breakFileAfter), () => res.destroy());
        return;
      }
      // Half the file, then the hold a test may put mid-file (its request's body says so), then the rest.
      const half = from + Math.floor((bytes.length - from) / 2);
      res.write(bytes.subarray(from, half));
      await options.hold?.({ ...seen, body: MID_FILE });
      res.end(bytes.subarray(half));
    }),
  );
  const filesListening = await listenOnLoopback(fileServer);
  const filesUrl = `http://127.0.0.1:${filesListening.port}`;

  const fileOf = (run: Run) => ({
    id: `file_${run.id.slice(4)}`,
    object: 'file',
    created: run.created + 60,
    expires_at: run.created + 60 + 365 * 86_400,
    filename: `${run.id}.csv`,
    purpose: 'finance_report_run',
    size: Buffer.byteLength(csvOf(run.id)),
    title: `FinanceReportRun ${run.id}`,
    type: 'csv',
    url: `${filesUrl}/v1/files/file_${run.id.slice(4)}/contents`,
  });
  const api = await startJsonServer(
    (request) => {
      if (!authorised(request.headers.authorization, options.secretKey)) return unauthorised;
      if (request.method === 'POST' && request.url.pathname === '/v1/reporting/report_runs') {
        if (!String(request.headers['content-type']).startsWith('application/x-www-form-urlencoded')) {
          return { status: 400, body: { error: { type: 'invalid_request_error', message: 'Invalid request: the body must be form-encoded (application/x-www-form-urlencoded).' } } };
        }
        const form = new URLSearchParams(request.body);
        const key = request.headers['idempotency-key'] as string | undefined;
        if (key !== undefined && key.length > MAX_KEY_LENGTH) {
          return { status: 400, body: { error: { type: 'invalid_request_error', message: `Idempotency keys can be at most ${MAX_KEY_LENGTH} characters long.` } } };
        }
        const fingerprint = `${request.url.pathname} ${[...form].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).join('&')}`;
        const first = key === undefined ? undefined : saved.get(key);
        if (first && first.request !== fingerprint) {
          const message = `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`;
          return { status: 400, body: { error: { type: 'idempotency_error', message } } };
        }
        if (first) {
          replayed++;
          return { ...first.answer, headers: { 'idempotent-replayed': 'true' } };
        }
        const [start, end] = [Number(form.get('parameters[interval_start]')), Number(form.get('parameters[interval_end]'))];
        if (!form.get('report_type') || !Number.isInteger(start) || !Number.isInteger(end) || start >= end) {
          return { status: 400, body: { error: { type: 'invalid_request_error', message: 'Missing or invalid report_type, parameters[interval_start] or parameters[interval_end].' } } };
        }
        const id = `frr_${String(created.length + 1).padStart(14, '0')}`;
        const run: Run = { id, created: 1_735_689_600 + created.length, reportType: form.get('report_type')!, start, end, polls: 0 };
        runs.set(id, run);
        created.push({ id, form, ...(key === undefined ? {} : { key }) });
        const answer = { body: describeRun(run, 'pending') };
        if (key !== undefined) saved.set(key, { request: fingerprint, answer });
        return answer;
      }
      const id = /^\/v1\/reporting\/report_runs\/(frr_\w+)$/.exec(request.url.pathname)?.[1];
      const run = id === undefined ? undefined : runs.get(id);
      if (request.method !== 'GET' || !run) return { status: 404, body: { error: { type: 'invalid_request_error', code: 'resource_missing', message: `No such report run: '${id ?? ''}'` } } };
      run.polls++;
      if (run.polls <= pollsUntilDone) return { body: describeRun(run, 'pending') };
      if (options.failWith !== undefined) return { body: describeRun(run, 'failed', options.failWith) };
      return { body: { ...describeRun(run, 'succeeded'), result: fileOf(run), succeeded_at: run.created + 60 } };
    },
    options.hold
      ? {
          hold: options.hold,
          holdAnswer: (request) => (request.method === 'POST' && request.url.pathname === '/v1/reporting/report_runs' ? options.hold!({ ...request, body: RUN_CREATED }) : undefined),
        }
      : {},
  );

  return {
    api,
    files: { url: filesUrl, requests: fileRequests, close: filesListening.close },
    created,
    replayed: () => replayed,
    csvOf,
    close: async () => void (await Promise.all([api.close(), filesListening.close()])),
  };
}

function describeRun(run: Run, status: 'pending' | 'succeeded' | 'failed', error: string | null = null): Record<string, unknown> {
  return {
    id: run.id,
    object: 'reporting.report_run',
    created: run.created,
    error,
    livemode: false,
    parameters: { interval_start: run.start, interval_end: run.end },
    report_type: run.reportType,
    result: null,
    status,
    succeeded_at: null,
  };
}
