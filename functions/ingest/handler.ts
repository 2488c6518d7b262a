/**
 * The deployed function: a thin shell that wires AWS clients and Powertools into `ingest`.
 * Configuration is read and validated once per container, at the first invocation.
 */

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { budgetDynamoClient } from '../budget/DynamoBudgetStore.js';
import { logger, metrics } from '../commons/powertools.js';
import { AwsSecretProvider } from '../secrets/AwsSecretProvider.js';
import { DynamoClaimStore } from './DynamoClaimStore.js';
import { S3LakeStorage } from '../sink/S3LakeStorage.js';
import { ingest, type IngestDeps, type IngestSummary } from './ingest.js';
import { readRuntimeConfig } from './runtimeConfig.js';
import { installSourceMappedStacks } from './sourceMappedStacks.js';

installSourceMappedStacks(import.meta.url);

let deps: (IngestDeps & { readonly persistenceStore: DynamoClaimStore }) | undefined;

/**
 * The invocation's dependencies, built from the environment once per container. The idempotency
 * store is Powertools' DynamoDB layer with the conditional delete a durable window's take-over uses.
 */
export function ingestDependencies(): IngestDeps & { readonly persistenceStore: DynamoClaimStore } {
  if (deps) return deps;
  const config = readRuntimeConfig();
  deps = {
    source: config.source,
    storage: new S3LakeStorage({ bucket: config.bucket, prefix: config.prefix }),
    secrets: new AwsSecretProvider(),
    persistenceStore: new DynamoClaimStore({ tableName: config.idempotencyTable, awsSdkV3Client: new DynamoDBClient({}) }),
    // One client per container: its connection outlives the invocation, as the other clients' do.
    ...(config.budgetTable ? { budget: { kind: 'dynamodb', table: config.budgetTable, client: budgetDynamoClient() } as const } : {}),
    logger,
    metrics,
    deadlineMarginMs: config.deadlineMarginMs,
  };
  return deps;
}

/** Lambda entry point (`functions/ingest/handler.handler`). */
export async function handler(event: unknown, context: Context): Promise<IngestSummary> {
  logger.addContext(context);
  try {
    return await ingest(event, context, ingestDependencies());
  } finally {
    metrics.publishStoredMetrics();
  }
}
