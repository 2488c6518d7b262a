import { describe, expect, it } from 'vitest';
import { waitUntil } from '../support/waitUntil.js';

describe('waitUntil', () => {
  it('resolves once the condition holds, asking again until then', async () => {
    let asked = 0;
    await waitUntil(() => ++asked === 3, { what: 'asked three times', everyMs: 1 });
    expect(asked).toBe(3);
  });

  it('fails by its deadline, naming what never happened', async () => {
    await expect(waitUntil(() => false, { what: 'the API has 12 requests', withinMs: 20, everyMs: 1 })).rejects.toThrow('waited 20 ms, yet not: the API has 12 requests');
  });
});
