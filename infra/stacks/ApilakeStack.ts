/** The whole deployment of one stage: the lake, one ingestion per source, failure handling, analytics. */

import { CfnOutput, RemovalPolicy, Size, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import { BUDGET_TABLE, type SourceDefinition } from '../../functions/index.js';
import { Alarms } from '../constructs/Alarms.js';
import { Analytics } from '../constructs/Analytics.js';
import { Dashboard } from '../constructs/Dashboard.js';
import { Lake } from '../constructs/Lake.js';
import { SourceBackfill } from '../constructs/SourceBackfill.js';
import { SourceIngestion } from '../constructs/SourceIngestion.js';
import { backfillOutputKey, functionOutputKey, OUTPUT } from '../outputs.js';

export { backfillOutputKey, functionOutputKey, OUTPUT } from '../outputs.js';

/** Properties of an {@link ApilakeStack}. */
export interface ApilakeStackProps extends StackProps {
  /** Validated source definitions; one ingestion is created per source. */
  readonly sources: readonly SourceDefinition[];
  /**
   * Names every resource, so stages coexist in one account.
   * @default 'dev'
   */
  readonly stage?: string;
  /** @default no email subscription */
  readonly alarmEmail?: string;
  /** @default '2020-01-01' */
  readonly projectionStartDate?: string;
  /** @default 30 */
  readonly infrequentAccessAfterDays?: number;
  /** @default Size.gibibytes(10) */
  readonly bytesScannedCutoffPerQuery?: Size;
}

/**
 * @example
 * new ApilakeStack(app, 'apilake-dev', { stage: 'dev', sources: loaded.map((s) => s.definition) });
 */
export class ApilakeStack extends Stack {
  readonly lake: Lake;
  readonly alarms: Alarms;
  readonly idempotencyTable: dynamodb.Table;
  /** Each source's shared rate budget (its slot queue), one small item per source. */
  readonly budgetTable: dynamodb.Table;
  readonly ingestions: Map<string, SourceIngestion> = new Map();
  /** Each source's backfill state machine (`apilake backfill --remote`). */
  readonly backfills: Map<string, SourceBackfill> = new Map();
  readonly analytics: Analytics;

  constructor(scope: Construct, id: string, props: ApilakeStackProps) {
    super(scope, id, props);
    const stage = props.stage ?? 'dev';
    const namePrefix = `apilake-${stage}`;

    this.lake = new Lake(this, 'Lake', { infrequentAccessAfterDays: props.infrequentAccessAfterDays });
    this.alarms = new Alarms(this, 'Alarms', { email: props.alarmEmail });
    this.idempotencyTable = new dynamodb.Table(this, 'IdempotencyTable', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'expiration',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      // Holds only day-old idempotency records; the manifests in the lake are the lasting truth.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.budgetTable = new dynamodb.Table(this, 'BudgetTable', {
      partitionKey: { name: BUDGET_TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: BUDGET_TABLE.ttlAttribute,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(this.budgetTable).acknowledge({
      id: 'AwsSolutions-DDB3',
      reason: 'Holds only the next free request slot of each source, rebuilt by the next request: there is nothing to recover to a point in time.',
    });

    for (const source of props.sources) {
      const ingestion = new SourceIngestion(this, `Source-${source.name}`, {
        source,
        lake: this.lake,
        idempotencyTable: this.idempotencyTable,
        budgetTable: this.budgetTable,
        failedInvocations: this.alarms.failedInvocations,
        undeliveredTicks: this.alarms.undeliveredTicks,
        namePrefix,
      });
      this.ingestions.set(source.name, ingestion);
      this.backfills.set(
        source.name,
        new SourceBackfill(this, `Backfill-${source.name}`, {
          source,
          bucket: this.lake.bucket,
          target: ingestion.invokeTarget,
          executionTimeout: ingestion.executionTimeout,
          maxEventAge: ingestion.maxEventAge,
          namePrefix,
        }),
      );
    }

    this.analytics = new Analytics(this, 'Analytics', {
      lake: this.lake,
      sources: props.sources,
      databaseName: `apilake_${stage.replace(/[^a-z0-9_]/g, '_')}`,
      workGroupName: namePrefix,
      projectionStartDate: props.projectionStartDate,
      bytesScannedCutoffPerQuery: props.bytesScannedCutoffPerQuery,
    });

    new Dashboard(this, 'Dashboard', {
      dashboardName: namePrefix,
      sources: props.sources.map((definition) => ({ definition, ingestion: this.ingestions.get(definition.name)! })),
      alarms: this.alarms,
    });

    new CfnOutput(this, OUTPUT.bucket, { value: this.lake.bucket.bucketName, description: 'lake bucket' });
    new CfnOutput(this, OUTPUT.failedInvocationsQueueUrl, { value: this.alarms.failedInvocations.queueUrl, description: 'failed invocations (apilake redrive)' });
    new CfnOutput(this, OUTPUT.undeliveredTicksQueueUrl, { value: this.alarms.undeliveredTicks.queueUrl, description: 'schedule ticks not delivered' });
    new CfnOutput(this, OUTPUT.workGroup, { value: this.analytics.workGroup.ref, description: 'Athena workgroup' });
    new CfnOutput(this, OUTPUT.database, { value: this.analytics.database.databaseName, description: 'Glue database' });
    new CfnOutput(this, OUTPUT.idempotencyTable, { value: this.idempotencyTable.tableName, description: 'idempotency records' });
    new CfnOutput(this, OUTPUT.budgetTable, { value: this.budgetTable.tableName, description: 'shared rate budgets (APILAKE_BUDGET_TABLE)' });
    for (const [name, ingestion] of this.ingestions) {
      new CfnOutput(this, functionOutputKey(name), {
        value: `${ingestion.function.functionName}:${ingestion.alias.aliasName}`,
        description: `function of source ${name}, qualified by the alias every invocation names`,
      });
    }
    for (const [name, backfill] of this.backfills) {
      new CfnOutput(this, backfillOutputKey(name), { value: backfill.stateMachine.stateMachineArn, description: `backfill state machine of source ${name} (apilake backfill --remote)` });
    }
  }
}
