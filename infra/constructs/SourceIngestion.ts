/**
 * One source, deployed: its function (bundled with its definition), log group, schedule, async
 * failure handling and least-privilege IAM.
 */

import { ArnFormat, type CfnElement, Duration, RemovalPolicy, Stack, TimeZone, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { fileURLToPath } from 'node:url';
import {
  compileSource,
  DURABLE_EXECUTION_TIMEOUT_SECONDS,
  ENV,
  FUNCTION_PROCESS_ENVIRONMENT,
  METRICS_NAMESPACE,
  SERVICE_NAME,
  type SourceDefinition,
  sourceSchemaDigest,
  streamPrefix,
} from '../../functions/index.js';
import { SOURCE_AREAS, type Lake } from './Lake.js';

/** Properties of a {@link SourceIngestion}. */
export interface SourceIngestionProps {
  /** The validated source definition; it is inlined into the function bundle. */
  readonly source: SourceDefinition;
  readonly lake: Lake;
  readonly idempotencyTable: dynamodb.ITable;
  /** The table of the sources' shared rate budgets. @default none: each invocation has its own budget */
  readonly budgetTable?: dynamodb.ITable;
  /** On-failure destination of the function's async invocations. */
  readonly failedInvocations: sqs.IQueue;
  /** Where Scheduler puts ticks it could not deliver. */
  readonly undeliveredTicks: sqs.IQueue;
  /** Prefixes function and schedule names, so stages coexist in one account. */
  readonly namePrefix: string;
  /**
   * Log retention of the function.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Lambda's own retries of a failed async invocation before it goes to `failedInvocations`.
   * @default 2
   */
  readonly retryAttempts?: number;
  /**
   * Whether the schedule starts enabled.
   * @default true
   */
  readonly scheduleEnabled?: boolean;
}

const HANDLER_ENTRY = fileURLToPath(new URL('../../functions/ingest/durableHandler.ts', import.meta.url));
/** The alias every invocation names: a durable function may be invoked only through a version or an alias. */
export const LIVE_ALIAS = 'live';
/** Longest a durable execution may run (functions/ingest/durableLimits.ts says why, and ties a window's claim to it). */
const DURABLE_EXECUTION_TIMEOUT = Duration.seconds(DURABLE_EXECUTION_TIMEOUT_SECONDS);
/** How long the service keeps a finished execution's history (its steps' checkpoints), for inspection. */
const DURABLE_RETENTION = Duration.days(7);
const LOCK_FILE = fileURLToPath(new URL('../../package-lock.json', import.meta.url));
const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The credential chain bundled into the function, relative to the project root (where esbuild runs). */
const LAMBDA_CREDENTIALS = './functions/ingest/lambdaCredentials.ts';
/** The Lambda client and the few commands the function sends, in place of the whole client (bin/lambdaDurableApi.mjs says why). */
const LAMBDA_DURABLE_API = './bin/lambdaDurableApi.mjs';
/** Writes `parquetThread.mjs`, the Parquet encoder thread, beside the handler's `index.mjs`. */
const PARQUET_THREAD_BUNDLER = fileURLToPath(new URL('../../bin/bundleParquetThread.mjs', import.meta.url));

/**
 * @example
 * new SourceIngestion(this, 'github_events', { source, lake, idempotencyTable, failedInvocations, undeliveredTicks, namePrefix: 'apilake-dev' });
 */
export class SourceIngestion extends Construct {
  readonly function: nodejs.NodejsFunction;
  /** What every invocation names (Scheduler, async invoke config, `apilake` commands): the published version of this deployment. */
  readonly alias: lambda.Alias;
  readonly schedule: scheduler.Schedule;
  readonly logGroup: logs.LogGroup;
  /** Longest one durable execution (one window of a backfill) may run. */
  readonly executionTimeout: Duration = DURABLE_EXECUTION_TIMEOUT;
  /** Longest an asynchronous invocation (a tick, a backfill's window) waits in Lambda's queue before Lambda drops it to the failed-invocations queue. */
  readonly maxEventAge: Duration = Duration.hours(6);

  /**
   * What every invocation of the source names (the schedule's target, a backfill's windows): the
   * one place that says whether that is the function itself or a version or alias of it.
   */
  get invokeTarget(): lambda.IFunction {
    // A durable function may be invoked only through a qualified ARN (a version or an alias).
    return this.alias;
  }

  constructor(scope: Construct, id: string, props: SourceIngestionProps) {
    super(scope, id);
    const { source } = props;
    const name = `${props.namePrefix}-${source.name}`.slice(0, 64);

    // Deleted with the stack (LogGroup defaults to RETAIN): `cdk destroy` keeps only the lake.
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });

    // Its own role: CDK would give a durable function the managed AWSLambdaBasicDurableExecutionRolePolicy, whose grants are on "*".
    const role = new iam.Role(this, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'), description: `apilake function of source ${source.name}` });
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      functionName: name,
      role,
      // A window that cannot finish in one invocation continues in the next from a checkpoint (functions/ingest/durableIngest.ts).
      durableConfig: { executionTimeout: DURABLE_EXECUTION_TIMEOUT, retentionPeriod: DURABLE_RETENTION },
      description: `apilake: lands source ${source.name} (${source.streams.map((s) => s.name).join(', ')})`,
      entry: HANDLER_ENTRY,
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: LOCK_FILE,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: source.lambda.memory_mb,
      timeout: Duration.seconds(source.lambda.timeout_seconds),
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: {
        [ENV.bucket]: props.lake.bucket.bucketName,
        [ENV.idempotencyTable]: props.idempotencyTable.tableName,
        ...(props.budgetTable ? { [ENV.budgetTable]: props.budgetTable.tableName } : {}),
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        ...FUNCTION_PROCESS_ENVIRONMENT,
      },
      bundling: {
        format: nodejs.OutputFormat.ESM,
        target: 'node22',
        minify: true,
        // ES module builds first: esbuild tree-shakes them, where the CommonJS builds it would
        // otherwise pick for platform node ship whole (bundle size and cold start: docs/performance.md, T6).
        mainFields: ['module', 'main'],
        // In Lambda the credentials are in the environment: the SDK's default chain shrinks to
        // that provider (functions/ingest/lambdaCredentials.ts says why it is safe).
        esbuildArgs: { '--alias:@aws-sdk/credential-provider-node': LAMBDA_CREDENTIALS, '--alias:@aws-sdk/client-lambda': LAMBDA_DURABLE_API },
        sourceMap: true,
        sourceMapMode: nodejs.SourceMapMode.DEFAULT,
        // The SDK is bundled, not taken from the runtime: the bundle that runs is the one the
        // tests ran, whatever SDK version the runtime ships this month.
        externalModules: [],
        // The definition is compiled in, so a run never depends on anything mutable at run time;
        // its stamp lets the function refuse a definition from elsewhere (runtimeConfig.ts).
        define: {
          [`process.env.${ENV.source}`]: JSON.stringify(compileSource(source, sourceSchemaDigest())),
          [`process.env.${ENV.sourceSchema}`]: JSON.stringify(sourceSchemaDigest()),
        },
        // Some dependencies are CommonJS and call require(); ESM output needs it defined.
        banner: "import { createRequire as __apilakeCreateRequire } from 'module'; const require = __apilakeCreateRequire(import.meta.url);",
        forceDockerBundling: false,
        // Windows' Parquet files are encoded on the process's encoder thread (encoderThread.ts),
        // started from a second script that must sit beside index.mjs in the asset.
        commandHooks: {
          beforeInstall: () => [],
          beforeBundling: () => [],
          afterBundling: (_inputDir, outputDir) => [`${JSON.stringify(process.execPath)} ${JSON.stringify(PARQUET_THREAD_BUNDLER)} ${JSON.stringify(outputDir)}`],
        },
      },
    });

    this.alias = new lambda.Alias(this, 'Alias', { aliasName: LIVE_ALIAS, version: this.function.currentVersion });
    grantDurableExecution(this.function, name, this.logGroup);
    grantTaskResponses(this.function);

    this.alias.configureAsyncInvoke({
      retryAttempts: props.retryAttempts ?? 2,
      maxEventAge: this.maxEventAge,
      onFailure: new destinations.SqsDestination(props.failedInvocations),
    });

    props.lake.grantWriteSource(this.function, source.name);
    props.idempotencyTable.grantReadWriteData(this.function);
    if (props.budgetTable) grantBudget(this.function, props.budgetTable, source.name);
    if (source.auth.type !== 'none') {
      secretsmanager.Secret.fromSecretNameV2(this, 'Secret', source.auth.secret).grantRead(this.function);
      if (source.auth.type === 'oauth2_refresh_token') grantRotationWriteBack(this.function, source.auth.secret);
    }

    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      scheduleName: name,
      description: `apilake tick for ${source.name}`,
      schedule: scheduler.ScheduleExpression.expression(source.schedule, TimeZone.of(source.timezone)),
      enabled: props.scheduleEnabled ?? true,
      target: new targets.LambdaInvoke(this.alias, {
        input: scheduler.ScheduleTargetInput.fromObject({ source: source.name, scheduledTime: scheduler.ContextAttribute.scheduledTime }),
        retryAttempts: 4,
        maxEventAge: Duration.hours(1),
        deadLetterQueue: props.undeliveredTicks,
      }),
    });

    acknowledgeFindings(this, props.lake, source.name, name);
  }
}

