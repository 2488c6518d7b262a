import { describe, expect, it } from 'vitest';
import { forEachWindow, type WindowJob } from '../../functions/engine/windowSelection.js';
import { testSource } from '../support/sources.js';

const H = 3_600_000;
const source = testSource('http://api.test', { path: '/items', records: 'data' });
const windows = [0, 1, 2].map((i) => ({ start: new Date(Date.UTC(2024, 0, 1) + i * H), end: new Date(Date.UTC(2024, 0, 1) + (i + 1) * H) }));
const hour = (job: WindowJob) => job.window.start.toISOString().slice(11, 13);

describe('forEachWindow', () => {
  it('tells onWindowStart before each window runs and onWindowEnd with its result, in window order', async () => {
    const events: string[] = [];
    const results = await forEachWindow<string>(
      {
        source,
        selection: { kind: 'windows', windows },
        onWindowStart: (stream, window) => events.push(`start ${stream.name} ${window.start.toISOString().slice(11, 13)}`),
        onWindowEnd: (result) => events.push(`end ${result}`),
      },
      (job) => {
        events.push(`run ${hour(job)}`);
        return Promise.resolve(`ran ${hour(job)}`);
      },
      (job) => `not started ${hour(job)}`,
    );
    expect(results).toEqual(['ran 00', 'ran 01', 'ran 02']);
    expect(events).toEqual(['start items 00', 'run 00', 'end ran 00', 'start items 01', 'run 01', 'end ran 01', 'start items 02', 'run 02', 'end ran 02']);
  });

  it('tells only onWindowEnd of a window that never starts once the signal aborts', async () => {
    const stop = new AbortController();
    const events: string[] = [];
    const results = await forEachWindow<string>(
      {
        source,
        selection: { kind: 'windows', windows },
        signal: stop.signal,
        onWindowStart: (_stream, window) => events.push(`start ${window.start.toISOString().slice(11, 13)}`),
        onWindowEnd: (result) => events.push(`end ${result}`),
      },
      (job) => {
        stop.abort();
        return Promise.resolve(`ran ${hour(job)}`);
      },
      (job) => `not started ${hour(job)}`,
    );
    expect(results).toEqual(['ran 00', 'not started 01', 'not started 02']);
    expect(events).toEqual(['start 00', 'end ran 00', 'end not started 01', 'end not started 02']);
  });
});
