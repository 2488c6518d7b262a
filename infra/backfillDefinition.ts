/**
 * The Amazon States Language definition of a source's backfill: a Distributed Map over the window
 * list the CLI wrote to the lake bucket, each window one synchronous invocation of the source's
 * function with its backfill event. Plain data, so the same definition is deployed by the stack
 * and created in a local Step Functions server by the tests.
 */

/** Errors of the Lambda service itself (not of the function), worth retrying (AWS's recommended set for `lambda:invoke`). */
export const LAMBDA_SERVICE_ERRORS = ['Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException'] as const;

/** The error a function reports when a window failed (functions/ingest: WindowsFailedError). */
export const WINDOW_FAILED_ERROR = 'WindowsFailedError';

/** What the definition is built from; any value may be a CDK token. */
export interface BackfillDefinitionProps {
  readonly source: string;
  /** ARN of the function, or of the alias or version, that every window invokes. */
  readonly targetArn: string;
  readonly bucketName: string;
  /** Windows in flight at once (backfillConcurrency). */
  readonly maxConcurrency: number;
  /** Key prefix of the map's result files. */
  readonly resultsPrefix: string;
}

/** The state machine's definition, as a JSON-serialisable object. */
export function backfillDefinition(props: BackfillDefinitionProps): Record<string, unknown> {
  return {
    Comment: `apilake backfill of source ${props.source}: each window of the list is one synchronous invocation of the source's function`,
    StartAt: 'Windows',
    States: {
      Windows: {
        Type: 'Map',
        Label: 'Windows',
        ItemReader: {
          Resource: 'arn:aws:states:::s3:getObject',
          ReaderConfig: { InputType: 'JSON' },
          Parameters: { Bucket: props.bucketName, 'Key.$': '$.items' },
        },
        MaxConcurrency: props.maxConcurrency,
        // A failed window is a result to report, not a reason to stop the others: the CLI lists
        // the windows that did not commit, and running the same range again retries only those.
        ToleratedFailurePercentage: 100,
        ItemProcessor: {
          ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
          StartAt: 'Window',
          States: {
            Window: {
              Type: 'Task',
              Resource: 'arn:aws:states:::lambda:invoke',
              // The item is the window's backfill event; the function skips a committed window
              // unless the event forces it, so a repeated item never lands a window twice.
              Parameters: { FunctionName: props.targetArn, 'Payload.$': '$' },
              ResultSelector: { 'streams.$': '$.Payload.streams' },
              Retry: [
                { ErrorEquals: [...LAMBDA_SERVICE_ERRORS], IntervalSeconds: 2, MaxAttempts: 6, BackoffRate: 2, JitterStrategy: 'FULL' },
                // One more try of a failed window after the API had a minute to recover.
                { ErrorEquals: [WINDOW_FAILED_ERROR], IntervalSeconds: 60, MaxAttempts: 1 },
              ],
              End: true,
            },
          },
        },
        ResultWriter: { Resource: 'arn:aws:states:::s3:putObject', Parameters: { Bucket: props.bucketName, Prefix: props.resultsPrefix } },
        End: true,
      },
    },
  };
}
