/**
 * `query --remote` against Athena on moto_server: the query is started in the stack's workgroup
 * and database, and its results come back as rows. The paths moto cannot play (a query that
 * queues, runs, fails, or whose results span pages) are scripted in remoteOps.test.ts.
 */

import { AthenaClient, CreateWorkGroupCommand, GetQueryExecutionCommand } from '@aws-sdk/client-athena';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAthenaQuery } from '../../cli/remote/runAthenaQuery.js';
import type { ApilakeError } from '../../functions/errors.js';
import { MOTO_AWS, startMoto, type MotoServer } from '../support/motoServer.js';

let moto: MotoServer;
let client: AthenaClient;

beforeAll(async () => {
  moto = await startMoto();
  client = new AthenaClient({ ...MOTO_AWS, endpoint: moto.endpoint });
  await client.send(new CreateWorkGroupCommand({ Name: 'apilake-prod' }));
}, 60_000);
afterAll(() => moto?.stop());

/** Queues the result moto returns for the next query (moto's documented static Athena results). */
async function nextResult(rows: (string | undefined)[][], columns: [string, string][]): Promise<void> {
  const info = columns.map(([Name, Type]) => ({
    Name,
    Type,
    CatalogName: 'hive',
    SchemaName: 'apilake_prod',
    TableName: 't',
    Label: Name,
    Precision: 0,
    Scale: 0,
    Nullable: 'UNKNOWN',
    CaseSensitive: true,
  }));
  const body = {
    account_id: '123456789012',
    region: MOTO_AWS.region,
    results: [{ rows: rows.map((row) => ({ Data: row.map((v) => (v === undefined ? {} : { VarCharValue: v })) })), column_info: info }],
  };
  const response = await fetch(`${moto.endpoint}/moto-api/static/athena/query-results`, { method: 'POST', body: JSON.stringify(body) });
  expect(response.status).toBe(201);
}

describe('Athena queries on moto', () => {
  it('runs in the workgroup and database given, and returns the rows without the header row, NULL as null', async () => {
    await nextResult(
      [
        ['dt', 'n'],
        ['2024-01-01', '24'],
        ['2024-01-02', undefined],
      ],
      [
        ['dt', 'varchar'],
        ['n', 'bigint'],
      ],
    );
    const sql = 'SELECT dt, count(*) n FROM shop_orders GROUP BY 1';
    const result = await runAthenaQuery(sql, { client, workGroup: 'apilake-prod', database: 'apilake_prod' });
    expect(result.columns).toEqual(['dt', 'n']);
    expect(result.rows).toEqual([
      ['2024-01-01', '24'],
      ['2024-01-02', null],
    ]);
    const { QueryExecution } = await client.send(new GetQueryExecutionCommand({ QueryExecutionId: result.executionId }));
    expect(QueryExecution?.Query).toBe(sql);
    expect(QueryExecution?.WorkGroup).toBe('apilake-prod');
    expect(QueryExecution?.QueryExecutionContext?.Database).toBe('apilake_prod');
  });

  it('stops the query in Athena when its caller gives up while it runs', async () => {
    const controller = new AbortController();
    controller.abort('interrupted');
    const stopped = runAthenaQuery('SELECT 1', { client, workGroup: 'apilake-prod', database: 'apilake_prod', signal: controller.signal });
    await expect(stopped).rejects.toThrow(/^Athena query \S+ stopped in Athena \(interrupted\)$/);
    const executionId = ((await stopped.catch((error: ApilakeError) => error)) as ApilakeError).context.executionId as string;
    const { QueryExecution } = await client.send(new GetQueryExecutionCommand({ QueryExecutionId: executionId }));
    expect(QueryExecution?.Status?.State).toBe('CANCELLED');
  });
});
