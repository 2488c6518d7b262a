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
import { chargesEvery, startStripeApi } from './apis/stripeApi.js';
import { apilake } from './cli.js';
import { issuesEvery, startGithubIssuesApi } from './githubIssuesApi.js';
import { nodesEvery, startGraphqlApi } from './graphqlApi.js';
import { orgData, startOrgApi } from './orgApi.js';
import { startZendeskApi, ticketsEvery } from './zendeskApi.js';

/** The repository's root. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const GITHUB_TOKEN = 'ghp_ExampleCassetteToken0123456789abcd';

/** One example's recording: its simulation, secrets, and the windows recorded. */
export interface ExampleRecording {
  /** The source's name, as in examples/<name>.yaml. */
  readonly source: string;
  /** The secret environment variables of the recording. */
  readonly env: Readonly<Record<string, string>>;
  /** Every credential of `env`: no cassette holds one in any spelling. */
  readonly credentials: readonly string[];
  readonly windows: readonly { readonly stream?: string; readonly from: string; readonly to: string }[];
  start(): Promise<{ readonly url: string; close(): Promise<unknown> }>;
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
];

/** Records every example's cassettes into examples/cassettes/, replacing what is there. */
async function recordAll(): Promise<void> {
  for (const recording of EXAMPLE_RECORDINGS) {
    await rm(new URL(`../../examples/cassettes/${recording.source}`, import.meta.url), { recursive: true, force: true });
    const api = await recording.start();
    try {
      for (const window of recording.windows) {
        const args = ['record', recording.source, '--sources', 'examples', '--from', window.from, '--to', window.to, '--base-url', api.url, ...(window.stream ? ['--stream', window.stream] : [])];
        const { code, stdout, stderr } = await apilake(args, { cwd: ROOT, env: { ...recording.env } });
        process.stdout.write(stdout + stderr);
        if (code !== 0) throw new Error(`apilake ${args.join(' ')} exited ${code}`);
      }
    } finally {
      await api.close();
    }
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await recordAll();
