import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, it } from 'vitest';
import { buildStack } from '../support/infraApp.js';

describe('dead-letter alarms', () => {
  it('tell the on-call engineer the redrive commands for their own queue', () => {
    // GIVEN the stack, WHEN it synthesizes, THEN each alarm names its queue in both commands
    const template = Template.fromStack(buildStack().stack);
    for (const [queue, resource] of [
      ['failed', 'FailedInvocations'],
      ['undelivered', 'UndeliveredTicks'],
    ] as const) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp(resource), 'QueueName'] } }],
        AlarmDescription: Match.stringLikeRegexp(`\`apilake redrive --queue ${queue} --dry-run\`.*then \`apilake redrive --queue ${queue}\``),
      });
    }
  });
});
