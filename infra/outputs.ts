/** Output keys of the stack: the contract between `cdk deploy --outputs-file` and the CLI's remote modes. No CDK imports, so the CLI loads it cheaply. */

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
} as const;

/** Output key of a source's function name: `github_events` → `FunctionNameGithubEvents`. */
export function functionOutputKey(source: string): string {
  return `${OUTPUT.functionPrefix}${source
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('')}`;
}
