import { describe, expect, it } from 'vitest';
import { executionName } from '../../cli/redrive/executionName.js';

describe('executionName', () => {
  it.each([
    ['059c1f0e-3b0f-4a2b-9d1e-6f1e2c3d4e5f', 0],
    ['059c1f0e-3b0f-4a2b-9d1e-6f1e2c3d4e5f', 12],
    ['a', 0],
  ])('names message %s, attempt %i, the same way every time, short and in [a-z0-9-]', (messageId, attempt) => {
    const name = executionName(messageId, attempt);
    expect(executionName(messageId, attempt)).toBe(name);
    expect(name).toMatch(new RegExp(`^redrive-[0-9a-f]{32}-${attempt}$`));
    expect(name.length).toBeLessThanOrEqual(64);
  });

  it('gives two messages, and two attempts of one message, different names', () => {
    expect(executionName('m1', 0)).not.toBe(executionName('m2', 0));
    expect(executionName('m1', 0)).not.toBe(executionName('m1', 1));
  });
});
