import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseSource } from '../../functions/config/loadSources.js';
import { buildStack } from '../support/infraApp.js';

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

const source = (name: string, auth: Record<string, unknown>) =>
  parseSource(JSON.stringify({ name, schedule: 'rate(1 hour)', base_url: 'https://api.test', auth, streams: [{ name: 'items', path: '/items' }] }), `${name}.yaml`);

let template: Template;
let annotations: Annotations;
beforeAll(() => {
  // GIVEN a source whose secret rotates and one whose secret is only read, WHEN the stack synthesizes
  const { stack } = buildStack({
    sources: [
      source('hub', { type: 'oauth2_refresh_token', secret: 'apilake/hub', token_url: 'https://api.test/oauth/token' }),
      source('ga', { type: 'jwt_bearer', secret: 'apilake/ga', token_url: 'https://oauth2.googleapis.com/token', scope: 'analytics' }),
    ],
  });
  template = Template.fromStack(stack);
  annotations = Annotations.fromStack(stack);
}, 120_000); // synthesis with cdk-nag takes tens of seconds on a loaded 2-core machine

/** Every Secrets Manager statement of a source's function. */
function secretStatements(sourceName: string): Statement[] {
  const policies = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([id]) => id.startsWith(`Source${sourceName}Role`));
  expect(policies).toHaveLength(1);
  const statements = (policies[0]![1] as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement;
  return statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('secretsmanager:')));
}
const actions = (statements: Statement[]) => statements.flatMap((s) => [s.Action].flat()).sort();
const secretArn = (name: string) => ({
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':secretsmanager:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:secret:${name}-??????`]],
});

describe('secret grants per auth type', () => {
  it('lets an oauth2_refresh_token function write a new version and move AWSCURRENT, on its own secret only', () => {
    const statements = secretStatements('hub');
    expect(actions(statements)).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage']);
    for (const statement of statements) {
      expect(statement.Effect).toBe('Allow');
      expect(statement.Resource).toEqual(secretArn('apilake/hub'));
    }
  });

  it('grants a jwt_bearer function read access only', () => {
    expect(actions(secretStatements('ga'))).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
  });

  it('grants no write on any secret but the rotating one', () => {
    const writers = Object.entries(
      template.findResources('AWS::IAM::Policy', {
        Properties: { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: Match.arrayWith(['secretsmanager:PutSecretValue']) })]) } },
      }),
    );
    expect(writers.map(([id]) => id)).toEqual([expect.stringMatching(/^SourcehubRole/)]);
  });

  it('passes cdk-nag without a new acknowledgement', () => {
    annotations.hasNoError('*', Match.stringLikeRegexp('AwsSolutions'));
  });
});
