import { describe, expect, it } from 'vitest';
import { executionName, MAX_ATTEMPTS } from '../../cli/redrive/executionName.js';

describe('executionName', () => {
  it.each([
    ['059c1f0e-3b0f-4a2b-9d1e-6f1e2c3d4e5f', '$LATEST', 0, 'vlatest-00'],
    ['059c1f0e-3b0f-4a2b-9d1e-6f1e2c3d4e5f', '12', 7, 'v12-07'],
    ['a', '123456789', MAX_ATTEMPTS - 1, 'v123456789-99'],
  ])('names message %s, version %s, attempt %i, the same way every time, within 64 characters of [a-z0-9-]', (messageId, version, attempt, end) => {
    const name = executionName(messageId, version, attempt);
    expect(executionName(messageId, version, attempt)).toBe(name);
    expect(name).toMatch(new RegExp(`^redrive-[0-9a-f]{32}-${end}$`));
    expect(name.length).toBeLessThanOrEqual(64);
  });

  it('gives two messages, two versions and two attempts of one message different names, none part of another', () => {
    const names = ['m1', 'm2'].flatMap((m) => ['7', '71', '$LATEST'].flatMap((v) => Array.from({ length: MAX_ATTEMPTS }, (_, a) => executionName(m, v, a))));
    expect(new Set(names).size).toBe(names.length);
    for (const name of names.slice(0, 300)) expect(names.filter((other) => other.includes(name))).toEqual([name]);
  });

  it.each([-1, MAX_ATTEMPTS, 1.5])('fails for attempt %s', (attempt) => {
    expect(() => executionName('m', '7', attempt)).toThrow(/outside 0–99/);
  });
});