/**
 * What writing a rotated refresh token back needs (functions/secrets/AwsSecretProvider.ts): a new
 * version (PutSecretValue), then AWSCURRENT moved to it with a version check
 * (UpdateSecretVersionStage), on this one secret. Not `grantWrite`, which adds UpdateSecret
 * (description and KMS key). A secret encrypted with a customer managed key also needs
 * kms:GenerateDataKey on that key, granted by whoever owns it.
 */
function grantRotationWriteBack(fn: lambda.IFunction, secretName: string): iam.Grant {
  const stack = Stack.of(fn);
  // The same form grantRead uses for a secret known by name: its ARN ends in "-" and six random characters.
  const secretArn = stack.formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: `${secretName}-??????`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  return iam.Grant.addToPrincipal({ grantee: fn, actions: ['secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage'], resourceArns: [secretArn] });
}

/**
 * What a durable function's own role needs besides the grants of its work: its log streams, the
 * two durable execution APIs the SDK calls, and GetDurableExecution, with which an execution
 * finds whether the one holding a window's claim has ended (functions/ingest/windowClaim.ts), all
 * on this function's executions only. Lambda authorizes those against the execution's ARN,
 * `…:function:<name>:<version>/durable-execution/<name>/<id>`, so the resource is the function's
 * ARN with a qualifier pattern (https://docs.aws.amazon.com/lambda/latest/dg/durable-security.html);
 * an unqualified function ARN would match no execution.
 */
