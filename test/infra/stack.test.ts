import { Size } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { backfillOutputKey, functionOutputKey, OUTPUT } from '../../infra/stacks/ApilakeStack.js';
import { decodePrestoView } from '../../functions/tables/prestoView.js';
import { latestViewSelect } from '../../functions/tables/latestView.js';
import { tableSpec } from '../../functions/tables/tableSpec.js';
import { buildStack, INFRA_SOURCES } from '../support/infraApp.js';

let template: Template;
let resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;

beforeAll(() => {
  // GIVEN two sources (three streams), WHEN the stack synthesizes
  const { stack } = buildStack({ alarmEmail: 'ops@example.com', bytesScannedCutoffPerQuery: Size.gibibytes(5) });
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources as typeof resources;
}, 120_000); // synthesis with cdk-nag exceeds the 30 s default when the 2-core machine is loaded

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

describe('ApilakeStack', () => {
  it('creates one function, log group, schedule and async config per source, two tables per stream and a view per primary key', () => {
    template.resourceCountIs('AWS::Lambda::Function', 3); // one per source + CDK's handler that empties the Athena results bucket on deletion
    template.resourceCountIs('AWS::Logs::LogGroup', 4); // each function's and each backfill state machine's
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 2);
    template.resourceCountIs('AWS::Scheduler::Schedule', 2);
    template.resourceCountIs('AWS::Lambda::EventInvokeConfig', 2);
    template.resourceCountIs('AWS::Glue::Table', 3 * 2 + 1); // typed and raw per stream, orders_latest
    template.resourceCountIs('AWS::Glue::Database', 1);
    template.resourceCountIs('AWS::DynamoDB::Table', 2); // idempotency records, rate budgets
    template.resourceCountIs('AWS::SQS::Queue', 2);
    template.resourceCountIs('AWS::Athena::WorkGroup', 1);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  it('runs each function on nodejs22.x arm64 with its sizing and environment', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'apilake-test-shop',
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      MemorySize: 1024,
      Timeout: 600,
      Handler: 'index.handler',
      LoggingConfig: Match.objectLike({ LogFormat: 'JSON' }),
      Environment: {
        Variables: Match.objectLike({
          APILAKE_BUCKET: { Ref: Match.stringLikeRegexp('^LakeBucket') },
          APILAKE_IDEMPOTENCY_TABLE: { Ref: Match.stringLikeRegexp('^IdempotencyTable') },
          APILAKE_BUDGET_TABLE: { Ref: Match.stringLikeRegexp('^BudgetTable') },
          NODE_OPTIONS: Match.absent(), // source maps load on the error path, not at cold start
          MALLOC_ARENA_MAX: '2', // fewer idle malloc arenas: a lower peak RSS on large files
        }),
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'apilake-test-crm', MemorySize: 512, Timeout: 900 });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('schedules each source with its expression, time zone, the scheduled time as input, retries and a DLQ', () => {
    const undelivered = ofType('AWS::SQS::Queue')
      .map(([id]) => id)
      .find((id) => id.includes('UndeliveredTicks'))!;
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'apilake-test-crm',
      ScheduleExpression: 'cron(15 2 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Paris',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        // A durable function is invoked through its alias.
        Arn: { Ref: Match.stringLikeRegexp('^SourcecrmAlias') },
        Input: JSON.stringify({ source: 'crm', scheduledTime: '<aws.scheduler.scheduled-time>' }),
        RetryPolicy: { MaximumRetryAttempts: 4, MaximumEventAgeInSeconds: 3600 },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [undelivered, 'Arn'] } },
        RoleArn: Match.anyValue(),
      },
    });
    template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'rate(1 hour)', ScheduleExpressionTimezone: 'UTC' });
  });

  it('sends failed async invocations to the failed-invocations queue after two retries', () => {
    const failed = ofType('AWS::SQS::Queue')
      .map(([id]) => id)
      .find((id) => id.includes('FailedInvocations'))!;
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 21600,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [failed, 'Arn'] } } },
    });
  });

  it("scopes each function's S3 access to its own prefixes and its secret", () => {
    const policies = ofType('AWS::IAM::Policy').filter(([id]) => id.startsWith('SourceshopRole'));
    expect(policies).toHaveLength(1);
    const statements = (policies[0]![1].Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement;
    const text = JSON.stringify(statements);
    expect(text).toContain('/raw/source=shop/*');
    expect(text).toContain('/manifests/source=shop/*');
    expect(text).not.toContain('source=crm');
    const list = statements.find((s) => s.Action === 's3:ListBucket')!;
    expect(text).toContain('/symlinks/raw/source=shop/*');
    // Listing is conditioned on the source's prefixes: commits are found by listing, never by reading a missing key.
    expect(list.Condition).toEqual({
      StringLike: { 's3:prefix': ['raw/source=shop/*', 'curated/source=shop/*', 'manifests/source=shop/*', 'symlinks/raw/source=shop/*', 'symlinks/curated/source=shop/*', 'jobs/source=shop/*'] },
    });
    const secret = statements.find((s) => JSON.stringify(s.Action).includes('secretsmanager:GetSecretValue'))!;
    expect(JSON.stringify(secret.Resource)).toContain(':secret:apilake/shop-??????');
  });

  it('grants no s3:* and no Resource "*" anywhere but to the actions that take no resource', () => {
    // A state machine's log delivery and X-Ray tracing take no resource-level permissions: AWS
    // documents their policies with Resource "*" (Step Functions developer guide, "IAM policies for
    // logging to CloudWatch Logs", docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html, and
    // "IAM policies for using AWS X-Ray", .../dg/xray-iam.html). Nothing else may name "*".
    const resourceless = new Set([
      'logs:CreateLogDelivery',
      'logs:GetLogDelivery',
      'logs:UpdateLogDelivery',
      'logs:DeleteLogDelivery',
      'logs:ListLogDeliveries',
      'logs:PutResourcePolicy',
      'logs:DescribeResourcePolicies',
      'logs:DescribeLogGroups',
      'xray:PutTraceSegments',
      'xray:PutTelemetryRecords',
      'xray:GetSamplingRules',
      'xray:GetSamplingTargets',
    ]);
    const taskResponses = new Set(['states:SendTaskSuccess', 'states:SendTaskFailure']);
    for (const [id, policy] of ofType('AWS::IAM::Policy')) {
      for (const statement of (policy.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement) {
        const actions = [statement.Action].flat() as string[];
        expect(actions, id).not.toContain('s3:*');
        const noResourceType = actions.every((action) => resourceless.has(action)) && /^Backfill\w+StateMachineRole/.test(id);
        // A window's execution answers the backfill's waiting task, whose actions take no resource
        // type either (Service Authorization Reference, "Actions, resources, and condition keys for
        // AWS Step Functions"): allowed on the functions' roles, for these two actions only.
        const taskAnswers = actions.length > 0 && actions.every((action) => taskResponses.has(action)) && /^Source\w+RoleDefaultPolicy/.test(id);
        if (!noResourceType && !taskAnswers) expect([statement.Resource].flat(), `${id} ${actions.join(', ')}`).not.toContain('*');
      }
    }
  });

  it('keeps the lake private, encrypted, SSL-only, logged, retained, with lifecycle rules', () => {
    const lake = Object.values(resources).find((r) => r.Type === 'AWS::S3::Bucket' && JSON.stringify(r.Properties).includes('raw-to-infrequent-access'))!;
    expect(lake.Properties).toMatchObject({
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LoggingConfiguration: { LogFilePrefix: 'lake/' },
    });
    expect(lake.Properties.VersioningConfiguration).toBeUndefined();
    const rules = (lake.Properties.LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules;
    expect(rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Prefix: 'raw/', Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 30 }] }),
        expect.objectContaining({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }),
        expect.objectContaining({ Prefix: 'backfills/', ExpirationInDays: 400 }),
      ]),
    );
    const lakeId = Object.entries(resources).find(([, r]) => r === lake)![0];
    template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain', Properties: Match.objectLike({ LifecycleConfiguration: lake.Properties.LifecycleConfiguration }) });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: lakeId },
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('reads the raw JSON of committed windows through symlink files, OpenX JSON with data as text, dt projected', () => {
    template.hasResourceProperties('AWS::Glue::Table', {
      TableInput: {
        Name: 'shop_orders_raw',
        PartitionKeys: [{ Name: 'dt', Type: 'string', Comment: Match.anyValue() }],
        Parameters: Match.objectLike({
          'projection.enabled': 'true',
          'projection.dt.type': 'date',
          'projection.dt.range': '2020-01-01,NOW',
          'projection.dt.format': 'yyyy-MM-dd',
          'storage.location.template': { 'Fn::Join': ['', ['s3://', { Ref: Match.stringLikeRegexp('^LakeBucket') }, '/symlinks/raw/source=shop/stream=orders/dt=${dt}/']] },
          has_encrypted_data: false,
        }),
        StorageDescriptor: Match.objectLike({
          Location: { 'Fn::Join': ['', ['s3://', { Ref: Match.stringLikeRegexp('^LakeBucket') }, '/symlinks/raw/source=shop/stream=orders/']] },
          InputFormat: 'org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat',
          OutputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
          Compressed: true,
          SerdeInfo: { SerializationLibrary: 'org.openx.data.jsonserde.JsonSerDe' },
          Columns: ['_source', '_stream', '_window_start', '_window_end', '_extracted_at', '_run_id', '_parent', 'data'].map((Name) => ({ Name, Type: 'string', Comment: Match.anyValue() })),
        }),
      },
    });
  });

  it('reads the typed Parquet of committed windows through symlink files, with the declared column types', () => {
    template.hasResourceProperties('AWS::Glue::Table', {
      TableInput: {
        Name: 'shop_orders',
        Parameters: Match.objectLike({
          'projection.enabled': 'true',
          'storage.location.template': { 'Fn::Join': ['', ['s3://', { Ref: Match.stringLikeRegexp('^LakeBucket') }, '/symlinks/curated/source=shop/stream=orders/dt=${dt}/']] },
        }),
        StorageDescriptor: Match.objectLike({
          InputFormat: 'org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat',
          SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
          Columns: [
            ...['_source', '_stream', '_window_start', '_window_end', '_extracted_at', '_run_id', '_parent', 'data'].map((Name) => ({ Name, Type: 'string', Comment: Match.anyValue() })),
            { Name: 'id', Type: 'bigint', Comment: Match.anyValue() },
            { Name: 'status', Type: 'string', Comment: Match.anyValue() },
            { Name: 'amount', Type: 'decimal(12,2)', Comment: Match.anyValue() },
            { Name: 'updated_at', Type: 'timestamp', Comment: Match.anyValue() },
            { Name: 'tags', Type: 'array<string>', Comment: Match.anyValue() },
          ],
        }),
      },
    });
  });

  it('deploys a _latest Athena view per primary key, whose encoding decodes to the generated SQL', () => {
    const views = ofType('AWS::Glue::Table').filter(([, r]) => (r.Properties.TableInput as { TableType?: string }).TableType === 'VIRTUAL_VIEW');
    expect(views).toHaveLength(1);
    const input = views[0]![1].Properties.TableInput as { Name: string; ViewOriginalText: string; Parameters: Record<string, string> };
    expect(input.Name).toBe('shop_orders_latest');
    expect(input.Parameters).toEqual({ presto_view: 'true', comment: 'Presto View' });
    const decoded = decodePrestoView(input.ViewOriginalText);
    const spec = tableSpec(INFRA_SOURCES[0]!, INFRA_SOURCES[0]!.streams[0]!);
    expect(decoded.originalSql).toBe(latestViewSelect(spec, 'athena'));
    expect(decoded.schema).toBe('apilake_test');
    expect(decoded.columns.map((c) => c.name)).toEqual(expect.arrayContaining(['id', 'updated_at', 'dt']));
  });

  it('enforces an encrypted results location and the bytes-scanned cutoff in the workgroup', () => {
    template.hasResourceProperties('AWS::Athena::WorkGroup', {
      Name: 'apilake-test',
      WorkGroupConfiguration: Match.objectLike({
        EnforceWorkGroupConfiguration: true,
        BytesScannedCutoffPerQuery: 5 * 1024 ** 3,
        ResultConfiguration: { OutputLocation: Match.anyValue(), EncryptionConfiguration: { EncryptionOption: 'SSE_S3' } },
      }),
    });
  });

  it('alarms on any visible message in either dead-letter queue and emails the operator', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 2);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('FailedInvocations'), 'QueueName'] } }],
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^AlarmsTopic') }],
    });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    template.hasResourceProperties('AWS::SQS::Queue', { MessageRetentionPeriod: 1_209_600, SqsManagedSseEnabled: true });
  });

  it('keeps idempotency records on demand with TTL and point-in-time recovery', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  it('keeps the shared rate budgets on demand, one item per source that expires by TTL', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'source', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
    });
  });

  it("lets each function update and read only its own source's budget item", () => {
    for (const source of ['shop', 'crm']) {
      const policies = ofType('AWS::IAM::Policy').filter(([id]) => id.startsWith(`Source${source}Role`));
      const statements = (policies[0]![1].Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement;
      const budget = statements.filter((s) => JSON.stringify(s.Resource).includes('BudgetTable'));
      expect(budget).toEqual([
        expect.objectContaining({
          Action: ['dynamodb:UpdateItem', 'dynamodb:GetItem'],
          Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [source] } },
          Resource: { 'Fn::GetAtt': [expect.stringMatching(/^BudgetTable/), 'Arn'] },
        }),
      ]);
    }
  });

  it('outputs what the CLI needs to find the deployment', () => {
    const outputs = Object.keys(template.toJSON().Outputs as Record<string, unknown>);
    const prefixes: string[] = [OUTPUT.functionPrefix, OUTPUT.backfillPrefix];
    expect(outputs).toEqual(
      expect.arrayContaining([...Object.values(OUTPUT).filter((k) => !prefixes.includes(k)), functionOutputKey('shop'), functionOutputKey('crm'), backfillOutputKey('shop'), backfillOutputKey('crm')]),
    );
    template.hasOutput(backfillOutputKey('shop'), { Value: { Ref: Match.stringLikeRegexp('^BackfillshopStateMachine') } });
    template.hasOutput(functionOutputKey('shop'), { Value: { 'Fn::Join': ['', [{ Ref: Match.stringLikeRegexp('^SourceshopFunction') }, ':live']] } });
  });

  it('makes each function durable, published as a version behind the alias that the schedule and the async config name', () => {
    template.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'apilake-test-shop', DurableConfig: { ExecutionTimeout: 21600, RetentionPeriodInDays: 7 } });
    template.resourceCountIs('AWS::Lambda::Alias', 2);
    template.hasResourceProperties('AWS::Lambda::Alias', { Name: 'live', FunctionName: { Ref: Match.stringLikeRegexp('^SourceshopFunction') }, FunctionVersion: Match.anyValue() });
    // The qualifier is taken from the alias's ARN.
    for (const [, config] of ofType('AWS::Lambda::EventInvokeConfig')) expect(JSON.stringify(config.Properties.Qualifier)).toMatch(/"Ref":"Source(shop|crm)Alias/);
  });

  it("grants the durable execution APIs on the function's own executions only, and no managed policy", () => {
    const role = ofType('AWS::IAM::Role').find(([id]) => id.startsWith('SourceshopRole'))!;
    expect(role[1].Properties.ManagedPolicyArns).toBeUndefined();
    const statements = ofType('AWS::IAM::Policy')
      .filter(([id]) => id.startsWith('SourceshopRole'))
      .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement);
    const durable = statements.filter((s) => JSON.stringify(s.Action).includes('Durable'));
    expect(durable).toHaveLength(1);
    // GetDurableExecution: a window's claim held by an execution of this function that has ended is taken over.
    expect(durable[0]!.Action).toEqual(['lambda:CheckpointDurableExecution', 'lambda:GetDurableExecution', 'lambda:GetDurableExecutionState']);
    expect(JSON.stringify(durable[0]!.Resource)).toMatch(/:function:apilake-test-shop:\*"/);
    const logs = statements.find((s) => JSON.stringify(s.Action).includes('logs:PutLogEvents'))!;
    expect(JSON.stringify(logs.Resource)).toContain('SourceshopLogs');
  });

  it("lets each function answer a backfill's waiting task, with the two task response actions only", () => {
    for (const source of ['shop', 'crm']) {
      const statements = ofType('AWS::IAM::Policy')
        .filter(([id]) => id.startsWith(`Source${source}Role`))
        .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement);
      const answers = statements.filter((s) => JSON.stringify(s.Action).includes('states:'));
      expect(answers).toEqual([{ Effect: 'Allow', Action: ['states:SendTaskSuccess', 'states:SendTaskFailure'], Resource: '*' }]);
    }
  });

  describe('the backfill of each source in AWS', () => {
    const stateMachine = (source: string) => {
      const [, resource] = ofType('AWS::StepFunctions::StateMachine').find(([, r]) => (r.Properties.StateMachineName as string) === `apilake-test-${source}-backfill`)!;
      return resource.Properties;
    };
    /** The definition with the tokens of the bucket and the function as their logical ids. */
    const definitionOf = (source: string) => {
      const parts = (stateMachine(source).DefinitionString as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
      const text = parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p).replace(/"/g, "'"))).join('');
      return JSON.parse(text) as { States: { Windows: Record<string, unknown> & { ItemProcessor: { States: { Window: Record<string, unknown> & { Parameters: Record<string, unknown> } } } } } };
    };
    const policyOf = (source: string) => {
      const [, policy] = ofType('AWS::IAM::Policy').find(([id]) => id.startsWith(`Backfill${source}StateMachineRole`))!;
      return (policy.Properties.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown; Condition?: unknown }[] }).Statement;
    };

    it('is a Standard state machine with its execution log and tracing', () => {
      const props = stateMachine('shop');
      expect(props.StateMachineType).toBe('STANDARD');
      expect(props.TracingConfiguration).toEqual({ Enabled: true });
      expect(props.LoggingConfiguration).toMatchObject({ Level: 'ALL', IncludeExecutionData: true });
      template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/aws/vendedlogs/states/apilake-test-shop-backfill', RetentionInDays: 30 });
    });

    it("maps over the window list in the lake bucket, invoking the source's function once per window, as many at once as its rate budget allows", () => {
      const windows = definitionOf('shop').States.Windows;
      expect(windows).toMatchObject({
        Type: 'Map',
        ItemReader: { Resource: 'arn:aws:states:::s3:getObject', ReaderConfig: { InputType: 'JSON' }, Parameters: { Bucket: "{'Ref':'LakeBucketB1D32E10'}", 'Key.$': '$.items' } },
        ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } },
        ToleratedFailurePercentage: 100,
        // shop and crm declare no rate_limit: expected_workers 4 → 3 windows at once.
        MaxConcurrency: 3,
        ResultWriter: { Parameters: { Prefix: 'backfills/source=shop/results' } },
      });
      // A durable function is invoked through its alias, asynchronously: a synchronous invocation
      // of a durable function may last 15 minutes, a window's execution 6 hours. The function
      // answers with the task token the payload carries.
      const window = windows.ItemProcessor.States.Window;
      expect(window).toMatchObject({ Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken', ResultSelector: { 'streams.$': '$.streams' } });
      expect(window.Parameters).toEqual({
        FunctionName: expect.stringMatching(/^\{'Ref':'SourceshopAlias\w+'\}$/) as string,
        InvocationType: 'Event',
        Payload: { 'source.$': '$.source', 'stream.$': '$.stream', 'window.$': '$.window', 'force.$': '$.force', 'taskToken.$': '$$.Task.Token' },
      });
      // A little longer than the durable execution's timeout (6 h), so a window never answered fails.
      // The execution's 6 h, the 6 h an event may wait in Lambda's queue, and 15 minutes for the answer.
      expect(window.TimeoutSeconds).toBe(6 * 3600 + 6 * 3600 + 15 * 60);
      expect(window.Retry).toEqual([
        expect.objectContaining({ ErrorEquals: ['Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException'] }),
        { ErrorEquals: ['WindowsFailedError'], IntervalSeconds: 60, MaxAttempts: 1 },
      ]);
    });

    it("may invoke only its source's function and read only that source's window lists", () => {
      const statements = policyOf('shop');
      const text = JSON.stringify(statements);
      const invoke = statements.filter((s) => JSON.stringify(s.Action).includes('lambda:'));
      expect(invoke).toHaveLength(1);
      expect(invoke[0]!.Action).toBe('lambda:InvokeFunction');
      expect(JSON.stringify(invoke[0]!.Resource)).toMatch(/SourceshopAlias/);
      expect(JSON.stringify(invoke[0]!.Resource)).not.toMatch(/Sourcecrm/);
      const reads = statements.filter((s) => JSON.stringify(s.Action).includes('s3:GetObject'));
      expect(reads.map((s) => JSON.stringify(s.Resource))).toEqual([expect.stringContaining('/backfills/source=shop/items/*'), expect.stringContaining('/backfills/source=shop/results/*')]);
      expect(text).not.toMatch(/"s3:\*"|source=crm|"\/\*"/);
      expect(statements.find((s) => s.Action === 'states:StartExecution')!.Resource).toEqual({
        'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':states:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':stateMachine:apilake-test-shop-backfill']],
      });
    });
  });

  it('passes cdk-nag AwsSolutions with every exception acknowledged', () => {
    const { app } = buildStack();
    expect(() => app.synth()).not.toThrow();
  });

  it('fails synth when cdk-nag finds an unacknowledged violation', () => {
    const { app, stack } = buildStack();
    new sqs.Queue(stack, 'Unencrypted', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS/);
  });
});

