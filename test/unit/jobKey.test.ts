import { describe, expect, it } from 'vitest';
import { JOB_KEY_PATTERN, jobKey, type JobKeyInput } from '../../functions/engine/jobKey.js';
import type { TimeWindow } from '../../functions/window/TimeWindow.js';

const windowOf = (start: string, end: string): TimeWindow => ({ start: new Date(start), end: new Date(end) });

const create = { method: 'POST', path: '/v1/reporting/report_runs', params: {}, headers: { 'Idempotency-Key': '{job.key}' }, body: { report_type: 'balance.summary.1' } };
const base: JobKeyInput = {
  ref: { source: 'stripe_report', stream: 'balance_activity', window: windowOf('2024-06-01T00:00:00Z', '2024-06-02T00:00:00Z') },
  commit: 1,
  generation: 0,
  create,
};
const day2 = windowOf('2024-06-02T00:00:00Z', '2024-06-03T00:00:00Z');

describe('jobKey', () => {
  it('is the same for the same window, commit, generation and create request', () => {
    expect(jobKey({ ...base, create: structuredClone(create) })).toBe(jobKey(base));
  });

  it.each<[string, Partial<JobKeyInput>]>([
    ['another commit (a --force)', { commit: 2 }],
    ['another generation (the job before was abandoned)', { generation: 1 }],
    ['another window', { ref: { ...base.ref, window: day2 } }],
    ['another stream', { ref: { ...base.ref, stream: 'payouts' } }],
    ['another source', { ref: { ...base.ref, source: 'stripe_eu' } }],
    ['an edited create request', { create: { ...create, body: { report_type: 'balance.summary.2' } } }],
  ])('differs for %s', (_what, change) => {
    expect(jobKey({ ...base, ...change })).not.toBe(jobKey(base));
  });

  it('is a 40-character header token that names nothing of the window', () => {
    const key = jobKey({ ...base, ref: { ...base.ref, source: 'a'.repeat(200), stream: 'b'.repeat(200) } });
    expect(key).toMatch(JOB_KEY_PATTERN);
    expect(key).toHaveLength(40);
    expect(key).toMatch(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/);
    expect(jobKey(base)).not.toMatch(/stripe|balance|2024/);
  });
});
