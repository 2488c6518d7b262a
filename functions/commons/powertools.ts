/** The one Logger and Metrics instance of the function, shared by every module (never one per call). */

import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE, SERVICE_NAME } from './telemetry.js';

/** JSON logs; level from POWERTOOLS_LOG_LEVEL (default INFO). */
export const logger = new Logger({ serviceName: SERVICE_NAME });

/** CloudWatch EMF metrics in namespace POWERTOOLS_METRICS_NAMESPACE (default `apilake`). */
export const metrics = new Metrics({ serviceName: SERVICE_NAME, namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE });
