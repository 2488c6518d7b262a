/**
 * Jira Cloud's issue search as its documentation describes it, for the JQL the example sends:
 * - `GET /rest/api/3/search?jql=…&startAt=…&maxResults=…` answers `{ expand, startAt, maxResults,
 *   total, issues }`; `maxResults` defaults to 50 and is capped at 100; `startAt` is 0-based.
 *   https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/#api-rest-api-3-search-get
 * - Basic auth with the account's email and an API token; anything else is 401.
 *   https://developer.atlassian.com/cloud/jira/platform/basic-auth-for-rest-apis/
 * - Date values in JQL (`updated >= "2024-03-01 10:00"`) are read in the time zone of the user's
 *   profile, to the minute, in the formats "yyyy/MM/dd HH:mm", "yyyy-MM-dd HH:mm", "yyyy/MM/dd",
 *   "yyyy-MM-dd"; any other value (ISO 8601 `2024-03-01T10:00:00Z` included) is a 400 with Jira's
 *   error collection `{ errorMessages: [...], warningMessages: [] }`.
 *   https://support.atlassian.com/jira-software-cloud/docs/jql-fields/#Updated
 * - Issue times come back as `2024-03-01T11:04:05.123+0100`, in the user's zone.
 *
 * The JQL understood is the subset the tests need: clauses joined by AND (`project = KEY`,
 * `updated >= "…"`, `updated > "…"`, `updated <= "…"`, `updated < "…"`) and `ORDER BY updated ASC|DESC`.
 */

import { startJsonServer, type JsonAnswer, type JsonServer } from '../jsonServer.js';

/** An issue as the tests hold it; served with its times in the user's zone. */
export interface JiraIssue {
  readonly id: string;
  readonly key: string;
  readonly summary: string;
  /** Epoch milliseconds of the last update. */
  readonly updatedMs: number;
}

/** `count` issues of project `project`, one every `spacingMs` from `from`. */
export function jiraIssuesEvery(project: string, from: string, spacingMs: number, count: number): JiraIssue[] {
  return Array.from({ length: count }, (_, i) => ({ id: String(10_000 + i), key: `${project}-${i + 1}`, summary: `issue ${i + 1}`, updatedMs: Date.parse(from) + i * spacingMs }));
}

export const JIRA_SEARCH_PATH = '/rest/api/3/search';
const DATE_FORMATS = "Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'.";
const JQL_DATE = /^(\d{4})[-/](\d{2})[-/](\d{2})(?: (\d{2}):(\d{2}))?$/;
const CLAUSE = /^\s*(project|updated)\s*(>=|<=|>|<|=)\s*(?:"([^"]*)"|([A-Za-z0-9_-]+))\s*$/i;

/** Options of the simulation. */
export interface JiraApiOptions {
  readonly issues: readonly JiraIssue[];
  /** The email and API token basic auth must carry. */
  readonly email: string;
  readonly apiToken: string;
  /** The time zone of the user's profile: JQL dates are read in it, issue times rendered in it. */
  readonly userTimeZone: string;
}

/** Starts the search API at {@link JIRA_SEARCH_PATH}. */
export async function startJiraApi(options: JiraApiOptions): Promise<JsonServer> {
  const expectedAuth = `Basic ${Buffer.from(`${options.email}:${options.apiToken}`).toString('base64')}`;
  return startJsonServer((request, base): JsonAnswer => {
    if (request.url.pathname !== JIRA_SEARCH_PATH) return { status: 404, body: { errorMessages: ['Not found'], warningMessages: [] } };
    if (request.headers.authorization !== expectedAuth)
      return { status: 401, body: { errorMessages: ['You are not authenticated. Authentication required to perform this operation.'], warningMessages: [] } };
    const q = request.url.searchParams;
    const startAt = Number(q.get('startAt') ?? 0);
    const maxResults = Math.min(100, Number(q.get('maxResults') ?? 50));
    if (!Number.isInteger(startAt) || startAt < 0 || !Number.isInteger(maxResults) || maxResults < 0) return errors(`Invalid startAt or maxResults.`);
    const query = parseJql(q.get('jql') ?? '', options.userTimeZone);
    if (typeof query === 'string') return errors(query);
    const matching = options.issues.filter((issue) => query.filters.every((keep) => keep(issue))).sort((a, b) => query.direction * (a.updatedMs - b.updatedMs) || Number(a.id) - Number(b.id));
    return {
      body: {
        expand: 'schema,names',
        startAt,
        maxResults,
        total: matching.length,
        issues: matching.slice(startAt, startAt + maxResults).map((issue) => ({
          expand: 'operations,versionedRepresentations,editmeta,changelog,renderedFields',
          id: issue.id,
          self: `${base}/rest/api/3/issue/${issue.id}`,
          key: issue.key,
          fields: { summary: issue.summary, updated: jiraTime(issue.updatedMs, options.userTimeZone) },
        })),
      },
    };
  });
}

