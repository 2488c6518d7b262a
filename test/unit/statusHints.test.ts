import { describe, expect, it } from 'vitest';
import { fixFlags, statusProblems } from '../../cli/commands/status.js';
import type { StreamStatus } from '../../cli/status/lakeStatus.js';

const stream = (figures: Partial<StreamStatus>): StreamStatus => ({
  stream: 'events',
  window: '1h',
  committed: 3,
  records: 30,
  gaps: [],
  otherSizes: 0,
  unreadable: [],
  orphanParts: 0,
  incompleteWrites: 0,
  missingSymlinks: 0,
  tableDrift: [],
  ...figures,
});
const gap = { start: '2024-01-01T01:00:00Z', end: '2024-01-01T03:00:00Z', windows: 2 };

describe('the commands status suggests', () => {
  it('name the sources and the lake status read, where they are not the defaults', () => {
    const flags = fixFlags({ sources: 'scratch/src', lake: 'scratch/lake' }, undefined);
    const problems = statusProblems('helpdesk', [stream({ committed: 0 }), stream({ stream: 'tickets', gaps: [gap] })], flags);
    expect(problems).toEqual([
      'events: no window committed yet (apilake run helpdesk --stream events --sources scratch/src --lake scratch/lake lands the latest one)',
      'tickets: 2 windows missing between the first and the last committed window, in 1 gap (apilake backfill helpdesk --stream tickets --from 2024-01-01T01:00:00Z --to 2024-01-01T03:00:00Z --sources scratch/src --lake scratch/lake fills them)',
    ]);
  });

  it('add nothing for the default folders, however they are written', () => {
    expect(fixFlags({ sources: 'sources', lake: './lake/' }, undefined)).toEqual({ run: '', backfill: '' });
    expect(statusProblems('zd', [stream({ unreadable: [{ key: 'k', reason: 'r' }] })])).toEqual([
      "events: 1 commit cannot be read, so its window counts as not committed (apilake run zd --stream events with that window's --from/--to lands it again, as the next commit)",
    ]);
  });

  it('point run at the bucket and backfill at AWS for a lake in S3, and quote what a shell would split', () => {
    const flags = fixFlags({ sources: 'my sources', lake: './lake', remote: true, outputs: 'out.json', stage: 'prod' }, 'lake-bucket');
    expect(flags).toEqual({ run: " --sources 'my sources' --bucket lake-bucket", backfill: " --sources 'my sources' --remote --outputs out.json --stage prod" });
    expect(statusProblems('zd', [stream({ behind: gap })], flags)).toEqual([
      "events: 2 windows behind: nothing landed after the last committed window, in [2024-01-01T01:00:00Z, 2024-01-01T03:00:00Z) (apilake backfill zd --stream events --from 2024-01-01T01:00:00Z --to 2024-01-01T03:00:00Z --sources 'my sources' --remote --outputs out.json --stage prod catches up)",
    ]);
  });
});
