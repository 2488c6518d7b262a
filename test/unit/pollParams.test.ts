import { describe, expect, it } from 'vitest';
import type { PagingToken } from '../../functions/pagination/PagingToken.js';
import { pollParamNames, withoutPollParams, withPollParams } from '../../functions/engine/pollParams.js';

const sequential = (url: string): PagingToken => ({ kind: 'sequential', index: 3, request: { url }, seen: ['a'] });
const FIRST = new URL('https://api.test/jobs/j1/results?token=t-1&limit=4');

describe('pollParamNames', () => {
  it.each<[string, Record<string, string | number | boolean>, string[]]>([
    ['a poll field', { token: '{job.download_token}', limit: 4 }, ['token']],
    ['the job id and key only', { id: '{job.id}', key: '{job.key}' }, []],
    ['a poll field within text', { sig: 'v1:{job.signature}' }, ['sig']],
    ['window values only', { since: '{window.start}' }, []],
  ])('names the parameters filled from %s', (_, params, names) => {
    expect(pollParamNames(params)).toEqual(names);
  });
});

describe('withoutPollParams', () => {
  it.each<[string, string, string, string[]]>([
    ['carried from the first request', 'https://api.test/jobs/j1/results?token=t-1&limit=4&cursor=8', 'https://api.test/jobs/j1/results?limit=4&cursor=8', ['token']],
    ['set by the walk to a value of its own', 'https://api.test/jobs/j1/results?token=c8&limit=4', 'https://api.test/jobs/j1/results?token=c8&limit=4', []],
    ['absent from the next request', 'https://api.test/next?page=3', 'https://api.test/next?page=3', []],
  ])('takes a parameter %s out, or leaves it', (_, next, stored, left) => {
    const out = withoutPollParams(sequential(next), FIRST, ['token']);
    expect(out).toEqual({ paging: { ...sequential(stored) }, left });
  });

  it('leaves a positional token alone: its requests are derived from the first', () => {
    const ahead: PagingToken = { kind: 'ahead', index: 2, fullPage: 4 };
    expect(withoutPollParams(ahead, FIRST, ['token'])).toEqual({ paging: ahead, left: [] });
  });
});

describe('withPollParams', () => {
  it("sets the parameters left out again from this slice's first request", () => {
    const stored = sequential('https://api.test/jobs/j1/results?limit=4&cursor=8');
    expect(withPollParams(stored, new URL('https://api.test/jobs/j1/results?token=t-2&limit=4'), ['token'])).toEqual(sequential('https://api.test/jobs/j1/results?limit=4&cursor=8&token=t-2'));
  });

  it('is undefined when the first request lacks one', () => {
    expect(withPollParams(sequential('https://api.test/x?cursor=8'), new URL('https://api.test/x'), ['token'])).toBeUndefined();
  });
});
