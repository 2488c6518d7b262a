import { describe, expect, it } from 'vitest';
import { systemClock } from '../../functions/clock.js';
import { AbortedError } from '../../functions/errors.js';

describe('systemClock.sleep', () => {
  it.each([
    ['a text reason, as an AbortedError naming it', 'interrupted', AbortedError, 'stopped before the window finished: interrupted'],
    ['an Error reason, as that Error', new Error('timed out after 5 ms'), Error, 'timed out after 5 ms'],
  ])('rejects when its signal aborts mid-sleep with %s', async (_case, reason, type, message) => {
    const controller = new AbortController();
    const sleeping = systemClock.sleep(60_000, controller.signal);
    controller.abort(reason);
    await expect(sleeping).rejects.toBeInstanceOf(type);
    await expect(sleeping).rejects.toThrow(message);
  });

  it('rejects at once with an Error when its signal has already aborted with a text reason', async () => {
    await expect(systemClock.sleep(60_000, AbortSignal.abort('the window has finished paging'))).rejects.toThrow(new AbortedError('the window has finished paging'));
  });
});