describe('the CDK app', () => {
  // A new process that loads tsx and aws-cdk-lib: seconds on an idle machine, more on a busy one.
  it('fails synth on an invalid source with the same message as apilake validate', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'apilake-badsrc-'));
    await writeFile(join(dir, 'bad.yaml'), 'name: bad\nschedule: rate(1 hour)\nbase_url: https://x.test\nstreams:\n  - name: s\n    path: /s\n    pagination: { type: cursor }\n');
    const run = promisify(execFile)(process.execPath, ['--import', 'tsx', 'infra/app.ts'], {
      env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify({ sources: dir }), CDK_OUTDIR: await mkdtemp(join(tmpdir(), 'apilake-out-')) },
    });
    const error = (await run.catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(error.code).toBe(1);
    expect(error.stderr).toMatch(/bad\.yaml:7 streams\[0\]\.pagination\.cursor: required \(expected string\)/);
    expect(error.stderr).toMatch(/bad\.yaml:7 streams\[0\]\.pagination\.param: required/);
  }, 120_000);
});

describe('npx cdk synth', () => {
  it('synthesizes the example sources offline, bundling with local esbuild, cdk-nag clean', async () => {
    const outdir = await mkdtemp(join(tmpdir(), 'apilake-synth-'));
    const { stdout, stderr } = await promisify(execFile)(join('node_modules', '.bin', 'cdk'), ['synth', '--quiet', '--output', outdir, '-c', 'sources=examples'], {
      env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' },
      // Every example source bundles one function: minutes on a loaded two-core machine.
      timeout: 420_000,
    });
    expect(`${stdout}${stderr}`).not.toMatch(/AwsSolutions-/);
    const template = JSON.parse(await readFile(join(outdir, 'apilake-dev.template.json'), 'utf8')) as { Resources: Record<string, { Type: string }> };
    // One function per example source, and the results bucket's auto-delete handler.
    const examples = (await readdir('examples')).filter((name) => name.endsWith('.yaml'));
    expect(Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function')).toHaveLength(examples.length + 1);
    const lint = await cfnLint(join(outdir, 'apilake-dev.template.json'));
    expect(lint.code & 2, lint.stdout).toBe(0);
    expect(lint.findings, lint.stdout).toEqual([]);
  }, 480_000);
});

describe('the access-log bucket', () => {
  it('takes the server access logs of the lake and the Athena results by bucket policy, with ACLs disabled', () => {
    const [logsId, logs] = ofType('AWS::S3::Bucket').find(([id]) => id.startsWith('LakeAccessLogs'))!;
    expect(logs.Properties).toMatchObject({ OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } });
    expect(logs.Properties.AccessControl).toBeUndefined();
    for (const [source, prefix] of [
      ['LakeBucket', 'lake/'],
      ['AnalyticsResults', 'athena-results/'],
    ]) {
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: logsId },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Allow',
              Principal: { Service: 'logging.s3.amazonaws.com' },
              Action: 's3:PutObject',
              Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [logsId, 'Arn'] }, `/${prefix}*`]] },
              Condition: { ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [Match.stringLikeRegexp(`^${source}`), 'Arn'] } }, StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
            }),
          ]),
        },
      });
    }
  });
});

describe('cfn-lint', () => {
  it('finds no error and no warning in the template but the DependsOn CDK writes beside a GetAtt (W3005)', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'apilake-lint-')), 'template.json');
    await writeFile(file, JSON.stringify(template.toJSON()));
    const lint = await cfnLint(file);
    expect(lint.code & 2, lint.stdout).toBe(0);
    expect(lint.findings, lint.stdout).toEqual([]);
  }, 120_000);
});

/**
 * cfn-lint (preinstalled here and in CI) over a template: its exit code (bit 2 errors, bit 4
 * warnings) and the rule ids it reports, less W3005, the DependsOn that CDK itself writes
 * beside a GetAtt to a function's or state machine's role.
 */
async function cfnLint(file: string): Promise<{ code: number; stdout: string; findings: string[] }> {
  const { code, stdout } = await promisify(execFile)('cfn-lint', [file]).then(
    () => ({ code: 0, stdout: '' }),
    (error: { code?: number; stdout?: string }) => ({ code: error.code ?? 1, stdout: error.stdout ?? '' }),
  );
  const findings = [...stdout.matchAll(/^([EWI]\d{4}) /gm)].map((m) => m[1]!).filter((rule) => rule !== 'W3005');
  return { code, stdout, findings };
}