function grantDurableExecution(fn: lambda.Function, functionName: string, logGroup: logs.ILogGroup): void {
  // From the name, not fn.functionArn: the function depends on its role's policy, which would then depend on the function.
  const executions = Stack.of(fn).formatArn({ service: 'lambda', resource: 'function', resourceName: `${functionName}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  iam.Grant.addToPrincipal({ grantee: fn, actions: ['lambda:CheckpointDurableExecution', 'lambda:GetDurableExecution', 'lambda:GetDurableExecutionState'], resourceArns: [executions] });
  iam.Grant.addToPrincipal({ grantee: fn, actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resourceArns: [`${logGroup.logGroupArn}:*`] });
}

/**
 * What answering a backfill's waiting task needs (functions/ingest/SfnTaskReports.ts): the window's
 * execution reports its outcome with the task token of the event. The Service Authorization
 * Reference lists no resource type for states:SendTaskSuccess and states:SendTaskFailure
 * ("Actions, resources, and condition keys for AWS Step Functions",
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsstepfunctions.html),
 * so the statement names "*"; the task token itself says which task is answered.
 */
function grantTaskResponses(fn: lambda.IFunction): iam.Grant {
  return iam.Grant.addToPrincipal({ grantee: fn, actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'], resourceArns: ['*'] });
}

/** The `<LogicalId.Arn>` form cdk-nag uses to name a resource's ARN in a finding. */
function nagArn(construct: Construct): string {
  const stack = Stack.of(construct);
  return `<${stack.resolve(stack.getLogicalId(construct.node.defaultChild as CfnElement))}.Arn>`;
}

/** Findings of cdk-nag that are intended, each acknowledged with its reason. */
function acknowledgeFindings(ingestion: SourceIngestion, lake: Lake, source: string, functionName: string): void {
  const fn = ingestion.function;
  // The function's grants are on its own role, a sibling of the function in this construct.
  const grants = Validations.of(ingestion);
  grants.acknowledge({
    id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:function:${functionName}:*]`,
    reason: "The durable execution APIs are authorized against the function's executions, whose ARNs extend its versions' ARNs; the wildcard covers only this one function.",
  });
  grants.acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'states:SendTaskSuccess and states:SendTaskFailure take no resource type (Service Authorization Reference, "Actions, resources, and condition keys for AWS Step Functions"); a backfill window answers its task by the task token it was given.',
  });
  grants.acknowledge({
    id: `AwsSolutions-IAM5[Resource::${nagArn(ingestion.logGroup)}:*]`,
    reason: "Log streams are created per execution environment; the wildcard covers only the streams of this function's own log group.",
  });
  Validations.of(fn).acknowledge({ id: 'AwsSolutions-L1', reason: 'apilake targets nodejs22.x, the runtime its bundle is built and tested for.' });
  // The same prefixes Lake.grantWriteSource grants.
  for (const top of SOURCE_AREAS) {
    grants.acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagArn(lake.bucket)}/${streamPrefix(top, source)}*]`,
      reason: `Object keys are per window, unknown at deploy time; the wildcard is confined to this source's own ${top}/ prefix.`,
    });
  }
  // The Scheduler target role is created at stack level by aws-scheduler-targets; it invokes the alias.
  Validations.of(Stack.of(fn)).acknowledge({
    id: `AwsSolutions-IAM5[Resource::${nagArn(fn)}:*]`,
    reason: 'Scheduler may invoke this function and its versions; the wildcard covers only qualifiers of this one function.',
  });
}

/**
 * The two calls of the shared rate budget (DynamoBudgetStore: a conditional UpdateItem, a
 * GetItem), on the source's own item only: `dynamodb:LeadingKeys` pins the partition key.
 */
function grantBudget(fn: lambda.IFunction, table: dynamodb.ITable, source: string): iam.Grant {
  return iam.Grant.addToPrincipal({
    grantee: fn,
    actions: ['dynamodb:UpdateItem', 'dynamodb:GetItem'],
    resourceArns: [table.tableArn],
    conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [source] } },
  });
}
