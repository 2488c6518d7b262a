/**
 * Real AWS protocol servers on loopback: moto for S3 (with conditional writes, which the commit
 * protocol needs), Secrets Manager and SQS; dynalite for DynamoDB (Powertools idempotency).
 * Clients point at them through the same environment variables a deployment would use.
 */

import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, GetObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { startMoto, type MotoServer } from './motoServer.js';

const require = createRequire(import.meta.url);
const dynalite = require('dynalite') as (options: Record<string, number>) => Server;

/** Credentials and region every local client uses. */
export const LOCAL_AWS = { region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } } as const;

/** The running servers and clients bound to them. */
export interface AwsServers {
  /** moto: S3, Secrets Manager, SQS and the rest, on one port. */
  readonly s3Endpoint: string;
  readonly dynamoEndpoint: string;
  readonly s3: S3Client;
  readonly dynamo: DynamoDBClient;
  readonly secrets: SecretsManagerClient;
  readonly moto: MotoServer;
  /** Environment variables that point SDK clients at these servers. */
  readonly env: Record<string, string>;
  createBucket(name: string): Promise<void>;
  /** Creates a secret holding `value` as JSON text. */
  createSecret(name: string, value: unknown): Promise<void>;
  /** Creates an idempotency table shaped like the CDK app's (key `id`, TTL `expiration`). */
  createIdempotencyTable(name: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startAwsServers(): Promise<AwsServers> {
  const moto = await startMoto();
  const dynamoServer = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => dynamoServer.listen(0, '127.0.0.1', () => resolve()));
  const s3Endpoint = moto.endpoint;
  const dynamoEndpoint = `http://127.0.0.1:${(dynamoServer.address() as AddressInfo).port}`;
  const s3 = new S3Client({ ...LOCAL_AWS, endpoint: s3Endpoint, forcePathStyle: true });
  const dynamo = new DynamoDBClient({ ...LOCAL_AWS, endpoint: dynamoEndpoint });
  const secrets = new SecretsManagerClient({ ...LOCAL_AWS, endpoint: s3Endpoint });
  return {
    s3Endpoint,
    dynamoEndpoint,
    s3,
    dynamo,
    secrets,
    moto,
    env: {
      AWS_REGION: LOCAL_AWS.region,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL_S3: s3Endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: s3Endpoint,
      AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint,
      APILAKE_S3_FORCE_PATH_STYLE: 'true',
    },
    createBucket: async (name) => {
      await s3.send(new CreateBucketCommand({ Bucket: name }));
    },
    createSecret: async (name, value) => {
      await secrets.send(new CreateSecretCommand({ Name: name, SecretString: JSON.stringify(value) }));
    },
    createIdempotencyTable: async (name) => {
      await dynamo.send(
        new CreateTableCommand({
          TableName: name,
          KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
    },
    stop: async () => {
      s3.destroy();
      dynamo.destroy();
      secrets.destroy();
      await moto.stop();
      await new Promise<void>((resolve) => dynamoServer.close(() => resolve()));
    },
  };
}

/** Every key in a bucket. */
export async function listKeys(s3: S3Client, bucket: string, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((o) => o.Key!));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys.sort();
}

/** Multipart uploads still open in a bucket. */
export async function openUploads(s3: S3Client, bucket: string): Promise<string[]> {
  const page = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  return (page.Uploads ?? []).map((u) => u.Key!).sort();
}

/** An object's bytes. */
export async function getObject(s3: S3Client, bucket: string, key: string): Promise<Buffer> {
  const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await response.Body!.transformToByteArray());
}

/** Every envelope line of every part under `raw/`, committed or not (to prove what exists). */
export async function readS3Records(s3: S3Client, bucket: string): Promise<Record<string, unknown>[]> {
  const lines: Record<string, unknown>[] = [];
  for (const key of (await listKeys(s3, bucket, 'raw/')).filter((k) => k.endsWith('.jsonl.gz'))) {
    const text = gunzipSync(await getObject(s3, bucket, key)).toString('utf8');
    for (const line of text.split('\n').filter(Boolean)) lines.push({ key, ...(JSON.parse(line) as Record<string, unknown>) });
  }
  return lines;
}
