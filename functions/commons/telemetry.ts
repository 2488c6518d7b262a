/**
 * The names the function's logs and metrics use, and the dashboard reads: no Powertools
 * instance is made here, so the CDK app can import them at synth time.
 */

/** Service name on every log line and metric. */
export const SERVICE_NAME = 'apilake';

/** CloudWatch namespace of the metrics, unless POWERTOOLS_METRICS_NAMESPACE says otherwise. */
export const METRICS_NAMESPACE = 'apilake';

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
