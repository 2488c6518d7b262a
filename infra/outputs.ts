/** Output keys of the stack: the contract between `cdk deploy --outputs-file` and the CLI's remote modes. No CDK imports, so the CLI loads it cheaply. */

/** What a stage may be called (`-c stage=…`): it names the stack `apilake-<stage>` and its resources. */
export const STAGE_NAME = /^[a-z][a-z0-9-]{0,19}$/;

/** Output keys the CLI's remote modes read. */
export const OUTPUT = {
  bucket: 'LakeBucketName',
  failedInvocationsQueueUrl: 'FailedInvocationsQueueUrl',
  undeliveredTicksQueueUrl: 'UndeliveredTicksQueueUrl',
  workGroup: 'AthenaWorkGroup',
  database: 'GlueDatabase',
  idempotencyTable: 'IdempotencyTableName',
  budgetTable: 'BudgetTableName',
  /** `FunctionName<Source in PascalCase>`. */
  functionPrefix: 'FunctionName',
  /** `BackfillStateMachine<Source in PascalCase>`. */
  backfillPrefix: 'BackfillStateMachine',
} as const;

/** Output key of a source's function name: `github_events` → `FunctionNameGithubEvents`. */
export function functionOutputKey(source: string): string {
  return `${OUTPUT.functionPrefix}${pascalCase(source)}`;
}

/** Output key of a source's backfill state machine ARN: `github_events` → `BackfillStateMachineGithubEvents`. */
export function backfillOutputKey(source: string): string {
  return `${OUTPUT.backfillPrefix}${pascalCase(source)}`;
}

function pascalCase(source: string): string {
  return source
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}
