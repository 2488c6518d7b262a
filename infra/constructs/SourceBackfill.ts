/**
 * The backfill of one source inside AWS: a Step Functions Standard state machine whose Distributed
 * Map invokes the source's function once per window of a list in the lake bucket, at most as many
 * windows at once as the source's rate budget allows. Its role may invoke only that function and
 * read only that source's backfill objects.
 */

import { ArnFormat, type CfnElement, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { backfillConcurrency, type SourceDefinition } from '../../functions/index.js';
import { backfillDefinition } from '../backfillDefinition.js';
import { backfillResultsPrefix, backfillSourcePrefix } from '../backfillLayout.js';

/** Properties of a {@link SourceBackfill}. */
export interface SourceBackfillProps {
  readonly source: SourceDefinition;
  /** The lake bucket: the window lists are read from it and the map's results written to it. */
  readonly bucket: s3.IBucket;
  /** What each window invokes: the source's function, or the alias or version its invocations name. */
  readonly target: lambda.IFunction;
  /** Longest one durable execution of the target may run: a window waits a little longer for its answer. */
  readonly executionTimeout: Duration;
  /**
   * Longest an asynchronous invocation of the target may wait in Lambda's queue before it runs (the
   * alias's `maxEventAge`): a window waits for that too.
   * @default Duration.seconds(0)
   */
  readonly maxEventAge?: Duration;
  /** Prefixes the state machine's name, so stages coexist in one account. */
  readonly namePrefix: string;
  /**
   * Log retention of the state machine's execution log.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Longest a backfill may run before Step Functions stops it.
   * @default Duration.days(365): a Standard workflow's limit
   */
  readonly timeout?: Duration;
}

/**
 * How much longer than its durable execution's timeout and its longest wait in Lambda's queue a
 * window waits for the function's answer: the report at the end. A window answered
 * later fails with States.Timeout, and its late answer is refused (its execution logs that).
 */
const WINDOW_WAIT_MARGIN = Duration.minutes(15);

/**
 * @example
 * new SourceBackfill(this, 'Backfill-github_events', { source, bucket: lake.bucket, target: ingestion.invokeTarget, executionTimeout: ingestion.executionTimeout, namePrefix: 'apilake-dev' });
 */
export class SourceBackfill extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly logGroup: logs.LogGroup;
  /** Windows in flight at once: derived from the source's rate_limit (backfillConcurrency). */
  readonly maxConcurrency: number;

  constructor(scope: Construct, id: string, props: SourceBackfillProps) {
    super(scope, id);
    const { source, bucket } = props;
    const stack = Stack.of(this);
    // Named up front: the role grants on the state machine's own ARN, which a generated name would
    // make a circular reference.
    const stateMachineName = `${props.namePrefix}-${source.name}-backfill`.slice(0, 80);
    this.maxConcurrency = backfillConcurrency(source);

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/vendedlogs/states/${stateMachineName}`,
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const definition = backfillDefinition({
      source: source.name,
      targetArn: props.target.functionArn,
      bucketName: bucket.bucketName,
      maxConcurrency: this.maxConcurrency,
      resultsPrefix: backfillResultsPrefix(source.name),
      windowTimeoutSeconds: props.executionTimeout
        .plus(props.maxEventAge ?? Duration.seconds(0))
        .plus(WINDOW_WAIT_MARGIN)
        .toSeconds(),
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromString(stack.toJsonString(definition)),
      timeout: props.timeout ?? Duration.days(365),
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });

    const stateMachineArn = stack.formatArn({ service: 'states', resource: 'stateMachine', resourceName: stateMachineName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    // A Distributed Map runs each window as a child execution named `<state machine>/<map run>:<id>`.
    const childExecutions = stack.formatArn({ service: 'states', resource: 'execution', resourceName: `${stateMachineName}/*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    const role = this.stateMachine.role;
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [stateMachineArn] }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['states:DescribeExecution', 'states:StopExecution'], resources: [childExecutions] }));
    props.target.grantInvoke(role);
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [bucket.arnForObjects(`${backfillSourcePrefix(source.name)}items/*`)] }));
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload'],
        resources: [bucket.arnForObjects(`${backfillResultsPrefix(source.name)}/*`)],
      }),
    );
    acknowledgeFindings(this, bucket, source.name, stateMachineName);
  }
}

/** Findings of cdk-nag that are intended, each acknowledged with its reason. */
function acknowledgeFindings(backfill: SourceBackfill, bucket: s3.IBucket, source: string, stateMachineName: string): void {
  const stack = Stack.of(backfill);
  const bucketArn = `<${stack.resolve(stack.getLogicalId(bucket.node.defaultChild as CfnElement))}.Arn>`;
  const acknowledge = (resource: string, reason: string) => Validations.of(backfill).acknowledge({ id: `AwsSolutions-IAM5[Resource::${resource}]`, reason });
  acknowledge(`${bucketArn}/${backfillSourcePrefix(source)}items/*`, "Each backfill's window list has its own key, made when it starts; read-only, and only this source's lists.");
  acknowledge(`${bucketArn}/${backfillResultsPrefix(source)}/*`, "Step Functions names the result files after each map run; confined to this source's results prefix.");
  acknowledge(`arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${stateMachineName}/*`, "The Distributed Map's child executions are named at run time; only this state machine's.");
  acknowledge('*', 'Log delivery to CloudWatch Logs and X-Ray tracing take no resource-level permissions (what CDK grants for logs and tracing).');
}
