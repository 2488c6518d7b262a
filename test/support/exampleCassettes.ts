/**
 * How the cassettes shipped in examples/cassettes/ are made: each example source recorded with
 * `apilake record --base-url` against the local simulation of its API, with made-up credentials
 * that no cassette may hold. Run `npx tsx test/support/exampleCassettes.ts` to record them again
 * (after a change to an example or to the cassette format); test/integration/exampleCassettes.test.ts
 * replays them.
 */

import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { startDemoApi } from '../../cli/demo/demoApi.js';
import { systemClock } from '../../functions/clock.js';
import { activitiesEvery, startGoogleReportsApi } from './apis/googleApi.js';
import { hubspotContact, startHubspotSearchApi } from './apis/hubspotSearchApi.js';
import { jiraIssuesEvery, startJiraApi } from './apis/jiraApi.js';
import { klaviyoEvents, startKlaviyoApi } from './apis/klaviyoApi.js';
import { graphMailboxes, startMicrosoftGraphApi } from './apis/microsoftGraphApi.js';
import { salesforceAccounts, startSalesforceApi } from './apis/salesforceApi.js';
import { accountsEvery, startSalesforceBulkApi } from './apis/salesforceBulkApi.js';
import { productsEvery, startShopifyBulkApi } from './apis/shopifyBulkApi.js';
import { sentryEventsEvery, startSentryApi } from './apis/sentryApi.js';
import { ordersEvery, startShopifyGraphqlApi } from './apis/shopifyGraphqlApi.js';
import { chargesEvery, startStripeApi } from './apis/stripeApi.js';
import { balanceRowsEvery, startStripeReportsApi } from './apis/stripeReportsApi.js';
import { apilake } from './cli.js';
import { EXAMPLE_PRIVATE_KEY, EXAMPLE_PUBLIC_KEY } from './exampleKey.js';
import { issuesEvery, startGithubIssuesApi } from './githubIssuesApi.js';
import { nodesEvery, startGraphqlApi } from './graphqlApi.js';
import { orgData, startOrgApi } from './orgApi.js';
import { startZendeskApi, ticketsEvery } from './zendeskApi.js';

/** The repository's root. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const GITHUB_TOKEN = 'ghp_ExampleCassetteToken0123456789abcd';
const GRAPH_CLIENT_SECRET = 'Qx8~ExampleCassette-graph-secret-0123';
/** The key and each line of its body: the redactor masks a PEM's lines alone too. */
const PRIVATE_KEY_FORMS = [EXAMPLE_PRIVATE_KEY, ...EXAMPLE_PRIVATE_KEY.split('\n').filter((line) => !line.startsWith('-----'))];
const JIRA_EMAIL = 'etl@example.com';
const JIRA_TOKEN = 'ATATT3xFfGF0-ExampleCassette0123456789';

/** One example's recording: its simulation, secrets, and the windows recorded. */
export interface ExampleRecording {
  /** The source's name, as in examples/<name>.yaml. */
  readonly source: string;
  /** The secret environment variables of the recording. */
  readonly env: Readonly<Record<string, string>>;
  /** Every credential of `env`: no cassette holds one in any spelling. */
  readonly credentials: readonly string[];
  readonly windows: readonly { readonly stream?: string; readonly from: string; readonly to: string }[];
  /**
   * Starts the simulation: `url` is recorded from instead of `base_url` (none for a base URL the
   * token answer issues), `tokenUrl` instead of `auth.token_url`, `origins` (origin → server)
   * instead of origins of `redirects.allowed_origins`.
   */
  start(): Promise<{ readonly url?: string; readonly tokenUrl?: string; readonly origins?: Readonly<Record<string, string>>; close(): Promise<unknown> }>;
}

