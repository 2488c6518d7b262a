/**
 * The Amazon States Language definition of a source's backfill: a Distributed Map over the window
 * list the CLI wrote to the lake bucket, each window one asynchronous invocation of the source's
 * durable function with its backfill event and a task token, which the function answers when the
 * window's durable execution ends (the callback pattern). Lambda limits a synchronous invocation
 * of a durable function to 15 minutes; an asynchronous one runs as long as the durable execution's
 * timeout allows (https://docs.aws.amazon.com/lambda/latest/dg/durable-invocation.html). Plain
 * data, so the same definition is deployed by the stack and run by a local Step Functions
 * interpreter in the tests.
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
  /**
   * How long a window may take before its task fails with `States.Timeout`: a little longer than
   * the durable execution's timeout, so a window whose function never answers fails the window
   * instead of holding the backfill until the state machine's own timeout.
   */
  readonly windowTimeoutSeconds: number;
}

/**
 * The window's event with the task token added as `taskToken` (the function's event contract,
 * docs/deploy.md). Every field of the list's items is named, so each item must carry all four
 * (`backfillEvent` of the CLI writes them): a missing one fails the window with States.Runtime
 * rather than invoking the function with a different event.
 */
export const WINDOW_PAYLOAD = { 'source.$': '$.source', 'stream.$': '$.stream', 'window.$': '$.window', 'force.$': '$.force', 'taskToken.$': '$$.Task.Token' } as const;

/** The state machine's definition, as a JSON-serialisable object. */
export function backfillDefinition(props: BackfillDefinitionProps): Record<string, unknown> {
  return {
    Comment: `apilake backfill of source ${props.source}: each window of the list is one asynchronous invocation of the source's function, which reports the window's end with the task token`,
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
              // Asynchronous: a synchronous invocation of a durable function may last 15 minutes at
              // most, a window's durable execution hours. The function sends the window's summary
              // (SendTaskSuccess) or its failure (SendTaskFailure, WindowsFailedError) with the token.
              Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
              // The item is the window's backfill event; the function skips a committed window
              // unless the event forces it, so a repeated item never lands a window twice.
              Parameters: { FunctionName: props.targetArn, InvocationType: 'Event', Payload: WINDOW_PAYLOAD },
              TimeoutSeconds: props.windowTimeoutSeconds,
              ResultSelector: { 'streams.$': '$.streams' },
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
