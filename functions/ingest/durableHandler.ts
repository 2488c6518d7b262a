/**
 * The deployed durable function: `durableIngest` wrapped by the durable execution SDK, with the
 * same AWS clients as the plain handler. Its invocations must name a version or alias (the
 * Scheduler's target and the async invoke config name the alias).
 */

import { withDurableExecution } from '@aws/durable-execution-sdk-js';
import { SFNClient } from '@aws-sdk/client-sfn';
import { logger, metrics } from '../commons/powertools.js';
import { durableIngest, type DurableIngestDeps } from './durableIngest.js';
import { ingestDependencies } from './handler.js';
import { LambdaExecutionStatus } from './LambdaExecutionStatus.js';
import { SfnTaskReports } from './SfnTaskReports.js';

let deps: DurableIngestDeps | undefined;

/**
 * The execution's dependencies, built once per container: the plain handler's, the status of the
 * execution holding a window (for a take-over), and the answers to a backfill's waiting task.
 */
function durableDependencies(): DurableIngestDeps {
  deps ??= { ...ingestDependencies(), executionStatus: new LambdaExecutionStatus(), taskReports: new SfnTaskReports(new SFNClient({})) };
  return deps;
}

/** Lambda entry point (`functions/ingest/durableHandler.handler`). */
export const handler = withDurableExecution(async (event: unknown, ctx) => {
  logger.addContext(ctx.lambdaContext);
  try {
    return await durableIngest(event, ctx, durableDependencies());
  } finally {
    metrics.publishStoredMetrics();
  }
});
