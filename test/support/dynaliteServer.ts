/**
 * dynalite (a DynamoDB implementation on LevelDB) on a free loopback port, for the shared rate
 * budget; and the budget table shaped like the CDK app's (partition key `source`).
 */

import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { LOCAL_AWS } from './awsServers.js';

const require = createRequire(import.meta.url);
const dynalite = require('dynalite') as (options: Record<string, number>) => Server;

/** A running dynalite. */
export interface DynaliteServer {
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  /** Stops it: open connections are cut, new ones refused (a DynamoDB that cannot be reached). */
  stop(): Promise<void>;
}

export async function startDynalite(): Promise<DynaliteServer> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({ ...LOCAL_AWS, endpoint });
  let stopped: Promise<void> | undefined;
  return {
    endpoint,
    client,
    stop: () =>
      (stopped ??= new Promise<void>((resolve) => {
        client.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      })),
  };
}

/** Creates a budget table as the CDK app does: partition key `source`, on demand. */
export async function createBudgetTable(client: DynamoDBClient, name: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: name,
      KeySchema: [{ AttributeName: 'source', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'source', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
}
