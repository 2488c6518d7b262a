import { describe, expect, it } from 'vitest';
import { renderOutcomes } from '../../cli/commands/redrive.js';
import type { FailedInvocation } from '../../cli/redrive/redrive.js';

const invocation: FailedInvocation = {
  messageId: 'm-1',
  receiptHandle: 'r',
  origin: 'lambda',
  event: { source: 'shop', scheduledTime: '2024-01-01T10:00:00Z' },
  source: 'shop',
  what: 'scheduled 2024-01-01T10:00:00Z',
  error: 'WindowsFailedError: orders: HTTP 503',
  condition: 'RetriesExhausted after 3 attempts',
};

describe('renderOutcomes', () => {
  it('shows a message whose durable execution was left running as kept, with the execution', () => {
    const text = renderOutcomes([{ kind: 'running', invocation, executionArn: 'arn:aws:lambda:us-east-1:1:function:f:live/durable-execution/redrive-x-0/1' }]);
    expect(text).toContain('still running, kept');
    expect(text).toContain('stopped waiting for arn:aws:lambda:us-east-1:1:function:f:live/durable-execution/redrive-x-0/1, which goes on');
    expect(text).toContain('0 redriven and deleted, 0 still failing (kept), 0 unparseable (kept), 1 still running (kept; redrive again once it ends)');
  });

  it('says nothing of running executions when none was left running', () => {
    expect(renderOutcomes([{ kind: 'redriven', invocation }])).toContain('1 redriven and deleted, 0 still failing (kept), 0 unparseable (kept)\n');
  });
});
