/** `apilake demo`: the whole loop offline — a local API, a day of ingestion, a query. */

import { relative } from 'node:path';
import { FsLakeStorage, InputError, secretEnvName } from '../../functions/index.js';
import { startDemoApi, type DemoApi } from '../demo/demoApi.js';
import { inputError } from '../errors/hint.js';
import { formatTable } from '../format.js';
import { signalExitCode } from '../interrupt.js';
import { examplesDir } from '../packageRoot.js';
import { DEFAULT_LAKE_DIR, pathFlag, shellWord } from '../pathFlags.js';
import { EXIT } from '../reportError.js';
import { runLocal } from './run.js';

const DEMO_SOURCE = 'demo_shop';
const DEMO_SECRET = 'apilake/demo_shop';
const DEMO_KEY = 'demo-key';
/** The port of examples/demo_shop.yaml's base_url. */
const DEMO_PORT = 8787;

/** The queries the demo shows, in the SQL users would write in Athena too. */
export const DEMO_QUERIES = [
  {
    title: 'records landed per stream',
    sql: `SELECT 'orders' AS stream, count(*) AS records, count(DISTINCT _window_start) AS windows FROM demo_shop_orders
          UNION ALL SELECT 'customers', count(*), count(DISTINCT _window_start) FROM demo_shop_customers ORDER BY stream`,
  },
  {
    title: 'top customers by revenue (typed columns, the current version of each customer)',
    sql: `SELECT c.name AS customer, c.country, count(*) AS orders, sum(o.amount) AS revenue
          FROM demo_shop_orders o JOIN demo_shop_customers_latest c ON o.customer_id = c.id
          GROUP BY 1, 2 ORDER BY revenue DESC, customer LIMIT 5`,
  },
  {
    title: 'orders by status, one row per order (demo_shop_orders_latest)',
    sql: `SELECT status, count(*) AS orders FROM demo_shop_orders_latest GROUP BY 1 ORDER BY 1`,
  },
];

/** Flags of `apilake demo`. */
export interface DemoOptions {
  readonly lake: string;
  /** Folder holding demo_shop.yaml. @default apilake's examples/ folder */
  readonly sources?: string;
  readonly serve: boolean;
  readonly port?: string;
}

export async function demoCommand(options: DemoOptions): Promise<void> {
  const port = parsePort(options.port, options.serve ? DEMO_PORT : 0);
  const sources = options.sources ?? examplesDir();
  const variable = secretEnvName(DEMO_SECRET);
  process.env[variable] ??= JSON.stringify({ api_key: DEMO_KEY });
  // A lake folder that cannot be made is said before the demo prints its first step.
  if (!options.serve) await new FsLakeStorage(options.lake).checkWritable();
  const api = await listen(port);

  // The sources folder as a suggested command names it: relative to here when it is below, else whole.
  const nearby = relative(process.cwd(), sources) || '.';
  const folder = shellWord(nearby.startsWith('..') ? sources : nearby);
  const lake = pathFlag('lake', options.lake, DEFAULT_LAKE_DIR);
  if (options.serve) {
    const stopped = new Promise<void>((resolve) => process.once('SIGINT', resolve));
    console.log(`demo API listening on ${api.url} (X-API-Key: ${DEMO_KEY}); Ctrl-C to stop`);
    console.log(`in another shell: export ${variable}='{"api_key":"${DEMO_KEY}"}' && npx apilake run ${DEMO_SOURCE} --sources ${folder}${lake} --from 2024-01-01 --to 2024-01-02`);
    const served = Number(new URL(api.url).port);
    if (served !== DEMO_PORT)
      console.log(`${DEMO_SOURCE}.yaml's base_url names port ${DEMO_PORT}: for port ${served}, copy it into a folder of your own, set base_url: ${api.url}, and name that folder with --sources`);
    await stopped;
    await api.close();
    return;
  }

  const today = new Date(new Date().toISOString().slice(0, 10) + 'T00:00:00Z');
  const yesterday = new Date(today.getTime() - 86_400_000);
  console.log(`1. demo API on ${api.url}: cursor-paged orders, page-numbered customers, a few 429s and a 503 on purpose`);
  console.log(`2. ingesting ${yesterday.toISOString().slice(0, 10)} (24 hourly order windows, 1 daily customer window)\n`);
  try {
    const { tally, stoppedBy } = await runLocal(DEMO_SOURCE, {
      from: yesterday.toISOString(),
      to: today.toISOString(),
      lake: options.lake,
      sources,
      force: false,
      baseUrl: api.url,
    });
    console.log(`\n   the API served ${api.requests()} requests; run the demo again and every window is skipped: exactly once.`);
    if (stoppedBy || tally.counts.committed + tally.counts.skipped < tally.done) {
      process.exitCode = stoppedBy ? signalExitCode(stoppedBy) : EXIT.windowsFailed;
      return;
    }
  } finally {
    await api.close();
  }

  console.log(`\n3. querying the lake with DuckDB (the same SQL runs in Athena)`);
  const [{ runLocalQuery }, { loadTableSpecs }] = await Promise.all([import('../query/runLocalQuery.js'), import('../query/tableSpecs.js')]);
  const specs = await loadTableSpecs(sources, (text) => console.error(`apilake: warning: ${text}`));
  for (const query of DEMO_QUERIES) {
    const { columns, rows } = await runLocalQuery(query.sql, options.lake, { specs });
    console.log(`\n-- ${query.title}\n${formatTable(columns, rows)}`);
  }
  console.log(`\nnext: npx apilake query "SELECT id, status, amount, updated_at FROM demo_shop_orders_latest LIMIT 3" --sources ${folder}${lake}`);
}

/** `--port`: a whole number from 0 (any free port) to 65535. */
function parsePort(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new InputError(`--port must be a whole number from 0 to 65535, got "${value}"`);
  return port;
}

/** Starts the demo API; a port that is taken or forbidden is the user's to change, not a crash. */
async function listen(port: number): Promise<DemoApi> {
  try {
    return await startDemoApi({ apiKey: DEMO_KEY, port });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw inputError(`port ${port} on 127.0.0.1 is already in use`, 'stop whatever listens there, or pick another port: `apilake demo --serve --port 8788`', { cause: error });
    if (code === 'EACCES') throw inputError(`port ${port} on 127.0.0.1 may not be opened by this user`, 'pick a port above 1023 with --port', { cause: error });
    throw error;
  }
}
