/**
 * The deployed durable function: `durableIngest` wrapped by the durable execution SDK, with the
 * same AWS clients as the plain handler. Its invocations must name a version or alias (the
 * Scheduler's target and the async invoke config name the alias).
 */

import { withDurableExecution } from '@aws/durable-execution-sdk-js';
import { logger, metrics } from '../commons/powertools.js';
import { durableIngest } from './durableIngest.js';
import { ingestDependencies } from './handler.js';

/** Lambda entry point (`functions/ingest/durableHandler.handler`). */
export const handler = withDurableExecution(async (event: unknown, ctx) => {
  logger.addContext(ctx.lambdaContext);
  try {
    return await durableIngest(event, ctx, ingestDependencies());
  } finally {
    metrics.publishStoredMetrics();
  }
});