function errors(message: string): JsonAnswer {
  return { status: 400, body: { errorMessages: [message], warningMessages: [] } };
}

/** The filters and order of the JQL, or Jira's message for what it refuses. */
function parseJql(jql: string, zone: string): { filters: ((issue: JiraIssue) => boolean)[]; direction: 1 | -1 } | string {
  const [where = '', order] = jql.split(/\s+ORDER\s+BY\s+/i);
  let direction: 1 | -1 = 1;
  if (order !== undefined) {
    const m = /^updated(?:\s+(ASC|DESC))?\s*$/i.exec(order);
    if (!m) return `Error in the JQL Query: ORDER BY ${order} is not supported here.`;
    direction = m[1]?.toUpperCase() === 'DESC' ? -1 : 1;
  }
  const filters: ((issue: JiraIssue) => boolean)[] = [];
  for (const clause of where.trim() === '' ? [] : where.split(/\s+AND\s+/i)) {
    const m = CLAUSE.exec(clause);
    if (!m) return `Error in the JQL Query: the clause '${clause.trim()}' is not understood.`;
    const [field, operator, value] = [m[1]!.toLowerCase(), m[2]!, m[3] ?? m[4]!];
    if (field === 'project') {
      if (operator !== '=') return `The operator '${operator}' is not supported by the 'project' field.`;
      filters.push((issue) => issue.key.startsWith(`${value}-`));
      continue;
    }
    const at = jqlInstant(value, zone);
    if (at === undefined) return `Date value '${value}' for field 'updated' is invalid. ${DATE_FORMATS}`;
    const compare: Record<string, (ms: number) => boolean> = { '>=': (ms) => ms >= at, '>': (ms) => ms > at, '<=': (ms) => ms <= at, '<': (ms) => ms < at, '=': (ms) => ms === at };
    filters.push((issue) => compare[operator]!(issue.updatedMs));
  }
  return { filters, direction };
}

/** The instant a JQL date names in the user's zone (a date alone is its midnight), or undefined. */
function jqlInstant(value: string, zone: string): number | undefined {
  const m = JQL_DATE.exec(value);
  if (!m) return undefined;
  const [year, month, day, hour, minute] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0)];
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  if (new Date(wall).getUTCDate() !== day || hour > 23 || minute > 59) return undefined;
  const first = wall - offsetMs(wall, zone);
  return wall - offsetMs(first, zone);
}

/** `2024-03-01T11:04:05.123+0100`: the instant in the user's zone, as Jira writes it. */
function jiraTime(ms: number, zone: string): string {
  const offset = offsetMs(ms, zone);
  const sign = offset < 0 ? '-' : '+';
  const minutes = Math.abs(offset) / 60_000;
  const hhmm = `${String(Math.floor(minutes / 60)).padStart(2, '0')}${String(minutes % 60).padStart(2, '0')}`;
  return `${new Date(ms + offset).toISOString().slice(0, 23)}${sign}${hhmm}`;
}

/** The zone's offset at `ms`, from `Intl` (`GMT+01:00`). */
function offsetMs(ms: number, zone: string): number {
  const name = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' }).formatToParts(ms).find((p) => p.type === 'timeZoneName')!.value;
  const m = /^GMT(?:([+-])(\d{2}):(\d{2}))?$/.exec(name);
  if (!m) throw new Error(`unexpected offset ${name}`);
  return m[1] === undefined ? 0 : (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) * 60_000;
}