/** The recordings of every example. */
export const EXAMPLE_RECORDINGS: readonly ExampleRecording[] = [
  {
    source: 'demo_shop',
    env: { APILAKE_SECRET_APILAKE_DEMO_SHOP: JSON.stringify({ api_key: 'demo-key-ExampleCassette42' }) },
    credentials: ['demo-key-ExampleCassette42'],
    windows: [
      { stream: 'orders', from: '2024-01-01T00:00:00Z', to: '2024-01-01T01:00:00Z' },
      { stream: 'customers', from: '2024-01-01T00:00:00Z', to: '2024-01-02T00:00:00Z' },
    ],
    start: () => startDemoApi({ apiKey: 'demo-key-ExampleCassette42' }),
  },
  {
    source: 'github_issues',
    env: { APILAKE_SECRET_APILAKE_GITHUB: JSON.stringify({ token: GITHUB_TOKEN }) },
    credentials: [GITHUB_TOKEN],
    // 180 issues an hour: two pages of 100, the second crossing the hour.
    windows: [{ from: '2024-03-01T01:00:00Z', to: '2024-03-01T02:00:00Z' }],
    start: () => startGithubIssuesApi({ issues: issuesEvery('2024-03-01T00:00:00Z', 20_000, 400) }),
  },
  {
    source: 'github_org',
    env: { APILAKE_SECRET_APILAKE_GITHUB: JSON.stringify({ token: GITHUB_TOKEN }) },
    credentials: [GITHUB_TOKEN],
    windows: [
      { stream: 'repos', from: '2024-03-01T00:00:00Z', to: '2024-03-02T00:00:00Z' },
      { stream: 'issues', from: '2024-03-01T01:00:00Z', to: '2024-03-01T02:00:00Z' },
    ],
    start: () => startOrgApi(orgData({ repos: ['aws-cdk', 'jsii', 'empty'], emptyRepos: ['empty'], from: '2024-03-01T00:00:00Z', issues: 60, spacingMinutes: 3, commentsPerIssue: 0 })),
  },
  {
    source: 'github_graphql',
    env: { APILAKE_SECRET_APILAKE_GITHUB: JSON.stringify({ token: GITHUB_TOKEN }) },
    credentials: [GITHUB_TOKEN],
    // 250 issues in the hour: three POSTs, the cursor in the body.
    windows: [{ from: '2024-03-01T10:00:00Z', to: '2024-03-01T11:00:00Z' }],
    start: () => startGraphqlApi(nodesEvery('2024-03-01T10:00:00Z', 12_000, 250)),
  },
  {
    source: 'stripe',
    env: { APILAKE_SECRET_APILAKE_STRIPE: JSON.stringify({ token: 'sk_test_ExampleCassette0123456789' }) },
    credentials: ['sk_test_ExampleCassette0123456789'],
    // 144 charges in the day: pages of 100 continued with starting_after.
    windows: [{ from: '2024-03-01T00:00:00Z', to: '2024-03-02T00:00:00Z' }],
    start: () => startStripeApi({ charges: chargesEvery('2024-02-29T12:00:00Z', 600, 400), secretKey: 'sk_test_ExampleCassette0123456789' }),
  },
  {
    source: 'zendesk',
    env: { APILAKE_SECRET_APILAKE_ZENDESK: JSON.stringify({ username: 'agent@example.com/token', password: 'zd-ExampleCassette0123456789' }) },
    credentials: ['zd-ExampleCassette0123456789', Buffer.from('agent@example.com/token:zd-ExampleCassette0123456789').toString('base64')],
    windows: [{ from: '2024-03-01T01:00:00Z', to: '2024-03-01T02:00:00Z' }],
    start: () => startZendeskApi({ tickets: ticketsEvery('2024-03-01T00:00:00Z', 120, 150) }),
  },
  {
    source: 'jira',
    env: { APILAKE_SECRET_APILAKE_JIRA: JSON.stringify({ username: JIRA_EMAIL, password: JIRA_TOKEN }) },
    credentials: [JIRA_TOKEN, Buffer.from(`${JIRA_EMAIL}:${JIRA_TOKEN}`).toString('base64')],
    // 120 OPS issues in the hour (pages of 100), JQL dates in the user's zone; another project's never asked for.
    windows: [{ from: '2024-03-01T08:00:00Z', to: '2024-03-01T09:00:00Z' }],
    start: () =>
      startJiraApi({
        issues: [
          ...jiraIssuesEvery('OPS', '2024-03-01T07:30:00Z', 30_000, 240),
          ...jiraIssuesEvery('WEB', '2024-03-01T08:00:00Z', 600_000, 6).map((issue, i) => ({ ...issue, id: String(30_000 + i) })),
        ],
        email: JIRA_EMAIL,
        apiToken: JIRA_TOKEN,
        userTimeZone: 'Europe/Berlin',
      }),
  },
  {
    source: 'sentry',
    env: { APILAKE_SECRET_APILAKE_SENTRY: JSON.stringify({ token: 'sntryu_ExampleCassette0123456789abcdef' }) },
    credentials: ['sntryu_ExampleCassette0123456789abcdef'],
    // 150 events in the hour: two pages, the last one's next link saying results="false".
    windows: [{ from: '2024-03-01T01:00:00Z', to: '2024-03-01T02:00:00Z' }],
    start: () => startSentryApi({ events: sentryEventsEvery('2024-03-01T00:30:00Z', 24_000, 225), org: 'acme', project: 'web', token: 'sntryu_ExampleCassette0123456789abcdef' }),
  },
  {
    source: 'shopify_graphql',
    env: { APILAKE_SECRET_APILAKE_SHOPIFY: JSON.stringify({ api_key: 'shpat_ExampleCassette0123456789abcdef' }) },
    credentials: ['shpat_ExampleCassette0123456789abcdef'],
    // 150 orders in the hour: two queries, the cursor in the body, the cost reported in extensions.
    windows: [{ from: '2024-03-01T00:00:00Z', to: '2024-03-01T01:00:00Z' }],
    start: () => startShopifyGraphqlApi({ orders: ordersEvery('2024-03-01T00:10:00Z', 20_000, 150), token: 'shpat_ExampleCassette0123456789abcdef', clock: systemClock }),
  },
  {
    source: 'hubspot',
    env: { APILAKE_SECRET_APILAKE_HUBSPOT: JSON.stringify({ token: 'pat-na1-ExampleCassette-0123-4567-89ab' }) },
    credentials: ['pat-na1-ExampleCassette-0123-4567-89ab'],
    // 250 contacts in the first hour: two POSTed searches of 200, the cursor in the body. 10,040 in
    // the second, more than the 10,000 a search returns: the hour is split into halves that fit.
    windows: [
      { from: '2024-03-01T00:00:00Z', to: '2024-03-01T01:00:00Z' },
      { from: '2024-03-01T01:00:00Z', to: '2024-03-01T02:00:00Z' },
    ],
    start: () =>
      startHubspotSearchApi({
        token: 'pat-na1-ExampleCassette-0123-4567-89ab',
        contacts: [
          ...Array.from({ length: 250 }, (_, k) => hubspotContact(k + 1, new Date(Date.parse('2024-03-01T00:00:00Z') + k * 14_400).toISOString())),
          ...Array.from({ length: 10_040 }, (_, k) => hubspotContact(1_000 + k, new Date(Date.parse('2024-03-01T01:00:00Z') + Math.floor((k * 3_600_000) / 10_040)).toISOString())),
        ],
      }),
  },
  {
    source: 'klaviyo',
    env: { APILAKE_SECRET_APILAKE_KLAVIYO: JSON.stringify({ api_key: 'pk_ExampleCassette0123456789abcdef01' }) },
    credentials: ['pk_ExampleCassette0123456789abcdef01'],
    // 25 events in the hour, 10 a page: three pages followed by links.next.
    windows: [{ from: '2024-03-01T00:00:00Z', to: '2024-03-01T01:00:00Z' }],
    start: () => startKlaviyoApi({ apiKey: 'pk_ExampleCassette0123456789abcdef01', events: klaviyoEvents('2024-03-01T00:00:00Z', 1, 25), pageSize: 10 }),
  },
  {
    source: 'microsoft_graph',
    env: { APILAKE_SECRET_APILAKE_GRAPH: JSON.stringify({ client_id: 'f0e1d2c3-example-app-registration', client_secret: GRAPH_CLIENT_SECRET }) },
    credentials: [GRAPH_CLIENT_SECRET, Buffer.from(`f0e1d2c3-example-app-registration:${GRAPH_CLIENT_SECRET}`).toString('base64')],
    // A client credentials token, 3 users listed once, then each user's 4 messages of the hour.
    windows: [{ stream: 'messages', from: '2024-03-01T00:00:00Z', to: '2024-03-01T01:00:00Z' }],
    start: async () => {
      const api = await startMicrosoftGraphApi({
        tenant: '00000000-0000-0000-0000-000000000000',
        clientId: 'f0e1d2c3-example-app-registration',
        clientSecret: GRAPH_CLIENT_SECRET,
        ...graphMailboxes(3, '2024-03-01T00:00:00Z', 1, 4),
      });
      return { url: api.url, tokenUrl: api.tokenUrl, close: () => api.close() };
    },
  },
  {
    source: 'google_reports',
    env: { APILAKE_SECRET_APILAKE_GOOGLE: JSON.stringify({ client_email: 'etl@example-project.iam.gserviceaccount.com', private_key: EXAMPLE_PRIVATE_KEY, subject: 'admin@example.com' }) },
    credentials: PRIVATE_KEY_FORMS,
    // A token for a signed assertion, then 60 login activities of the hour on one page.
    windows: [{ from: '2024-03-01T00:00:00Z', to: '2024-03-01T01:00:00Z' }],
    start: async () => {
      const api = await startGoogleReportsApi({
        activities: activitiesEvery('2024-02-29T23:30:00Z', 60_000, 120),
        serviceAccount: { clientEmail: 'etl@example-project.iam.gserviceaccount.com', publicKey: EXAMPLE_PUBLIC_KEY },
        clock: systemClock,
        perSecond: 10,
      });
      return { url: api.url, tokenUrl: `${api.url}/token`, close: () => api.close() };
    },
  },
  {
    source: 'salesforce',
    env: { APILAKE_SECRET_APILAKE_SALESFORCE: JSON.stringify({ issuer: '3MVG9ExampleCassetteConsumerKey', subject: 'etl@example.com', private_key: EXAMPLE_PRIVATE_KEY }) },
    credentials: PRIVATE_KEY_FORMS,
    // The token answer names the instance the queries go to (base_url {auth.instance_url}): not replaced.
    windows: [{ from: '2024-03-01T00:00:00Z', to: '2024-03-01T01:00:00Z' }],
    start: async () => {
      const api = await startSalesforceApi({
        consumerKey: '3MVG9ExampleCassetteConsumerKey',
        username: 'etl@example.com',
        publicKey: EXAMPLE_PUBLIC_KEY,
        accounts: salesforceAccounts('2024-03-01T00:00:00Z', 1, 30),
        audience: 'https://login.salesforce.com',
      });
      return { tokenUrl: api.tokenUrl, close: () => api.close() };
    },
  },
  {
    source: 'salesforce_bulk',
    env: { APILAKE_SECRET_APILAKE_SALESFORCE: JSON.stringify({ token: '00DExample!ExampleCassette0123456789' }) },
    credentials: ['00DExample!ExampleCassette0123456789'],
    // A query job for the day: created, polled until JobComplete, its CSV results read.
    windows: [{ from: '2024-03-01T00:00:00Z', to: '2024-03-02T00:00:00Z' }],
    start: async () => {
      const api = await startSalesforceBulkApi({ accounts: accountsEvery('2024-03-01T00:00:00Z', 37 * 60_000, 60), token: '00DExample!ExampleCassette0123456789', pollsUntilDone: 1 });
      return { url: api.url, close: () => api.close() };
    },
  },
  {
    source: 'shopify_bulk',
    env: { APILAKE_SECRET_APILAKE_SHOPIFY: JSON.stringify({ api_key: 'shpat_ExampleCassetteBulk0123456789ab' }) },
    credentials: ['shpat_ExampleCassetteBulk0123456789ab'],
    // A bulk operation for the hour: started, polled until COMPLETED, its JSON Lines file downloaded.
    windows: [{ from: '2024-05-01T00:00:00Z', to: '2024-05-01T01:00:00Z' }],
    start: async () => {
      const shop = await startShopifyBulkApi({ products: productsEvery('2024-05-01T00:00:00Z', 7 * 60_000, 9), token: 'shpat_ExampleCassetteBulk0123456789ab', pollsUntilDone: 1 });
      return { url: shop.api.url, origins: { 'https://storage.googleapis.com': shop.files.url }, close: () => shop.close() };
    },
  },
  {
    source: 'stripe_report',
    env: { APILAKE_SECRET_APILAKE_STRIPE: JSON.stringify({ token: 'sk_test_ExampleCassetteReport0123456789' }) },
    credentials: ['sk_test_ExampleCassetteReport0123456789'],
    // A report run for the day: created form-encoded, polled until it succeeded, its CSV file fetched from the file host.
    windows: [{ from: '2024-06-01T00:00:00Z', to: '2024-06-02T00:00:00Z' }],
    start: async () => {
      const stripe = await startStripeReportsApi({ rows: balanceRowsEvery('2024-06-01T00:00:00Z', 47 * 60, 40), secretKey: 'sk_test_ExampleCassetteReport0123456789', pollsUntilDone: 0 });
      return { url: stripe.api.url, origins: { 'https://files.stripe.com': stripe.files.url }, close: () => stripe.close() };
    },
  },
];

/** Records the named examples' cassettes (every example's when none is named) into examples/cassettes/, replacing what is there. */
async function recordAll(names: readonly string[]): Promise<void> {
  for (const recording of EXAMPLE_RECORDINGS.filter((r) => names.length === 0 || names.includes(r.source))) {
    await rm(new URL(`../../examples/cassettes/${recording.source}`, import.meta.url), { recursive: true, force: true });
    const api = await recording.start();
    try {
      for (const window of recording.windows) {
        const args = [
          ...['record', recording.source, '--sources', 'examples', '--from', window.from, '--to', window.to],
          ...(api.url ? ['--base-url', api.url] : []),
          ...(api.tokenUrl ? ['--token-url', api.tokenUrl] : []),
          ...Object.entries(api.origins ?? {}).flatMap(([origin, url]) => ['--origin', `${origin}=${url}`]),
          ...(window.stream ? ['--stream', window.stream] : []),
        ];
        const { code, stdout, stderr } = await apilake(args, { cwd: ROOT, env: { ...recording.env } });
        process.stdout.write(stdout + stderr);
        if (code !== 0) throw new Error(`apilake ${args.join(' ')} exited ${code}`);
      }
    } finally {
      await api.close();
    }
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await recordAll(process.argv.slice(2));
