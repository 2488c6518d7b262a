/** The one Logger and Metrics instance of the function, shared by every module (never one per call). */

import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

/** Service name on every log line and metric. */
export const SERVICE_NAME = 'apilake';

/** CloudWatch namespace of the metrics, unless POWERTOOLS_METRICS_NAMESPACE says otherwise. */
export const METRICS_NAMESPACE = 'apilake';

/** JSON logs; level from POWERTOOLS_LOG_LEVEL (default INFO). */
export const logger = new Logger({ serviceName: SERVICE_NAME });

/** CloudWatch EMF metrics in namespace POWERTOOLS_METRICS_NAMESPACE (default `apilake`). */
export const metrics = new Metrics({ serviceName: SERVICE_NAME, namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE });

/** Metric names, one place for the handler and the dashboard. */
export const METRIC = {
  records: 'Records',
  pages: 'Pages',
  bytes: 'BytesLanded',
  retries: 'Retries',
  throttled: 'ThrottledResponses',
  windowDuration: 'WindowDuration',
  windowsCommitted: 'WindowsCommitted',
  windowsSkipped: 'WindowsSkipped',
  windowsFailed: 'WindowsFailed',
  invalidEvents: 'InvalidEvents',
} as const;
